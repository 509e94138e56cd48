"""Lifecycle stages of trends: synthetic seeded series for every stage, the calendar of dated ranking files,
related queries and trending-now entries."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest

from sitegen.core.models import Trend
from sitegen.demand.trends.series import (TrendCalendar, calendar_stage, lead_days, stage_of, stages_of)

TODAY = date(2026, 6, 1)


def weekly(values, end: date = TODAY - timedelta(days=3)) -> list[tuple[str, float]]:
    start = end - timedelta(weeks=len(values) - 1)
    return [((start + timedelta(weeks=i)).isoformat(), float(max(0.0, v))) for i, v in enumerate(values)]


def rng(seed: int = 7):
    return np.random.default_rng(seed)


def test_seasonal_series_has_its_typical_peak_and_next_peak():
    r = rng(1)
    start = date(2021, 1, 3)
    points = []
    for i in range(52 * 5):
        day = start + timedelta(weeks=i)
        doy = day.timetuple().tm_yday
        bump = 60 * math.exp(-(min(abs(doy - 345), 365 - abs(doy - 345)) / 12) ** 2)  # mid-December
        points.append((day.isoformat(), 25 + bump + r.normal(0, 2)))
    stage = stage_of(points, TODAY)
    assert stage.stage == "seasonal", stage
    assert stage.next_peak.startswith("2026-12") and stage.seasons >= 4
    assert stage.peak.startswith("2025-12")
    assert 190 <= lead_days(stage, TODAY) <= 215
    assert "every year around Dec" in stage.reason and "autocorrelation" in stage.reason
    later = stage_of(points, date(2026, 9, 15))
    assert later.next_peak == stage.next_peak and lead_days(later, date(2026, 9, 15)) < lead_days(stage, TODAY)


def test_peaks_in_different_weeks_each_year_are_not_seasonal():
    r = rng(2)
    start = date(2021, 1, 3)
    peaks = {2021: 60, 2022: 200, 2023: 300, 2024: 20, 2025: 150}
    points = []
    for i in range(52 * 5):
        day = start + timedelta(weeks=i)
        doy = day.timetuple().tm_yday
        bump = 60 * math.exp(-((doy - peaks[day.year]) / 10) ** 2)
        points.append((day.isoformat(), 25 + bump + r.normal(0, 2)))
    assert stage_of(points, TODAY).stage != "seasonal"


def test_emerging_series():
    r = rng(3)
    values = list(10 + r.normal(0, 1.5, 90)) + [14, 20, 27, 35, 46, 58, 72]
    stage = stage_of(weekly(values), TODAY)
    assert stage.stage == "emerging", stage
    assert "baseline" in stage.reason and "rising" in stage.reason
    assert lead_days(stage, TODAY) == 0


def test_peaking_series():
    r = rng(4)
    values = list(20 + r.normal(0, 2, 80)) + [30, 45, 60, 80, 95] + list(97 + r.normal(0, 1.5, 8))
    stage = stage_of(weekly(values), TODAY)
    assert stage.stage == "peaking", stage
    assert "maximum" in stage.reason


def test_declining_series():
    r = rng(5)
    values = list(20 + r.normal(0, 2, 40)) + [40, 70, 100, 90, 75] + list(np.linspace(60, 25, 30) + r.normal(0, 2, 30))
    stage = stage_of(weekly(values), TODAY)
    assert stage.stage == "declining", stage
    assert "past its peak" in stage.reason and lead_days(stage, TODAY) is None


def test_evergreen_series():
    values = list(60 + rng(6).normal(0, 4, 104))
    stage = stage_of(weekly(values), TODAY)
    assert stage.stage == "evergreen", stage
    assert "steady" in stage.reason


@pytest.mark.parametrize("points,why", [([], "no data"), ([("2026-05-01", 5.0)] * 3, "too short"),
                                        (weekly([0] * 30), "no interest")])
def test_unknown_series(points, why):
    stage = stage_of(points, TODAY)
    assert stage.stage == "unknown" and why in stage.reason


def test_points_after_today_are_not_seen():
    values = list(60 + rng(8).normal(0, 3, 60)) + [90, 120, 160, 200, 260]
    points = weekly(values)
    cut = date.fromisoformat(points[59][0])
    assert stage_of(points, cut).stage == "evergreen"
    assert stage_of(points, TODAY).stage in ("emerging", "peaking")


def test_old_data_is_unknown_with_what_it_was_doing_then():
    values = list(20 + rng(9).normal(0, 2, 40)) + [40, 70, 100, 90, 75] + list(np.linspace(60, 25, 30))
    stage = stage_of(weekly(values, end=date(2019, 3, 31)), TODAY)
    assert stage.stage == "unknown" and "data ends 2019-03-31" in stage.reason and "then declining" in stage.reason


def test_a_single_past_season_with_demand_throughout_is_projected():
    r = rng(10)
    start = date(2018, 6, 4)
    points = [((start + timedelta(days=i)).isoformat(), 65 + 30 * math.exp(-((i - 40) / 8) ** 2) + r.normal(0, 2))
              for i in range(58)]
    stage = stage_of(points, TODAY)
    assert stage.stage == "seasonal" and stage.seasons == 1, stage
    assert stage.peak.startswith("2018-07") and stage.next_peak.startswith("2026-07")
    assert "one season seen" in stage.reason and "not confirmed" in stage.reason
    spike = [(d, 2.0) for d, _ in points[:40]] + [(points[40][0], 100.0)] + [(d, 3.0) for d, _ in points[41:]]
    assert stage_of(spike, TODAY).stage == "unknown"  # a one-off news spike is no season
    before = stage_of(points, date(2019, 5, 20))  # the next spring: this summer's peak is ahead
    assert before.stage == "seasonal" and before.next_peak.startswith("2019-07"), before
    assert stage_of(points, date(2018, 9, 1)).stage != "seasonal"  # a month after it ended: not yet a season


def test_a_trend_is_staged_from_its_points():
    trend = Trend("x", "a.csv", "series", points=tuple(weekly(list(60 + rng(11).normal(0, 3, 80)))))
    assert stage_of(trend, TODAY).stage == "evergreen"


# -- the calendar ---------------------------------------------------------------------------------------------

def ranking(term: str, source: str, dated: str, **kw) -> Trend:
    return Trend(term, source, "ranking", region="US", rank=kw.pop("rank", 1), dated=dated, **kw)


HALLOWEEN = [("20151021_HalloweenCostumes_Frightgeist.csv", "2015-10-21"),
             ("20171019_HalloweenCostumes_Frightgeist.csv", "2017-10-19"),
             ("Frightgeist_2018_Rankings_for_Halloween_Costumes.csv", "2018-09-30"),
             ("20191006_HalloweenCostumes_Frightgeist.csv", "2019-10-06")]


def test_a_term_in_rankings_dated_every_october_is_seasonal():
    trends = [ranking("Witch", src, dated) for src, dated in HALLOWEEN]
    stage = calendar_stage(trends, TODAY)
    assert stage.stage == "seasonal" and stage.seasons == 4, stage
    assert stage.next_peak.startswith("2026-10") and stage.peak == "2019-10-06"
    assert "the term 'Witch'" in stage.reason
    assert calendar_stage(trends, date(2026, 11, 20)).next_peak.startswith("2027-10")


def test_a_theme_links_a_term_seen_in_one_file_only():
    trends = [ranking("Witch", src, dated) for src, dated in HALLOWEEN] + [
        ranking("Fortnite", HALLOWEEN[2][0], HALLOWEEN[2][1], rank=2)]
    calendar = TrendCalendar(trends)
    alone = calendar_stage([trends[-1]], TODAY)
    assert alone.stage == "unknown"  # without the other files, one dated file says nothing about a year
    linked = calendar_stage([trends[-1]], TODAY, calendar)
    assert linked.stage == "seasonal" and "files about" in linked.reason and linked.next_peak.startswith("2026-10")


def test_files_dated_in_different_weeks_are_not_seasonal():
    trends = [ranking("Pirate", f"{d.replace('-', '')}_Pirates.csv", d) for d in ("2015-03-01", "2016-07-15",
                                                                                 "2017-11-20")]
    assert calendar_stage(trends, TODAY).stage == "unknown"
    adjacent = [ranking("Pirate", "20151220_Pirates.csv", "2015-12-20"),
                ranking("Pirate", "20160110_Pirates.csv", "2016-01-10")]
    assert calendar_stage(adjacent, TODAY).stage == "unknown"  # three weeks apart is not a year apart


def test_related_queries_rising_breakout_and_top():
    rising = Trend("uv tint", "relatedQueries.csv", "related", score=3700, rising=True, dated="2023-12-18")
    breakout = Trend("jenna ortega", "relatedQueries.csv", "related", score=5000, rising=True)
    top = Trend("sunscreen", "relatedQueries.csv", "related", score=82, category="neutrogena")
    assert calendar_stage([rising], TODAY).stage == "emerging"
    assert "+3700%" in calendar_stage([rising], TODAY).reason
    assert "Breakout" in calendar_stage([breakout], TODAY).reason
    stage = calendar_stage([top], TODAY)
    assert stage.stage == "evergreen" and "neutrogena" in stage.reason


def trending(started: str, ended: str = "", dated: str = "2026-06-01") -> Trend:
    return Trend("x", "trending_US_7d.csv", "trending_now", score=2000, rising=True, started=started, ended=ended,
                 dated=dated)


def test_trending_now_entries():
    assert calendar_stage([trending("2026-06-01T08:00:00-03:00")], TODAY).stage == "emerging"
    assert calendar_stage([trending("2026-05-27T08:00:00-03:00")], TODAY).stage == "peaking"
    ended = calendar_stage([trending("2026-05-27T08:00:00-03:00", "2026-05-30T10:00:00-03:00")], TODAY)
    assert ended.stage == "declining" and "ended" in ended.reason
    old = calendar_stage([trending("2025-10-11T12:40:00-07:00", dated="2025-10-11")], TODAY)
    assert old.stage == "declining" and "over for" in old.reason
    assert calendar_stage([trending("2026-07-09T18:50:00-03:00", dated="2026-07-14")], TODAY).stage == "unknown"


def test_stages_of_gives_every_trend_its_stage_in_order():
    series = Trend("s", "a.csv", "series", points=tuple(weekly(list(60 + rng(12).normal(0, 3, 80)))))
    trends = [ranking("Witch", src, dated) for src, dated in HALLOWEEN] + [series, trending("2026-06-01T01:00")]
    stages = stages_of(trends, TODAY)
    assert [s.stage for s in stages] == ["seasonal"] * 4 + ["evergreen", "emerging"]
