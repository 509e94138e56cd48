/* The review app (sitegen serve, /_review/): grade topic-item pairs 1-5 with the keyboard.
   Grades go through an outbox kept in localStorage and sent in order, so nothing is lost while a build holds
   the store (the server answers 503) or the page is reloaded. No framework, no network but this server. */
(function () {
  "use strict";
  var API = "/_review/api/";
  var RATER_KEY = "sitegen-review-rater", OUTBOX_KEY = "sitegen-review-outbox", SKIP_KEY = "sitegen-review-skipped";
  var BATCH = 20, RETRY_MS = 3000;

  var $ = function (id) { return document.getElementById(id); };
  var rater = localStorage.getItem(RATER_KEY) || "";
  var queue = [];            // pairs to show; queue[0] is on screen
  var history = [];          // {kind: "grade" | "skip", pair, action}
  var graded = new Set();    // pairs graded in this session (until the server's queue leaves them out)
  var skipped = new Set(readJSON(sessionStorage, SKIP_KEY, []));
  var outbox = readJSON(localStorage, OUTBOX_KEY, []);
  var results = {};          // action id -> the server's answer (a grade's "previous" for its undo)
  var progress = {graded: 0, total: 0};
  var sending = false, retryTimer = null, loading = false, nextId = Date.now();

  function readJSON(storage, key, fallback) {
    try { var v = JSON.parse(storage.getItem(key)); return v == null ? fallback : v; } catch (e) { return fallback; }
  }
  function key(p) { return p.topic + "\u0000" + p.item_id; }
  function saveOutbox() { localStorage.setItem(OUTBOX_KEY, JSON.stringify(outbox)); }
  function saveSkipped() { sessionStorage.setItem(SKIP_KEY, JSON.stringify(Array.from(skipped))); }

  var statusTimer = null;
  function status(text, warn, sticky) {
    var el = $("status");
    el.textContent = text;
    el.className = "show" + (warn ? " warn" : "");
    clearTimeout(statusTimer);
    if (!sticky) statusTimer = setTimeout(function () { el.className = ""; }, 2200);
  }

  // -- the server ----------------------------------------------------------------------------------------
  function post(name, body) {
    return fetch(API + name, {method: "POST", headers: {"Content-Type": "application/json"},
                              body: JSON.stringify(body)});
  }

  function flush() {
    if (sending || !outbox.length) { render(); return; }
    sending = true;
    var action = outbox[0];
    var body = {rater: action.rater, topic: action.topic, item_id: action.item_id};
    if (action.op === "grade") body.grade = action.grade;
    else body.restore = (results[action.of] || {}).previous || null;
    post(action.op, body).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) { return [resp, data]; });
    }).then(function (rd) {
      var resp = rd[0], data = rd[1];
      sending = false;
      if (resp.status === 503) { wait(data.message || "the store is busy"); return; }
      outbox.shift(); saveOutbox();
      if (resp.ok) {
        results[action.id] = data;
        if (typeof data.graded === "number") progress.graded = data.graded;
        if (typeof data.total === "number") progress.total = data.total;
        if (!outbox.length) $("status").className = "";
      } else {
        status("Not saved: " + (data.error || resp.status), true);
      }
      flush();
    }).catch(function () { sending = false; wait("the server does not answer"); });
  }

  function wait(why) {
    status(outbox.length + " grade" + (outbox.length === 1 ? "" : "s") + " kept here (" + why + "); sending again soon",
           true, true);
    render();
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, RETRY_MS);
  }

  function load() {
    if (loading || !rater) return;
    loading = true;
    var limit = BATCH + skipped.size + graded.size;
    fetch(API + "queue?rater=" + encodeURIComponent(rater) + "&limit=" + Math.min(limit, 500))
      .then(function (resp) { return resp.json().then(function (data) { return [resp, data]; }); })
      .then(function (rd) {
        loading = false;
        var resp = rd[0], data = rd[1];
        if (!resp.ok) { status(data.message || data.error || "cannot read the queue", true, true); return; }
        if (data.busy) status(data.busy, true);
        progress.total = data.total;
        if (!outbox.length) progress.graded = data.graded;
        var have = new Set(queue.map(key));
        var fresh = data.pairs.filter(function (p) {
          var k = key(p);
          return !graded.has(k) && !skipped.has(k) && !have.has(k);
        });
        queue = queue.concat(fresh);
        if (!queue.length) document.body.dataset.state = data.remaining || skipped.size ? "empty" : "done";
        render();
      })
      .catch(function () { loading = false; status("The server does not answer; is sitegen serve running?", true, true); });
  }

  // -- actions -----------------------------------------------------------------------------------------------
  function gradeCurrent(grade) {
    var p = queue[0];
    if (!p) return;
    var button = document.querySelector('.grade[data-grade="' + grade + '"]');
    if (button) { button.classList.add("pressed"); setTimeout(function () { button.classList.remove("pressed"); }, 160); }
    var action = {id: nextId++, op: "grade", rater: rater, topic: p.topic, item_id: p.item_id, grade: grade};
    outbox.push(action); saveOutbox();
    graded.add(key(p));
    history.push({kind: "grade", pair: p, action: action});
    queue.shift();
    advance();
    flush();
  }

  function skip() {
    var p = queue[0];
    if (!p) return;
    skipped.add(key(p)); saveSkipped();
    history.push({kind: "skip", pair: p});
    queue.shift();
    advance();
  }

  function undo() {
    var last = history.pop();
    if (!last) { status("Nothing to undo"); return; }
    var k = key(last.pair);
    if (last.kind === "skip") {
      skipped.delete(k); saveSkipped();
    } else {
      graded.delete(k);
      var waiting = outbox.indexOf(last.action);
      if (waiting > 0 || (waiting === 0 && !sending)) {  // not sent yet: forget it
        outbox.splice(waiting, 1); saveOutbox();
      } else {
        outbox.push({id: nextId++, op: "undo", of: last.action.id, rater: rater, topic: last.pair.topic,
                     item_id: last.pair.item_id});
        saveOutbox();
      }
      flush();
    }
    queue.unshift(last.pair);
    document.body.dataset.state = "ready";
    status("Undone: " + last.pair.title);
    render();
  }

  function advance() {
    if (queue.length < 5) load();
    if (!queue.length && !loading) document.body.dataset.state = "done";
    render();
  }

  // -- drawing ---------------------------------------------------------------------------------------------
  function text(id, value) { $(id).textContent = value || ""; }

  function render() {
    var shownGraded = progress.graded + outbox.filter(function (a) { return a.op === "grade"; }).length
      - outbox.filter(function (a) { return a.op === "undo"; }).length;
    shownGraded = Math.max(0, Math.min(shownGraded, progress.total || shownGraded));
    text("progress-text", progress.total ? shownGraded.toLocaleString() + " of " + progress.total.toLocaleString() +
         " graded" : "");
    $("progress-fill").style.width = progress.total ? (100 * shownGraded / progress.total).toFixed(1) + "%" : "0";
    text("rater-name", rater || "–");
    document.body.dataset.pending = String(outbox.length);
    $("undo").disabled = !history.length;
    var p = queue[0];
    var main = $("review");
    if (!p) {
      main.removeAttribute("data-topic"); main.removeAttribute("data-item");
      var state = document.body.dataset.state;
      if (state === "done") text("topic", "Nothing left to grade. Thank you!");
      else if (state === "empty") text("topic", "Only skipped pairs are left: reload the page to see them again.");
      else text("topic", "Loading the queue…");
      text("topic-meta", "");
      return;
    }
    document.body.dataset.state = "ready";
    main.dataset.topic = p.topic; main.dataset.item = p.item_id;
    text("topic", p.topic);
    text("topic-meta", [p.category.replace("_", " "), p.hub].filter(Boolean).join(" · "));
    var img = $("image");
    if (img.getAttribute("src") !== p.image) {
      img.src = p.image; img.width = p.width || 640; img.height = p.height || 640;
    }
    img.alt = p.title; img.hidden = false;
    text("title", p.title);
    var facts = [p.item_category].concat(p.attributes.map(function (kv) { return kv[0] + ": " + kv[1]; }));
    if (p.keywords.length) facts.push(p.keywords.join(", "));
    text("facts", facts.filter(Boolean).join(" · "));
    text("description", p.description);
    var links = $("links");
    links.textContent = "";
    if (p.page) links.appendChild(link(p.page, "item page"));
    if (p.page && p.collection) links.appendChild(document.createTextNode(" · "));
    if (p.collection) links.appendChild(link(p.collection, "the collection"));
    var list = $("context");
    list.textContent = "";
    p.context.forEach(function (c) {
      var li = document.createElement("li"), im = document.createElement("img"), cap = document.createElement("span");
      im.src = c.image; im.alt = ""; im.width = 96; im.height = 96; im.loading = "lazy";
      cap.textContent = c.title;
      li.appendChild(im); li.appendChild(cap); li.title = c.title;
      list.appendChild(li);
    });
    $("context-title").parentNode.hidden = !p.context.length;
    if (queue[1]) (new Image()).src = queue[1].image;  // the next image is ready when it is needed
  }

  function link(href, label) {
    var a = document.createElement("a");
    a.href = href; a.textContent = label; a.target = "_blank"; a.rel = "noopener"; a.tabIndex = -1;
    return a;
  }

  function toggleHelp(show) {
    var panel = $("guideline");
    var open = show === undefined ? panel.hidden : show;
    panel.hidden = !open;
    $("help").setAttribute("aria-expanded", String(open));
  }

  // -- the rater -------------------------------------------------------------------------------------------
  function askRater() {
    var dialog = $("rater-dialog"), input = $("rater-input");
    input.value = rater;
    if (typeof dialog.showModal === "function") dialog.showModal(); else dialog.setAttribute("open", "");
    input.focus();
  }

  $("rater-form").addEventListener("submit", function (e) {
    var name = $("rater-input").value.replace(/\s+/g, " ").trim();
    if (!name) { e.preventDefault(); return; }
    var changed = name !== rater;
    rater = name;
    localStorage.setItem(RATER_KEY, rater);
    if (changed) { queue = []; history = []; graded.clear(); skipped.clear(); saveSkipped(); }
    $("rater-dialog").close ? $("rater-dialog").close() : $("rater-dialog").removeAttribute("open");
    render();
    load();
    flush();
  });
  $("rater-dialog").addEventListener("cancel", function (e) { if (!rater) e.preventDefault(); });

  // -- keys and buttons ------------------------------------------------------------------------------------
  document.addEventListener("keydown", function (e) {
    if ($("rater-dialog").open || e.altKey) return;
    var tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA") return;
    var k = e.key;
    if ((e.ctrlKey || e.metaKey) && (k === "z" || k === "Z")) { e.preventDefault(); undo(); return; }
    if (e.ctrlKey || e.metaKey) return;
    if (k >= "1" && k <= "5" && k.length === 1) { e.preventDefault(); gradeCurrent(Number(k)); }
    else if (k === "u" || k === "U" || k === "Backspace") { e.preventDefault(); undo(); }
    else if (k === "s" || k === "S" || k === "ArrowRight") { e.preventDefault(); skip(); }
    else if (k === "?" || k === "h" || k === "H") { e.preventDefault(); toggleHelp(); }
    else if (k === "Escape") toggleHelp(false);
  });
  Array.prototype.forEach.call(document.querySelectorAll(".grade"), function (b) {
    b.addEventListener("click", function () { gradeCurrent(Number(b.dataset.grade)); b.blur(); });
  });
  $("skip").addEventListener("click", function () { skip(); this.blur(); });
  $("undo").addEventListener("click", function () { undo(); this.blur(); });
  $("help").addEventListener("click", function () { toggleHelp(); });
  $("change-rater").addEventListener("click", askRater);
  window.addEventListener("online", flush);

  render();
  if (rater) { load(); flush(); } else askRater();
})();
