"""A tiny OpenAI-compatible chat-completions server for tests and demos (standard library only).

Listens on 127.0.0.1 (port 0 = a free port), answers ``POST /v1/chat/completions`` with a canned reply (a fixed
string or a function of the request body), records every request, can fail the first requests with given
HTTP status codes (to test retries), and shuts itself down after ``timeout`` seconds.

    with VlmTestServer(reply='[{"query": "red apple", "category": "description"}]') as server:
        backend = OpenAIBackend(server.url, "test-model")

``grade_by_overlap`` is a reply for the LLM judge: it reads the "Search:" and "Item:" lines of the judge's
prompt and answers ``{"grade": N}`` from the share of the search's words the item's text contains.

Run it by hand for a demo: ``python tests/vlm_server.py --port 8001`` (``--grades`` for the judge's reply).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_REPLY = json.dumps([
    {"query": "red apple", "category": "description"},
    {"query": "fresh fruit on a table", "category": "description"},
    {"query": "glossy red look", "category": "style"},
    {"query": "minimalist still life photo", "category": "style"},
    {"query": "healthy snack ideas for kids", "category": "use_case"},
    {"query": "teacher gift ideas", "category": "use_case"},
    {"query": "kitchen wall art", "category": "use_case"},
])

Reply = str | Callable[[dict], str]


def user_text(body: dict) -> str:
    """The text parts of the last user message of a chat-completions request body."""
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def overlap_grade(search: str, item: str) -> int:
    """1 + 4 x (share of the search's words found in the item's text), rounded: 1 (none) ... 5 (all)."""
    words = set(re.findall(r"[a-z0-9]+", search.lower()))
    found = words & set(re.findall(r"[a-z0-9]+", item.lower()))
    return 1 + round(4 * len(found) / len(words)) if words else 1


def grade_by_overlap(body: dict) -> str:
    """The judge's answer to a chat-completions request: ``{"grade": N}`` by word overlap (see above)."""
    text = user_text(body)
    search = re.search(r"^Search: (.*)$", text, re.M)
    item = re.search(r"^Item: (.*)$", text, re.M)
    if not search or not item:
        return "I cannot find the search or the item in this request."
    return json.dumps({"grade": overlap_grade(search.group(1), item.group(1))})


class VlmTestServer:
    def __init__(self, reply: Reply = DEFAULT_REPLY, *, fail_first: Sequence[int] = (), timeout: float = 60.0,
                 port: int = 0, raw_body: bytes | None = None):
        self.reply = reply
        self.fail_first = list(fail_first)  # HTTP status codes for the first requests, in order
        self.raw_body = raw_body  # when set, sent as the (malformed) HTTP body instead of a completion
        self.timeout = timeout
        self.requests: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                return None

            def _send(self, status: int, payload: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, json.dumps({"data": [{"id": "test-model", "object": "model"}]}).encode())
                else:
                    self._send(404, b'{"error": "not found"}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                data = self.rfile.read(length)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, b'{"error": "not found"}')
                    return
                try:
                    body = json.loads(data)
                except ValueError:
                    self._send(400, b'{"error": "invalid JSON"}')
                    return
                with server._lock:
                    server.requests.append(body)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                    status = server.fail_first.pop(0) if server.fail_first else 200
                if status != 200:
                    self._send(status, json.dumps({"error": {"message": f"injected {status}"}}).encode())
                    return
                if server.raw_body is not None:
                    self._send(200, server.raw_body)
                    return
                text = server.reply(body) if callable(server.reply) else server.reply
                completion = {
                    "id": f"chatcmpl-{len(server.requests)}", "object": "chat.completion",
                    "model": body.get("model", ""),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                }
                self._send(200, json.dumps(completion).encode())

        return Handler

    def start(self) -> VlmTestServer:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="vlm-test-server", daemon=True)
        self._thread.start()
        self._timer = threading.Timer(self.timeout, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._thread is not None and self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> VlmTestServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":  # pragma: no cover - manual demo
    import argparse
    import time

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--reply", default=DEFAULT_REPLY)
    parser.add_argument("--grades", action="store_true", help="answer as a relevance judge (word overlap)")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    srv = VlmTestServer(grade_by_overlap if args.grades else args.reply, port=args.port, timeout=args.timeout).start()
    print(f"serving {srv.url}/chat/completions for {args.timeout:g}s")
    try:
        time.sleep(args.timeout)
    except KeyboardInterrupt:
        pass
    srv.stop()
