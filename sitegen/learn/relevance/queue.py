"""The review queue: which (topic, item) pairs people grade first.

**The pool** is every candidate pair of the last build: for each published collection, its members and its
near misses, the ``NEAR_MISSES`` best-scoring candidates that did not make it (scored below
``collect.threshold``, or cut by ``collect.max_items``). It is rebuilt from what the store keeps, with no
model run: the items, their embeddings and the topics' (cached by text), the generated queries (which items
each topic came from) and the collections. Each topic's candidates are retrieved exactly as collect does
(the ``collect.candidates`` nearest items by cosine, plus its source items) and scored by the scorer collect
uses (``collect.scorer``); when that scorer cannot score (``student`` before a model is trained) the
``heuristic`` scores instead, and when the embeddings are not in the store (``embed.model`` changed since the
build) the pool is the members alone with the scores the build stored.

**The order** (active learning: the student learns most from the pairs it is least sure of): a pair's
uncertainty is ``|score - collect.threshold|``, how close its score is to the line that decides membership.
Pairs this rater already graded are left out. The most uncertain pending pair comes first, followed by the
next pairs of the same topic (up to ``GROUP`` in all, while their uncertainty stays within ``BAND`` of the
first), so a rater sees one topic a few items at a time; then the most uncertain pair left, and so on. Ties
break by topic, then item id: the order is deterministic.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from sitegen.core.models import Item

NEAR_MISSES = 12  # per topic: the best candidates outside the collection
GROUP = 5  # pairs of one topic shown in a row
BAND = 0.1  # ... while their uncertainty is within this of the first one's


@dataclass(frozen=True)
class Candidate:
    topic: str
    item_id: str
    category: str  # the topic's query category
    hub: str
    slug: str  # the collection's slug
    score: float  # relevance score in [0, 1]
    member: bool  # in the published collection
    uncertainty: float  # |score - threshold|


@dataclass(frozen=True)
class PoolInputs:
    """What the pool is computed from, as read from the store (no I/O after this)."""

    build: int | None  # the last build's id
    items: list[Item]
    collections: list[tuple[Any, tuple[float, ...]]]  # (CollectionRow, member scores)
    sources: dict[str, set[str]]  # topic key -> items whose queries proposed it
    item_vectors: np.ndarray | None  # aligned with items; rows of zeros where missing
    has_vector: np.ndarray | None  # bool per item
    topic_vectors: dict[str, np.ndarray] = field(default_factory=dict)  # topic text -> vector


@dataclass
class Pool:
    candidates: tuple[Candidate, ...]
    threshold: float
    scorer: str  # whose scores: a scorer's name, or "stored" (the build's own scores, members only)
    note: str  # why a fallback was used ("" when none)
    build: int | None
    items: dict[str, Item]  # by id

    def __post_init__(self):
        self._by_key = {(c.topic, c.item_id): c for c in self.candidates}
        self._by_topic: dict[str, list[Candidate]] = defaultdict(list)
        for c in self.candidates:
            self._by_topic[c.topic].append(c)
        for cs in self._by_topic.values():
            cs.sort(key=lambda c: (-c.score, c.item_id))

    def pair(self, topic: str, item_id: str) -> Candidate | None:
        return self._by_key.get((topic, item_id))

    def topic_candidates(self, topic: str) -> list[Candidate]:
        """The topic's pairs, best score first."""
        return list(self._by_topic.get(topic, ()))


def item_from_data(data: dict) -> Item:
    """An ``Item`` back from the store's JSON of it (``store.items``)."""
    known = {f for f in Item.__dataclass_fields__}
    values = {k: v for k, v in data.items() if k in known}
    values["keywords"] = tuple(values.get("keywords") or ())
    values["attributes"] = tuple(tuple(kv) for kv in values.get("attributes") or ())
    return Item(**values)


def read_inputs(cfg, store) -> PoolInputs:
    """Read what the pool needs from an open store (kept short: the store is locked while open)."""
    from sitegen.core.text import item_text, topic_key
    from sitegen.engines.embed import Embedder
    from sitegen.store.db import text_hash

    last = store.runs.last()
    items = [item_from_data(row.data) for row in store.items.all()]
    collections = store.geo.scored_collections()
    sources: dict[str, set[str]] = defaultdict(set)
    for item_id, text, _category in store.geo.queries():
        sources[topic_key(text)].add(item_id)
    try:
        model_id = Embedder(cfg.embed.model).model_id
    except Exception:  # noqa: BLE001 - no embedding model here: the pool falls back to the stored scores
        model_id = None
    item_vectors = has_vector = None
    topic_vectors: dict[str, np.ndarray] = {}
    if model_id is not None and items:
        hashes = [text_hash(item_text(i)) for i in items]
        found = store.embeddings.get(hashes, model_id)
        if found:
            dim = len(next(iter(found.values()))) // 4
            item_vectors = np.zeros((len(items), dim), np.float32)
            has_vector = np.zeros(len(items), bool)
            for n, h in enumerate(hashes):
                blob = found.get(h)
                if blob is not None and len(blob) == dim * 4:
                    item_vectors[n] = np.frombuffer(blob, np.float32)
                    has_vector[n] = True
            topics = sorted({row.topic for row, _ in collections})
            got = store.embeddings.get([text_hash(t) for t in topics], model_id)
            for t in topics:
                blob = got.get(text_hash(t))
                if blob is not None and len(blob) == dim * 4:
                    topic_vectors[t] = np.frombuffer(blob, np.float32)
    return PoolInputs(last.id if last else None, items, collections, dict(sources), item_vectors, has_vector,
                      topic_vectors)


def build_pool(cfg, inputs: PoolInputs, near_misses: int = NEAR_MISSES) -> Pool:
    """Score every candidate pair of the last build (see the module docstring)."""
    threshold = float(cfg.collect.threshold)
    by_id = {i.id: i for i in inputs.items}
    if inputs.item_vectors is None or not inputs.topic_vectors:
        return _stored_pool(inputs, threshold, by_id,
                            "no embeddings of this build's texts in the store: members only, with the build's scores")
    from sitegen.aggregate.collect import Lexicon
    from sitegen.aggregate.relevance import CatalogView, TopicEvidence
    from sitegen.core.text import item_text, topic_key

    items = inputs.items
    vectors = inputs.item_vectors
    lex = Lexicon(items, item_text)
    scorer, note = _scorer(cfg, CatalogView(items, [item_text(i) for i in items], vectors, lex))
    pos_of = {item.id: n for n, item in enumerate(items)}
    retrievable = np.flatnonzero(inputs.has_vector)
    searchable = vectors[retrievable]
    k = min(int(cfg.collect.candidates), len(retrievable))
    out: list[Candidate] = []
    for row, stored in inputs.collections:
        members = [pos_of[i] for i in row.item_ids if i in pos_of]
        vec = inputs.topic_vectors.get(row.topic)
        if vec is None:
            out += _stored_candidates(row, stored, by_id, threshold)
            continue
        top = retrievable[_top_k(searchable @ vec, k)]
        src = {pos_of[i] for i in inputs.sources.get(topic_key(row.topic), ()) if i in pos_of}
        cand = np.array(sorted(set(top.tolist()) | src | set(members)), np.int64)
        checked, free = lex.analyse(row.topic, row.category)
        scores = np.asarray(scorer.score(TopicEvidence(
            (vectors[cand] @ vec).astype(np.float32), lex.evidence(checked, cand), np.isin(cand, list(src)),
            len(checked), len(free), row.topic, row.category, cand, checked, free)), np.float64)
        member_set = set(members)
        stored_of = dict(zip(row.item_ids, stored))
        others = []
        for pos, score in zip(cand.tolist(), scores.tolist()):
            item_id = items[pos].id
            if pos in member_set:
                if not inputs.has_vector[pos] and item_id in stored_of:
                    score = stored_of[item_id]
                out.append(_candidate(row, item_id, score, True, threshold))
            else:
                others.append((-score, item_id, score))
        for _neg, item_id, score in sorted(others)[:near_misses]:
            out.append(_candidate(row, item_id, score, False, threshold))
    return Pool(tuple(out), threshold, scorer.name or type(scorer).__name__, note, inputs.build, by_id)


def candidate_pool(cfg, store, near_misses: int = NEAR_MISSES) -> Pool:
    """The pool of the last build, read from an open store and scored."""
    return build_pool(cfg, read_inputs(cfg, store), near_misses)


def order_queue(candidates: Iterable[Candidate], graded: set[tuple[str, str]] = frozenset(),
                group: int = GROUP, band: float = BAND) -> list[Candidate]:
    """The pending pairs (not in ``graded``), most uncertain first, a few of one topic at a time."""
    by_topic: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        if (c.topic, c.item_id) not in graded:
            by_topic[c.topic].append(c)
    chunks: list[tuple[tuple, list[Candidate]]] = []
    for topic, cs in by_topic.items():
        cs.sort(key=lambda c: (c.uncertainty, c.item_id))
        chunk: list[Candidate] = []
        for c in cs:
            if chunk and (len(chunk) >= max(1, group) or c.uncertainty > chunk[0].uncertainty + band):
                chunks.append(((chunk[0].uncertainty, topic, len(chunks)), chunk))
                chunk = []
            chunk.append(c)
        if chunk:
            chunks.append(((chunk[0].uncertainty, topic, len(chunks)), chunk))
    chunks.sort(key=lambda kc: kc[0])
    return [c for _, chunk in chunks for c in chunk]


# -- helpers -------------------------------------------------------------------------------------------------

def _top_k(sims: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest similarities (ties by position), best first."""
    if k <= 0:
        return np.zeros(0, np.int64)
    if k < len(sims):
        part = np.argpartition(-sims, k - 1)[:k]
        cut = sims[part].min()
        part = np.flatnonzero(sims >= cut)  # every tie at the cut, so the choice does not depend on the sort
    else:
        part = np.arange(len(sims))
    return part[np.lexsort((part, -sims[part]))][:k]


def _scorer(cfg, view) -> tuple[Any, str]:
    """The scorer collect uses, prepared; the heuristic when that one cannot score."""
    from sitegen.aggregate.relevance import HeuristicScorer, make_scorer
    from sitegen.core.errors import SitegenError

    try:
        scorer = make_scorer(cfg.collect)
        scorer.prepare(view)
        return scorer, ""
    except (SitegenError, OSError, LookupError, ValueError) as exc:
        fallback = HeuristicScorer(cfg.collect)
        fallback.prepare(view)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return fallback, f"scorer {cfg.collect.scorer!r} cannot score ({first}): the heuristic's scores"


def _candidate(row, item_id: str, score: float, member: bool, threshold: float) -> Candidate:
    score = float(score)
    return Candidate(row.topic, item_id, row.category, row.hub, row.slug, round(score, 4), member,
                     round(abs(score - threshold), 4))


def _stored_candidates(row, stored: Sequence[float], by_id: dict, threshold: float) -> list[Candidate]:
    return [_candidate(row, i, s, True, threshold) for i, s in zip(row.item_ids, stored) if i in by_id]


def _stored_pool(inputs: PoolInputs, threshold: float, by_id: dict, note: str) -> Pool:
    out = [c for row, stored in inputs.collections for c in _stored_candidates(row, stored, by_id, threshold)]
    return Pool(tuple(out), threshold, "stored", note, inputs.build, by_id)
