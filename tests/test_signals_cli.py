"""`sitegen signals import / show`: per-file counts, exit codes and one-line errors, the summary as text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli.main import main
from sitegen.core.models import PageRecord
from sitegen.store.db import Store

from .conftest import SHARED
from .test_store import write_config

EXPORTS = SHARED / "fixtures" / "real-exports"
API = ("date,query,page,clicks,impressions,ctr,position\n"
       "2026-05-31,red dresses,https://example.org/topic/red-dresses/,3,20,0.15,3\n"
       "2026-05-31,red dresses,https://example.org/topic/gone/,0,10,0,9\n"
       "2026-05-30,cats,https://example.org/category/cats/,1,20,0.05,2\n"
       "2026-05-30,cats,https://elsewhere.example/,1,20,0.05,2\n"
       "2026-05-30,cats,/category/cats/,x,20,0.05,2\n")


@pytest.fixture()
def site(tmp_path) -> tuple[Path, Path]:
    store = tmp_path / ".sitegen" / "site.duckdb"
    with Store(store) as s:
        run = s.runs.begin("2026-01-01T00:00:00Z", "h")
        s.pages.replace(run, [PageRecord(p, "collection", p, "", "h") for p in
                              ("/", "/topic/red-dresses/", "/category/cats/")], [])
    (tmp_path / "api.csv").write_text(API, encoding="utf-8")
    return write_config(tmp_path, store), tmp_path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_import_prints_counts_and_reasons_and_exits_0(site):
    config, folder = site
    result = run("signals", "import", "-c", str(config), str(folder / "api.csv"))
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first == (f"{folder / 'api.csv'}: gsc-api (query_page), 5 rows: 2 used, 3 rejected (bad_number 1, "
                     "other_host 1, unknown_page 1); days 2026-05-30..2026-05-31 (rows)")
    assert "  unknown_page: line 3: https://example.org/topic/gone/" in result.output
    assert "  1 unknown_page row(s) kept as query signals" in result.output
    again = run("signals", "import", "-c", str(config), str(folder / "api.csv"))
    assert again.exit_code == 0 and "already imported: nothing changed" in again.output
    assert again.output.splitlines()[0] == first


def test_import_errors_are_one_line(site):
    config, folder = site
    (folder / "items.csv").write_text("id,title\n1,x\n", encoding="utf-8")
    for args, message in [((str(folder / "items.csv"),), "items.csv: not a Search Console or GA4 export (header: "
                                                          "id, title)"),
                          ((str(folder / "missing.csv"),), "missing.csv: no such file or folder"),
                          (("--kind", "ga4", str(folder / "api.csv")), "api.csv: not a GA4 landing-page export")]:
        result = run("signals", "import", "-c", str(config), *args)
        assert result.exit_code == 1, result.output
        assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
        assert "Traceback" not in result.output
    assert run("signals", "import", "-c", str(config), "--kind", "csv", "x").exit_code == 2  # not a kind
    with Store(folder / ".sitegen" / "site.duckdb") as store:
        assert store.signals.count() == 0


def test_show_as_text_and_json(site):
    config, folder = site
    empty = run("signals", "show", "-c", str(config))
    assert empty.exit_code == 0 and "no signals imported yet" in empty.output
    assert run("signals", "import", "-c", str(config), str(folder / "api.csv")).exit_code == 0
    text = run("signals", "show", "-c", str(config))
    assert text.exit_code == 0, text.output
    assert "signals: 2026-05-30 .. 2026-05-31, 3 rows from 1 import(s)" in text.output
    assert "reward (auto; 2026-05-04 .. 2026-05-31, half-life 7 days, prior 50): average" in text.output
    assert "/topic/red-dresses/" in text.output and "console topics: 2" in text.output
    data = json.loads(run("signals", "show", "-c", str(config), "--format", "json").output)
    assert data["range"] == {"first": "2026-05-30", "last": "2026-05-31"} and data["rows"] == 3
    assert [(s["source"], s["dimension"], s["rows"]) for s in data["sources"]] == [("gsc-api", "query_page", 3)]
    assert [p["page"] for p in data["top_pages"]] == ["/topic/red-dresses/", "/category/cats/"]  # more clicks first
    assert data["top_queries"][0] == {"query": "red dresses", "clicks": 3.0, "impressions": 30.0, "sessions": 0.0,
                                      "engaged": 0.0}
    reward = data["reward"]
    assert reward["pages"] == 2 and [r["key"] for r in reward["top"]] == ["/topic/red-dresses/"]
    assert [r["key"] for r in reward["bottom"]] == ["/category/cats/"]
    assert reward["top"][0]["reward"] > reward["average"] > reward["bottom"][0]["reward"]
    assert data["console_topics"]["top"][0]["text"] == "red dresses"


def test_show_needs_a_store(tmp_path):
    result = run("signals", "show", "-c", str(write_config(tmp_path, tmp_path / "none.duckdb")))
    assert result.exit_code == 1 and "no store at" in result.stderr


@pytest.mark.shared
@pytest.mark.skipif(not EXPORTS.is_dir(), reason=f"{EXPORTS} (the shared real exports) is absent")
def test_import_a_real_ui_export_folder_without_pages(tmp_path):
    """A UI folder's page file needs a built site; its query files alone import into a fresh store."""
    config = write_config(tmp_path, tmp_path / "site.duckdb")
    folder = EXPORTS / "gsc-site-a"
    refused = run("signals", "import", "-c", str(config), str(folder))
    assert refused.exit_code == 1 and "no published pages yet" in refused.stderr
    done = run("signals", "import", "-c", str(config), str(folder / "Queries.csv"), str(folder / "Dates.csv"))
    assert done.exit_code == 0, done.output
    assert "Queries.csv: gsc (query), 53 rows: 53 used, 0 rejected; days 2025-03-17..2025-04-19 (Dates.csv)" in \
        done.output
