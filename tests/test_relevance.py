"""Relevance scorers: the heuristic scorer's formula and weights, the registry, and collect.scorer / weights."""

from __future__ import annotations

import numpy as np
import pytest

from sitegen.aggregate.relevance import DEFAULT_WEIGHTS, HeuristicScorer, Scorer, TopicEvidence, make_scorer
from sitegen.core import registry
from sitegen.core.config import CollectSection, load_config
from sitegen.core.errors import ConfigError


def evidence(sims, ev=1.0, source=False, checked=2, free=0):
    sims = np.asarray(sims, np.float32)
    return TopicEvidence(sims, np.full(len(sims), ev, np.float32), np.full(len(sims), source), checked, free)


def test_heuristic_is_the_registered_default_and_scores_in_unit_range():
    scorer = make_scorer(CollectSection())
    assert isinstance(scorer, HeuristicScorer) and registry.get("scorer", "heuristic") is HeuristicScorer
    s = scorer.score(evidence(np.linspace(-1, 1, 41)))
    assert s.dtype == np.float32 and np.all((0 <= s) & (s <= 1)) and np.all(np.diff(s) >= 0)
    # score 0.5 at the mid similarity: mid_checked (0.40) when every word is checkable, mid_free (0.55) when none
    assert scorer.score(evidence([0.40], checked=3, free=0))[0] == pytest.approx(0.5)
    assert scorer.score(evidence([0.55], checked=0, free=3))[0] == pytest.approx(0.5)
    # one missing word out of four: 0.75 ** 8 = 0.1 at most, so collect may count instead of search
    assert scorer.score(evidence([1.0], ev=0.75))[0] <= 0.75 ** 8
    assert scorer.needs_every_word(4, 0.5) and not scorer.needs_every_word(0, 0.5)
    assert scorer.score(evidence([0.40], source=True, checked=1))[0] == pytest.approx(1 / (1 + np.exp(-1.0)))


def test_weights_are_configurable():
    steep = HeuristicScorer(CollectSection(weights={"similarity": 40.0, "mid_checked": 0.3}))
    assert steep.weights == {**DEFAULT_WEIGHTS, "similarity": 40.0, "mid_checked": 0.3}
    assert steep.score(evidence([0.3]))[0] == pytest.approx(0.5)
    assert steep.score(evidence([0.35]))[0] > HeuristicScorer().score(evidence([0.35]))[0]
    lenient = HeuristicScorer(CollectSection(weights={"evidence_power": 1.0}))
    assert not lenient.needs_every_word(4, 0.5)


def test_a_plugin_scorer_is_chosen_by_name(tmp_path):
    class Flat(Scorer):
        name = "flat"

        def score(self, topic):
            return np.full(len(topic.similarity), 0.75, np.float32)

    registry.register("scorer", "flat", Flat)
    try:
        (tmp_path / "site.toml").write_text('[collect]\nscorer = "flat"\n')
        cfg = load_config(tmp_path / "site.toml")
        scorer = make_scorer(cfg.collect)
        assert isinstance(scorer, Flat) and scorer.cfg is cfg.collect
        assert not scorer.needs_every_word(3, 0.5)  # the base class always searches
        assert scorer.score(evidence([0.1, 0.2])).tolist() == [0.75, 0.75]
    finally:
        registry.unregister("scorer", "flat")


def test_scorer_and_weights_validated_at_load(tmp_path):
    (tmp_path / "site.toml").write_text('[collect]\nscorer = "nope"\n')
    with pytest.raises(ConfigError, match=r"collect\.scorer: no scorer named 'nope' "
                                          r"\(registered: bm25, heuristic, student; or auto\)"):
        load_config(tmp_path / "site.toml")
    (tmp_path / "site.toml").write_text('[collect.weights]\nsimilarity = 0\nmid_free = 2.0\nsteepness = 3\n'
                                        'source = "x"\n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "site.toml")
    assert sorted(err.value.errors) == [
        "collect.weights.mid_free: must be a similarity between -1 and 1 (got 2.0)",
        "collect.weights.similarity: must be > 0 (got 0.0)",
        "collect.weights.source: must be a number (got 'x')",
        "collect.weights.steepness: unknown weight of the heuristic scorer "
        "(use similarity, source, evidence_power, mid_checked, mid_free)"]
