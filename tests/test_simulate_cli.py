"""``sitegen simulate`` from the command line, on a tiny fashion-like site."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os

import pytest
from click.testing import CliRunner

from sitegen.cli.main import main
from sitegen.store.db import Store
from sitegen.cli.simulate import format_rounds
from sitegen.learn.simulate.curve import curve_svg

from .simsite import make_site

FAST = ["--intents", "40", "--searches", "4000", "--seasons", "none"]


def invoke(folder, *args):
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(main, list(args), env={"SOURCE_DATE_EPOCH": "1767225600"})
    finally:
        os.chdir(cwd)


def test_two_rounds_without_feedback_print_the_json_shape(tmp_path):
    site = make_site(tmp_path / "site")
    result = invoke(site, "simulate", "--rounds", "2", "--no-feedback", "--format", "json", "--work-dir", "w", *FAST)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {"rounds", "feedback"} and out["feedback"] is False
    assert [r["round"] for r in out["rounds"]] == [1, 2]
    for r in out["rounds"]:
        assert {"round", "impressions", "clicks", "pages"} <= set(r)
        assert r["impressions"] > r["clicks"] > 0 and r["pages"] == r["indexed"] > 80
    assert [r["week"] for r in out["rounds"]] == ["2018-06-04", "2018-06-11"]
    work = site / "w"
    exports = sorted((work / "no-feedback" / "exports").iterdir())
    assert [p.name for p in exports] == ["gsc-2018-06-04.csv", "gsc-2018-06-11.csv"]
    lines = exports[0].read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Date,Page,Query,Clicks,Impressions,CTR,Position"
    assert lines[1].split(",")[1].startswith("https://shop.example/")
    rows = list(csv.DictReader(io.StringIO(exports[0].read_text(encoding="utf-8"))))
    assert sum(int(r["Impressions"]) for r in rows) == out["rounds"][0]["impressions"]
    assert sum(int(r["Clicks"]) for r in rows) == out["rounds"][0]["clicks"]
    last = out["rounds"][-1]["clicks"]
    saved = json.loads((work / "no-feedback.json").read_text())
    assert saved["rounds"] == out["rounds"] and saved["settings"]["seed"] == 0
    assert (work / "curve.svg").read_text().startswith("<svg") and (work / "world" / "intents.csv").is_file()
    assert not (site / "build").exists()  # the site's own output is never touched
    with Store(site / ".sitegen" / "site.duckdb") as store:  # its store keeps the run, for its build report
        assert store.simulations.arms()["no-feedback"]["rounds"][-1]["clicks"] == last
        assert store.runs.last() is None  # nothing was built with it
    doubled = {"rounds": [{**out["rounds"][-1], "clicks": 2 * last}]}
    table = format_rounds(out, {"no-feedback": out, "feedback": doubled})
    assert "feedback: off" in table and table.splitlines()[1].split() == ["round", "week", "searches", "impressions",
                                                                         "clicks", "ctr", "pages", "collections",
                                                                         "seconds"]
    assert table.endswith(f"last round clicks: feedback {2 * last:,}, no-feedback {last:,} (2.000x)")


def test_options_are_validated(tmp_path):
    site = make_site(tmp_path / "site")
    bad = invoke(site, "simulate", "--rounds", "0")
    assert bad.exit_code == 2 and "--rounds" in bad.output
    bad = invoke(site, "simulate", "--start", "June 4")
    assert bad.exit_code == 2 and "not an ISO date" in bad.output
    bad = invoke(site, "simulate", "--page-budget", "-1")
    assert bad.exit_code == 2 and "--page-budget" in bad.output
    bad = invoke(site, "simulate", "--seasons", "nowhere")
    assert bad.exit_code == 1 and "--seasons: nowhere: not a folder" in bad.output
    bad = invoke(site, "simulate", "--dataset", "nowhere")
    assert bad.exit_code == 1 and "catalog.csv not found" in bad.output
    (site / "w" / "no-feedback").mkdir(parents=True)
    (site / "w" / "no-feedback" / "mine.txt").write_text("not the simulator's")
    bad = invoke(site, "simulate", "--no-feedback", "--work-dir", "w", *FAST)
    assert bad.exit_code == 1 and "not made by sitegen simulate" in bad.output
    assert (site / "w" / "no-feedback" / "mine.txt").is_file()


@pytest.mark.skipif(importlib.util.find_spec("sitegen.demand.signals") is not None,
                    reason="signals import is there: the feedback loop runs")
def test_feedback_without_signals_import_says_so(tmp_path):
    site = make_site(tmp_path / "site")
    result = invoke(site, "simulate", "--rounds", "1", "--work-dir", "w", *FAST)
    assert result.exit_code == 1 and "run with --no-feedback" in result.output


def test_feedback_imports_every_week(tmp_path):
    signals = pytest.importorskip("sitegen.demand.signals")
    from sitegen.core.config import load_config
    from sitegen.learn.simulate.loop import SimulationSettings, run_simulation

    site = make_site(tmp_path / "site")
    cfg = load_config(site / "site.toml")
    settings = SimulationSettings(rounds=2, feedback=True, intents=40, searches=4000)
    out = run_simulation(cfg, settings, site / "w", importer=signals.import_signals)
    assert out["feedback"] is True and [r["round"] for r in out["rounds"]] == [1, 2]
    for r in out["rounds"]:
        assert r["clicks"] > 0
        # every exported row matches a published page and is stored
        assert r["imported"]["rows"] == r["imported"]["used"] > 0 and r["imported"]["rejected"] == {}
    from sitegen.demand.reward import reward_table
    from sitegen.store.db import Store

    with Store(site / "w" / "feedback" / "store" / "site.duckdb") as store:
        assert store.signals.date_range() == ("2018-06-04", "2018-06-17")
        rewards = reward_table(store, cfg)
    clicked = {p for p, rw in rewards.pages.items() if rw.clicks > 0}
    assert clicked and 0 < rewards.average < 1


def test_the_curve_draws_both_arms():
    arms = {"feedback": {"rounds": [{"round": 1, "clicks": 100}, {"round": 2, "clicks": 180}]},
            "no-feedback": {"rounds": [{"round": 1, "clicks": 100}, {"round": 2, "clicks": 110}]}}
    svg = curve_svg(arms)
    assert svg.count("<polyline") == 2 and ">feedback<" in svg and ">no-feedback<" in svg
    assert "round 2: 180 clicks" in svg
    assert curve_svg({"no-feedback": {"rounds": [{"round": 1, "clicks": 0}]}}).count("<polyline") == 1
