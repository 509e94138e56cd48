"""Topic-item pairs from a site, as the build sees them: the relevance loop's raw material.

``candidate_pass`` gathers the site and runs the GEO stages up to the index exactly as ``sitegen build`` does,
then runs collect's retrieval and scoring with an observer, so every scored topic keeps its candidates with the
``TopicEvidence`` the build's scorer saw (the student learns from exactly what it will score). ``sample_pairs``
picks the pairs a teacher grades; ``grade_pairs`` has the configured judge grade them into the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from sitegen.aggregate.relevance import CatalogView, TopicEvidence
from sitegen.core.models import Item, Judgment, Topic
from sitegen.learn.relevance.judge import Pair

ProgressFactory = Callable[[str], Callable[[int, int], None] | None]


@dataclass(frozen=True)
class ScoredTopic:
    topic: Topic
    evidence: TopicEvidence  # its candidates (``evidence.candidates``: positions in ``CandidateSet.items``)
    scores: np.ndarray  # the configured scorer's score of each candidate


@dataclass
class CandidateSet:
    items: list[Item]
    catalog: CatalogView
    topics: list[ScoredTopic]
    encode: Callable[[list[str]], np.ndarray] | None = None  # the site's text encoder (topic vectors)

    def pairs(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(topic text, item id) -> (topic position, candidate position) for every candidate pair."""
        out: dict[tuple[str, str], tuple[int, int]] = {}
        for t, st in enumerate(self.topics):
            for c, pos in enumerate(st.evidence.candidates.tolist()):
                out.setdefault((st.topic.text, self.items[pos].id), (t, c))
        return out


def candidate_pass(cfg, store, *, progress: ProgressFactory | None = None) -> CandidateSet:
    """Every topic the build would score, with its candidates and their evidence (see the module docstring)."""
    from sitegen.aggregate.collect import Lexicon, collect
    from sitegen.aggregate.stage import plan_topics, relevance_model
    from sitegen.core.text import item_text
    from sitegen.engines.stage import EMBED, INDEX
    from sitegen.pipeline.gather import gather_site
    from sitegen.pipeline.geo import run_stages
    from sitegen.represent.stage import REPRESENT

    progress = progress or (lambda _name: None)
    site = gather_site(cfg, store, progress=progress).site
    ctx, results = run_stages(cfg, store, site, (EMBED, REPRESENT, INDEX), progress=progress)
    out = results.values
    items = list(site.items)
    plan = plan_topics(cfg, items, out["represent"].queries)
    vectors = ctx.embedder.encode([t.text for t in plan.topics], progress=progress("topics"))
    seen: list[ScoredTopic] = []
    collect(plan.topics, vectors, items, out["embed"].item_vectors, out["index"].index, cfg.collect,
            hub_of=plan.hub_of, item_text=item_text, progress=progress("candidates"),
            implies=plan.words.implies, fragments=plan.fragments, model_dir=relevance_model(cfg),
            embed=ctx.embedder.encode, observe=lambda topic, evidence, scores: seen.append(ScoredTopic(topic, evidence, scores)))
    vecs = np.asarray(out["embed"].item_vectors, np.float32)
    lexicon = Lexicon(items, item_text, plan.words.implies, plan.fragments)
    catalog = CatalogView(items, [item_text(i) for i in items], vecs, lexicon, ctx.embedder.encode)
    return CandidateSet(items, catalog, seen, ctx.embedder.encode)


def sample_pairs(cands: CandidateSet, n: int, *, per_topic_max: int = 40) -> list[Pair]:
    """About ``n`` pairs spread over the topics and, within a topic, over the whole score range (evenly spaced
    ranks of the candidates by score: the best, those near the threshold, the worst), so a teacher's grades
    cover relevant and irrelevant candidates alike. Deterministic."""
    if not cands.topics or n <= 0:
        return []
    per_topic = max(2, min(per_topic_max, -(-n // len(cands.topics))))
    pairs: list[Pair] = []
    for st in cands.topics:
        order = np.lexsort((st.evidence.candidates, -st.scores))
        take = order if len(order) <= per_topic else order[np.unique(np.linspace(0, len(order) - 1, per_topic)
                                                                           .round().astype(int))]
        pairs += [Pair(st.topic.text, cands.items[int(st.evidence.candidates[c])], st.topic.category)
                  for c in take.tolist()]
    return pairs[:n] if len(pairs) > n else pairs


def grade_pairs(cfg, store, pairs: Sequence[Pair], *, teacher: str | None = None,
                cands: CandidateSet | None = None,
                progress: Callable[[int, int], None] | None = None) -> list[Judgment]:
    """The configured (or named) judge grades ``pairs``; its grades replace the same judge's earlier ones for
    those pairs in ``store.judgments``. Human grades are only read, never replaced. A judge with a
    ``prepare(items, item_vectors, encode)`` method (the ``catalog`` judge) first gets the whole catalog of
    ``cands``."""
    from sitegen.learn.relevance.judge import make_judge

    name = teacher or cfg.relevance.teacher
    judge = make_judge(name, cfg, store)
    if cands is not None and callable(getattr(judge, "prepare", None)):
        judge.prepare(cands.items, cands.catalog.vectors, cands.encode)
    grades = judge.grade(list(pairs), progress=progress)
    if name != "human":
        store.judgments.add(grades)
    return grades
