"""Importing signals (sitegen.demand.signals): page matching, redirects, the day conventions, idempotence, and
every row of every real export accounted for."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sitegen.core.config import Config, SignalsSection, SiteSection
from sitegen.core.errors import SignalsError
from sitegen.core.models import PageRecord
from sitegen.demand.signals import PageMatcher, import_configured, import_signals, read_redirects, url_key
from sitegen.ingest.signals import export_files, read_signals
from sitegen.store.db import Store

from .conftest import SHARED
from .test_signals_read import data_rows

EXPORTS = SHARED / "fixtures" / "real-exports"
PAGES = ["/", "/topic/red-dresses/", "/item/blue-cat-12/", "/category/cats/", "/café-au-lait/"]


def make_store(path: Path, pages=PAGES) -> Store:
    store = Store(path)
    run = store.runs.begin("2026-01-01T00:00:00Z", "h")
    store.pages.replace(run, [PageRecord(p, "collection", p, "", "h") for p in pages], [])
    return store


def config(tmp_path: Path, base="https://example.org/", hosts=(), redirects="") -> Config:
    return Config(site=SiteSection(base_url=base), signals=SignalsSection(hosts=list(hosts), redirects=redirects),
                  root=tmp_path)


@pytest.fixture()
def store(tmp_path):
    with make_store(tmp_path / "s.duckdb") as s:
        yield s


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- matching -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,expected", [
    ("https://example.org/topic/red-dresses/", "/topic/red-dresses/"),
    ("http://www.example.org/topic/red-dresses", "/topic/red-dresses/"),
    ("https://EXAMPLE.org/Topic/Red-Dresses/index.html?utm_source=x#top", "/topic/red-dresses/"),
    ("/topic/red-dresses", "/topic/red-dresses/"),
    ("topic/red-dresses/", "/topic/red-dresses/"),
    ("//example.org//topic//red-dresses/", "/topic/red-dresses/"),
    ("/caf%C3%A9-au-lait", "/café-au-lait/"),
    ("https://example.org/CAF%c3%a9-AU-LAIT/", "/café-au-lait/"),
    ("https://example.org/index.html", "/"),
    ("https://example.org", "/"),
    ("https://old.example.net/category/cats/", "/category/cats/"),  # signals.hosts
    ("/old-red-dresses.html", "/topic/red-dresses/"),  # a redirect
    ("/older/", "/topic/red-dresses/"),  # a chain of redirects
])
def test_pages_match_the_site_urls(raw, expected):
    m = PageMatcher("https://example.org/", ["old.example.net"], PAGES,
                    {"/old-red-dresses.html": "/topic/red-dresses/", "https://example.org/older": "/old-red-dresses.html"})
    assert m.match(raw) == (expected, "", "")


@pytest.mark.parametrize("raw,host,reason", [
    ("https://other.example/topic/red-dresses/", "", "other_host"),
    ("https://example.org.evil.test/", "", "other_host"),
    ("android-app://org.example/", "", "other_host"),
    ("/topic/red-dresses/", "other.example", "other_host"),  # a GA4 hostName column
    ("https://example.org/topic/blue-dresses/", "", "unknown_page"),
    ("/gone/", "", "unknown_page"),
    ("/loop-a/", "", "unknown_page"),
])
def test_pages_not_on_the_site(raw, host, reason):
    m = PageMatcher("https://example.org/", [], PAGES, {"/gone/": "", "/loop-a/": "/loop-b/", "/loop-b/": "/loop-a/"})
    path, why, detail = m.match(raw, host)
    assert (path, why) == ("", reason) and raw in detail


def test_a_base_url_with_a_path():
    m = PageMatcher("https://example.org/shop/", [], PAGES)
    assert m.match("https://example.org/shop/topic/red-dresses/")[0] == "/topic/red-dresses/"
    assert m.match("/shop/item/blue-cat-12")[0] == "/item/blue-cat-12/"
    assert m.match("https://example.org/shop/")[0] == "/"


def test_url_key():
    assert url_key("/A//b/index.htm") == url_key("a/b/") == url_key("/a/b") == "/a/b"
    assert url_key("") == url_key("/index.html") == "/"


def test_redirects_file(tmp_path):
    path = write(tmp_path, "redirects.txt", "# moved by hand\n/old/ /topic/red-dresses/\n\n/gone/ / 410\n"
                 "https://example.org/x  /y  301!\n")
    assert read_redirects(path) == {"/old/": "/topic/red-dresses/", "/gone/": "", "https://example.org/x": "/y"}
    write(tmp_path, "bad.txt", "/a/ /b/\n/only-one\n")
    with pytest.raises(SignalsError, match=r"bad.txt:2: expected 'old-path new-path'"):
        read_redirects(tmp_path / "bad.txt")


# -- importing ----------------------------------------------------------------------------------------------

API = ("date,query,page,clicks,impressions,ctr,position\n"
       "2026-05-01,red dresses,https://example.org/topic/red-dresses/,2,20,0.1,3\n"
       "2026-05-01,blue cat,https://www.example.org/item/blue-cat-12,1,5,0.2,2\n"
       "2026-05-02,green hats,https://example.org/topic/green-hats/,0,7,0,9\n"
       "2026-05-02,red dresses,https://elsewhere.example/topic/red-dresses/,9,9,1,1\n"
       "2026-05-02,old page,https://example.org/moved/,1,4,0.25,5\n"
       "2026-05-03,,https://example.org/,3,30,0.1,4\n"
       "2026-05-03,cats,https://example.org/category/cats/,many,1,0,1\n")


def test_import_matches_pages_keeps_unknown_pages_queries_and_reports_reasons(store, tmp_path):
    path = write(tmp_path, "api.csv", API)
    report = import_signals(store, config(tmp_path), [path], redirects={"/moved/": "/item/blue-cat-12/"})
    (f,) = report.files
    assert (f.kind, f.dimension, f.rows, f.used, f.query_kept) == ("gsc-api", "query_page", 7, 4, 1)
    assert f.rejected == {"bad_number": 1, "other_host": 1, "unknown_page": 1}
    assert f.rows == f.used + f.rejected_total
    assert f.examples["unknown_page"] == ("line 4: https://example.org/topic/green-hats/",)
    assert f.period == ("2026-05-01", "2026-05-03") and f.dated_by == "rows"
    rows = [(r.date, r.query, r.page, r.clicks, r.impressions) for r in store.signals.rows()]
    assert rows == [("2026-05-01", "blue cat", "/item/blue-cat-12/", 1, 5),
                    ("2026-05-01", "red dresses", "/topic/red-dresses/", 2, 20),
                    ("2026-05-02", "green hats", "", 0, 7),  # unknown page: its query is kept
                    ("2026-05-02", "old page", "/item/blue-cat-12/", 1, 4),  # through the redirect
                    ("2026-05-03", "", "/", 3, 30)]


def test_reimporting_the_same_file_changes_nothing(store, tmp_path):
    path = write(tmp_path, "api.csv", API)
    cfg = config(tmp_path)
    first = import_signals(store, cfg, [path])
    before = (store.signals.rows(), store.signals.imports())
    (tmp_path / "again").mkdir()
    copy = write(tmp_path / "again", "copy.csv", API)  # the same bytes under another name
    again = import_signals(store, cfg, [path, copy, tmp_path / "again"])
    assert (store.signals.rows(), store.signals.imports()) == before
    assert all(f.already_imported for f in again.files) and len(again.files) == 3
    assert [(f.rows, f.used, f.rejected) for f in again.files] == [(f.rows, f.used, f.rejected)
                                                                   for f in first.files] * 3
    assert again.used == 0 and first.used == 3  # /moved/ is unknown without the redirect
    # the same bytes twice in one call: stored once
    with make_store(tmp_path / "t.duckdb") as other:
        twice = import_signals(other, cfg, [path, copy])
        assert [f.already_imported for f in twice.files] == [False, True]
        assert len(other.signals.rows()) == len(before[0])


def test_ui_exports_take_the_period_of_dates_csv_else_the_import_day(store, tmp_path):
    ui = tmp_path / "ui"
    ui.mkdir()
    write(ui, "Queries.csv", "Top queries,Clicks,Impressions,CTR,Position\nred dresses,3,30,10%,2\n")
    write(ui, "Dates.csv", "Date,Clicks,Impressions,CTR,Position\n2026-04-30,1,10,10%,2\n2026-04-01,2,20,10%,2\n")
    write(ui, "Filters.csv", "Filter,Value\nSearch type,Web\n")
    write(ui, "notes.csv", "id,title\n1,x\n")
    lone = tmp_path / "lone"
    lone.mkdir()
    write(lone, "Queries.csv", "Top queries,Clicks,Impressions,CTR,Position\nblue cat,1,10,10%,2\n")
    report = import_signals(store, config(tmp_path), [ui, lone / "Queries.csv"], today="2026-05-05")
    by_name = {Path(f.path).parent.name + "/" + Path(f.path).name: f for f in report.files}
    assert by_name["ui/Queries.csv"].period == ("2026-04-01", "2026-04-30")
    assert by_name["ui/Queries.csv"].dated_by == "Dates.csv"
    assert by_name["ui/Dates.csv"].dated_by == "rows"
    assert by_name["ui/Filters.csv"].rejected == {"export_setting": 1} and by_name["ui/Filters.csv"].used == 0
    assert by_name["ui/notes.csv"].skipped.startswith("not a Search Console or GA4 export")
    assert (by_name["lone/Queries.csv"].period, by_name["lone/Queries.csv"].dated_by) == (
        ("2026-05-05", "2026-05-05"), "import day")
    stored = {(r.query, r.start, r.date) for r in store.signals.rows() if r.query}
    assert stored == {("red dresses", "2026-04-01", "2026-04-30"), ("blue cat", "2026-05-05", "2026-05-05")}


def test_ga4_pages_and_a_kind_for_a_folder(store, tmp_path):
    write(tmp_path, "ga4.csv", "date,hostName,pagePath,sessions,engagedSessions\n"
          "20260501,example.org,/topic/red-dresses/?utm=1,4,3\n20260501,other.example,/,2,1\n"
          "20260501,www.example.org,/nope/,2,1\n")
    write(tmp_path, "Queries.csv", "Top queries,Clicks,Impressions,CTR,Position\nred dresses,3,30,10%,2\n")
    report = import_signals(store, config(tmp_path), [tmp_path], kind="ga4")
    ga4 = next(f for f in report.files if f.kind == "ga4")
    assert (ga4.used, ga4.rejected, ga4.query_kept) == (1, {"other_host": 1, "unknown_page": 1}, 0)
    assert next(f for f in report.files if f.path.endswith("Queries.csv")).skipped.startswith(
        "not a GA4 landing-page export")
    assert [(r.page, r.sessions, r.engaged, r.source) for r in store.signals.rows()] == [
        ("/topic/red-dresses/", 4, 3, "ga4")]
    with pytest.raises(SignalsError, match="Queries.csv: not a GA4 landing-page export"):
        import_signals(store, config(tmp_path), [tmp_path / "Queries.csv"], kind="ga4")  # named: an error


def test_nothing_is_imported_when_a_named_file_is_unreadable(store, tmp_path):
    good = write(tmp_path, "api.csv", API)
    bad = write(tmp_path, "bad.csv", "id,title\n1,x\n")
    with pytest.raises(SignalsError, match="bad.csv: not a Search Console or GA4 export"):
        import_signals(store, config(tmp_path), [good, bad])
    with pytest.raises(SignalsError, match="nope.csv: no such file or folder"):
        import_signals(store, config(tmp_path), [good, tmp_path / "nope.csv"])
    assert store.signals.rows() == [] and store.signals.imports() == []


def test_page_rows_need_a_built_site(tmp_path):
    with Store(tmp_path / "empty.duckdb") as empty:
        with pytest.raises(SignalsError, match="the store has no published pages yet: build the site first"):
            import_signals(empty, config(tmp_path), [write(tmp_path, "api.csv", API)])
        q = write(tmp_path, "Queries.csv", "Top queries,Clicks,Impressions,CTR,Position\nred,1,2,50%,1\n")
        assert import_signals(empty, config(tmp_path), [q], today="2026-05-01").files[0].used == 1


def test_redirects_file_from_the_config_and_overlaps(store, tmp_path):
    write(tmp_path, "moved.txt", "/moved/ /category/cats/\n")
    cfg = config(tmp_path, redirects="moved.txt")
    first = write(tmp_path, "w1.csv", "date,query,page,clicks,impressions\n2026-05-01,cats,/moved/,1,2\n")
    second = write(tmp_path, "w2.csv", "date,query,page,clicks,impressions\n2026-05-01,cats,/moved,2,3\n"
                   "2026-05-02,cats,/moved,2,3\n")
    assert import_signals(store, cfg, [first]).files[0].overlaps == ()
    (f,) = import_signals(store, cfg, [second]).files
    assert f.overlaps == (str(first),)
    assert {r.page for r in store.signals.rows()} == {"/category/cats/"}
    with pytest.raises(SignalsError, match="signals.redirects: file not found"):
        import_signals(store, config(tmp_path, redirects="missing.txt"), [write(tmp_path, "w3.csv", API)])


def test_import_configured_paths(store, tmp_path):
    write(tmp_path, "api.csv", API)
    cfg = config(tmp_path)
    assert import_configured(store, cfg).files == ()
    cfg.signals.paths = ["api.csv"]
    assert import_configured(store, cfg).files[0].used == 3
    cfg.signals.paths = ["api.csv", "gone/"]
    with pytest.raises(SignalsError, match=r"signals.paths\[1\]: no such file or folder"):
        import_configured(store, cfg)


# -- every real export --------------------------------------------------------------------------------------

REAL_SITES = {"gsc-site-a": "https://www.hcidirect.co.uk/", "gsc-site-b": "https://adelphi.example/",
              "gsc-query-page-site-c": "https://flashcomindonesia.com/", "gsc-ga4-site-d": "https://funatsuri-yoso.com/"}


def published_half(folder: Path) -> list[str]:
    """Every other page path the folder's exports name (so some rows match and some are unknown_page)."""
    paths = set()
    for f in export_files(folder):
        for s in read_signals(f).signals:
            if s.page:
                paths.add(urlsplit(s.page).path or "/")
    return sorted(paths)[::2] or ["/"]


@pytest.mark.shared
@pytest.mark.skipif(not EXPORTS.is_dir(), reason=f"{EXPORTS} (the shared real exports) is absent")
@pytest.mark.parametrize("site", sorted(REAL_SITES))
def test_every_row_of_every_real_export_is_used_or_rejected(site, tmp_path):
    folder = EXPORTS / site
    cfg = config(tmp_path, base=REAL_SITES[site])
    with make_store(tmp_path / "s.duckdb", published_half(folder)) as store:
        report = import_signals(store, cfg, [folder], today="2026-06-01")
        assert {Path(f.path).name for f in report.files} == {p.name for p in export_files(folder)}
        for f in report.files:
            assert not f.skipped and not f.already_imported
            assert f.rows == data_rows(Path(f.path)) == f.used + f.rejected_total, f
            assert set(f.rejected) <= {"unknown_page", "other_host"}
        stored = Counter(r.dimension for r in store.signals.rows())
        assert sum(stored.values()) == sum(f.used + f.query_kept for f in report.files)
        again = import_signals(store, cfg, [folder], today="2027-01-01")
        assert all(f.already_imported for f in again.files) and sum(Counter(
            r.dimension for r in store.signals.rows()).values()) == sum(stored.values())
        if site == "gsc-site-a":
            assert {f.dated_by for f in report.files} == {"rows", "Dates.csv"}
            assert store.signals.date_range() == ("2025-03-17", "2025-04-19")
        if site == "gsc-ga4-site-d":
            ga4 = next(f for f in report.files if f.kind == "ga4")
            assert ga4.used > 0 and ga4.rejected.get("unknown_page", 0) > 0
