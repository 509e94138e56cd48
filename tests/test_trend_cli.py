"""``sitegen trends run`` on the example site (the clipart catalog): the JSON shape exactly as the issue writes it,
the table, and the errors. The first tests give the agent trends built in code (the reader and the stager are
replaced through ``sitegen.demand.trends.tools.read_folder`` / ``agent.default_stager``, the agent's injection
points); the last reads a small trends folder written by the test with the real trend reader and stager."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sitegen.cli.main import main
from sitegen.core.models import Trend, TrendStage
from sitegen.core.text import topic_key
from sitegen.store.db import Store

TRENDS = [Trend("Christmas", "holidays.csv", "series", points=(("2025-12-21", 100.0), ("2026-01-04", 10.0))),
          Trend("Halloween", "holidays.csv", "series", points=(("2025-10-26", 100.0),)),
          Trend("Hurricane Milton", "trending-now.csv", "trending_now", score=2_000_000, rising=True),
          Trend("Pizza", "food.csv", "related", rank=1, rising=True)]
STAGES = {"christmas": TrendStage("seasonal", "every December", peak="2025-12-24", next_peak="2026-12-24"),
          "halloween": TrendStage("seasonal", "every October", peak="2025-10-31", next_peak="2027-10-31"),
          "hurricane milton": TrendStage("emerging", "breakout"),
          "pizza": TrendStage("emerging", "rising")}
KEYS = ["trend", "source", "stage", "decision", "reason", "topics"]


@pytest.fixture
def clipart(example_site_copy, monkeypatch):
    from sitegen.demand.trends import agent, tools

    site = example_site_copy()
    (site / "trends").mkdir()
    monkeypatch.setattr(tools, "read_folder", lambda folder: list(TRENDS))
    monkeypatch.setattr(agent, "default_stager", lambda group, today: STAGES[topic_key(group[0].term)])
    return site


def run(site, *args):
    return CliRunner().invoke(main, ["trends", "run", "-c", str(site / "site.toml"), "--set",
                                     'trends.today="2026-11-15"', *args], catch_exceptions=False)


def test_trends_run_json_is_exactly_the_issue_shape(clipart):
    got = run(clipart, "--source", str(clipart / "trends"), "--format", "json")
    assert got.exit_code == 0, got.output
    data = json.loads(got.stdout)
    assert list(data) == ["trends"] and len(data["trends"]) == 4
    for row in data["trends"]:
        assert list(row) == KEYS and row["decision"] in ("propose", "refresh", "expire", "reject")
        assert all(isinstance(row[k], str) for k in KEYS[:5]) and isinstance(row["topics"], list)
    rows = {r["trend"]: r for r in data["trends"]}
    assert rows["Christmas"]["decision"] == "propose" and rows["Christmas"]["stage"] == "seasonal"
    assert rows["Christmas"]["topics"][0] == "christmas" and "next peak 2026-12-24 in 39 days" in rows["Christmas"]["reason"]
    assert rows["Halloween"]["decision"] == "reject" and "is 350 days away" in rows["Halloween"]["reason"]
    assert rows["Hurricane Milton"]["decision"] == "reject" and rows["Hurricane Milton"]["reason"].startswith("news")
    assert rows["Pizza"]["source"] == "food.csv" and rows["Pizza"]["decision"] == "reject"
    assert rows["Pizza"]["reason"].startswith("too little content: 4 item(s) of the catalog are relevant to 'pizza'")
    with Store(clipart / ".sitegen" / "site.duckdb", brief=True) as store:
        assert {p.trend for p in store.trends.proposals(["pending"])} == {"Christmas"}


def test_trends_run_table_and_its_summary(clipart):
    got = run(clipart, "--set", 'trends.source="trends"', "--set", "trends.auto_approve=true")
    assert got.exit_code == 0, got.output
    lines = got.stdout.splitlines()
    assert lines[0].split()[:5] == ["decision", "stage", "trend", "source", "reason"]
    assert any(line.startswith("propose") and "Christmas" in line and "-> christmas" in line for line in lines)
    assert lines[-1].startswith("4 trends: 1 proposed, 0 refreshed, 0 expired, 3 rejected; approved")


def test_trends_run_needs_a_source(example_site_copy):
    site = example_site_copy()
    got = CliRunner().invoke(main, ["trends", "run", "-c", str(site / "site.toml")])
    assert got.exit_code == 1
    assert "no trends folder: set [trends] source in site.toml or pass --source DIR" in got.output
    got = CliRunner().invoke(main, ["trends", "run", "-c", str(site / "site.toml"), "--set", 'trends.source="nope"'])
    assert got.exit_code == 1 and "trends.source: no such folder:" in got.output and "Traceback" not in got.output


def test_trends_run_on_a_trends_folder_with_the_real_reader(example_site_copy):
    """A series CSV (an Explore export), a ranking CSV (an official data file) and a Trending now export with a
    news term, read by sitegen.ingest.trends and staged by sitegen.demand.trends.series."""
    pytest.importorskip("sitegen.ingest.trends", reason="the trend reader is not in this checkout")
    pytest.importorskip("sitegen.demand.trends.series", reason="the series stager is not in this checkout")
    from datetime import date, timedelta

    site = example_site_copy()
    folder = site / "trends"
    folder.mkdir()
    weeks, day = [], date(2023, 1, 1)
    while day < date(2026, 11, 1):
        peak = abs((day - date(day.year, 12, 20)).days)
        weeks.append(f"{day.isoformat()},{max(3, 100 - peak * 3)}")
        day += timedelta(days=7)
    (folder / "multiTimeline.csv").write_text("Category: All categories\n\nWeek,christmas: (United States)\n"
                                              + "\n".join(weeks) + "\n", encoding="utf-8")
    (folder / "Pizza_rankings.csv").write_text("Most searched pizza toppings,\nBased on US searches in 2025,\n"
                                               "Topping,Rank\nPepperoni,1\nMushroom,2\nPineapple,3\n", encoding="utf-8")
    (folder / "trending_US.csv").write_text(
        '"Trends","Search volume","Started","Ended","Trend breakdown","Explore link"\n'
        '"hurricane milton landfall","2M+","November 14, 2026 at 8:00:00 AM UTC-5","","hurricane milton",'
        '"https://trends.google.com/trends/explore?q=hurricane+milton"\n', encoding="utf-8")
    got = CliRunner().invoke(main, ["trends", "run", "-c", str(site / "site.toml"), "--source", str(folder),
                                    "--set", 'trends.today="2026-11-15"', "--format", "json"])
    assert got.exit_code == 0, got.output
    rows = {r["trend"].lower(): r for r in json.loads(got.stdout)["trends"]}
    assert "christmas" in rows and rows["christmas"]["stage"] == "seasonal"
    assert rows["christmas"]["decision"] == "propose"
    news = rows["hurricane milton landfall"]
    assert news["decision"] == "reject" and news["reason"].startswith(("news", "event"))
    assert all(list(r) == KEYS for r in rows.values())


def test_the_build_step_runs_the_agent_and_feeds_the_topic_source(clipart):
    """``build_topics`` over the gathered site (auto-approved), and the approved topics reaching collect's topic
    plan through ``Demand.topics`` and the ``trends`` topic source."""
    import dataclasses

    from sitegen.aggregate.stage import plan_topics
    from sitegen.core.config import load_config
    from sitegen.core.models import Demand
    from sitegen.demand.trends.topics import build_topics
    from sitegen.pipeline.gather import gather_site

    cfg = load_config(clipart / "site.toml", {"trends.source": "trends", "trends.today": "2026-11-15",
                                              "trends.auto_approve": True})
    with Store(cfg.store_path) as store:
        site = gather_site(cfg, store).site
        topics = build_topics(cfg, store, site)
        assert topics and topics[0].text == "christmas" and {t.source for t in topics} == {"trend"}
        assert topics[0].hub == "Holidays"
        assert build_topics(dataclasses.replace(cfg, trends=dataclasses.replace(cfg.trends, source="")), store,
                            site) == topics  # no source: no run, the approved topics all the same
    chosen = dataclasses.replace(cfg, collect=dataclasses.replace(cfg.collect, topic_sources=["queries", "trends"]))
    plan = plan_topics(chosen, site.items, [], Demand(topics=tuple(topics)))
    assert [t.text for t in plan.topics] == [t.text for t in topics] and plan.topics[0].hub == "Holidays"
