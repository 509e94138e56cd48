"""`sitegen judgments export / import / show`: a CSV round trip, bad rows reported by line, re-import changes
nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli.main import main
from sitegen.core.models import Item, Judgment
from sitegen.store.db import Store

from .test_store import write_config

HEADER = "topic,item_id,grade,source,rater,at\n"


@pytest.fixture()
def site(tmp_path) -> tuple[Path, Path]:
    """A store with four items and no grades; the config pointing at it."""
    path = tmp_path / ".sitegen" / "site.duckdb"
    with Store(path) as store:
        store.items.replace([Item(i, i.title(), f"/img/{i}.png", "0" * 64, 10, 10, slug=i) for i in
                             ("beagle", "poodle", "hot-dog", "tabby")])
    return write_config(tmp_path, path), path


def run(*args: str):
    return CliRunner().invoke(main, list(args))  # result.stdout and result.stderr apart


def grades(path: Path) -> list[tuple]:
    with Store(path) as store:
        return [(j.topic, j.item_id, j.grade, j.source, j.rater, j.at) for j in store.judgments.all()]


def test_import_reports_bad_rows_by_line_and_imports_the_rest(site, tmp_path):
    cfg, path = site
    f = tmp_path / "grades.csv"
    f.write_text(HEADER
                 + "dog clipart,beagle,5,human,ann,2026-01-02T10:00:00Z\n"           # 2
                 + "dog clipart,hot-dog,2,,ann,\n"                                  # 3: source -> human
                 + "dog clipart,no-such-item,3,human,ann,\n"                       # 4: unknown item
                 + "dog clipart,poodle,6,human,ann,\n"                             # 5: grade out of range
                 + "dog clipart,poodle,four,human,ann,\n"                          # 6: not a number
                 + '"dog clipart\nfor a party",poodle,4,human,bob,\n'              # 7-8: a quoted newline
                 + ",tabby,3,human,ann,\n"                                         # 9: empty topic
                 + "dog clipart,tabby,3,human,,\n"                                 # 10: a human grade needs a rater
                 + "\n"                                                            # 11: blank, skipped
                 + "cat clipart,tabby,1,catalog,,\n"                               # 12: other sources may have none
                 + "dog clipart,beagle,4,human,ann,2026-01-03T10:00:00Z\n",        # 13: repeats line 2: kept
                 encoding="utf-8")
    result = run("judgments", "import", str(f), "-c", str(cfg))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [f"{f}:4: unknown item id 'no-such-item'",
                     f"{f}:5: grade must be a whole number from 1 to 5, not '6'",
                     f"{f}:6: grade must be a whole number from 1 to 5, not 'four'",
                     f"{f}:9: empty topic",
                     f"{f}:10: a human grade needs a rater: add a rater column or pass --rater NAME"]
    assert "imported 4 grades from 10 rows (1 repeated a pair and rater: the last row kept); 5 rows rejected" \
        in result.stdout
    got = {(t, i, s, r): (g, a) for t, i, g, s, r, a in grades(path)}
    assert got[("dog clipart", "beagle", "human", "ann")] == (4, "2026-01-03T10:00:00Z")
    assert got[("dog clipart", "hot-dog", "human", "ann")][0] == 2
    assert got[("dog clipart\nfor a party", "poodle", "human", "bob")][0] == 4
    assert got[("cat clipart", "tabby", "catalog", "")][0] == 1
    assert len(got) == 4


def test_export_import_round_trip_and_reimport_changes_nothing(site, tmp_path):
    cfg, path = site
    with Store(path) as store:
        store.judgments.add([Judgment("dog, clipart", "beagle", 5, "human", "ann", "2026-01-02T10:00:00Z"),
                             Judgment('the "hot" dog', "hot-dog", 1, "human", "bob", "2026-01-02T11:00:00Z"),
                             Judgment("dog, clipart", "poodle", 3, "catalog", "", "2026-01-02T12:00:00Z")])
    before = grades(path)
    out = tmp_path / "all.csv"
    result = run("judgments", "export", "-c", str(cfg), "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(rows[0]) == ["topic", "item_id", "grade", "source", "rater", "at"] and len(rows) == 3
    only_human = run("judgments", "export", "-c", str(cfg), "--source", "human")
    assert only_human.exit_code == 0 and only_human.stdout.count("\n") == 3  # header + 2 rows

    # into a fresh store with the same items: the same rows
    fresh_cfg, fresh = site_copy(tmp_path / "other")
    assert run("judgments", "import", str(out), "-c", str(fresh_cfg)).exit_code == 0
    assert grades(fresh) == before
    # importing the same file again, or the export of the copy, changes nothing
    assert run("judgments", "import", str(out), "-c", str(cfg)).exit_code == 0
    assert grades(path) == before
    again = tmp_path / "again.csv"
    assert run("judgments", "export", "-c", str(fresh_cfg), "-o", str(again)).exit_code == 0
    assert again.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")


def test_import_without_times_is_idempotent_and_options_replace_columns(site, tmp_path):
    cfg, path = site
    f = tmp_path / "crowd.csv"
    f.write_text("topic,item_id,grade,rater\ndog clipart,beagle,5,someone\ndog clipart,tabby,1,someone\n",
                 encoding="utf-8")
    assert run("judgments", "import", str(f), "-c", str(cfg), "--rater", "crowd-1").exit_code == 0
    first = grades(path)
    assert {(r[1], r[3], r[4]) for r in first} == {("beagle", "human", "crowd-1"), ("tabby", "human", "crowd-1")}
    assert all(r[5] for r in first)  # the time of the import
    assert run("judgments", "import", str(f), "-c", str(cfg), "--rater", "crowd-1").exit_code == 0
    assert grades(path) == first  # same grades, same times
    bad = run("judgments", "import", str(f), "-c", str(cfg), "--rater", "median")
    assert bad.exit_code == 1 and "reserved" in bad.stderr


def test_import_refuses_a_file_without_the_columns(site, tmp_path):
    cfg, _ = site
    f = tmp_path / "x.csv"
    f.write_text("query,product,score\na,b,3\n", encoding="utf-8")
    result = run("judgments", "import", str(f), "-c", str(cfg))
    assert result.exit_code == 1 and "line 1: no column topic, item_id, grade" in result.stderr


def test_show_counts_and_agreement(site):
    cfg, path = site
    assert "no judgments yet" in run("judgments", "show", "-c", str(cfg)).stdout
    with Store(path) as store:
        store.judgments.add([Judgment("t", "beagle", 1, "human", "ann"), Judgment("t", "poodle", 2, "human", "ann"),
                             Judgment("t", "tabby", 3, "human", "ann"), Judgment("t", "beagle", 2, "human", "bob"),
                             Judgment("t", "poodle", 2, "human", "bob"), Judgment("t", "tabby", 3, "human", "bob"),
                             Judgment("t", "tabby", 5, "catalog", "")])
    table = run("judgments", "show", "-c", str(cfg))
    assert table.exit_code == 0
    assert "ann / bob: 3 pairs, kappa 0.667, same grade 67%" in table.stdout and "mean kappa 0.667" in table.stdout
    data = json.loads(run("judgments", "show", "-c", str(cfg), "--format", "json").stdout)
    assert data["total"] == 7
    assert [s["source"] for s in data["sources"]] == ["catalog", "human"]
    assert data["agreement"]["human"]["pairs"][0]["qwk"] == pytest.approx(0.6667)


def test_commands_need_a_store(tmp_path):
    cfg = write_config(tmp_path, tmp_path / "none.duckdb")
    result = run("judgments", "show", "-c", str(cfg))
    assert result.exit_code == 1 and "no store at" in result.stderr


def site_copy(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True)
    path = folder / "site.duckdb"
    with Store(path) as store:
        store.items.replace([Item(i, i.title(), f"/img/{i}.png", "0" * 64, 10, 10, slug=i) for i in
                             ("beagle", "poodle", "hot-dog", "tabby")])
    return write_config(folder, path), path
