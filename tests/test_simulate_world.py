"""The simulator's hidden world: facets and intents, seasonality, the click model and the exports."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from sitegen.core.models import Item
from sitegen.ingest.console import read_console_export
from sitegen.learn.evaluate import Truth
from sitegen.learn.simulate.clicks import (CTR_BY_POSITION, Row, competitor_scores, ctr, satisfaction, serp,
                                           simulate_week)
from sitegen.learn.simulate.demand import (Intent, Population, candidate_intents, catalog_facets, draw_population,
                                           phrasings)
from sitegen.learn.simulate.engine import Hit
from sitegen.learn.simulate.export import CONSOLE_HEADER, GA4_HEADER, write_console_export, write_ga4_export
from sitegen.learn.simulate.seasons import Series, read_series, read_series_file

from .conftest import SHARED
from .simsite import rows as sim_rows

TRENDS = SHARED / "datasets" / "google-trends"


def items() -> list[Item]:
    out = []
    for r in sim_rows():
        out.append(Item(id=r["id"], title=r["title"], image="", image_sha="", width=1, height=1,
                        category=r["article_type"], attributes=(("master_category", r["master_category"]),
                                                                ("base_colour", r["base_colour"]),
                                                                ("usage", r["usage"]))))
    return out


# -- demand ----------------------------------------------------------------------------------------------------

def test_facets_keep_the_columns_the_category_does_not_decide():
    odd = Item(id="x", title="Brand Men Black Tshirts", image="", image_sha="", width=1, height=1, category="Tshirts",
               attributes=(("master_category", "Sporting Goods"), ("base_colour", "Black"), ("usage", "Casual")))
    facets, fields = catalog_facets(items() + [odd])
    assert fields == ("category", "audience", "base_colour", "usage")  # master_category restates the category
    assert facets["1"] == {"category": {"Formal Shoes"}, "audience": {"men"}, "base_colour": {"Black"},
                           "usage": {"Formal"}}


def test_intents_are_the_catalog_combinations_written_naturally():
    facets, fields = catalog_facets(items())
    cands = candidate_intents(facets, fields, min_support=2)
    by_key = {c.key: c for c in cands}
    men = by_key["category=Formal Shoes|audience=men|base_colour=Black"]
    assert men.support == 2 and men.queries == ("black formal shoes for men", "men's black formal shoes",
                                                "formal shoes men black")
    assert by_key["category=Kurtas"].support == 16
    # "formal" adds no word to "formal shoes": the usage intent is the plain one, kept once
    assert "category=Formal Shoes|usage=Formal" not in by_key and "category=Formal Shoes" in by_key
    assert all(c.support >= 2 for c in cands)
    # every phrasing names exactly the intent's values, as the evaluation's ground truth reads a topic
    truth = Truth(sim_rows())
    names = {"category": "article_type", "audience": "gender"}
    for c in cands:
        want = {names.get(f, f): {v} for f, v in c.values}
        for q in c.queries:
            assert truth.named(q) == want, (q, c.key)
    assert phrasings({"category": "Caps", "audience": "unisex", "base_colour": "Red"}) == \
        ["red caps unisex", "unisex red caps", "caps unisex red"]
    assert phrasings({"category": "Tshirts"}) == ["tshirts", "tshirts online"]


def test_the_population_is_seeded_zipf_and_judged_by_the_columns():
    a = draw_population(items(), seed=3, n_intents=40, searches=10_000)
    b = draw_population(items(), seed=3, n_intents=40, searches=10_000)
    c = draw_population(items(), seed=4, n_intents=40, searches=10_000)
    assert a.intents == b.intents and a.intents != c.intents
    vols = [i.volume for i in a.intents]
    assert len(vols) == 40 and math.isclose(sum(vols), 10_000)
    assert vols[0] / vols[9] == pytest.approx(10.0)  # Zipf, s = 1
    assert [i.support for i in a.intents] == sorted((i.support for i in a.intents), reverse=True)
    for i in a.intents:
        assert math.isclose(sum(i.shares), 1.0) and len(i.shares) == len(i.queries)
    shoes = Intent("k", (("category", "Formal Shoes"), ("audience", "men")), ("q",), (1.0,), 4)
    assert a.satisfies("1", shoes) and not a.satisfies("3", shoes)  # item 3 is a women's pair
    assert not a.satisfies("missing", shoes)


# -- seasons ---------------------------------------------------------------------------------------------------

def test_series_layouts_and_multipliers(tmp_path):
    (tmp_path / "wide.csv").write_text(
        '"Indexed interest in hot weather topics. The largest value is 100.",,,,,\r'
        'Search topic,Jun 4 2018,Jun 5 2018,Jun 6 2018,Jun 7 2018,\rSunglasses,50,100,50,<1,\r', encoding="utf-8")
    (tmp_path / "regions.csv").write_text(
        ",Alabama [us-al],Alaska [us-ak]\n"
        '"Values show search interest per month in yoga and have been indexed to 100.",,\n'
        "2004-01,10,30\n2004-02,20,20\n2005-01,40,40\n2005-02,0,0\n", encoding="utf-8")
    (tmp_path / "ranking.csv").write_text("Rankings for Halloween Costumes,\nCostume,Rank\nWitch,1\nPirate,2\n")
    wide = read_series_file(tmp_path / "wide.csv")
    assert [(s.term, s.step) for s in wide] == [("Sunglasses", "day")]
    assert wide[0].points[-1] == ("2018-06-07", 0.5)
    mean = (50 + 100 + 50 + 0.5) / 4
    assert wide[0].multiplier(date(2018, 6, 5)) == pytest.approx(100 / mean)
    assert wide[0].multiplier(date(2018, 7, 5)) == 1.0  # outside a series of one year: flat
    (yoga,) = read_series_file(tmp_path / "regions.csv")
    assert yoga.term == "yoga" and yoga.step == "month" and yoga.points[0] == ("2004-01-01", 20.0)
    # a January outside the series: the mean of its Januaries (20, 40) over the series' mean (20, 20, 40, 0)
    assert yoga.multiplier(date(2019, 1, 15)) == pytest.approx(30 / 20)
    assert read_series_file(tmp_path / "ranking.csv") == []
    assert [s.term for s in read_series(tmp_path)] == ["yoga", "Sunglasses"]


@pytest.mark.shared
def test_the_real_trends_folder_gives_the_heatwave_and_yoga_series():
    if not TRENDS.is_dir():
        pytest.skip(f"{TRENDS} is not there")
    series = {s.term: s for s in read_series(TRENDS)}
    for term in ("Sunglasses", "Swimsuit", "Sun hat", "Cap", "yoga"):
        assert term in series
    sun = series["Sunglasses"]
    assert sun.step == "day" and sun.points[0] == ("2018-06-04", 73.0) and len(sun.points) == 58
    peak = max(sun.points, key=lambda p: p[1])[0]
    assert sun.multiplier(date.fromisoformat(peak)) > 1.2


# -- clicks ----------------------------------------------------------------------------------------------------

def _population(volume: float) -> Population:
    facets = {"a": {"category": frozenset({"Shoes"})}, "b": {"category": frozenset({"Bags"})}}
    intent = Intent("category=Shoes", (("category", "Shoes"),), ("shoes", "shoes online"), (0.75, 0.25), 1,
                    volume=volume)
    return Population((intent,), facets, ("category",))


def test_clicks_are_impressions_times_the_ctr_curve_times_satisfaction():
    assert CTR_BY_POSITION[0] == 0.3173 and ctr(10) == 0.0309 and ctr(11) == 0.0
    assert satisfaction(["a", "b", "a"], lambda i: i == "a") == pytest.approx(2 / 3) and satisfaction([], bool) == 0
    pop = _population(70_000.0)
    rankings = {"shoes": [Hit("/item/a/", 1, 1.0), Hit("/category/mixed/", 2, 0.9), Hit("/item/b/", 3, 0.8)],
                "shoes online": [Hit("/category/mixed/", 1, 1.0)]}
    page_items = {"/item/a/": ("a",), "/item/b/": ("b",), "/category/mixed/": ("a", "b", "b", "b")}
    week = simulate_week(pop, rankings, page_items, date(2018, 6, 4), seed=1, competitors=0)
    assert week == simulate_week(pop, rankings, page_items, date(2018, 6, 4), seed=1, competitors=0)  # replays
    assert week.rows != simulate_week(pop, rankings, page_items, date(2018, 6, 11), seed=1, competitors=0).rows
    cells: dict = {}
    for r in week.rows:
        c = cells.setdefault((r.query, r.path), [0, 0, r.position])
        c[0] += r.clicks
        c[1] += r.impressions
    searches = {q: cells[(q, rankings[q][0].path)][1] for q in rankings}
    assert searches["shoes"] == pytest.approx(52_500, rel=0.02)  # Poisson(0.75 x 70,000 / 7) a day
    assert searches["shoes online"] == pytest.approx(17_500, rel=0.03)
    # page one: every result of a search gets its impression
    assert all(cells[("shoes", h.path)][1] == searches["shoes"] for h in rankings["shoes"])
    n = searches["shoes"]
    assert cells[("shoes", "/item/a/")][0] == pytest.approx(n * 0.3173, rel=0.03)
    assert cells[("shoes", "/category/mixed/")][0] == pytest.approx(n * 0.2471 * 0.25, rel=0.06)
    assert cells[("shoes", "/item/b/")][0] == 0  # a bag satisfies no one looking for shoes
    assert cells[("shoes online", "/category/mixed/")][0] == pytest.approx(searches["shoes online"] * 0.3173 * 0.25,
                                                                           rel=0.08)
    assert week.impressions == sum(c[1] for c in cells.values()) and week.clicks == sum(c[0] for c in cells.values())
    assert week.searches == sum(searches.values()) and week.pages == 3 and week.answered == 2
    assert {r.day for r in week.rows} == {f"2018-06-{d:02d}" for d in range(4, 11)}


def test_competitors_push_the_site_down_the_results_page():
    comp = competitor_scores("black formal shoes for men", seed=0)
    assert len(comp) == 10 and list(comp) == sorted(comp, reverse=True)
    assert np.array_equal(comp, competitor_scores("black formal shoes for men", seed=0))  # every week the same
    assert not np.array_equal(comp, competitor_scores("black formal shoes for men", seed=1))
    assert 0.4 < comp.mean() < 1.1 and len(competitor_scores("x", seed=0, n=0)) == 0
    comp = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3])
    hits = [Hit("/topic/exact/", 2, 1.0), Hit("/item/close/", 1, 0.85), Hit("/category/far/", 3, 0.32)]
    # by quality: the exact heading first, then the item after the two better competitors; the hub falls off
    assert [(h.path, p) for h, p in serp(hits, comp)] == [("/topic/exact/", 1), ("/item/close/", 4)]
    assert [p for _, p in serp(hits, np.zeros(0))] == [1, 2, 3]
    assert [p for _, p in serp([Hit("/a/", 1, 0.9)], np.array([0.9]))] == [1]  # a tie goes to the site
    pop = _population(70_000.0)
    rankings = {"shoes": [Hit("/item/a/", 1, 0.2)], "shoes online": [Hit("/item/a/", 1, 0.2)]}
    week = simulate_week(pop, rankings, {"/item/a/": ("a",)}, date(2018, 6, 4), seed=0)
    assert week.impressions == week.clicks == week.answered == 0 and week.searches > 60_000


def test_a_season_scales_the_searches():
    base = _population(7_000.0)
    pop = base.with_intents([Intent("category=Shoes", (("category", "Shoes"),), ("shoes",), (1.0,), 1,
                                    volume=7_000.0, season="Shoes")])
    days = [f"2018-06-{d:02d}" for d in range(4, 11)]
    series = [Series("Shoes", "x.csv", tuple((d, 100.0 if d == "2018-06-05" else 50.0) for d in days), "day")]
    rankings = {"shoes": [Hit("/item/a/", 1, 1.0)]}
    week = simulate_week(pop, rankings, {"/item/a/": ("a",)}, date(2018, 6, 4), seed=0, series=series,
                         competitors=0)
    by_day = {r.day: r.impressions for r in week.rows}
    mean = (100 + 6 * 50) / 7
    assert by_day["2018-06-05"] == pytest.approx(1000 * 100 / mean, rel=0.15)
    assert by_day["2018-06-06"] == pytest.approx(1000 * 50 / mean, rel=0.15)


# -- exports ---------------------------------------------------------------------------------------------------

ROWS = [Row("2018-06-04", "black formal shoes for men", "/topic/black-formal-shoes/", 3, 10, 1.0, 1.0),
        Row("2018-06-04", "black formal shoes for men", "/item/oxford-1/", 1, 10, 2.0, 1.0),
        Row("2018-06-05", "black formal shoes for men", "/topic/black-formal-shoes/", 0, 4, 1.0, 1.0),
        Row("2018-06-05", "kurtas, for women", "/category/kurtas/", 0, 0, 3.0, 0.5)]


def test_the_console_export_is_the_api_format_and_reads_back(tmp_path):
    path = write_console_export(ROWS, tmp_path / "gsc.csv", "https://shop.example/")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(CONSOLE_HEADER) == "Date,Page,Query,Clicks,Impressions,CTR,Position"
    assert lines[1] == ("2018-06-04,https://shop.example/topic/black-formal-shoes/,black formal shoes for men,"
                        "3,10,0.3,1.0")
    back = read_console_export(path)
    assert len(back) == 3  # no row without an impression
    assert [(r.query, r.page, r.clicks, r.impressions, r.ctr, r.position) for r in back] == [
        ("black formal shoes for men", "https://shop.example/topic/black-formal-shoes/", 3, 10, 0.3, 1.0),
        ("black formal shoes for men", "https://shop.example/item/oxford-1/", 1, 10, 0.1, 2.0),
        ("black formal shoes for men", "https://shop.example/topic/black-formal-shoes/", 0, 4, 0.0, 1.0)]
    weekly = read_console_export(write_console_export(ROWS, tmp_path / "w.csv", "https://shop.example/",
                                                      granularity="week", week_start="2018-06-04"))
    assert [(r.page, r.clicks, r.impressions) for r in weekly] == [
        ("https://shop.example/topic/black-formal-shoes/", 3, 14), ("https://shop.example/item/oxford-1/", 1, 10)]
    assert (tmp_path / "w.csv").read_text().splitlines()[1].startswith("2018-06-04,")


def test_the_ga4_export(tmp_path):
    path = write_ga4_export(ROWS, tmp_path / "ga4.csv", seed=0)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(GA4_HEADER)
    day, channel, page, users, views, sessions, rate = lines[1].split(",")
    assert (day, channel, page, users, sessions) == ("2018-06-04", "Organic Search", "/item/oxford-1/", "1", "1")
    assert len(lines) == 3 and all(0.0 <= float(line.split(",")[-1]) <= 1.0 for line in lines[1:])
    rates = [float(write_ga4_export([Row("2018-06-04", "q", "/p/", 5000, 9000, 1.0, s)], tmp_path / f"{s}.csv",
                                    seed=0).read_text().splitlines()[1].split(",")[-1]) for s in (0.0, 1.0)]
    assert rates[0] == pytest.approx(0.2, abs=0.03) and rates[1] == pytest.approx(0.9, abs=0.03)
    assert np.isfinite(rates).all()
