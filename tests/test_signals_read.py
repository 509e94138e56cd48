"""Reading Search Console and GA4 exports (sitegen.ingest.signals): every layout, kind detection and checking, and
every row accounted for (a signal or a rejection with its reason), on hand-made files and on every real export."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from sitegen.core.errors import SignalsError
from sitegen.ingest.signals import detect, columns, export_files, folder_period, parse_day, read_signals

from .conftest import SHARED

EXPORTS = SHARED / "fixtures" / "real-exports"
REAL = sorted(p for d in EXPORTS.glob("gsc-*") for p in export_files(d)) if EXPORTS.is_dir() else []


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_text(text, encoding=encoding)
    return path


def reasons(read) -> Counter:
    return Counter(r for _, r, _ in read.rejected)


def accounted(read) -> None:
    assert read.rows == len(read.signals) + len(read.rejected)
    lines = sorted([s.line for s in read.signals] + [n for n, _, _ in read.rejected])
    assert len(set(lines)) == len(lines) == read.rows  # each row once, as a signal or as a rejection


# -- the UI export ---------------------------------------------------------------------------------------

def test_ui_queries_with_a_total_line_an_empty_query_and_bad_numbers(tmp_path):
    path = write(tmp_path, "Queries.csv", "\ufeffTop queries,Clicks,Impressions,CTR,Position\n"
                 "red dress,\"1,204\",\"10,000\",12.04%,4.5\n"
                 ",3,10,30%,2\n"
                 "blue cat,many,10,1%,2\n"
                 "green hat,-1,10,1%,2\n"
                 "tabby,0,12,0%,31\n"
                 "Total,1207,10032,12%,4\n")
    read = read_signals(path)
    assert (read.kind, read.dimension, read.rows, read.dated) == ("gsc", "query", 6, False)
    assert [(s.query, s.clicks, s.impressions, s.position) for s in read.signals] == [
        ("red dress", 1204, 10000, 4.5), ("tabby", 0, 12, 31)]
    assert reasons(read) == {"no_query": 1, "bad_number": 2, "total_row": 1}
    assert ("bad_number", "clicks: 'many'") in [(r, d) for _, r, d in read.rejected]
    accounted(read)


@pytest.mark.parametrize("name,header,dimension,field", [
    ("Pages.csv", "Top pages", "page", "page"), ("Countries.csv", "Country", "country", "country"),
    ("Devices.csv", "Device", "device", "device"), ("Search appearance.csv", "Search Appearance", "appearance",
                                                   "appearance")])
def test_ui_dimension_files(tmp_path, name, header, dimension, field):
    path = write(tmp_path, name, f"{header},Clicks,Impressions,CTR,Position\nA value,3,10,30%,2.5\n,1,1,100%,1\n")
    read = read_signals(path)
    assert (read.kind, read.dimension) == ("gsc", dimension)
    assert getattr(read.signals[0], field) == "A value" and read.signals[0].clicks == 3
    assert reasons(read) == {f"no_{dimension}": 1}
    accounted(read)


def test_ui_dates_and_the_folder_period(tmp_path):
    write(tmp_path, "Dates.csv", "Date,Clicks,Impressions,CTR,Position\n2025-04-19,0,15,0%,32.2\n"
          "2025-04-17,1,9,11.11%,23.56\nsoon,1,1,1%,1\n")
    read = read_signals(tmp_path / "Dates.csv")
    assert (read.kind, read.dimension, read.dated) == ("gsc", "date", True)
    assert [s.date for s in read.signals] == ["2025-04-19", "2025-04-17"] and reasons(read) == {"bad_date": 1}
    assert folder_period(tmp_path) == ("2025-04-17", "2025-04-19")
    assert folder_period(tmp_path / "nowhere") is None


def test_filters_csv_lines_are_export_settings(tmp_path):
    read = read_signals(write(tmp_path, "Filters.csv", "Filter,Value\nSearch type,Web\nDate,Last 3 months\n"))
    assert (read.kind, read.dimension, read.signals) == ("gsc", "filter", [])
    assert reasons(read) == {"export_setting": 2}
    accounted(read)


# -- query x page: the API and the bulk export -------------------------------------------------------------

def test_api_export_with_country_and_device(tmp_path):
    path = write(tmp_path, "api.csv", "Date,Page,Query,Country,Device,Clicks,Impressions,CTR,Position\n"
                 "2026-05-01,https://example.org/a/,red cat,usa,MOBILE,1,10,0.1,3.5\n"
                 "2026-05-01,https://example.org/b/,,usa,DESKTOP,0,5,0,9\n"
                 "2026-05-02,,,usa,DESKTOP,0,5,0,9\n"
                 "May 2,https://example.org/a/,red cat,usa,MOBILE,1,10,0.1,3.5\n")
    read = read_signals(path)
    assert (read.kind, read.dimension, read.dated) == ("gsc-api", "query_page", True)
    first = read.signals[0]
    assert (first.date, first.page, first.query, first.country, first.device, first.clicks, first.position) == (
        "2026-05-01", "https://example.org/a/", "red cat", "usa", "MOBILE", 1, 3.5)
    assert read.signals[1].query == "" and read.signals[1].page == "https://example.org/b/"  # a page row: kept
    assert reasons(read) == {"no_query": 1, "bad_date": 1}
    accounted(read)


def test_bulk_export_position_from_sum_position_any_header_case(tmp_path):
    path = write(tmp_path, "bulk.csv", "DATA_DATE,Site_URL,URL,Query,Is_Anonymized_Query,Country,Search_Type,"
                 "Device,Impressions,Clicks,Sum_Position\n"
                 "2026-05-01,sc-domain:example.org,https://example.org/a/,red cat,false,usa,WEB,MOBILE,4,1,10\n"
                 "2026-05-01,sc-domain:example.org,https://example.org/a/,,true,usa,WEB,MOBILE,2,0,3\n")
    read = read_signals(path)
    assert (read.kind, read.dimension) == ("gsc-api", "query_page")
    assert read.signals[0].position == pytest.approx(10 / 4 + 1)
    assert read.signals[1].query == "" and read.signals[1].position == pytest.approx(2.5)
    accounted(read)


def test_bulk_site_table_parquet_withheld_queries(tmp_path):
    import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"data_date": [datetime.date(2026, 5, 1), datetime.date(2026, 5, 2)],
                      "site_url": ["sc-domain:example.org"] * 2, "query": ["red cat", None],
                      "is_anonymized_query": [False, True], "country": ["usa", "fra"],
                      "search_type": ["WEB", "WEB"], "device": ["MOBILE", "DESKTOP"],
                      "impressions": [10, 7], "clicks": [2, 0], "sum_top_position": [30.0, 6.0]})
    path = tmp_path / "site_impression.parquet"
    pq.write_table(table, path)
    read = read_signals(path)
    assert (read.kind, read.dimension, read.unit, read.rows) == ("gsc-api", "query", "row", 2)
    s = read.signals[0]
    assert (s.date, s.query, s.clicks, s.impressions, s.position, s.country) == ("2026-05-01", "red cat", 2, 10, 4.0,
                                                                                 "usa")
    assert read.rejected == [(2, "anonymized_query", "the bulk export withholds this query")]


# -- GA4 ---------------------------------------------------------------------------------------------------

def test_ga4_engagement_rate_dates_and_ignored_columns(tmp_path):
    path = write(tmp_path, "ga4.csv", "date,channel,pagePath,activeUsers,sessions,engagementRate\n"
                 "20260501,Organic Search,/a/,3,4,0.75\n"
                 "2026-05-02,Direct,/b/?utm=x,1,2,50%\n"
                 "20260532,Direct,/c/,1,1,1\n"
                 "20260503,Direct,(not set),1,1,1\n"
                 "20260503,Direct,/d/,1,x,1\n")
    read = read_signals(path)
    assert (read.kind, read.dimension, read.dated) == ("ga4", "page", True)
    assert [(s.date, s.page, s.sessions, s.engaged) for s in read.signals] == [
        ("2026-05-01", "/a/", 4, 3.0), ("2026-05-02", "/b/?utm=x", 2, 1.0)]
    assert reasons(read) == {"bad_date": 1, "no_page": 1, "bad_number": 1}
    accounted(read)


def test_ga4_ui_export_with_comment_lines_engaged_sessions_and_a_grand_total(tmp_path):
    path = write(tmp_path, "ga4-ui.csv", "# ----------------------------------------\n# Landing page\n"
                 "# Start date: 20260501\n# End date: 20260531\n# ----------------------------------------\n\n"
                 "Landing page + query string,Sessions,Engaged sessions,Engagement rate,Views\n"
                 "Grand total,10,6,60%,40\n/a/,7,5,71.4%,30\n/b/,3,4,,10\n")
    read = read_signals(path)
    assert (read.kind, read.dated, read.period) == ("ga4", False, ("2026-05-01", "2026-05-31"))
    assert [(s.page, s.sessions, s.engaged) for s in read.signals] == [("/a/", 7, 5)]
    assert reasons(read) == {"total_row": 1, "bad_number": 1}  # 4 engaged of 3 sessions is not a count
    assert read.rejected[0][0] == 8  # the line number in the file, comment lines counted
    accounted(read)


def test_ga4_needs_an_engagement_column(tmp_path):
    path = write(tmp_path, "ga4.csv", "date,pagePath,sessions\n20260501,/a/,3\n")
    with pytest.raises(SignalsError, match="ga4.csv: a GA4 export needs an engagedSessions or engagementRate"):
        read_signals(path)


# -- files, kinds and encodings ----------------------------------------------------------------------------

def test_explicit_kinds_are_checked_against_the_header(tmp_path):
    api = write(tmp_path, "api.csv", "date,query,page,clicks,impressions,ctr,position\n2026-05-01,a,/a/,0,1,0,1\n")
    assert read_signals(api, "gsc-api").kind == "gsc-api"
    with pytest.raises(SignalsError, match=r"api.csv: not a GA4 landing-page export: its header \(date, query, page"
                                           r".*\) is a Search Console query x page export .*--kind gsc-api"):
        read_signals(api, "ga4")
    with pytest.raises(SignalsError, match="unknown signals kind 'gsc-ui'"):
        read_signals(api, "gsc-ui")
    other = write(tmp_path, "items.csv", "id,title\n1,Cat\n")
    with pytest.raises(SignalsError, match=r"items.csv: not a Search Console or GA4 export \(header: id, title\)"):
        read_signals(other)
    with pytest.raises(SignalsError, match="no Impressions column"):
        read_signals(write(tmp_path, "q.csv", "Query,Clicks\nred,1\n"))
    with pytest.raises(SignalsError, match="empty file"):
        read_signals(write(tmp_path, "e.csv", ""))
    with pytest.raises(SignalsError, match="e.parquet: cannot read the Parquet file"):
        read_signals(write(tmp_path, "e.parquet", "not parquet"))


def test_detection_table():
    def kind(*names):
        return detect(columns(list(names)))

    assert kind("Top queries", "Clicks", "Impressions") == ("gsc", "query")
    assert kind("query", "page", "clicks", "impressions") == ("gsc-api", "query_page")  # joined, no date
    assert kind("date", "page", "clicks", "impressions") == ("gsc-api", "page")
    assert kind("data_date", "url", "impressions", "clicks", "sum_position") == ("gsc-api", "page")
    assert kind("landingPage", "sessions", "engagedSessions") == ("ga4", "page")
    assert kind("Date", "Clicks", "Impressions") == ("gsc", "date")
    assert kind("id", "title") is None


def test_semicolons_tabs_and_utf16(tmp_path):
    semi = write(tmp_path, "Queries.csv", "Query;Clicks;Impressions;CTR;Position\nred cat;1;10;10%;2\n")
    assert read_signals(semi).signals[0].clicks == 1
    tabbed = write(tmp_path, "q.tsv", "Query\tClicks\tImpressions\tCTR\tPosition\nrot katze\t2\t10\t20%\t2\n",
                   encoding="utf-16")
    assert [s.query for s in read_signals(tabbed).signals] == ["rot katze"]


def test_parse_day():
    assert parse_day("20260501") == parse_day("2026-05-01") == parse_day("2026-05-01T00:00:00Z") == "2026-05-01"
    for bad in ("2026-13-01", "May 1", "", "2026-5-1"):
        with pytest.raises(ValueError):
            parse_day(bad)


def test_export_files_of_a_folder(tmp_path):
    write(tmp_path, "Queries.csv", "")
    write(tmp_path, "notes.txt", "")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "Pages.csv", "")
    assert [p.name for p in export_files(tmp_path)] == ["Queries.csv"]
    with pytest.raises(SignalsError, match="missing.csv: no such file or folder"):
        export_files(tmp_path / "missing.csv")


# -- every real export -------------------------------------------------------------------------------------

def data_rows(path: Path) -> int:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return sum(1 for r in rows[1:] if any(c.strip() for c in r))


@pytest.mark.shared
@pytest.mark.skipif(not REAL, reason=f"{EXPORTS} (the shared real exports) is absent")
@pytest.mark.parametrize("path", REAL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_export_row_is_accounted_for(path):
    read = read_signals(path)
    assert read.rows == data_rows(path) > 0
    accounted(read)
    expected = {"Queries.csv": ("gsc", "query"), "Pages.csv": ("gsc", "page"), "Dates.csv": ("gsc", "date"),
                "Countries.csv": ("gsc", "country"), "Devices.csv": ("gsc", "device"),
                "Search appearance.csv": ("gsc", "appearance"), "gsc_data.csv": ("gsc-api", "query_page"),
                "gsc_2026-05_first60rows.csv": ("gsc-api", "query_page"), "ga4_2026-05.csv": ("ga4", "page")}
    assert (read.kind, read.dimension) == expected[path.name]
    assert read.dated == (path.name in ("Dates.csv", "gsc_data.csv", "gsc_2026-05_first60rows.csv",
                                        "ga4_2026-05.csv"))
