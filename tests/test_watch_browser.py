"""``sitegen serve --watch`` end to end: the real command on a copy of the example site, a page open in
Chromium, a title edited in the catalog: the open page shows the new title without a manual reload. Then a
broken site.toml: one "rebuild failed" line, the last good build still served, its error on the open page."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import EPOCH, ROOT
from .test_browser import ARGS, ARTIFACTS, CHROMIUM

pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")]


class Serve:
    """``sitegen serve --watch -p 0`` in a subprocess; its standard output collected line by line."""

    def __init__(self, site: Path):
        env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", SOURCE_DATE_EPOCH=EPOCH,
                   COLUMNS="200")
        self.proc = subprocess.Popen([sys.executable, "-u", "-m", "sitegen", "serve", "--watch", "-p", "0",
                                      "-c", str(site / "site.toml")], cwd=site, env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.base = re.search(r"at (http://127\.0\.0\.1:\d+)/", self.expect(r"^Serving ", 240)).group(1)
        self.expect(r"^watching ", 30)

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, pattern: str, timeout: float) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.proc.poll() is None, "sitegen serve exited:\n" + "\n".join(self.seen[-30:])
                continue
            self.seen.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matching {pattern!r} in {timeout} s:\n" + "\n".join(self.seen[-30:]))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def test_watch_rebuilds_and_reloads_the_open_page(example_site_copy):
    playwright = pytest.importorskip("playwright.sync_api")
    site = example_site_copy()
    catalog = site / "content" / "catalog.csv"
    text = catalog.read_text(encoding="utf-8")
    row = re.search(r"^animals-beagle,Beagle,", text, re.MULTILINE)
    assert row, "the example catalog changed: pick another row"
    serve = Serve(site)
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(serve.base + "/item/animals-beagle/", wait_until="load")
            assert page.text_content("h1").strip() == "Beagle"
            page.evaluate("window.__sameDocument = true")  # gone after any reload
            page.wait_for_timeout(300)  # the event stream is open

            started = time.monotonic()
            catalog.write_text(text.replace("animals-beagle,Beagle,", "animals-beagle,Beagle Hound,", 1),
                               encoding="utf-8")
            line = serve.expect(r"^(rebuilt|rebuild failed) ", 120)
            assert line.startswith("rebuilt in ") and "content/catalog.csv changed" in line, line
            page.wait_for_function("document.querySelector('h1').textContent.trim() === 'Beagle Hound'",
                                   timeout=30_000)
            took = time.monotonic() - started
            assert page.evaluate("window.__sameDocument === undefined"), "the page reloaded itself"
            built = (site / "build" / "item" / "animals-beagle" / "index.html").read_text(encoding="utf-8")
            assert "Beagle Hound" in built and "_sitegen" not in built  # the script only in the preview
            assert "/_sitegen/live.js" in page.content()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "watch-reloaded.png"))
            print(f"edit -> open page shows the new title: {took:.1f} s")

            config = site / "site.toml"
            config.write_text(config.read_text(encoding="utf-8") + "\n[collect]\nmin_items = -1\n",
                              encoding="utf-8")
            line = serve.expect(r"^(rebuilt|rebuild failed) ", 60)
            assert line.startswith("rebuild failed") and "site.toml changed" in line and \
                "still serving the last good build" in line, line
            banner = page.locator("#sitegen-live-error")
            banner.wait_for(timeout=10_000)
            assert "site.toml" in banner.text_content()
            page.screenshot(path=str(ARTIFACTS / "watch-failed.png"))
            with urllib.request.urlopen(serve.base + "/item/animals-beagle/", timeout=5) as resp:
                assert resp.status == 200 and b"Beagle Hound" in resp.read()
            browser.close()
    finally:
        serve.stop()
