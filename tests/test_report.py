"""The review report (sitegen.audit.report): written from a hand-filled store, parsed back structurally."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sitegen.audit.check import Finding
from sitegen.core.config import Config
from sitegen.core.models import Alias, Collection, ImageEntry, PageRecord, Rejection
from sitegen.audit.report import SITEMAP_ROWS, report_dir, write_report
from sitegen.store.db import Store

SECTIONS = ["overview", "findings", "changes", "sitemap", "rejected", "dropped", "gates", "topics", "links"]
SUMMARY = {"items_read": 12, "items_accepted": 10, "rejected_by_reason": {"missing_title": 1, "corrupt_image": 1},
           "pages_by_kind": {"home": 1, "hub": 1, "collection": 2, "item": 10, "page": 1},
           "pages_written": 15, "pages_unchanged": 0,
           "stages": [{"name": "load", "seconds": 0.4, "detail": ""}, {"name": "render", "seconds": 2.5,
                                                                      "detail": "15 pages"}]}
LINKS = {"pages": 15, "links": 120, "orphans": [], "orphans_before": 2, "max_depth": 3, "too_deep_count": 0,
         "deep_before": 1, "pagerank_before": {"gini": 0.5}, "pagerank_after": {"gini": 0.3},
         "pages_by_depth": {"0": 1, "1": 4, "2": 10}}


class Doc(HTMLParser):
    """Ids, meta tags, script count, and the text of the page (for structural assertions)."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.meta: dict[str, str] = {}
        self.scripts: list[dict] = []
        self.svgs = 0
        self.links: list[str] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "meta" and a.get("name"):
            self.meta[a["name"]] = a.get("content", "")
        elif tag == "script":
            self.scripts.append(a)
        elif tag == "svg":
            self.svgs += 1
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])

    def handle_data(self, data):
        self.text.append(data)

    @property
    def plain(self) -> str:
        return " ".join(" ".join(self.text).split())


def fill_store(path: Path, *, n_pages: int = 15) -> tuple[Store, int]:
    store = Store(path)
    first = store.runs.begin("2026-01-01T00:00:00Z", "h")
    store.runs.finish(first, "ok", "2026-01-01T00:01:00Z", {})
    run = store.runs.begin("2026-01-02T00:00:00Z", "h")
    records = [PageRecord("/", "home", "Home", "d", "h0", lastmod="2026-01-01"),
               PageRecord("/topic/green-dresses/", "collection", "Green dresses", "d", "h1", lastmod="2026-01-02"),
               PageRecord("/_report/", "report", "Report", "d", "h2", in_sitemap=False)]
    records += [PageRecord(f"/item/dress-{n}/", "item", f"Dress {n}", "d", f"i{n}", lastmod="2026-01-01",
                           images=(ImageEntry(f"https://example.org/media/{n}.webp"),))
                for n in range(n_pages - 3)]
    changes = [("/topic/green-dresses/", "added", "", "Green dresses"),
               ("/topic/old-topic/", "removed", "Old topic", ""),
               ("/item/dress-1/", "retitled", "Dress one", "Dress 1"),
               ("/item/dress-2/", "modified", "Dress 2", "Dress 2")]
    store.pages.replace(run, records, changes)
    store.runs.record_rejections(run, [Rejection("catalog.csv:4", "x4", "missing_title"),
                                       Rejection("catalog.csv:9", "x9", "corrupt_image", "truncated JPEG")])
    store.geo.record_dropped(run, "query", [("nice dress", "too_generic", "", "x1"),
                                            ("brand dress", "brand", "", "x2")])
    store.geo.record_dropped(run, "topic", [("blue dresses", "thin", "2 items (need 6)", ""),
                                            ("green frocks", "duplicate_of:green-dresses", "", "")])
    store.geo.replace_collections([Collection("green-dresses", "green dresses", "description", "Dresses",
                                              tuple("abcdef"), filed_from="Frocks"),
                                   Collection("office-looks", "office looks", "use_case", "Dresses",
                                              tuple("abcdefg"),
                                              aliases=(Alias("old topic", "old-topic", "old-topic", "use_case",
                                                             "same_as_base", 0.8571),
                                                       Alias("office dresses", "office-dresses", "office-dresses",
                                                             "description", "duplicate", 0.6)))], [])
    paths = [r.path for r in records if r.kind != "report"]
    store.geo.replace_links([], {p: 0.5 / (n + 1) for n, p in enumerate(paths)})
    return store, run


def write(tmp_path: Path, findings: list[Finding], **kw) -> tuple[Path, Doc]:
    cfg = Config(root=tmp_path)
    cfg.site.base_url = "https://example.org/"
    store, run = fill_store(cfg.store_path, **kw)
    with store:
        path = write_report(report_dir(cfg), cfg, store, run, findings, summary=SUMMARY, link_report=LINKS)
    return path, Doc(path.read_text(encoding="utf-8"))


ERROR = Finding("error", "broken_link", "/item/dress-3/", "links to /item/gone/, which does not exist",
                "Point the link at an existing page or restore the missing page")
WARN = Finding("warning", "thin_collection", "/topic/green-dresses/", "2 items (minimum 6)", "Add items")


def test_report_renders_sections_verdict_and_change_list(tmp_path):
    path, doc = write(tmp_path, [ERROR, WARN])
    assert path == tmp_path / ".sitegen" / "report" / "index.html"  # beside the store, not in build/
    assert not (tmp_path / "build").exists()
    assert "noindex" in doc.meta["robots"]
    assert set(SECTIONS) <= doc.ids
    text = doc.plain
    assert "Fix 1 error before publishing" in text and "Ready to publish" not in text
    # what changed: each change kind with its pages
    assert "Pages added (1)" in text and "Pages removed (1)" in text and "Pages retitled (1)" in text
    assert "Dress one Dress 1" in text and "/topic/old-topic/" in text
    assert "/topic/old-topic/" not in doc.links  # a removed page is not linked
    # overview, rejections, dropped (grouped by reason prefix), topics by category, findings
    assert "missing_title" in text and "truncated JPEG" in text
    assert "duplicate_of" in text and "“green frocks”" in text
    assert "description" in text and "use_case" in text
    assert "/item/dress-3/" in doc.links and "links to /item/gone/" in text
    assert doc.svgs == 2  # PageRank histogram + weakest pages
    # at most one tiny inline script, no external scripts
    assert len(doc.scripts) == 1 and not doc.scripts[0].get("src")
    data = json.loads((path.parent / "report.json").read_text())
    assert data["verdict"] == {"ok": False, "errors": 1, "warnings": 1, "info": 0}
    assert data["findings"]["rows"][0]["code"] == "broken_link"
    assert {c["change"] for c in data["changes"]} == {"added", "removed", "retitled", "modified"}


def test_report_lists_aliases_refiled_collections_and_where_a_removed_page_went(tmp_path):
    path, doc = write(tmp_path, [])
    text = doc.plain
    assert "2 topics are aliases" in text and "1 collections are filed under" in text
    assert "Aliases (2: duplicate 1, same_as_base 1)" in text
    assert "/topic/office-looks/#old-topic" in doc.links and "/topic/office-looks/#office-dresses" in doc.links
    assert "office dresses office looks duplicate 0.60" in text and "old topic office looks same_as_base 0.86" in text
    assert "Re-filed collections (1)" in text and "green dresses Frocks Dresses" in text
    # the removed page of a topic that is now an alias says where its line is (no redirect, no link to the page)
    assert "Old topic – now a line on /topic/office-looks/#old-topic" in text
    assert "/topic/old-topic/" not in doc.links
    data = json.loads((path.parent / "report.json").read_text())
    assert data["overview"]["aliases"] == 2 and data["overview"]["refiled"] == 1
    assert data["overview"]["topics_considered"] == 2 + 2 + 2  # collections + aliases + dropped topics
    assert [(a["topic"], a["canonical"], a["reason"], a["jaccard"]) for a in data["gates"]["aliases"]] == [
        ("office dresses", "office looks", "duplicate", 0.6), ("old topic", "office looks", "same_as_base", 0.8571)]
    assert data["gates"]["refiled"] == [{"topic": "green dresses", "path": "/topic/green-dresses/", "from": "Frocks",
                                         "to": "Dresses"}]
    removed = next(c for c in data["changes"] if c["change"] == "removed")["rows"]
    assert removed == [{"path": "/topic/old-topic/", "old": "Old topic", "new": "", "alias_on":
                        "/topic/office-looks/#old-topic"}]


def test_clean_build_is_ready_to_publish(tmp_path):
    _, doc = write(tmp_path, [])
    assert "Ready to publish" in doc.plain and "every check passed" in doc.plain


def test_sitemap_listing_is_capped_for_big_sites(tmp_path):
    path, doc = write(tmp_path, [], n_pages=SITEMAP_ROWS + 50)
    table = path.read_text().split('id="sitemap-table"')[1].split("</table>")[0]
    assert table.count("<tr") == SITEMAP_ROWS + 1  # + the header row
    assert f"Showing the first {SITEMAP_ROWS:,} of {SITEMAP_ROWS + 49:,} URLs" in doc.plain
    assert "/sitemap.xml" in doc.links


def test_text_is_escaped(tmp_path):
    evil = Finding("error", "title_missing", "/item/<x>/", "<script>alert(1)</script>", "fix")
    path, _ = write(tmp_path, [evil])
    html = path.read_text()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")
def test_report_in_a_browser_has_no_console_errors_and_filters(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    path, _ = write(tmp_path, [ERROR])
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.fill("#sitemap-filter", "dress-7")
        visible = page.eval_on_selector_all("#sitemap-table tbody tr", "rs => rs.filter(r => r.style.display !== 'none').length")
        hrefs = page.eval_on_selector_all("a", "as => as.map(a => a.href)")
        browser.close()
    assert visible == 1
    assert errors == []
    # opened from disk, links to the site's pages lead to the built files, the report's own links stay beside it
    build = (tmp_path / "build").resolve().as_uri()
    assert build + "/item/dress-3/index.html" in hrefs and build + "/sitemap.xml" in hrefs
    assert path.parent.resolve().as_uri() + "/report.json" in hrefs
    assert not [h for h in hrefs if h.startswith("file:///item/") or h == "file:///sitemap.xml"]


def test_example_build_writes_the_report_beside_the_store(example_build):
    site, result = example_build
    path = site / ".sitegen" / "report" / "index.html"
    assert not (site / "build" / "_report").exists()
    # not in build/; closed to crawlers should a `sitegen serve` preview (which shows it there) be reachable
    assert "Disallow: /_report/\n" in (site / "build" / "robots.txt").read_text()
    doc = Doc(path.read_text(encoding="utf-8"))
    assert "noindex" in doc.meta["robots"] and set(SECTIONS) <= doc.ids
    assert "Ready to publish" in doc.plain
    data = json.loads((path.parent / "report.json").read_text())
    assert data["overview"]["pages"] == sum(result.summary.pages_by_kind.values())
    assert data["sitemap"]["total"] > 0 and data["links"]["scored"] > 0
    sitemaps = "".join(p.read_text() for p in (site / "build").glob("sitemap*.xml"))
    assert "/_report/" not in sitemaps


def test_report_command_prints_the_path_or_says_to_build(tmp_path):
    from click.testing import CliRunner

    from sitegen.cli.main import main

    (tmp_path / "site.toml").write_text('[build]\nstore = "state/site.duckdb"\n')
    config = str(tmp_path / "site.toml")
    result = CliRunner().invoke(main, ["report", "-c", config, "--print-path"])
    assert result.exit_code == 1 and "no review report at" in result.output and "run `sitegen build`" in result.output
    cfg = Config(root=tmp_path)
    cfg.build.store = "state/site.duckdb"
    store, run = fill_store(cfg.store_path)
    with store:
        written = write_report(report_dir(cfg), cfg, store, run, [], summary=SUMMARY, link_report=LINKS)
    result = CliRunner().invoke(main, ["report", "-c", config, "--print-path"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(tmp_path / "state" / "report" / "index.html") == str(written)


def test_report_shows_the_reward_table_what_rewards_changed_and_the_page_lifecycle(tmp_path):
    from sitegen.core.models import PageEvent, RetiredPage

    cfg = Config(root=tmp_path)
    store, run = fill_store(cfg.store_path)
    reward = {"table": {"average": 0.05, "pages": 2, "queries": 1, "pages_without_data": 1, "capped": False,
                        "steer": True,
                        "rows": [{"page": "/topic/green-dresses/", "topic": "green dresses", "impressions": 1200.0,
                                  "clicks": 120.0, "sessions": 0.0, "engaged": 0.0, "reward": 0.1, "measure": "ctr",
                                  "vs_average": 2.0},
                                 {"page": "/topic/old-topic/", "topic": "", "impressions": 900.0, "clicks": 9.0,
                                  "sessions": 0.0, "engaged": 0.0, "reward": 0.01, "measure": "ctr",
                                  "vs_average": 0.2}]},
              "collect": {"gained": [{"topic": "office looks", "ratio": 1.0, "weight": 3.0}],
                          "lost": [{"topic": "old topic", "ratio": 0.2, "weight": 4.0,
                                    "now": "no slot within collect.max_collections"}]},
              "link": {"hub_moves": [{"hub": "Dresses", "topic": "green dresses", "path": "/topic/green-dresses/",
                                      "before": 2, "after": 1, "ratio": 2.0}], "hub_moves_total": 1,
                       "featured_gained": [], "featured_lost": [], "related": [], "related_total": 0}}
    with store:
        store.lifecycle.record(run, [], [RetiredPage("/topic/old-topic/", "old topic", 301, "/topic/office-looks/",
                                                     "budget", "lost its slot", "2026-01-02T00:00:00Z", run)],
                               [PageEvent("/topic/old-topic/", "retired", "old topic", "budget", "lost its slot", 301,
                                          "/topic/office-looks/"),
                                PageEvent("/topic/office-looks/", "created", "office looks",
                                          "won a page slot through query rewards", "7 items")])
        path = write_report(report_dir(cfg), cfg, store, run, [], summary=SUMMARY,
                            link_report={**LINKS, "reward": reward})
    doc = Doc(path.read_text(encoding="utf-8"))
    text = doc.plain
    assert "demand" in doc.ids
    assert "/topic/green-dresses/ green dresses 1,200.0 120.0 0.0 0.1000 ctr 2.00×" in text
    assert "/topic/old-topic/ (retired) old topic" in text  # a page with data retired since: its old topic
    assert "Topics with a page only because of their reward (1)" in text and "office looks 3.0 1.00×" in text
    assert "old topic 4.0 0.20× no slot within collect.max_collections" in text
    assert "Dresses green dresses 2 1 2.00×" in text
    assert "Pages retired (1)" in text and "old topic page budget lost its slot 301 → /topic/office-looks/" in text
    assert "Pages created (1)" in text and "won a page slot through query rewards" in text
    assert "/topic/office-looks/#old-topic – retired: 301 → /topic/office-looks/" in text  # the change list too
    data = json.loads((path.parent / "report.json").read_text())
    assert data["demand"]["lifecycle"]["retired_301"] == 1
    # no data: the section says so
    path, doc = write(tmp_path / "empty", [])
    assert "No reward data" in doc.plain and "created, refreshed and retired no page" in doc.plain


def test_report_draws_the_last_simulation_of_both_arms(tmp_path):
    cfg = Config(root=tmp_path)
    store, run = fill_store(cfg.store_path)
    world = {"rounds": 2, "seed": 0, "searches": 1000, "page_budget": 40}
    with store:
        store.simulations.record("no-feedback", "2026-01-01T00:00:00Z", {**world, "feedback": False},
                                 [{"round": 1, "week": "2018-06-04", "clicks": 100},
                                  {"round": 2, "week": "2018-06-11", "clicks": 110}])
        store.simulations.record("feedback", "2026-01-02T00:00:00Z", {**world, "feedback": True},
                                 [{"round": 1, "week": "2018-06-04", "clicks": 100},
                                  {"round": 2, "week": "2018-06-11", "clicks": 143}])
        store.simulations.record("feedback", "2026-01-03T00:00:00Z", {**world, "feedback": True},  # replaces
                                 [{"round": 1, "week": "2018-06-04", "clicks": 100},
                                  {"round": 2, "week": "2018-06-11", "clicks": 154}])
        path = write_report(report_dir(cfg), cfg, store, run, [], summary=SUMMARY, link_report=LINKS)
    html = path.read_text(encoding="utf-8")
    text = Doc(html).plain
    assert "Simulated demand loop" in text and "1.40×" in text  # 154 / 110
    assert "2 2018-06-11 154 110" in text and "round 2: 143 clicks" not in html
    assert html.count("<polyline") == 2 and "feedback, round 2: 154 clicks" in html
    with Store(cfg.store_path) as s:  # a world with other settings is not compared with
        s.simulations.record("no-feedback", "2026-01-04T00:00:00Z", {**world, "seed": 1, "feedback": False},
                             [{"round": 1, "week": "2018-06-04", "clicks": 90}])
        path = write_report(report_dir(cfg), cfg, s, run, [], summary=SUMMARY, link_report=LINKS)
    html = path.read_text(encoding="utf-8")
    assert html.count("<polyline") == 1 and "×</b>" not in html
    path, doc = write(tmp_path / "none", [])
    assert "Simulated demand loop" not in doc.plain
