"""``sitegen serve --watch`` without a browser: what is watched, the debounce, the reload script only in the
preview server's responses (never in build/), and the event stream that tells open pages about a rebuild."""

from __future__ import annotations

import http.client
import threading
from pathlib import Path

import pytest

from sitegen.cli import live as livereload
from sitegen.cli.main import _one_line
from sitegen.cli.serve import serve_in_thread
from sitegen.cli.watch import Watcher, changed, describe, scan, watched_roots
from sitegen.core.config import load_config

from .conftest import ROOT


def test_watched_roots_of_the_example_site():
    cfg = load_config(ROOT / "site.toml")
    roots = watched_roots(cfg, ROOT / "site.toml")
    assert ROOT / "site.toml" in roots and ROOT / "content" in roots
    assert ROOT / "templates" in roots  # missing today: watched from when it appears
    assert not any(r != ROOT / "content" and ROOT / "content" in r.parents for r in roots)  # no nesting


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "content" / "images").mkdir(parents=True)
    (tmp_path / "content" / "catalog.csv").write_text("id,title\n1,a\n")
    (tmp_path / "build").mkdir()
    return tmp_path


def test_scan_ignores_scratch_files_and_excluded_folders(tmp_path):
    site = _tree(tmp_path)
    (site / "content" / ".catalog.csv.swp").write_text("x")
    (site / "content" / "catalog.csv~").write_text("x")
    (site / "content" / "out").mkdir()
    (site / "content" / "out" / "page.html").write_text("x")
    snap = scan([site / "content"], {site / "content" / "out"})
    assert list(snap) == [str(site / "content" / "catalog.csv")]


def test_a_burst_of_writes_gives_one_rebuild(tmp_path):
    site = _tree(tmp_path)
    catalog, image = site / "content" / "catalog.csv", site / "content" / "images" / "a.png"
    actions = [lambda: None,  # first poll: nothing changed
               lambda: catalog.write_text("id,title\n1,b\n"),  # a change...
               lambda: image.write_bytes(b"png"),  # ... and more writes while settling
               lambda: catalog.write_text("id,title\n1,bc\n"),
               lambda: None]  # quiet: the rebuild starts

    def sleep(_seconds):
        actions.pop(0)() if actions else None

    watcher = Watcher([site / "content"], {site / "build"}, sleep=sleep)
    paths = watcher.wait()
    assert paths == sorted([str(catalog), str(image)])
    assert actions == []
    assert describe(paths, site) == "content/catalog.csv and 1 more changed"
    assert watcher.wait(should_stop=lambda: True) is None
    assert changed({"a": (1, 1)}, {"a": (1, 1)}) == []


def test_inject_puts_the_script_before_the_last_body_end():
    html = b"<html><body><p>x</p></BODY></html>"
    out = livereload.inject(html, 'gen"1')
    assert out.index(b"/_sitegen/live.js") < out.index(b"</BODY>")
    assert b'data-token="gen&#34;1"' in out
    assert livereload.inject(b"<p>no body", "t").endswith(b"</script>\n")


def test_one_line_messages():
    assert _one_line("invalid configuration in site.toml (2 error(s)):\n  - a: bad\n  - b: worse") == \
        "invalid configuration in site.toml (2 error(s)): a: bad; b: worse"


def _site(tmp_path: Path, generation: str) -> Path:
    root = tmp_path / "build"
    root.mkdir(exist_ok=True)
    (root / "index.html").write_text("<!doctype html><title>t</title><body><h1>Home</h1></body>")
    (root / "site.css").write_text("body{}")
    (root / ".sitegen-output").write_text(f"sitegen output folder\ngeneration {generation}\n")
    return root


def _get(base: str, path: str) -> tuple[int, bytes, str]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body, resp.getheader("Content-Type") or ""


def test_the_preview_adds_the_script_and_build_keeps_none(tmp_path):
    root = _site(tmp_path, "g1")
    live = livereload.LiveReload(root)
    server, base = serve_in_thread(root, live=live)
    try:
        status, body, _ = _get(base, "/")
        assert status == 200 and b'<script src="/_sitegen/live.js" data-token="g1"></script>' in body
        assert b"_sitegen" not in (root / "index.html").read_bytes()
        assert _get(base, "/site.css")[1] == b"body{}"  # only HTML changes
        status, body, ctype = _get(base, "/_sitegen/live.js")
        assert status == 200 and ctype.startswith("text/javascript") and b"EventSource" in body
        assert _get(base, "/_sitegen/other")[0] == 404
    finally:
        server.shutdown()
        server.server_close()
    plain, plain_base = serve_in_thread(root)  # without --watch: nothing of it
    try:
        assert b"_sitegen" not in _get(plain_base, "/")[1]
        assert _get(plain_base, "/_sitegen/live.js")[0] == 404
    finally:
        plain.shutdown()
        plain.server_close()


def test_the_event_stream_announces_each_rebuild(tmp_path):
    root = _site(tmp_path, "g1")
    live = livereload.LiveReload(root)
    server, base = serve_in_thread(root, live=live)
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", livereload.EVENTS_PATH)
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Content-Type").startswith("text/event-stream")

        def next_event() -> str:
            while True:
                line = resp.fp.readline().decode()
                if line.startswith("data: "):
                    return line

        first = next_event()
        assert '"token": "g1", "error": null' in first
        (root / ".sitegen-output").write_text("sitegen output folder\ngeneration g2\n")
        threading.Timer(0.2, live.publish).start()
        assert '"token": "g2", "error": null' in next_event()
        threading.Timer(0.2, live.publish, args=("catalog: no rows",)).start()
        assert '"token": "g2", "error": "catalog: no rows"' in next_event()  # a failed rebuild keeps the token
    finally:
        conn.close()
        server.shutdown()
        server.server_close()
    assert live.closed
