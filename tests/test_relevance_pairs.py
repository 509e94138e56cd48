"""The relevance loop's pairs: the candidate pass sees what collect scores; sampling spans the score range;
the configured judge's grades land in the store."""

from __future__ import annotations

import numpy as np
import pytest

from sitegen.core import registry
from sitegen.core.config import load_config
from sitegen.core.text import match_words
from sitegen.learn.relevance.judge import Judge
from sitegen.learn.relevance.pairs import candidate_pass, grade_pairs, sample_pairs
from sitegen.store.db import Store


class TitleJudge(Judge):
    """Grades 5 when any content word of the topic is in the item's title, 1 otherwise."""

    name = "title-words"

    def grade(self, pairs, progress=None):
        out = []
        for p in pairs:
            words = set(match_words(p.item.title))
            out.append(self.judgment(p, 5 if set(match_words(p.topic)) & words else 1))
        return out


@pytest.fixture
def title_judge():
    registry.register("judge", "title-words", TitleJudge, replace=True)
    yield
    registry.unregister("judge", "title-words")


def test_candidate_pass_sample_and_grade(example_site_copy, title_judge):
    site = example_site_copy()
    cfg = load_config(site / "site.toml", {"relevance.teacher": "title-words"})
    with Store(cfg.store_path) as store:
        cands = candidate_pass(cfg, store)
        assert len(cands.topics) > 50
        st = cands.topics[0]
        assert len(st.scores) == len(st.evidence.candidates) == len(st.evidence.similarity)
        assert cands.catalog.vectors.shape[0] == len(cands.items)
        pairs = sample_pairs(cands, 300)
        assert 0 < len(pairs) <= 300
        # within a topic, the sample spans the scores from best to worst
        by_topic = {}
        for p in pairs:
            by_topic.setdefault(p.topic, []).append(p.item.id)
        lookup = cands.pairs()
        first = cands.topics[0]
        ranked = [cands.items[i].id for i in first.evidence.candidates[np.argsort(-first.scores)]]
        chosen = by_topic[first.topic.text]
        assert ranked[0] in chosen and ranked[-1] in chosen
        assert all((p.topic, p.item.id) in lookup for p in pairs)
        assert sample_pairs(cands, 300) == pairs  # deterministic
        grades = grade_pairs(cfg, store, pairs)
        stored = store.judgments.all(["title-words"])
        assert len(stored) == len({(p.topic, p.item.id) for p in pairs}) == len(grades)
        assert {g.grade for g in stored} == {1, 5}
