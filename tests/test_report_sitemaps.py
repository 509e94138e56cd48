"""The review report's HTML view of the sitemaps (read back from the built folder, no XSLT): one page per
sitemap file, and in Chromium the tables sort by every column and filter by type, lastmod and image count."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sitegen.audit.report import report_dir, write_report
from sitegen.audit.sitemaps import read_sitemaps
from sitegen.cli.serve import serve_in_thread
from sitegen.core.config import Config

from .test_browser import ARTIFACTS, CHROMIUM, browser  # noqa: F401  (the browser fixture)
from .test_report import LINKS, SUMMARY, fill_store

NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
IMG = "{http://www.google.com/schemas/sitemap-image/1.1}"
BASE = "https://example.org/"


def _xml(urls: list[tuple[str, str, int]]) -> str:
    body = "".join(f"<url><loc>{BASE}{p}</loc><lastmod>{m}</lastmod>"
                   + "".join(f"<image:image><image:loc>{BASE}media/{p.strip('/')}-{i}.webp</image:loc></image:image>"
                             for i in range(n)) + "</url>\n" for p, m, n in urls)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">\n{body}</urlset>\n')


def _site(root: Path) -> Path:
    out = root / "build"
    out.mkdir(parents=True)
    (out / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{BASE}sitemap-pages.xml</loc><lastmod>2026-01-02</lastmod></sitemap>"
        f"<sitemap><loc>{BASE}sitemap-items.xml</loc><lastmod>2026-01-03</lastmod></sitemap>"
        f"<sitemap><loc>{BASE}sitemap-gone.xml</loc></sitemap></sitemapindex>\n")
    (out / "sitemap-pages.xml").write_text(_xml([("", "2026-01-01", 0), ("topic/green-dresses/", "2026-01-02", 3)]))
    (out / "sitemap-items.xml").write_text(_xml([(f"item/dress-{n}/", f"2026-01-0{1 + n % 3}", n % 3)
                                                 for n in range(12)]))
    return out


def test_read_sitemaps_follows_the_index(tmp_path):
    files = read_sitemaps(_site(tmp_path), BASE)
    assert [f.name for f in files] == ["sitemap.xml", "sitemap-pages.xml", "sitemap-items.xml"]  # gone: skipped
    assert files[0].kind == "index" and len(files[0].entries) == 3
    pages = files[1]
    assert [(e.path, e.lastmod, e.images) for e in pages.entries] == [("/", "2026-01-01", 0),
                                                                      ("/topic/green-dresses/", "2026-01-02", 3)]
    assert files[2].images == sum(n % 3 for n in range(12)) and files[2].lastmod_range() == ("2026-01-01",
                                                                                            "2026-01-03")


def test_the_report_writes_a_page_per_sitemap_and_drops_stale_ones(tmp_path):
    cfg = Config(root=tmp_path)
    cfg.site.base_url = BASE
    _site(tmp_path)
    stale = report_dir(cfg) / "sitemaps" / "sitemap-items-2.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    store, run = fill_store(cfg.store_path, n_pages=15)
    with store:
        index = write_report(report_dir(cfg), cfg, store, run, [], summary=SUMMARY, link_report=LINKS)
    pages = sorted(p.name for p in (index.parent / "sitemaps").iterdir())
    assert pages == ["sitemap-items.html", "sitemap-pages.html", "sitemap.html"]
    items = (index.parent / "sitemaps" / "sitemap-items.html").read_text()
    assert items.count('<tr data-kind="item"') == 12 and "/sitemap-items.xml" in items
    assert "<?xml-stylesheet" not in items and "xsl" not in items.lower()
    html = index.read_text()
    assert 'href="sitemaps/sitemap-items.html"' in html and html.count('data-sitemap="sitemap-items.xml"') == 12
    # the URLs come from the published files: the index lists 14, though the store has other pages
    assert re.search(r"<p>14 URLs in", html)
    root = index.parent / "sitemaps" / "sitemap.html"
    assert "not in this build" in root.read_text()  # sitemap-gone.xml


# -- in Chromium, on the example build ---------------------------------------------------------------------

no_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")


@pytest.fixture(scope="module")
def served_report(example_build):
    site = example_build[0]
    server, base = serve_in_thread(site / "build", report_dir=site / ".sitegen" / "report")
    yield site, base
    server.shutdown()
    server.server_close()


def _urls(xml: Path) -> list[tuple[str, str, int]]:
    return [(u.findtext(f"{NS}loc"), u.findtext(f"{NS}lastmod") or "", len(u.findall(f"{IMG}image")))
            for u in ET.parse(xml).getroot().iter(f"{NS}url")]


def _visible(page, table: str) -> list[dict]:
    return page.eval_on_selector_all(f"#{table} tbody tr", """rs => rs.filter(r => r.style.display !== 'none')
        .map(r => ({url: r.cells[0].textContent.trim(), kind: r.dataset.kind, lastmod: r.dataset.lastmod,
                    images: +r.dataset.images}))""")


@pytest.mark.browser
@no_chromium
def test_every_sitemap_has_its_table(browser, served_report):
    site, base = served_report
    children = [loc.rsplit("/", 1)[1] for loc in
                (e.text for e in ET.parse(site / "build" / "sitemap.xml").getroot().iter(f"{NS}loc"))]
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/_report/")
    listed = page.eval_on_selector_all("#sitemap-files tbody td:first-child", "ts => ts.map(t => t.textContent)")
    assert listed == ["sitemap.xml", *children]
    for name in children:
        page.goto(base + f"/_report/sitemaps/{name.removesuffix('.xml')}.html")
        rows = _visible(page, "sitemap-urls")
        assert [(r["url"], r["lastmod"], r["images"]) for r in rows] == _urls(site / "build" / name)
        assert page.text_content(".sm-count") == f"{len(rows)} of {len(rows)} URLs shown"
    assert errors == []
    page.close()


@pytest.mark.browser
@no_chromium
def test_sort_and_filter_in_the_report(browser, served_report):
    site, base = served_report
    every = [u for name in sorted((site / "build").glob("sitemap-*.xml")) for u in _urls(name)]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(base + "/_report/#sitemap")
    assert len(_visible(page, "sitemap-table")) == len(every)

    images = page.locator("#sitemap-table th[data-key=images]")
    images.locator("button").click()
    assert images.get_attribute("aria-sort") == "ascending"
    counts = [r["images"] for r in _visible(page, "sitemap-table")]
    assert counts == sorted(counts) and counts[0] < counts[-1]
    images.locator("button").click()
    assert images.get_attribute("aria-sort") == "descending"
    assert [r["images"] for r in _visible(page, "sitemap-table")] == sorted(counts, reverse=True)
    url = page.locator("#sitemap-table th[data-key=url]")
    url.locator("button").click()
    assert url.get_attribute("aria-sort") == "ascending" and images.get_attribute("aria-sort") is None
    shown = [r["url"] for r in _visible(page, "sitemap-table")]
    assert shown == sorted(shown)

    box = page.locator("#sitemap .sm-controls")
    box.locator("[data-filter=kind]").select_option("collection")
    rows = _visible(page, "sitemap-table")
    collections = _urls(site / "build" / "sitemap-collections.xml")
    assert {r["kind"] for r in rows} == {"collection"} and len(rows) == len(collections)
    assert box.locator(".sm-count").text_content() == f"{len(rows)} of {len(every)} URLs shown"

    box.locator("[data-filter=min]").fill("10")
    rows = _visible(page, "sitemap-table")
    assert len(rows) == sum(1 for u in collections if u[2] >= 10) and all(r["images"] >= 10 for r in rows)
    box.locator("[data-filter=max]").fill("20")
    assert len(_visible(page, "sitemap-table")) == sum(1 for u in collections if 10 <= u[2] <= 20)
    box.locator("[data-filter=min]").fill("")
    box.locator("[data-filter=max]").fill("")
    box.locator("[data-filter=kind]").select_option("")

    last = max(u[1][:10] for u in every)
    box.locator("[data-filter=from]").fill(last)
    assert len(_visible(page, "sitemap-table")) == sum(1 for u in every if u[1][:10] >= last)
    box.locator("[data-filter=to]").fill("2000-01-01")
    assert _visible(page, "sitemap-table") == []
    assert box.locator(".sm-count").text_content() == f"0 of {len(every)} URLs shown"
    ARTIFACTS.mkdir(exist_ok=True)
    box.locator("[data-filter=from]").fill("")
    box.locator("[data-filter=to]").fill("")
    page.locator("#sitemap").screenshot(path=str(ARTIFACTS / "report-sitemaps.png"))
    page.close()


@pytest.mark.browser
@no_chromium
def test_without_javascript_the_tables_are_plain(browser, served_report):
    site, base = served_report
    page = browser.new_page(java_script_enabled=False)
    page.goto(base + "/_report/sitemaps/sitemap-items.html")
    assert not page.locator(".sm-controls").is_visible()
    assert page.locator("#sitemap-urls tbody tr").count() == len(_urls(site / "build" / "sitemap-items.xml"))
    page.close()

