"""Live reload for ``sitegen serve --watch``: the preview server tells open pages that a rebuild finished.

Only the preview server's responses change, never a file in ``build/``: every HTML page it serves gets one
``<script src="/_sitegen/live.js" data-token="...">`` before ``</body>``, where the token is the generation of
the build it came from (``build/.sitegen-output``). The script opens a server-sent event stream,
``/_sitegen/live``; after each rebuild the server sends the new token (and the error of a rebuild that failed),
and a page whose token differs reloads itself. A failed rebuild shows its error in a banner on the open pages,
which keep showing the last good build. Without ``--watch`` none of this exists: no script, no endpoints.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from markupsafe import escape

LIVE_PREFIX = "/_sitegen/"
EVENTS_PATH = "/_sitegen/live"
SCRIPT_PATH = "/_sitegen/live.js"
HEARTBEAT = 15.0  # seconds between keep-alive comments on an idle event stream
RETRY_MS = 1000  # how soon a browser reconnects when the stream drops (the server restarted)
_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)

SCRIPT = """// sitegen serve --watch: reload this page when a rebuild changes the site (preview only, never published)
(function () {
  var me = document.currentScript, token = me ? me.getAttribute("data-token") : "", banner = null;
  if (!window.EventSource) return;
  function show(message) {
    if (!message) { if (banner) { banner.remove(); banner = null; } return; }
    if (!banner) {
      banner = document.createElement("div");
      banner.setAttribute("role", "alert");
      banner.id = "sitegen-live-error";
      banner.style.cssText = "position:fixed;left:12px;right:12px;bottom:12px;z-index:2147483647;padding:12px 16px;" +
        "border-radius:10px;background:#fdecea;color:#7a1a12;border:1px solid #f5c2bd;" +
        "font:14px/1.45 system-ui,sans-serif;box-shadow:0 6px 24px rgba(0,0,0,.18);white-space:pre-wrap";
      document.body.appendChild(banner);
    }
    banner.textContent = "Rebuild failed; this is the last good build. " + message;
  }
  var events = new EventSource("%s");
  events.addEventListener("build", function (e) {
    var state = JSON.parse(e.data);
    if (state.token && state.token !== token) { events.close(); location.reload(); return; }
    show(state.error);
  });
})();
""" % EVENTS_PATH


@dataclass(frozen=True)
class LiveState:
    version: int  # bumps on every publish
    token: str  # the generation of the build being served
    error: str | None  # the last rebuild's error, None when it succeeded


def build_token(root: Path) -> str:
    """The generation of the build in ``root`` (the marker every build writes), or "" when there is none."""
    try:
        text = (Path(root) / ".sitegen-output").read_text(encoding="utf-8")
    except OSError:
        return ""
    match = re.search(r"^generation (\S+)", text, re.MULTILINE)
    return match.group(1) if match else ""


class LiveReload:
    """What the watcher publishes and the event streams wait on."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._cond = threading.Condition()
        self._state = LiveState(0, build_token(self.root), None)
        self.closed = False

    @property
    def state(self) -> LiveState:
        with self._cond:
            return self._state

    def publish(self, error: str | None = None) -> LiveState:
        """A rebuild finished (``error`` None) or failed: wake every open stream."""
        with self._cond:
            token = build_token(self.root) if error is None else self._state.token
            self._state = LiveState(self._state.version + 1, token, error)
            self._cond.notify_all()
            return self._state

    def wait(self, version: int, timeout: float) -> LiveState:
        """The state once it is newer than ``version``, or as it is after ``timeout`` seconds."""
        with self._cond:
            self._cond.wait_for(lambda: self.closed or self._state.version != version, timeout)
            return self._state

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


def inject(html: bytes, token: str) -> bytes:
    """``html`` with the reload script before its last ``</body>`` (appended when there is none)."""
    tag = f'<script src="{SCRIPT_PATH}" data-token="{escape(token)}"></script>\n'.encode()
    matches = list(_BODY_END.finditer(html))
    if not matches:
        return html + tag
    at = matches[-1].start()
    return html[:at] + tag + html[at:]


def event(state: LiveState) -> bytes:
    data = json.dumps({"token": state.token, "error": state.error}, ensure_ascii=False)
    return f"event: build\ndata: {data}\n\n".encode("utf-8")
