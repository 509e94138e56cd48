"""Inter-rater agreement (quadratic-weighted kappa, against hand-computed values), the human judge's medians,
and the judgments section of the review report."""

from __future__ import annotations

import json
import random

import pytest

from sitegen.core import registry
from sitegen.core.config import Config
from sitegen.core.models import Item, Judgment
from sitegen.audit.report import report_dir, write_report
from sitegen.learn.relevance.agreement import agreement, judgment_summary, quadratic_weighted_kappa
from sitegen.learn.relevance.human import HumanJudge, median_grade
from sitegen.learn.relevance.judge import Pair, make_judge

from .test_report import LINKS, SUMMARY, Doc, fill_store


def J(topic, item, grade, rater, source="human"):
    return Judgment(topic, item, grade, source, rater, "2026-01-01T00:00:00Z")


def test_kappa_by_hand():
    # O = {(1,2), (2,2), (3,3)}; marginals a = (1,1,1,0,0), b = (0,2,1,0,0); w = (i-j)^2 / 16.
    # sum w*O = 1/16; sum w*E = (2/3 * 1 + 1/3 * 4 + 1/3 * 1 + 2/3 * 1) / 16 = 3/16  ->  kappa = 1 - 1/3
    assert quadratic_weighted_kappa([1, 2, 3], [2, 2, 3]) == pytest.approx(2 / 3)
    # the two extremes swapped: sum w*O = 2, sum w*E = 1  ->  -1
    assert quadratic_weighted_kappa([1, 5], [5, 1]) == pytest.approx(-1.0)
    assert quadratic_weighted_kappa([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]) == pytest.approx(1.0)
    # a = (4,4,2,2), b = (4,3,2,1): O off-diagonal (4,3) and (2,1), each w = 1/16 -> sum w*O = 2/16;
    # E = a_hist x b_hist / 4 with a_hist = {2: 2, 4: 2}, b_hist = {1..4: 1 each}:
    # sum w*E = (2/4) * [(1 + 0 + 1 + 4) + (9 + 4 + 1 + 0)] / 16 = 10/16  ->  kappa = 1 - 2/10
    assert quadratic_weighted_kappa([4, 4, 2, 2], [4, 3, 2, 1]) == pytest.approx(0.8)


def test_kappa_undefined_and_invalid():
    assert quadratic_weighted_kappa([], []) is None
    assert quadratic_weighted_kappa([3, 3, 3], [3, 3, 3]) is None  # no disagreement is even possible
    with pytest.raises(ValueError):
        quadratic_weighted_kappa([1, 2], [1])
    with pytest.raises(ValueError):
        quadratic_weighted_kappa([0, 2], [1, 2])


def test_kappa_matches_scikit_learn_on_random_grades():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = random.Random(3)
    for _ in range(20):
        n = rng.randint(2, 60)
        a = [rng.randint(1, 5) for _ in range(n)]
        b = [min(5, max(1, x + rng.choice([-2, -1, 0, 0, 1]))) for x in a]
        ours = quadratic_weighted_kappa(a, b)
        if ours is None:
            continue
        theirs = metrics.cohen_kappa_score(a, b, weights="quadratic", labels=[1, 2, 3, 4, 5])
        assert ours == pytest.approx(theirs, abs=1e-9)


def test_pairwise_agreement_and_mean():
    rows = [J("t", "a", 1, "ann"), J("t", "b", 2, "ann"), J("t", "c", 3, "ann"),
            J("t", "a", 2, "bob"), J("t", "b", 2, "bob"), J("t", "c", 3, "bob"),
            J("t", "a", 1, "cy"), J("t", "b", 5, "cy"),
            J("t", "z", 4, "dee"),  # no pair in common with anyone
            J("t", "a", 5, "median"),  # the human judge's own rows are not a rater
            J("t", "a", 3, "model", source="llm")]
    a = agreement(rows)
    assert a.raters == ("ann", "bob", "cy", "dee")
    got = {p.raters: p for p in a.pairs}
    assert set(got) == {("ann", "bob"), ("ann", "cy"), ("bob", "cy")}
    assert got[("ann", "bob")].n == 3 and got[("ann", "bob")].qwk == pytest.approx(2 / 3)
    assert got[("ann", "bob")].exact == pytest.approx(2 / 3)
    # ann (1, 2) vs cy (1, 5): O off-diagonal (2,5), w = 9/16; E = 1/2 at (1,1), (1,5), (2,1), (2,5):
    # sum w*E = (0 + 16 + 1 + 9) / 2 / 16 = 13/16  ->  1 - 9/13
    assert got[("ann", "cy")].qwk == pytest.approx(1 - 9 / 13)
    # bob (2, 2) vs cy (1, 5): sum w*O = (1 + 9)/16; E = 1 at (2,1) and (2,5): (1 + 9)/16  ->  0
    assert got[("bob", "cy")].qwk == pytest.approx(0.0)
    assert a.mean_qwk == pytest.approx((2 / 3 + 1 - 9 / 13 + 0.0) / 3)


def test_summary_counts_per_source_and_rater():
    rows = [J("t", "a", 4, "ann"), J("t", "a", 4, "bob"), J("t", "b", 2, "ann"), J("t", "a", 3, "", "catalog")]
    s = judgment_summary(rows)
    assert s["total"] == 4
    assert s["sources"] == [
        {"source": "catalog", "grades": 1, "pairs": 1, "raters": [{"rater": "", "grades": 1}]},
        {"source": "human", "grades": 3, "pairs": 2, "raters": [{"rater": "ann", "grades": 2},
                                                               {"rater": "bob", "grades": 1}]}]
    assert list(s["agreement"]) == ["human"]
    assert s["agreement"]["human"]["pairs"] == [{"raters": ["ann", "bob"], "n": 1, "qwk": None, "exact": 1.0}]
    json.dumps(s)  # plain data


def test_median_rounds_halves_up():
    assert median_grade([3, 4]) == 4
    assert median_grade([2, 3]) == 3
    assert median_grade([1, 2, 5]) == 2
    assert median_grade([5]) == 5


def item(i: str) -> Item:
    return Item(i, i.title(), "/nowhere.png", "0" * 64, 10, 10)


def test_human_judge_answers_stored_medians_and_leaves_out_ungraded(tmp_path):
    from sitegen.store.db import Store

    cfg = Config(root=tmp_path)
    assert registry.get("judge", "human") is HumanJudge
    with Store(cfg.store_path) as store:
        store.judgments.add([J("dog", "a", 3, "ann"), J("dog", "a", 4, "bob"), J("dog", "b", 1, "ann"),
                             J("dog", "b", 2, "bob"), J("dog", "b", 2, "cy"), J("dog", "c", 5, "median"),
                             J("dog", "d", 4, "", "catalog")])
    pairs = [Pair("dog", item(i)) for i in "abcd"]
    judge = make_judge("human", cfg)
    seen = []
    got = judge.grade(pairs, progress=lambda d, t: seen.append((d, t)))
    assert [(j.item_id, j.grade, j.source, j.rater) for j in got] == [("a", 4, "human", "median"),
                                                                       ("b", 2, "human", "median")]
    assert seen[-1] == (4, 4)
    # writing the judge's answers back changes neither the medians nor the raters
    with Store(cfg.store_path) as store:
        store.judgments.add(got)
        again = HumanJudge(cfg, store=store).grade(pairs)
        assert [(j.item_id, j.grade) for j in again] == [("a", 4), ("b", 2)]
        assert agreement(store.judgments.all()).raters == ("ann", "bob", "cy")


def test_report_shows_judgment_counts_and_kappa(tmp_path):
    cfg = Config(root=tmp_path)
    cfg.site.base_url = "https://example.org/"
    store, run = fill_store(cfg.store_path)
    with store:
        store.judgments.add([J("green dresses", "a", 1, "ann"), J("green dresses", "b", 2, "ann"),
                             J("green dresses", "c", 3, "ann"), J("green dresses", "a", 2, "bob"),
                             J("green dresses", "b", 2, "bob"), J("green dresses", "c", 3, "bob")])
        path = write_report(report_dir(cfg), cfg, store, run, [], summary=SUMMARY, link_report=LINKS)
    doc = Doc(path.read_text(encoding="utf-8"))
    assert "judgments" in doc.ids and "#judgments" in doc.links
    text = doc.plain
    assert "6 grades of topic–item pairs" in text
    assert "ann / bob 3 0.667 67%" in text and "Mean kappa 0.667" in text
    data = json.loads((path.parent / "report.json").read_text())
    assert data["judgments"]["agreement"]["human"]["mean_qwk"] == pytest.approx(0.6667)


def test_report_without_judgments_says_how_to_get_them(tmp_path):
    cfg = Config(root=tmp_path)
    store, run = fill_store(cfg.store_path)
    with store:
        path = write_report(report_dir(cfg), cfg, store, run, [], summary=SUMMARY, link_report=LINKS)
    assert "No judgments yet" in Doc(path.read_text(encoding="utf-8")).plain
