"""The one Search Console reader: both real export formats, the CTR rule, separators, BOMs and bad files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sitegen.core.errors import CatalogError
from sitegen.ingest.console import ConsoleRow, console_queries, parse_ctr, read_console_export

SHARED = Path(__file__).resolve().parents[2] / "shared"  # as tests/conftest.py SHARED
EXPORTS = SHARED / "fixtures" / "real-exports"
needs_exports = pytest.mark.skipif(not EXPORTS.is_dir(), reason=f"{EXPORTS} (the shared real exports) is absent")


def raw_rows(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("text,value", [("45%", 0.45), ("45", 0.45), ("0.45", 0.45), (0.45, 0.45), (45, 0.45),
                                        ("33.33%", 0.3333), ("33,33%", 0.3333), ("100%", 1.0), ("1", 1.0),
                                        ("0", 0.0), ("0%", 0.0), ("", 0.0), ("-", 0.0), (None, 0.0)])
def test_ctr_as_a_percentage_or_a_fraction_means_the_same(text, value):
    assert parse_ctr(text) == pytest.approx(value)


@needs_exports
def test_queries_csv_with_percent_ctr():
    a = read_console_export(EXPORTS / "gsc-site-a" / "Queries.csv")
    assert len(a) == 53  # the export ends without a newline: the last row counts too
    assert a[0] == ConsoleRow("hci direct", "", 44, 71, pytest.approx(0.6197), pytest.approx(2.13))
    b = read_console_export(EXPORTS / "gsc-site-b" / "Queries.csv")
    raw = raw_rows(EXPORTS / "gsc-site-b" / "Queries.csv")
    assert len(b) == len(raw) == 795
    assert b[0] == ConsoleRow("adelphi living", "", 255, 765, pytest.approx(0.3333), pytest.approx(1.06))
    for row, r in zip(b, raw):
        assert row.query == r["Top queries"] and row.impressions == int(r["Impressions"].replace(",", ""))
        assert row.ctr == pytest.approx(float(r["CTR"].rstrip("%")) / 100)
    assert all(0.0 <= r.ctr <= 1.0 and r.impressions >= r.clicks >= 0 for r in a + b)
    assert console_queries(EXPORTS / "gsc-site-b" / "Queries.csv")[:2] == ["adelphi living", "adelphi"]


@needs_exports
def test_pages_csv_rows_have_a_page_and_no_query():
    pages = read_console_export(EXPORTS / "gsc-site-a" / "Pages.csv")
    assert pages and all(r.query == "" and r.page.startswith("https://") for r in pages)
    assert console_queries(EXPORTS / "gsc-site-a" / "Pages.csv") == []


@needs_exports
@pytest.mark.parametrize("name", ["gsc-query-page-site-c/gsc_data.csv", "gsc-ga4-site-d/gsc_2026-05_first60rows.csv"])
def test_query_page_exports_with_fraction_ctr(name):
    path = EXPORTS / name
    rows, raw = read_console_export(path), raw_rows(path)
    assert len(rows) == len(raw) > 50
    for row, r in zip(rows, raw):
        r = {k.lower(): v for k, v in r.items()}
        assert (row.query, row.page) == (r["query"], r["page"])
        assert row.ctr == pytest.approx(float(r["ctr"]))  # already a fraction: never divided by 100
        assert row.clicks == int(r["clicks"]) and row.position == pytest.approx(float(r["position"]))


def test_separators_bom_and_empty_queries(tmp_path):
    path = tmp_path / "Queries.csv"
    path.write_text("\ufeffQuery,Clicks,Impressions,CTR,Position\n\"red, apple\",\"1,204\",\"10,000\",12.04%,4.5\n"
                    "tabby cat,0,12,0,31\n,1,1,1%,1\nblue cat,3,\"1\u00a0000\",45,2\n", encoding="utf-8")
    assert read_console_export(path) == [ConsoleRow("red, apple", "", 1204, 10000, pytest.approx(0.1204), 4.5),
                                         ConsoleRow("tabby cat", "", 0, 12, 0.0, 31.0),
                                         ConsoleRow("blue cat", "", 3, 1000, pytest.approx(0.45), 2.0)]


def test_bad_exports_name_the_file(tmp_path):
    path = tmp_path / "Devices.csv"
    path.write_text("Device,Clicks\nDesktop,1\n")
    with pytest.raises(CatalogError, match="Devices.csv: not a Search Console export"):
        read_console_export(path)
    path.write_text("Query,Clicks,Impressions,CTR,Position\nred cat,many,1,1%,1\n")
    with pytest.raises(CatalogError, match=r"Devices.csv:2: not a number"):
        read_console_export(path)
    with pytest.raises(CatalogError, match="cannot read"):
        read_console_export(tmp_path / "missing.csv")
