"""``sitegen serve``: a local preview of build/ (127.0.0.1 by default).

Never serves a file outside the output folder: the request path is percent-decoded once, normalised, and the
real path (symlinks resolved) must stay inside the real output folder; anything else is a 404.
"""

from __future__ import annotations

import mimetypes
import os
import posixpath
import threading
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

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
    """The file under ``root`` that ``request_path`` names, or None if it does not exist or escapes root."""
    path = urlsplit(request_path).path
    decoded = unquote(path, errors="strict") if "%" in path else path
    if "\x00" in decoded or "\\" in decoded:
        return None
    parts = [p for p in posixpath.normpath("/" + decoded).split("/") if p]
    if any(p in ("..", ".") for p in parts):
        return None
    real_root = Path(os.path.realpath(root))
    candidate = Path(os.path.realpath(real_root.joinpath(*parts)))
    if candidate != real_root and real_root not in candidate.parents:
        return None
    if candidate.is_dir():
        if not path.endswith("/"):
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

    def __init__(self, *args, root: Path, quiet: bool = True, **kwargs):
        self.root = root
        self.quiet = quiet
        super().__init__(*args, directory=str(root), **kwargs)

    def send_head(self):  # noqa: D401 - http.server API
        try:
            target = safe_path(self.root, self.path)
        except UnicodeDecodeError:
            target = None
        if target is None:
            return self._not_found()
        if target.is_dir():
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            parts = urlsplit(self.path)
            self.send_header("Location", parts.path + "/" + (f"?{parts.query}" if parts.query else ""))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        try:
            f = open(target, "rb")
        except OSError:
            return self._not_found()
        size = os.fstat(f.fileno()).st_size
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type(target))
        self.send_header("Content-Length", str(size))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        return f

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

    def log_message(self, format, *args):  # noqa: A002 - http.server API
        if not self.quiet:
            super().log_message(format, *args)


def content_type(path: Path) -> str:
    ext = path.suffix.lower()
    return CONTENT_TYPES.get(ext) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8000, *, quiet: bool = True) -> ThreadingHTTPServer:
    handler = partial(PreviewHandler, root=Path(root), quiet=quiet)
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def serve_in_thread(root: Path, host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Start a server in a daemon thread (tests, screenshots). Returns the server and its base URL."""
    server = make_server(root, host, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"
