"""Lighthouse's four categories (performance, accessibility, best practices, SEO) on each page type of the
example site, served on 127.0.0.1.

Slow (about a minute): run with `pytest -m slow`. Installs the pinned npm package `lighthouse` into
~/.cache/sitegen-lighthouse on first use and drives Debian's chromium (CHROME_PATH)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sitegen.cli.serve import serve_in_thread

from .conftest import ROOT

LIGHTHOUSE_VERSION = "13.5.0"
PREFIX = Path.home() / ".cache" / "sitegen-lighthouse"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def lighthouse_bin() -> Path:
    binary = PREFIX / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        if not shutil.which("npm"):
            pytest.skip("npm is not installed (needed to install lighthouse)")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(PREFIX),
                        f"lighthouse@{LIGHTHOUSE_VERSION}"], check=True, capture_output=True, timeout=600)
    return binary


@pytest.fixture(scope="module")
def served(example_build):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    site, _ = example_build
    server, base = serve_in_thread(site / "build")
    yield site / "build", base
    server.shutdown()
    server.server_close()


def first(root: Path, prefix: str) -> str:
    return "/" + next(p for p in sorted((root / prefix).iterdir()) if p.is_dir()).relative_to(root).as_posix() + "/"


CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def test_lighthouse_is_at_least_99_in_every_category_on_every_page_type(served, tmp_path):
    root, base = served
    binary = lighthouse_bin()
    pages = {"home": "/", "hub": first(root, "category"), "collection": first(root, "topic"),
             "item": first(root, "item")}
    scores: dict[str, dict[str, int]] = {}
    env = dict(os.environ, CHROME_PATH=CHROMIUM)
    report: dict = {}
    for kind, path in pages.items():
        out = tmp_path / f"{kind}.json"
        subprocess.run([str(binary), base + path, f"--only-categories={','.join(CATEGORIES)}", "--output=json",
                        f"--output-path={out}", "--quiet",
                        "--chrome-flags=--headless --no-sandbox --disable-gpu --disable-background-networking"],
                       check=True, env=env, timeout=300, capture_output=True)
        report = json.loads(out.read_text())
        scores[kind] = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
        failed = [a["id"] for a in report["categories"]["seo"]["auditRefs"]
                  if report["audits"][a["id"]]["score"] not in (None, 1) and a["weight"] > 0]
        assert not failed, f"{kind} {path}: failed SEO audits {failed}"
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "lighthouse.json").write_text(json.dumps({"lighthouse": report.get("lighthouseVersion"),
                                                           "pages": pages, "scores": scores}, indent=2))
    low = {kind: {c: v for c, v in s.items() if v < 99} for kind, s in scores.items()}
    assert not any(low.values()), f"below 99: {low}"
    assert all(s["seo"] == 100 for s in scores.values()), scores
