"""``sitegen serve``: a local preview of build/ (127.0.0.1 by default), and of the review report at /_report/.

Never serves a file outside the output folder: the request path is percent-decoded once, normalised, and the
real path (symlinks resolved) must stay inside the real output folder; anything else is a 404. The review
report lives beside the store, not in build/; it is served at ``/_report/`` from its own folder by the same
rules. Given the site's config, the server also runs the review app at ``/_review/`` (``cli/review.py``):
the one part that answers POST, and the only one that writes (grades into the store).

Under load: one daemon thread per connection, a listen backlog of ``BACKLOG`` (a burst of connections waits in
the kernel's queue instead of being refused or retried), HTTP/1.1 keep-alive with an idle timeout, and a
socket timeout on every read and write so a stalled client cannot hold a thread. A request line longer than
``MAX_REQUEST_LINE`` gets 414; a path whose segment no file system could hold gets 404.

With live reload (``serve --watch``, ``cli/live.py``) every HTML response gets the reload script and the server
answers ``/_sitegen/live`` (an event stream) and ``/_sitegen/live.js``; the files on disk are never changed.
"""

from __future__ import annotations

import errno
import io
import mimetypes
import os
import posixpath
import socket
import sys
import threading
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sitegen.cli import live as livereload
from sitegen.cli.review import MAX_BODY, is_review_path

BACKLOG = max(1024, socket.SOMAXCONN)  # the kernel caps it at net.core.somaxconn
IDLE_TIMEOUT = 5.0  # seconds a connection may sit idle (or a read / write may stall) before it is closed
MAX_REQUEST_LINE = 8192  # longer request lines are answered with 414
MAX_SEGMENT = 255  # bytes: the longest file name ext4, APFS and NTFS allow
REPORT_PREFIX = "/_report"
CLIENT_GONE = (ConnectionError, TimeoutError, socket.timeout)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".xsl": "text/xsl; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
}


def safe_path(root: Path, request_path: str) -> Path | None:
    """The file under ``root`` that ``request_path`` names, or None if it does not exist, escapes root, or
    cannot exist (a segment longer than a file name may be)."""
    path = urlsplit(request_path).path
    decoded = unquote(path, errors="strict") if "%" in path else path
    if "\x00" in decoded or "\\" in decoded:
        return None
    parts = [p for p in posixpath.normpath("/" + decoded).split("/") if p]
    if any(p in ("..", ".") for p in parts) or any(len(p.encode("utf-8", "surrogateescape")) > MAX_SEGMENT
                                                   for p in parts):
        return None
    try:
        return _resolve(root, parts, path.endswith("/"))
    except OSError:  # a path the file system refuses (too long, a loop): nothing is there
        return None


def _resolve(root: Path, parts: list[str], slash: bool) -> Path | None:
    real_root = Path(os.path.realpath(root))
    candidate = Path(os.path.realpath(real_root.joinpath(*parts)))
    if candidate != real_root and real_root not in candidate.parents:
        return None
    if candidate.is_dir():
        if not slash:
            return candidate  # the handler redirects to the slash form
        candidate = candidate / "index.html"
        if os.path.realpath(candidate) != str(candidate):  # index.html itself a symlink out
            real = Path(os.path.realpath(candidate))
            if real_root not in real.parents:
                return None
    return candidate if candidate.is_file() else None


class PreviewHandler(SimpleHTTPRequestHandler):
    server_version = "sitegen-preview"
    sys_version = ""
    protocol_version = "HTTP/1.1"  # keep-alive: a browser reuses a few connections for a page and its images

    def __init__(self, *args, root: Path, report_dir: Path | None = None, quiet: bool = True,
                 timeout: float = IDLE_TIMEOUT, review=None, live: livereload.LiveReload | None = None, **kwargs):
        self.root = root
        self.live = live  # live reload (serve --watch), or None
        self.report_dir = report_dir
        self.review = review  # a ReviewApp, or None
        self.quiet = quiet
        self.timeout = timeout  # StreamRequestHandler sets it on the socket: idle keep-alive and stalled I/O
        super().__init__(*args, directory=str(root), **kwargs)

    def handle(self):
        try:
            super().handle()
        except CLIENT_GONE:  # the client went away or stalled: nothing to answer
            self.close_connection = True

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if len(self.raw_requestline) > MAX_REQUEST_LINE:
            self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
            return False
        return True

    # -- the review app ----------------------------------------------------------------------------------
    def do_GET(self):  # noqa: N802 - http.server API
        if self.review is not None and is_review_path(self.path):
            return self._review("GET")
        if self.live is not None and urlsplit(self.path).path == livereload.EVENTS_PATH:
            return self._events()
        return super().do_GET()

    def do_HEAD(self):  # noqa: N802 - http.server API
        if self.review is not None and is_review_path(self.path):
            return self._review("HEAD")
        return super().do_HEAD()

    def do_POST(self):  # noqa: N802 - http.server API
        if self.review is None or not is_review_path(self.path):
            self.send_error(HTTPStatus.NOT_IMPLEMENTED, "Unsupported method ('POST')")  # as for PUT, DELETE ...
            return
        self._review("POST")

    def _review(self, method: str) -> None:
        body = None
        if method == "POST":
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE if length > 0 else HTTPStatus.BAD_REQUEST)
                self.close_connection = True
                return
            body = self.rfile.read(length)
        resp = self.review.handle(method, self.path, self.headers, body)
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", resp.headers.pop("Cache-Control", "no-store"))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(resp.body)

    # -- live reload (serve --watch) ------------------------------------------------------------------
    def _events(self) -> None:
        """A server-sent event stream: the current build at once, then one event per rebuild."""
        live = self.live
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        state = live.state
        self.wfile.write(f"retry: {livereload.RETRY_MS}\n\n".encode() + livereload.event(state))
        self.wfile.flush()
        while not live.closed:
            new = live.wait(state.version, livereload.HEARTBEAT)
            self.wfile.write(livereload.event(new) if new.version != state.version else b": idle\n\n")
            self.wfile.flush()
            state = new

    def _live_asset(self):
        if urlsplit(self.path).path != livereload.SCRIPT_PATH:
            return self._not_found()
        body = livereload.SCRIPT.encode("utf-8")
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", CONTENT_TYPES[".js"])
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        return io.BytesIO(body)

    def send_head(self):  # noqa: D401 - http.server API
        parts = urlsplit(self.path)
        root, path = self.root, parts.path
        if self.live is not None and path.startswith(livereload.LIVE_PREFIX):
            return self._live_asset()
        if self.report_dir is not None and (path == REPORT_PREFIX or path.startswith(REPORT_PREFIX + "/")):
            root, path = self.report_dir, path[len(REPORT_PREFIX):]
            if not path:  # /_report -> /_report/
                return self._redirect(REPORT_PREFIX + "/" + (f"?{parts.query}" if parts.query else ""))
        try:
            target = safe_path(root, path)
        except UnicodeDecodeError:
            target = None
        if target is None:
            return self._not_found()
        if target.is_dir():
            return self._redirect(parts.path + "/" + (f"?{parts.query}" if parts.query else ""))
        token = self.live.state.token if self.live is not None else None  # before the file: a swap in between
        try:                                                              # costs one extra reload, never one missed
            f = open(target, "rb")
        except OSError:
            return self._not_found()
        size = os.fstat(f.fileno()).st_size
        ctype = content_type(target)
        if token is not None and ctype.startswith("text/html"):
            with f:
                f = io.BytesIO(livereload.inject(f.read(), token))
            size = len(f.getvalue())
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(size))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        return f

    def _redirect(self, location: str):
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return None

    def _not_found(self):
        page = Path(os.path.realpath(self.root)) / "404.html"
        body = page.read_bytes() if page.is_file() else b"<!doctype html><title>Not found</title><h1>Not found</h1>"
        self.send_response(HTTPStatus.NOT_FOUND)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return None

    def log_error(self, format, *args):  # noqa: A002 - http.server API
        if not format.startswith("Request timed out"):  # an idle keep-alive connection closing is routine
            self.log_message(format, *args)

    def log_message(self, format, *args):  # noqa: A002 - http.server API
        if not self.quiet:
            super().log_message(format, *args)


class PreviewServer(ThreadingHTTPServer):
    """A thread per connection (daemon threads: stopping the server never waits on a client) and a real
    listen backlog."""

    request_queue_size = BACKLOG
    daemon_threads = True
    block_on_close = False

    def __init__(self, address, handler, *, quiet: bool = True, live: livereload.LiveReload | None = None):
        self.quiet = quiet
        self.live = live
        super().__init__(address, handler)

    def server_close(self):
        if self.live is not None:
            self.live.close()  # open event streams end
        super().server_close()

    def handle_error(self, request, client_address):
        """One line per unexpected error (none for a client that went away), instead of a traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, CLIENT_GONE) or (isinstance(exc, OSError) and exc.errno in (errno.EPIPE,
                                                                                       errno.ECONNRESET)):
            return
        if not self.quiet:
            sys.stderr.write(f"error serving {client_address[0]}: {type(exc).__name__}: {exc}\n")


def content_type(path: Path) -> str:
    ext = path.suffix.lower()
    return CONTENT_TYPES.get(ext) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8000, *, quiet: bool = True,
                report_dir: Path | None = None, timeout: float = IDLE_TIMEOUT, cfg=None,
                live: livereload.LiveReload | None = None) -> PreviewServer:
    """The preview server for ``root`` (and the review report in ``report_dir`` at /_report/; with the site's
    ``cfg``, the review app at /_review/; with ``live``, live reload)."""
    review = None
    if cfg is not None:
        from sitegen.cli.review import ReviewApp

        review = ReviewApp(cfg)
    handler = partial(PreviewHandler, root=Path(root), quiet=quiet, timeout=timeout, review=review, live=live,
                      report_dir=Path(report_dir) if report_dir is not None else None)
    return PreviewServer((host, port), handler, quiet=quiet, live=live)


def serve_in_thread(root: Path, host: str = "127.0.0.1", port: int = 0, *, report_dir: Path | None = None,
                    timeout: float = IDLE_TIMEOUT, cfg=None,
                    live: livereload.LiveReload | None = None) -> tuple[PreviewServer, str]:
    """Start a server in a daemon thread (tests, screenshots). Returns the server and its base URL."""
    server = make_server(root, host, port, report_dir=report_dir, timeout=timeout, cfg=cfg, live=live)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"
