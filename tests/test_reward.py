"""The query reward (sitegen.demand.reward): decayed sums over the window, the measures, smoothing toward the
pooled average, on hand-computed numbers."""

from __future__ import annotations

import pytest

from sitegen.core.config import Config, RewardSection
from sitegen.core.models import RewardTable, SignalRow
from sitegen.demand.reward import period_weight, reward_table, reward_window
from sitegen.store.db import Store


def cfg(**reward) -> Config:
    return Config(reward=RewardSection(**reward))


def add(store: Store, rows: list[SignalRow], name: str = "f") -> None:
    store.signals.add(name, name, rows[0].source, rows[0].dimension, "2026-06-01T00:00:00Z", {}, rows)


def gsc(day, page="", query="", clicks=0.0, impressions=0.0, start=""):
    return SignalRow(date=day, start=start, source="gsc-api", dimension="query_page", query=query, page=page,
                     clicks=clicks, impressions=impressions)


def ga4(day, page, sessions, engaged):
    return SignalRow(date=day, source="ga4", dimension="page", page=page, sessions=sessions, engaged=engaged)


@pytest.fixture()
def store(tmp_path):
    with Store(tmp_path / "s.duckdb") as s:
        yield s


def test_ctr_reward_with_decay_window_and_smoothing(store):
    add(store, [gsc("2026-05-31", "/a/", "Red Dresses", 10, 100),
                gsc("2026-05-24", "/a/", "red dresses", 0, 100),  # 7 days back: weight 1/2
                gsc("2026-05-03", "/a/", "red dresses", 1000, 1000),  # 28 days back: outside the window
                gsc("2026-05-31", "/b/", "blue cat!", 5, 50)])
    assert reward_window(store, cfg()) == ("2026-05-04", "2026-05-31")
    table = reward_table(store, cfg())  # window 28, half-life 7, prior 50
    a, b = table.pages["/a/"], table.pages["/b/"]
    assert (a.impressions, a.clicks, a.measure) == (pytest.approx(150), pytest.approx(10), "ctr")
    assert table.average == pytest.approx(15 / 200)  # pooled: clicks / impressions over the pages
    assert a.reward == pytest.approx((10 + 50 * 0.075) / (150 + 50))  # 0.06875
    assert b.reward == pytest.approx((5 + 50 * 0.075) / (50 + 50))  # 0.0875
    assert set(table.queries) == {"red dresses", "blue cat"}  # keyed like topics
    assert table.queries["red dresses"].reward == pytest.approx(0.06875)
    assert table.topic("Red  dresses") == pytest.approx(0.06875)  # the query's, looked up by its key
    assert table.topic("anything", path="/b/") == pytest.approx(0.0875)  # the page's first
    assert table.topic("no data") == table.page("/nowhere/") == pytest.approx(0.075)  # the average


def test_prior_zero_and_half_life(store):
    add(store, [gsc("2026-05-31", "/a/", clicks=1, impressions=10), gsc("2026-05-30", "/a/", clicks=3, impressions=10)])
    table = reward_table(store, cfg(prior=0.0, half_life_days=1.0))
    assert table.pages["/a/"].impressions == pytest.approx(15)
    assert table.pages["/a/"].reward == pytest.approx((1 + 1.5) / 15)


def test_a_period_row_is_spread_over_its_days(store):
    add(store, [gsc("2026-05-31", "/a/", clicks=7, impressions=70, start="2026-05-25"),
                gsc("2026-05-06", "/b/", clicks=7, impressions=70, start="2026-04-30")])
    table = reward_table(store, cfg(prior=0.0))
    inside = sum(0.5 ** (a / 7) for a in range(7)) / 7
    assert table.pages["/a/"].impressions == pytest.approx(70 * inside)
    partly = sum(0.5 ** (a / 7) for a in (25, 26, 27)) / 7  # 05-04 .. 05-06 of 04-30 .. 05-06
    assert table.pages["/b/"].impressions == pytest.approx(70 * partly)
    assert table.pages["/a/"].reward == pytest.approx(0.1)
    assert period_weight("2026-05-31", "2026-05-31", "2026-05-31", 28, 7.0) == 1.0
    assert period_weight("2026-06-01", "2026-06-02", "2026-05-31", 28, 7.0) == 0.0  # after the window's end


def test_today_ends_the_window(store):
    add(store, [gsc("2026-05-31", "/a/", clicks=1, impressions=10), gsc("2026-05-10", "/a/", clicks=5, impressions=10)])
    table = reward_table(store, cfg(prior=0.0), today="2026-05-10")
    assert table.pages["/a/"].impressions == pytest.approx(10) and table.pages["/a/"].reward == pytest.approx(0.5)


def both(store):
    add(store, [gsc("2026-05-31", "/a/", "red", 10, 100), gsc("2026-05-31", "/b/", "", 2, 100)], "gsc")
    add(store, [ga4("2026-05-31", "/a/", 20, 15), ga4("2026-05-31", "/c/", 10, 2)], "ga4")


def test_auto_engagement_where_ga4_has_sessions_on_the_ctr_scale(store):
    both(store)
    table = reward_table(store, cfg(prior=10.0))
    avg_ctr, avg_eng = 12 / 200, 17 / 30
    assert table.average == pytest.approx(avg_ctr)
    a, b, c = table.pages["/a/"], table.pages["/b/"], table.pages["/c/"]
    assert (a.measure, b.measure, c.measure) == ("engagement", "ctr", "engagement")
    assert a.reward == pytest.approx((15 + 10 * avg_eng) / (20 + 10) / avg_eng * avg_ctr)
    assert b.reward == pytest.approx((2 + 10 * avg_ctr) / (100 + 10))
    assert c.reward == pytest.approx((2 + 10 * avg_eng) / (10 + 10) / avg_eng * avg_ctr)
    assert (a.sessions, a.engaged, a.impressions, a.clicks) == (20, 15, 100, 10)
    assert table.queries["red"].reward == pytest.approx((10 + 10 * avg_ctr) / 110)


def test_ctr_and_engagement_measures(store):
    both(store)
    ctr = reward_table(store, cfg(prior=10.0, measure="ctr"))
    assert set(ctr.pages) == {"/a/", "/b/"} and ctr.average == pytest.approx(0.06)
    assert ctr.pages["/a/"].reward == pytest.approx(10.6 / 110)
    eng = reward_table(store, cfg(prior=10.0, measure="engagement"))
    avg_eng = 17 / 30
    assert set(eng.pages) == {"/a/", "/c/"} and eng.average == pytest.approx(avg_eng)  # /b/ gets the average
    assert eng.pages["/a/"].reward == pytest.approx((15 + 10 * avg_eng) / 30)
    assert eng.pages["/c/"].reward == pytest.approx((2 + 10 * avg_eng) / 20)
    assert eng.queries["red"].reward == pytest.approx(10.6 / 110 / 0.06 * avg_eng)  # on the engagement scale


def test_queries_only_and_no_data(store):
    assert reward_table(store, cfg()) == RewardTable() and reward_table(store, cfg()).empty
    assert reward_window(store, cfg()) is None
    add(store, [SignalRow("2026-05-31", "gsc", "query", query="red", clicks=3, impressions=10),
                SignalRow("2026-05-31", "gsc", "query", query="blue", clicks=1, impressions=30)])
    table = reward_table(store, cfg(prior=10.0))
    assert table.pages == {} and table.average == pytest.approx(4 / 40)  # pooled over the queries
    assert table.queries["red"].reward == pytest.approx((3 + 1) / 20)
    assert reward_table(store, cfg(), today="2025-01-01").empty  # a window with no signals


def test_a_live_page_without_impressions_since_the_signals_covered_it_is_unseen(store):
    from sitegen.core.models import LivePage

    add(store, [gsc("2026-05-31", "/a/", "red dresses", 10, 100)])
    store.lifecycle.record(1, [LivePage("/a/", "red dresses", through=""),
                               LivePage("/quiet/", "green hats", through="2026-05-24"),  # live through 05-25..31
                               LivePage("/new/", "blue hats", through="2026-05-31")],  # created after the last day
                           [], [])
    assert store.lifecycle.live()["/quiet/"].through == "2026-05-24"
    table = reward_table(store, cfg())
    assert table.unseen == frozenset({"/quiet/"})  # /a/ has data, /new/ was not live through any covered day
    assert table.value == pytest.approx(table.pages["/a/"].reward * 100)  # the average page's expected clicks


def test_a_querys_searches_and_the_best_placed_pages_rate(store):
    def row(page, clicks, impressions, position, query="tshirts online", day="2026-05-31"):
        return SignalRow(date=day, source="gsc-api", dimension="query_page", query=query, page=page,
                         clicks=clicks, impressions=impressions, position=position)

    add(store, [row("/a/", 30, 100, 1.0), row("/b/", 5, 100, 4.0), row("/c/", 0, 40, 9.0),  # 100 searches
                row("/a/", 3, 10, 2.0, query="red"), row("/d/", 4, 10, 1.0, query="red"),
                SignalRow("2026-05-31", "gsc", "query", query="blue", clicks=1, impressions=30)])
    table = reward_table(store, cfg(prior=0.0))
    q = table.queries["tshirts online"]
    assert q.impressions == pytest.approx(240) and q.searches == pytest.approx(100)  # not once per page shown
    assert table.queries["red"].searches == pytest.approx(10)
    assert table.queries["blue"].searches == pytest.approx(30)  # a query-only row counts its impressions
    assert table.top == pytest.approx((30 + 4) / (100 + 10))  # the best-placed page of each query, pooled
