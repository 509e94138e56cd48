"""Third-party validators on each page type of the example site: the W3C Nu Html Checker (0 errors) and axe-core
(0 violations of WCAG 2.x A and AA, at 1280 and 375 px wide).

Slow: run with `pytest -m slow`. Installs the pinned npm packages `vnu-jar` and `axe-core` into
~/.cache/sitegen-validators on first use (from the npm registry; nothing else is downloaded); the Nu checker
runs on Debian's java, axe-core in Debian's chromium through Playwright."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from sitegen.cli.serve import serve_in_thread

from .conftest import ROOT
from .test_browser import CHROMIUM, browser  # noqa: F401  (the browser fixture)

VNU_VERSION = "26.9.27"
AXE_VERSION = "4.14.1"
PREFIX = Path.home() / ".cache" / "sitegen-validators"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def npm_file(package: str, version: str, relative: str) -> Path:
    path = PREFIX / "node_modules" / package / relative
    if not path.exists():
        if not shutil.which("npm"):
            pytest.skip("npm is not installed (needed to install the validators)")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(PREFIX),
                        f"{package}@{version}"], check=True, capture_output=True, timeout=600)
    return path


def first(root: Path, prefix: str) -> str:
    return "/" + next(p for p in sorted((root / prefix).iterdir()) if p.is_dir()).relative_to(root).as_posix() + "/"


def page_types(root: Path) -> dict[str, str]:
    return {"home": "/", "hub": first(root, "category"), "collection": first(root, "topic"),
            "item": first(root, "item"), "page": "/licence/"}


@pytest.fixture(scope="module")
def served(example_build):
    site, _ = example_build
    server, base = serve_in_thread(site / "build")
    yield site / "build", base
    server.shutdown()
    server.server_close()


def test_nu_html_checker_finds_no_error_on_any_page_type(served):
    if not shutil.which("java"):
        pytest.skip("java is not installed (the Nu checker needs it)")
    root, _ = served
    jar = npm_file("vnu-jar", VNU_VERSION, "build/dist/vnu.jar")
    files = [root / path.strip("/") / "index.html" for path in page_types(root).values()]
    report = root.parent / ".sitegen" / "report" / "index.html"
    if report.is_file():
        files.append(report)
    done = subprocess.run(["java", "-jar", str(jar), "--errors-only", "--format", "json", *map(str, files)],
                          capture_output=True, text=True, timeout=300)
    messages = json.loads(done.stderr or done.stdout or '{"messages": []}')["messages"]
    errors = [f"{m.get('url', '').rsplit('/build/', 1)[-1]}:{m.get('lastLine')}: {m.get('message')}"
              for m in messages if m.get("type") == "error"]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("width", [1280, 375])
def test_axe_core_finds_no_wcag_aa_violation_on_any_page_type(served, browser, width):  # noqa: F811
    root, base = served
    axe = npm_file("axe-core", AXE_VERSION, "axe.min.js")
    page = browser.new_page(viewport={"width": width, "height": 900})
    found: dict[str, list] = {}
    try:
        for kind, path in page_types(root).items():
            page.goto(base + path)
            page.add_script_tag(path=str(axe))
            result = page.evaluate("opts => axe.run(document, opts)",
                                   {"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]})
            found[kind] = [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}" for v in result["violations"]]
    finally:
        page.close()
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / f"axe-{width}.json").write_text(json.dumps(found, indent=2))
    assert not any(found.values()), json.dumps(found, indent=2)
