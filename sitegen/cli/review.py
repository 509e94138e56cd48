"""The review app behind ``sitegen serve`` at ``/_review/``: people grade (topic, item) pairs 1-5 on the
relevance guideline, and the grades land in ``store.judgments`` (source ``human``, rater = the name the person
gave).

Pages: ``/_review/`` (the app: ``theme/review/review.html`` + ``review.js`` + ``review.css``), ``/_review/image/
<item id>`` (an item's catalog image, when the build has no thumbnail of it). JSON API (``/_review/api/``):

- ``GET queue?rater=NAME&limit=N``: the next pairs for that rater (``sitegen.learn.relevance.queue``: most
  uncertain first, pairs the rater graded left out) and the progress (``graded`` of ``total``);
- ``POST grade`` ``{"rater", "topic", "item_id", "grade"}``: write (or replace) the rater's grade; answers
  the grade it replaced as ``previous`` (``{"grade", "at"}`` or null);
- ``POST undo`` ``{"rater", "topic", "item_id", "restore"}``: remove the rater's grade, or put ``restore``
  (a ``previous`` from ``grade``) back;
- ``GET stats``: judgment counts per source and rater, and the raters' agreement (quadratic-weighted kappa);
- ``GET guideline``: the five grades and the guideline text;
- ``GET trends``, ``POST trends/decide``: the trend agent's proposals and a person's approval or rejection
  (the page ``/_review/trends``; ``review_trends.py``).

The store has one owner at a time (``store/connection.py``), so the app opens it for each request, as a
*brief* holder, and closes it at once (requests take turns): a build started meanwhile waits for that moment
instead of failing. While a build holds the store, writes answer 503 with ``Retry-After`` (the page keeps
the grades and sends them when the build is done) and the queue is served from the last pool it computed.
The pool is recomputed when the store has a newer build or a newly trained relevance model.

Only POST writes, only JSON bodies (``Content-Type: application/json``, at most ``MAX_BODY`` bytes), only from
the app's own origin on a loopback or configured host name (no cross-site or DNS-rebinding writes).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from sitegen.core.config import Config
from sitegen.core.errors import StoreLockedError
from sitegen.core.models import Judgment
from sitegen.learn.relevance.guideline import GRADES, RELEVANT, guideline_text
from sitegen.learn.relevance.human import MEDIAN_RATER, SOURCE
from sitegen.learn.relevance.judge import now
from sitegen.learn.relevance.queue import Candidate, Pool, build_pool, order_queue, read_inputs

PREFIX = "/_review"
MAX_BODY = 64 * 1024
MAX_LIMIT = 500
MAX_RATER = 80
MAX_TOPIC = 500
CONTEXT = 8  # other candidates of the topic shown beside the pair
THUMB_WIDTH = 640  # the rendition shown large (the widest at most this wide)
ASSETS = {"review.js": "text/javascript; charset=utf-8", "review.css": "text/css; charset=utf-8",
          "trends.js": "text/javascript; charset=utf-8"}
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
               ".gif": "image/gif"}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class RequestError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def theme_dir() -> Path:
    from sitegen.publish.render import packaged_templates

    return packaged_templates() / "review"


def _json(status: int, data: dict, headers: dict | None = None) -> Response:
    return Response(status, (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8"),
                    headers=dict(headers or {}))


class ReviewApp:
    """The review app of one site. Thread-safe: the HTTP server calls ``handle`` from one thread per
    connection."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self._store_turn = threading.Lock()  # one request holds the store at a time
        self._pool_turn = threading.Lock()  # one pool computation at a time
        self._pool: Pool | None = None
        self._pool_key: tuple | None = None
        self._graded: dict[str, set[tuple[str, str]]] = {}  # rater -> graded pairs, as last read
        self._pages: dict[str, bytes] = {}

    # -- dispatch ----------------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers, body: bytes | None = None) -> Response:
        parts = urlsplit(target)
        path = parts.path[len(PREFIX):]
        try:
            if path == "":
                return Response(301, headers={"Location": PREFIX + "/"}, content_type="text/plain")
            if path.startswith("/api/"):
                return self._api(method, path[len("/api/"):], parse_qs(parts.query), headers, body)
            if method not in ("GET", "HEAD"):
                raise RequestError(405, "method not allowed")
            if path in ("/", "/index.html"):
                return Response(200, self.page(), "text/html; charset=utf-8",
                                {"Cache-Control": "no-cache", "X-Robots-Tag": "noindex"})
            if path in ("/trends", "/trends/"):
                return Response(200, self.page("trends.html"), "text/html; charset=utf-8",
                                {"Cache-Control": "no-cache", "X-Robots-Tag": "noindex"})
            if path.lstrip("/") in ASSETS:
                name = path.lstrip("/")
                return Response(200, (theme_dir() / name).read_bytes(), ASSETS[name], {"Cache-Control": "no-cache"})
            if path.startswith("/image/"):
                return self._image(unquote(path[len("/image/"):]))
            raise RequestError(404, "not found")
        except RequestError as exc:
            return _json(exc.status, {"error": str(exc)})
        except StoreLockedError as exc:
            return _json(503, {"error": "busy", "message": f"{exc.format_message()}: a build is running; "
                               "grades wait in the page and are sent when it is done"}, {"Retry-After": "3"})

    def _api(self, method: str, name: str, query: dict, headers, body: bytes | None) -> Response:
        routes = {("GET", "queue"): self.queue, ("GET", "stats"): self.stats, ("GET", "guideline"): self.guideline,
                  ("POST", "grade"): self.grade, ("POST", "undo"): self.undo,
                  ("GET", "trends"): self.trends, ("POST", "trends/decide"): self.trend_decision}
        method = "GET" if method == "HEAD" else method
        handler = routes.get((method, name))
        if handler is None:
            if any(n == name for _, n in routes):
                raise RequestError(405, "method not allowed")
            raise RequestError(404, f"no API {name!r}")
        if method == "POST":
            return _json(200, handler(self._body(headers, body)))
        return _json(200, handler({k: v[-1] for k, v in query.items()}))

    def _body(self, headers, body: bytes | None) -> dict:
        if (headers.get("Content-Type") or "").split(";")[0].strip().lower() != "application/json":
            raise RequestError(415, "send JSON (Content-Type: application/json)")
        host = headers.get("Host") or ""
        if _hostname(host) not in LOOPBACK | {self.cfg.serve.host}:
            raise RequestError(403, f"writes are accepted on a loopback host name only, not {host!r}")
        origin = headers.get("Origin")
        if origin is not None and origin != f"http://{host}":
            raise RequestError(403, "writes are accepted from the review app's own page only")
        if body is None or len(body) > MAX_BODY:
            raise RequestError(413, f"the body must be JSON of at most {MAX_BODY} bytes")
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise RequestError(400, "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise RequestError(400, "the body must be a JSON object")
        return data

    # -- the store and the pool ----------------------------------------------------------------------------
    def _open(self):
        from sitegen.store.db import Store

        if not self.cfg.store_path.is_file():
            raise RequestError(409, f"no store at {self.cfg.store_path}: run `sitegen build` first")
        return Store(self.cfg.store_path, brief=True)

    def _with_store(self, work):
        with self._store_turn:
            store = self._open()
            try:
                return work(store)
            finally:
                store.close()

    def _model_stamp(self) -> float:
        """When the relevance model was last written (0 when there is none): a retrain changes the scores."""
        folder = self.cfg.path(self.cfg.relevance.model)
        try:
            stamps = [folder.stat().st_mtime] + [p.stat().st_mtime for p in folder.rglob("*")] \
                if folder.is_dir() else [folder.stat().st_mtime]
        except OSError:
            return 0.0
        return max(stamps)

    def pool(self, *, refresh: bool = True) -> Pool:
        """The pool of the last build; recomputed when there is a newer build or model. Without ``refresh``
        (the store is busy) the last one computed, if any."""
        with self._pool_turn:
            if not refresh and self._pool is not None:
                return self._pool
            key_and_inputs = self._with_store(lambda s: self._pool_inputs(s))
            key, inputs = key_and_inputs
            if inputs is not None:
                self._pool = build_pool(self.cfg, inputs)
                self._pool_key = key
            return self._pool  # type: ignore[return-value]

    def _pool_inputs(self, store):
        last = store.runs.last()
        key = (last.id if last else None, self.cfg.collect.scorer, self._model_stamp())
        if self._pool is not None and key == self._pool_key:
            return key, None
        return key, read_inputs(self.cfg, store)

    # -- API ---------------------------------------------------------------------------------------------
    def queue(self, q: dict) -> dict:
        rater = _rater(q.get("rater"))
        limit = _int(q.get("limit", "20"), "limit", 1, MAX_LIMIT)
        busy = None
        try:
            pool = self.pool()
            graded = self._with_store(lambda s: s.judgments.graded(SOURCE, rater))
            self._graded[rater] = graded
        except StoreLockedError as exc:
            if self._pool is None:
                raise
            busy = f"{exc.format_message()}: a build is running; the queue is the last one read"
            pool, graded = self.pool(refresh=False), self._graded.get(rater, set())
        keys = {(c.topic, c.item_id) for c in pool.candidates}
        pending = order_queue(pool.candidates, graded)
        return {"rater": rater, "build": pool.build, "scorer": pool.scorer, "note": pool.note,
                "threshold": pool.threshold, "total": len(keys), "graded": len(keys & graded),
                "remaining": len(pending), "busy": busy,
                "pairs": [self._pair(pool, c) for c in pending[:limit]]}

    def grade(self, data: dict) -> dict:
        rater, topic, item_id = _rater(data.get("rater")), _topic(data.get("topic")), self._item(data)
        grade = _grade(data.get("grade"), "grade")

        def work(store):
            before = store.judgments.get(topic, item_id, SOURCE, rater)
            store.judgments.add([Judgment(topic, item_id, grade, SOURCE, rater, now())])
            return before, store.judgments.graded(SOURCE, rater)

        before, graded = self._with_store(work)
        return {"ok": True, "previous": {"grade": before.grade, "at": before.at} if before else None,
                **self._progress(rater, graded)}

    def undo(self, data: dict) -> dict:
        rater, topic, item_id = _rater(data.get("rater")), _topic(data.get("topic")), self._item(data)
        restore = data.get("restore")
        if restore is not None and not isinstance(restore, dict):
            raise RequestError(400, "restore must be null or {\"grade\": 1-5, \"at\": ...}")
        grade = _grade(restore.get("grade"), "restore.grade") if restore else None
        at = str(restore.get("at") or now())[:40] if restore else ""

        def work(store):
            if grade is None:
                removed = store.judgments.remove(topic, item_id, SOURCE, rater)
            else:
                store.judgments.add([Judgment(topic, item_id, grade, SOURCE, rater, at)])
                removed = False
            return removed, store.judgments.graded(SOURCE, rater)

        removed, graded = self._with_store(work)
        return {"ok": True, "removed": removed, "restored": grade, **self._progress(rater, graded)}

    def stats(self, _q: dict) -> dict:
        from sitegen.learn.relevance.agreement import judgment_summary

        return judgment_summary(self._with_store(lambda s: s.judgments.all()))

    def guideline(self, _q: dict) -> dict:
        return {"grades": [{"grade": g, "name": n, "meaning": m} for g, (n, m) in sorted(GRADES.items())],
                "relevant": RELEVANT, "text": guideline_text()}

    def trends(self, _q: dict) -> dict:
        from sitegen.cli.review_trends import listing

        return self._with_store(listing)

    def trend_decision(self, data: dict) -> dict:
        from sitegen.cli.review_trends import decide
        from sitegen.core.errors import TrendError

        rater = _rater(data.get("rater"))
        try:
            return self._with_store(lambda store: decide(self.cfg, store, data, rater))
        except ValueError as exc:
            raise RequestError(400, str(exc)) from None
        except TrendError as exc:
            raise RequestError(409, exc.format_message()) from None

    # -- helpers -----------------------------------------------------------------------------------------
    def _progress(self, rater: str, graded: set) -> dict:
        self._graded[rater] = graded
        pool = self._pool
        if pool is None:
            return {"graded": len(graded), "total": None}
        keys = {(c.topic, c.item_id) for c in pool.candidates}
        return {"graded": len(keys & graded), "total": len(keys)}

    def _item(self, data: dict) -> str:
        item_id = data.get("item_id")
        if not isinstance(item_id, str) or not item_id:
            raise RequestError(400, "item_id must be a non-empty string")
        pool = self._pool
        if pool is None or item_id not in pool.items:
            pool = self.pool()
        if item_id not in pool.items:
            raise RequestError(400, f"unknown item id {item_id!r}")
        return item_id

    def _pair(self, pool: Pool, c: Candidate) -> dict:
        item = pool.items[c.item_id]
        image, width, height = self._image_of(item, THUMB_WIDTH)
        context = []
        for other in pool.topic_candidates(c.topic):
            if len(context) >= CONTEXT:
                break
            if other.item_id != c.item_id:
                o = pool.items[other.item_id]
                url, w, h = self._image_of(o, 160)
                context.append({"item_id": o.id, "title": o.title, "image": url, "width": w, "height": h})
        from sitegen.core import urls

        return {"topic": c.topic, "item_id": c.item_id, "category": c.category, "hub": c.hub,
                "collection": urls.collection_url(c.slug), "score": c.score, "member": c.member,
                "uncertainty": c.uncertainty, "title": item.title, "description": item.description[:600],
                "item_category": item.category, "keywords": list(item.keywords)[:20],
                "attributes": [list(kv) for kv in item.attributes][:20],
                "page": urls.item_url(item.slug) if item.slug else None,
                "image": image, "width": width, "height": height, "context": context}

    def _image_of(self, item, widest: int) -> tuple[str, int, int]:
        """The built thumbnail closest to ``widest`` (not wider), else the catalog image through the app."""
        from sitegen.publish.media import image_set_for

        renditions = image_set_for(item, self.cfg.build.thumbnail_widths).renditions
        fitting = [r for r in renditions if r.width <= widest] or list(renditions[:1])
        for r in reversed(fitting):
            if (self.cfg.output_dir / r.url.lstrip("/")).is_file():
                return r.url, r.width, r.height
        return f"{PREFIX}/image/{quote(item.id, safe='')}", item.width, item.height

    def _image(self, item_id: str) -> Response:
        pool = self._pool
        item = pool.items.get(item_id) if pool is not None else None
        if item is None:
            raise RequestError(404, "no such item")
        path = Path(item.image)
        kind = IMAGE_TYPES.get(path.suffix.lower())
        if kind is None or not path.is_file():
            raise RequestError(404, "the item has no image file")
        return Response(200, path.read_bytes(), kind, {"Cache-Control": "no-cache"})

    def page(self, name: str = "review.html") -> bytes:
        if name not in self._pages:
            from jinja2 import Environment, FileSystemLoader, select_autoescape

            env = Environment(loader=FileSystemLoader(str(theme_dir())), autoescape=select_autoescape(["html"]),
                              trim_blocks=True, lstrip_blocks=True)
            grades = [{"grade": g, "name": n, "meaning": m} for g, (n, m) in sorted(GRADES.items(), reverse=True)]
            self._pages[name] = env.get_template(name).render(
                title=self.cfg.site.title, grades=grades, relevant=RELEVANT, prefix=PREFIX).encode("utf-8")
        return self._pages[name]


# -- validation ------------------------------------------------------------------------------------------------

def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _rater(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RequestError(400, "rater must be a non-empty name")
    name = " ".join(value.split())
    if len(name) > MAX_RATER or not name.isprintable():
        raise RequestError(400, f"rater must be printable and at most {MAX_RATER} characters")
    if name == MEDIAN_RATER:
        raise RequestError(400, f"{MEDIAN_RATER!r} is reserved for the human judge's median grades")
    return name


def _topic(value) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TOPIC:
        raise RequestError(400, f"topic must be a non-empty string of at most {MAX_TOPIC} characters")
    return value


def _grade(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise RequestError(400, f"{name} must be an integer from 1 to 5")
    return value


def _int(value, name: str, low: int, high: int) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise RequestError(400, f"{name} must be an integer") from None
    return max(low, min(high, n))


def is_review_path(path: str) -> bool:
    path = urlsplit(path).path
    return path == PREFIX or path.startswith(PREFIX + "/")

