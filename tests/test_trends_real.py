"""The Google Trends readers and stages on the real files in ../shared: the official data files (all of them,
``-m slow``) and the Explore and Trending now exports; each folder is parsed once per session."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sitegen.demand.trends.series import TrendCalendar, calendar_stage, stage_of, stages_of
from sitegen.ingest.trends import read_trends, summary

SHARED = Path(__file__).resolve().parents[2] / "shared"  # as tests/conftest.py SHARED
OFFICIAL = SHARED / "datasets" / "google-trends"
EXPORTS = SHARED / "fixtures" / "real-exports"
EXPORT_FOLDERS = ("google-trends", "google-trends-explore", "google-trends-trending-now")
needs_official = pytest.mark.skipif(not OFFICIAL.is_dir(), reason=f"{OFFICIAL} (the shared Google Trends files) is absent")
needs_exports = pytest.mark.skipif(not EXPORTS.is_dir(), reason=f"{EXPORTS} (the shared real exports) is absent")
pytestmark = pytest.mark.shared

HEATWAVE = {"Air conditioning", "Barbecue", "Bikini", "Cap", "Fan", "Sun hat", "Sunglasses", "Sunscreen", "Swimsuit"}
HALLOWEEN = ("20151021_HalloweenCostumes_Frightgeist.csv", "20171019_HalloweenCostumes_Frightgeist.csv",
             "Frightgeist_2018_Rankings_for_Halloween_Costumes.csv", "20191006_HalloweenCostumes_Frightgeist.csv",
             "20201008_HalloweenCostumes_Frightgeist.csv", "20221018_HalloweenCostumes_Frightgeist.csv",
             "20221019_HalloweenCostumesbyState_Frightgeist.csv", "221001_CA-Top10-HalloweenCostumes.xlsx")
JUNE, SEPTEMBER = date(2026, 6, 1), date(2026, 9, 15)


def accounted_for(folder: Path, read) -> None:
    """Every file of the folder has a report; every report counts all its rows and gives trends or a reason."""
    paths = [f.path for f in read.files]
    for file in folder.rglob("*"):
        if file.is_file():
            rel = file.relative_to(folder).as_posix()
            assert any(p == rel or p.startswith(rel + "#") or p.startswith(rel + "/") for p in paths), rel
    sources = {t.source for t in read.trends}
    for f in read.files:
        assert f.used + sum(f.rejected.values()) == f.rows, f
        assert (f.path in sources) != bool(f.error), f


@pytest.fixture(scope="session")
def exports():
    return {name: read_trends(EXPORTS / name) for name in EXPORT_FOLDERS}


@pytest.fixture(scope="session")
def known_files():
    """The shopping- and season-relevant official files, read one by one (fast)."""
    files = (*HALLOWEEN, "20180803_heatwave.csv", "221130_US_Top10-Products-BlackFriday-CyberMonday.xlsx",
             "20191123_BlackFriday1.csv", "20221110_HolidayRecipe_US.xlsx", "20161214ThanksgivingRecipeState.csv",
             "20160502_YogaByStateMonth.csv", "20230321_pascoa_BR.xlsx")
    trends, reports = [], []
    for name in files:
        read = read_trends(OFFICIAL / name)
        trends += read.trends
        reports += read.files
    return trends, reports


@pytest.fixture(scope="session")
def official():
    return read_trends(OFFICIAL)


@needs_exports
def test_every_export_parses_and_is_accounted_for(exports):
    for name, read in exports.items():
        accounted_for(EXPORTS / name, read)
        assert not any(f.error for f in read.files), [f for f in read.files if f.error]


@needs_exports
def test_exports_give_the_expected_trends(exports):
    trending = exports["google-trends-trending-now"]
    counts = {f.path: f.used for f in trending.files}
    assert counts == {"en-US/trending_807_4h_20251011-1554.csv": 16, "en-US/trending_US_4h_20251011-1633.csv": 111,
                      "pt-BR/trending_BR_7d_20260714-0053.csv": 1267, "pt-BR/trending_US_7d_20260714-0105.csv": 2626}
    assert summary(trending)["trends"] == {"trending_now": 4020}
    us = [t for t in trending.trends if t.source.endswith("US_7d_20260714-0105.csv")]
    assert all(t.region == "US" and t.started.startswith("2026-07") and t.score >= 100 for t in us)
    explore = exports["google-trends-explore"]
    lego = next(t for t in explore.trends if t.term == "LEGO")
    assert lego.kind == "series" and len(lego.points) == 262 and lego.region == ""
    rising = [t for t in explore.trends if t.kind == "related" and t.rising]
    assert any(t.term == "jenna ortega" and t.score == 5000 for t in rising)
    assert {t.term for t in explore.trends if t.source.endswith("ny_resolution/multiTimeline.csv")} == {
        "diet", "gym", "finance"}
    weekly = exports["google-trends"].trends
    assert {t.term for t in weekly} == {"house pet", "house plant"} and all(t.region == "CA" for t in weekly)


@needs_official
def test_known_official_files(known_files):
    trends, reports = known_files
    assert not [f for f in reports if f.error and not f.path.endswith(("#Info", "#dados"))]
    heat = [t for t in trends if t.source == "20180803_heatwave.csv"]
    assert {t.term for t in heat} == HEATWAVE
    assert all(t.kind == "series" and len(t.points) == 58 and t.points[0][0] == "2018-06-04" for t in heat)
    for name in HALLOWEEN:
        ranks = [t for t in trends if t.source.split("#")[0] == name]
        assert ranks and all(t.kind == "ranking" and t.term and t.rank >= 1 and t.dated for t in ranks), name
    assert {t.dated[:7] for t in trends if t.source.split("#")[0] in HALLOWEEN} == {
        "2015-10", "2017-10", "2018-09", "2019-10", "2020-10", "2022-10"}
    by_state = [t for t in trends if t.source == "20221019_HalloweenCostumesbyState_Frightgeist.csv"]
    assert len({t.region for t in by_state}) >= 50 and all(t.region.startswith("US-") for t in by_state)
    friday = [t for t in trends if t.source.startswith("221130_US_Top10-Products")]
    assert {t.category for t in friday} == {"Electronics", "Apparel", "Toys", "Home", "Accessories"}
    assert len(friday) == 50 and all(t.region == "US" and 1 <= t.rank <= 10 for t in friday)
    yoga = [t for t in trends if t.source == "20160502_YogaByStateMonth.csv"]
    assert len(yoga) == 51 and {t.term for t in yoga} == {"yoga"} and len(yoga[0].points) == 148
    egg = [t for t in trends if t.source == "20230321_pascoa_BR.xlsx#ovo-de-pascoa"]
    assert egg[0].score == 1350 and all(t.kind == "related" and t.rising and t.region == "BR" for t in egg)


@needs_official
def test_stages_of_the_heatwave_terms(known_files):
    heat = [t for t in known_files[0] if t.source == "20180803_heatwave.csv"]
    for t in heat:
        june = stage_of(t, JUNE)
        assert june.stage == "seasonal" and june.seasons == 1, (t.term, june)
        assert "2026-06-01" < june.next_peak <= "2026-07-31", (t.term, june)
        assert stage_of(t, SEPTEMBER).next_peak.startswith("2027-0")


@needs_exports
def test_stages_of_lego_and_the_new_year_resolutions(exports):
    explore = exports["google-trends-explore"].trends
    lego = next(t for t in explore if t.term == "LEGO")
    for today in (JUNE, SEPTEMBER):
        stage = stage_of(lego, today)
        assert stage.stage == "seasonal" and stage.seasons >= 4, stage
        assert "2026-11-15" <= stage.next_peak <= "2026-12-31", stage
    for term in ("diet", "gym"):
        stage = stage_of(next(t for t in explore if t.term == term and t.kind == "series"), JUNE)
        assert stage.stage == "seasonal" and stage.next_peak.startswith(("2026-12", "2027-01")), (term, stage)


@needs_official
def test_stages_of_the_halloween_rankings(known_files):
    trends = [t for t in known_files[0] if t.source.split("#")[0] in HALLOWEEN]
    calendar = TrendCalendar(trends)
    for today in (JUNE, SEPTEMBER):
        witch = calendar_stage([t for t in trends if t.term == "Witch"], today)
        assert witch.stage == "seasonal" and witch.next_peak.startswith("2026-10") and witch.seasons >= 5, witch
        stages = stages_of(trends, today)
        assert sum(s.stage == "seasonal" for s in stages) >= 0.95 * len(stages)
        assert all(s.next_peak.startswith("2026-1") for s in stages if s.stage == "seasonal")
    once = next(t for t in trends if t.term == "Fortnite" and t.source.startswith("Frightgeist_2018"))
    assert calendar_stage([once], JUNE, calendar).stage == "seasonal"


@needs_official
@pytest.mark.slow
def test_every_official_file_parses_and_is_accounted_for(official):
    accounted_for(OFFICIAL, official)
    counts = summary(official)
    assert counts["files"] > 400 and counts["with_trends"] > 380
    assert {"series", "ranking", "related", "geo"} <= set(counts["trends"])
    assert not [f for f in official.files if f.layout == "unreadable"]
    heat = {t.term for t in official.trends if t.source == "20180803_heatwave.csv"}
    assert heat == HEATWAVE
    stages = stages_of(official.trends, JUNE)
    assert len(stages) == len(official.trends)
