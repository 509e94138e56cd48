"""Relevance scorers: how well each candidate item satisfies a topic, as a score in [0, 1].

``collect`` and ``annotate`` get theirs from ``make_scorer(cfg.collect, model_dir=cfg.relevance.model)``: the
scorer registered as ``collect.scorer``, built with the site's ``collect`` section, its ``model_dir`` set to the
trained student's folder. ``collect.scorer = "auto"`` (the default) is ``student`` when a trained student exists
in that folder, else ``heuristic``. Built-ins: ``heuristic`` (below), ``bm25``
(``sitegen.learn.relevance.bm25``) and ``student`` (``sitegen.learn.relevance.student``). The built-in ``heuristic`` scorer (the design's "student" with fixed
weights) combines the embedding similarity with the *lexical evidence* - the share of the topic's catalog words
found in the item's text:

    score = sigmoid(similarity_weight * (sim - mid) + source_weight * is_source) * evidence ** evidence_power

where ``mid``, the similarity that scores 0.5, runs from ``mid_free`` (the catalog can check none of the
topic's words) to ``mid_checked`` (it can check all of them). Its weights are ``[collect.weights]``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from sitegen.core.config import CollectSection

DEFAULT_WEIGHTS: dict[str, float] = {
    "similarity": 14.0,  # how steeply the score rises with the embedding similarity
    "source": 1.0,  # bonus (in logits) for an item the topic was predicted from
    "evidence_power": 8.0,  # (7/8) ** 8 = 0.34: one missing word out of up to eight keeps a candidate below 0.5
    "mid_checked": 0.40,  # similarity at score 0.5 when the catalog can check every word of the topic
    "mid_free": 0.55,  # ... and when it can check none
}
AUTO = "auto"  # collect.scorer: the student when a trained one exists, else the heuristic


@dataclass(frozen=True)
class CatalogView:
    """What a scorer may read about the whole catalog, given once per scoring pass (``Scorer.prepare``) so a
    scorer can build its own index (BM25, attribute tables) before scoring topics."""

    items: Sequence[Any]  # the catalog's ``Item``s; candidates are positions in this list
    texts: Sequence[str]  # the text of each item (``core.text.item_text``)
    vectors: np.ndarray  # the item embeddings, L2-normalised, aligned with ``items``
    lexicon: Any = None  # the collect ``Lexicon`` (catalog words, evidence bitsets), when the caller has one
    embed: Callable[[Sequence[str]], np.ndarray] | None = None  # the site's text embedder (``Embedder.encode``),
    # for a scorer that needs more vectors (the titles' alone): cached like every embedding; None when absent


@dataclass(frozen=True)
class TopicEvidence:
    """What a scorer knows about one topic and its candidates (arrays aligned with the candidates)."""

    similarity: np.ndarray  # cosine between the topic's and each candidate's embedding
    evidence: np.ndarray  # share of the topic's catalog words found in each candidate's text
    is_source: np.ndarray  # the candidate is one of the items the topic was predicted from
    checked: int  # how many of the topic's words the catalog can check
    free: int  # how many it cannot (left to the embedding)
    topic: str = ""  # the topic's text
    category: str = ""  # its query category (description / style / use_case)
    candidates: np.ndarray | None = None  # positions of the candidates in ``CatalogView.items``
    checked_words: tuple[str, ...] = ()  # the topic's catalog words (the lexicon's tokens)
    free_words: tuple[str, ...] = ()  # its other content words
    vector: np.ndarray | None = None  # the topic's embedding (L2-normalised), when the caller has it


class Scorer(ABC):
    """A relevance scorer. Built with the site's ``collect`` section; ``score`` returns one value in [0, 1] per
    candidate (``collect.threshold`` decides which pass). ``model_dir`` is the site's trained-model folder
    (``relevance.model``), set by ``make_scorer`` before ``prepare``, for a scorer that loads a model."""

    name = ""
    model_dir: Path | None = None

    def __init__(self, cfg: CollectSection | None = None):
        self.cfg = cfg or CollectSection()

    def prepare(self, catalog: CatalogView) -> None:
        """Called once with the catalog before any ``score`` of a pass (collect, annotate, an evaluation);
        a scorer that needs a catalog-wide index builds it here. The default does nothing."""

    @abstractmethod
    def score(self, topic: TopicEvidence) -> np.ndarray:
        """Scores in [0, 1], float32, one per candidate."""

    def needs_every_word(self, checked: int, threshold: float) -> bool:
        """True when an item missing one of ``checked`` catalog words can never reach ``threshold``: collect then
        counts the items having every word and drops a topic as thin without a search. False (always search)
        unless a scorer knows better."""
        return False


class HeuristicScorer(Scorer):
    """The built-in scorer: the formula of the module docstring with ``[collect.weights]`` (defaults:
    ``DEFAULT_WEIGHTS``)."""

    name = "heuristic"

    def __init__(self, cfg: CollectSection | None = None):
        super().__init__(cfg)
        self.weights = {**DEFAULT_WEIGHTS, **self.cfg.weights}

    def mid(self, checked: int, free: int) -> float:
        """The similarity that scores 0.5: lower when the catalog can check more of the topic's words."""
        w = self.weights
        total = checked + free
        share = checked / total if total else 0.0
        return w["mid_free"] - (w["mid_free"] - w["mid_checked"]) * share

    def score(self, topic: TopicEvidence) -> np.ndarray:
        w = self.weights
        z = (w["similarity"] * (np.asarray(topic.similarity, np.float64) - self.mid(topic.checked, topic.free))
             + w["source"] * np.asarray(topic.is_source, np.float64))
        return (1.0 / (1.0 + np.exp(-z)) * np.asarray(topic.evidence, np.float64) ** w["evidence_power"]
                ).astype(np.float32)

    def needs_every_word(self, checked: int, threshold: float) -> bool:
        return checked > 0 and ((checked - 1) / checked) ** self.weights["evidence_power"] < threshold


def scorer_name(name: str, model_dir: str | Path | None) -> str:
    """The registered scorer ``collect.scorer`` stands for: ``auto`` is ``student`` when ``model_dir`` holds a
    trained student (``student.json``), else ``heuristic``; any other name is itself."""
    if name != AUTO:
        return name
    from sitegen.learn.relevance.student import exists

    return "student" if exists(model_dir) else "heuristic"


def make_scorer(cfg: CollectSection, model_dir: str | Path | None = None) -> Scorer:
    """The scorer ``collect.scorer`` names (``auto`` resolved by ``scorer_name``), built with ``cfg``, its
    ``model_dir`` set."""
    from sitegen.core import registry

    scorer = registry.get("scorer", scorer_name(cfg.scorer, model_dir))(cfg)
    scorer.model_dir = Path(model_dir) if model_dir is not None else None
    return scorer
