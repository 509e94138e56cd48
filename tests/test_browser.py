"""A visitor in Chromium: home -> hub -> collection -> item, every image loads, no console error.
Uses Debian's chromium through Playwright (never `playwright install`). Screenshots go to test-artifacts/."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from sitegen.cli.serve import serve_in_thread

from .conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")]


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def served(example_build):
    site, _ = example_build
    server, base = serve_in_thread(site / "build")
    yield base
    server.shutdown()
    server.server_close()


def visit(browser, url: str, shot: str, width: int = 1280):
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, url
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("networkidle")
    # lazy images: bring each into view so it loads
    page.evaluate("""() => Promise.all([...document.images].map(img => {
        img.loading = 'eager';
        return img.complete ? null : new Promise(r => { img.onload = img.onerror = r; });
    }))""")
    broken = page.evaluate("[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=False)
    assert broken == [], f"{url}: images that did not load: {broken[:5]}"
    assert errors == [], f"{url}: console errors: {errors}"
    assert failed == [], f"{url}: failed requests: {failed[:5]}"
    return page


def test_visitor_walks_home_hub_collection_item(browser, served):
    home = visit(browser, served + "/", "home")
    hub_href = home.eval_on_selector("a[href^='/category/']", "a => a.getAttribute('href')")
    home.close()
    hub = visit(browser, served + hub_href, "hub")
    topic_href = hub.eval_on_selector("a[href^='/topic/']", "a => a.getAttribute('href')")
    item_href = hub.eval_on_selector("main a[href^='/item/']", "a => a.getAttribute('href')")
    hub.close()
    visit(browser, served + topic_href, "collection").close()
    item = visit(browser, served + item_href, "item")
    assert item.locator("h1").count() == 1
    item.close()
    visit(browser, served + item_href, "item-mobile", width=375).close()


def test_sitemap_is_readable_in_the_browser(browser, served):
    page = browser.new_page()
    page.goto(served + "/sitemap-items.xml", wait_until="load")
    assert page.locator("table").count() >= 1
    assert page.locator("td a[href*='/item/']").count() > 10
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sitemap.png"))
    page.close()


def test_report_shows_the_change_list_after_a_second_build(browser, example_site_copy):
    import csv
    import os

    from sitegen.pipeline.build import build_site
    from sitegen.core.config import load_config

    from .conftest import EPOCH

    site = example_site_copy()
    catalog = site / "content" / "catalog.csv"
    with open(catalog, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    removed, retitled = rows[1], rows[2]
    rows = [r for r in rows if r is not removed]
    retitled["title"] = retitled["title"] + " Sketch"
    with open(catalog, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.environ["SOURCE_DATE_EPOCH"] = str(int(EPOCH) + 86400)
    try:
        result = build_site(load_config(site / "site.toml"))
    finally:
        os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    removed_pages = [p for p in result.summary.pages_removed if p.startswith("/item/")]
    assert len(removed_pages) == 1
    assert not (site / "build" / "_report").exists()
    server, base = serve_in_thread(site / "build", report_dir=site / ".sitegen" / "report")
    try:
        page = visit(browser, base + "/_report/", "report-changes")
        text = page.inner_text("body")
        assert removed_pages[0] in text
        assert retitled["title"] in text and "Pages removed" in text and "Pages retitled" in text
        # the report's links work when served: its own JSON, the sitemap (shown as a table), a changed page
        assert page.eval_on_selector("a[href='report.json']", "a => a.href") == base + "/_report/report.json"
        page.close()
        page = browser.new_page()
        assert page.goto(base + "/_report/report.json").status == 200
        page.goto(base + "/_report/", wait_until="load")
        page.click("#sitemap a[href='/sitemap.xml']")
        page.wait_for_load_state("load")
        assert page.url == base + "/sitemap.xml" and page.locator("table").count() >= 1
        page.goto(base + "/_report/", wait_until="load")
        page.click("#changes a[href^='/item/']")
        page.wait_for_load_state("load")
        assert page.url.startswith(base + "/item/") and page.locator("h1").count() == 1
        page.close()
    finally:
        server.shutdown()
        server.server_close()


def test_report_opened_from_disk_links_to_the_built_pages(browser, example_build):
    site, _ = example_build
    report = site / ".sitegen" / "report" / "index.html"
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(report.as_uri(), wait_until="load")
    hrefs = page.eval_on_selector_all("a", "as => as.map(a => a.href)")  # resolved URLs
    topic = page.eval_on_selector("#topics a", "a => a.href")
    page.goto(topic, wait_until="load")
    title = page.title()
    page.close()
    assert errors == []
    build = (site / "build").resolve().as_uri() + "/"
    site_links = [h for h in hrefs if h.startswith(build)]
    assert site_links and all(Path(unquote(urlsplit(h).path)).is_file() for h in site_links)
    assert topic.startswith(build + "topic/") and title
