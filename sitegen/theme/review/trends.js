/* The review app's trends page (sitegen serve, /_review/trends): approve or reject the trend agent's proposals.
   A decision resumes the agent's waiting graph on the server; no framework, no network but this server. */
(function () {
  "use strict";
  var API = "/_review/api/";
  var RATER_KEY = "sitegen-review-rater", RETRY_MS = 3000;
  var $ = function (id) { return document.getElementById(id); };
  var busy = false;

  var statusTimer = null;
  function status(text, warn, sticky) {
    var el = $("status");
    el.textContent = text;
    el.className = "show" + (warn ? " warn" : "");
    clearTimeout(statusTimer);
    if (!sticky) statusTimer = setTimeout(function () { el.className = ""; }, 2600);
  }

  function card(p, pending) {
    var node = $("proposal-card").content.firstElementChild.cloneNode(true);
    node.dataset.id = p.id;
    node.dataset.status = p.status;
    node.querySelector(".trend").textContent = p.trend;
    var meta = [p.stage, p.source, "proposed " + (p.proposed_at || "").slice(0, 10)];
    if (p.next_peak) meta.push("peak " + p.next_peak);
    node.querySelector(".meta").textContent = meta.filter(Boolean).join(" · ");
    node.querySelector(".reason").textContent = p.reason;
    var ul = node.querySelector(".topics");
    p.topics.forEach(function (t) {
      var li = document.createElement("li");
      li.textContent = t.text;
      if (t.hub) { var hub = document.createElement("span"); hub.className = "muted small"; hub.textContent = " · " + t.hub; li.appendChild(hub); }
      ul.appendChild(li);
    });
    if (pending) {
      node.querySelectorAll(".decide button").forEach(function (b) {
        b.addEventListener("click", function () { decide(node, p, b.dataset.decision); });
      });
    } else {
      node.querySelector(".decide").remove();
      node.querySelector(".outcome").textContent = p.status + (p.decided_by ? " by " + p.decided_by : "") +
        (p.decided_at ? " on " + p.decided_at.slice(0, 10) : "") + (p.note ? " — " + p.note : "");
    }
    return node;
  }

  function render(data) {
    var pending = $("pending"), decided = $("decided");
    pending.textContent = ""; decided.textContent = "";
    data.pending.forEach(function (p) { pending.appendChild(card(p, true)); });
    data.decided.forEach(function (p) { decided.appendChild(card(p, false)); });
    $("pending-count").textContent = "(" + data.pending.length + ")";
    $("none-pending").hidden = data.pending.length > 0;
    var run = data.last_run;
    $("last-run").textContent = run ? "Last agent run " + run.started.slice(0, 16).replace("T", " ") + " for " + run.today +
      ": " + run.trends + " trends, " + run.proposals + " proposed (" + run.status + ")" : "The agent has not run yet.";
    document.body.dataset.state = "ready";
    document.body.dataset.pending = String(data.pending.length);
  }

  function load() {
    fetch(API + "trends").then(function (resp) {
      return resp.json().then(function (data) { return [resp, data]; });
    }).then(function (rd) {
      if (!rd[0].ok) { status(rd[1].message || rd[1].error || "cannot read the proposals", true, true); return; }
      render(rd[1]);
    }).catch(function () { status("The server does not answer; is sitegen serve running?", true, true); });
  }

  function decide(node, p, decision) {
    var rater = $("rater-input").value.trim();
    if (!rater) { status("Type your name first: it is kept with the decision", true); $("rater-input").focus(); return; }
    if (busy) return;
    busy = true;
    localStorage.setItem(RATER_KEY, rater);
    node.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    var body = {proposal: p.id, decision: decision, rater: rater, note: node.querySelector(".note").value};
    fetch(API + "trends/decide", {method: "POST", headers: {"Content-Type": "application/json"},
                                  body: JSON.stringify(body)})
      .then(function (resp) { return resp.json().catch(function () { return {}; }).then(function (d) { return [resp, d]; }); })
      .then(function (rd) {
        busy = false;
        var resp = rd[0], data = rd[1];
        if (resp.status === 503) {
          status((data.message || "the store is busy") + "; trying again", true, true);
          setTimeout(function () { decide(node, p, decision); }, RETRY_MS);
          return;
        }
        if (!resp.ok) {
          status("Not saved: " + (data.error || resp.status), true);
          node.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
          load();
          return;
        }
        status(p.trend + ": " + data.proposal.status);
        load();
      })
      .catch(function () {
        busy = false;
        node.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
        status("The server does not answer; is sitegen serve running?", true, true);
      });
  }

  $("rater-input").value = localStorage.getItem(RATER_KEY) || "";
  load();
})();
