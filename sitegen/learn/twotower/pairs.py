"""The two-tower's training pairs, from a site as its build sees it.

``site_data`` gathers the site and runs the GEO stages up to collect exactly as ``sitegen build`` does (the same
demand: signals, console and trend topics), keeping every scored topic's candidates and scores. ``make_pairs``
turns that into (item, query) pairs over one query corpus (the link targets - collections and their alias
lines - first, then every other scored topic and console query):

- positives: an item and each collection (or alias line) it is a member of (the relevance scorer graded it
  relevant there); a human grade >= 4 (``guideline.RELEVANT``) of an item for a query; a Search Console query
  and the items of the page searchers clicked for it (a collection's items, or an item page's item);
- hard negatives: queries close to the item by embedding that it is graded irrelevant to - the candidates that
  collect's retrieval found for a topic (by embedding) and the scorer graded below ``collect.threshold``, human
  grades <= 2, and the item's nearest queries by text embedding that it is not known relevant to;
- random negatives: any query of the corpus the item is not known relevant to (member, scored relevant, graded
  relevant or clicked).

Items, not pairs, are held out (``two_tower.holdout``, seeded): a held-out item's pairs are never trained on, and
each of its positives gets one fixed negative (hard with probability ``two_tower.hard_negatives``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from sitegen.core.models import Collection, Item
from sitegen.engines.stage import Embedded

ProgressFactory = Callable[[str], Callable[[int, int], None] | None]
HARD_NEAREST = 8  # nearest queries by text embedding added to each item's hard-negative pool
_BLOCK = 4096


@dataclass
class SiteData:
    """What the two-tower learns from and annotates: the site after collect."""

    items: list[Item]
    embedded: Embedded
    collections: list[Collection]  # as collect made them (pages; alias lines inside)
    topic_vectors: dict[str, np.ndarray]  # collection slug / alias key -> topic vector
    scored: list[tuple[str, np.ndarray, np.ndarray]]  # (topic text, candidate positions, scorer scores)
    threshold: float  # collect.threshold
    quality: np.ndarray  # image quality per item
    encode: Callable[[Sequence[str]], np.ndarray]  # the site's text embedder
    signals: list = field(default_factory=list)  # the store's SignalRows (query x page)
    judgments: list = field(default_factory=list)  # the store's human grades
    seconds: dict = field(default_factory=dict)


def site_data(cfg, store, *, progress: ProgressFactory | None = None) -> SiteData:
    """The site of ``cfg`` run up to collect as a build runs it, with every scored topic's candidates."""
    import time

    from sitegen.aggregate.collect import collect
    from sitegen.aggregate.stage import owned_slugs, plan_topics, relevance_model
    from sitegen.core import urls
    from sitegen.core.text import item_text
    from sitegen.demand.gather import gather_demand
    from sitegen.demand.steer import steering
    from sitegen.engines.stage import EMBED, INDEX
    from sitegen.ingest.quality import image_quality
    from sitegen.pipeline.gather import gather_site
    from sitegen.pipeline.geo import run_stages
    from sitegen.represent.stage import REPRESENT

    progress = progress or (lambda _name: None)
    t0 = time.perf_counter()
    site = gather_site(cfg, store, progress=progress).site
    demand = gather_demand(cfg, store, site, progress=progress).demand
    ctx, results = run_stages(cfg, store, site, (EMBED, REPRESENT, INDEX), progress=progress, demand=demand)
    out = results.values
    items = list(site.items)
    plan = plan_topics(cfg, items, out["represent"].queries, demand)
    vectors = ctx.embedder.encode([t.text for t in plan.topics], progress=progress("topics"))
    scored: list[tuple[str, np.ndarray, np.ndarray]] = []

    def observe(topic, evidence, scores) -> None:
        scored.append((topic.text, np.asarray(evidence.candidates, np.int64), np.asarray(scores, np.float32)))

    collections, _dropped, _stats = collect(
        plan.topics, vectors, items, out["embed"].item_vectors, out["index"].index, cfg.collect,
        hub_of=plan.hub_of, item_text=item_text, progress=progress("collect"), implies=plan.words.implies,
        fragments=plan.fragments, model_dir=relevance_model(cfg), embed=ctx.embedder.encode, observe=observe,
        rewards=steering(demand.rewards, cfg.reward.steer), owned=owned_slugs(store))
    by_text = {t.text: v for t, v in zip(plan.topics, vectors)}
    topic_vectors = {c.slug: by_text[c.topic] if c.topic in by_text else ctx.embedder.encode([c.topic])[0]
                     for c in collections}
    topic_vectors.update({urls.alias_key(c.slug, a.anchor): by_text[a.topic]
                          for c in collections for a in c.aliases if a.topic in by_text})
    t1 = time.perf_counter()
    quality = image_quality(items, store, progress=progress("quality"))
    seconds = {"site": round(t1 - t0, 2), "quality": round(time.perf_counter() - t1, 2)}
    return SiteData(items, out["embed"], list(collections), topic_vectors, scored, cfg.collect.threshold, quality,
                    ctx.embedder.encode, [r for r in store.signals.rows() if r.query and r.page],
                    store.judgments.all(["human"]), seconds)


@dataclass
class Corpus:
    """The queries of the pairs: the first ``targets`` are the link targets (``slugs``), in order."""

    texts: list[str]
    vectors: np.ndarray  # (m, 384) text embeddings
    targets: int
    slugs: list[str]
    categories: list[str]


@dataclass
class TrainingPairs:
    corpus: Corpus
    positives: np.ndarray  # (p, 2) int64: item position, query index
    heldout_items: np.ndarray  # bool (n,)
    heldout: np.ndarray  # (h, 3) int64: item, positive query, its fixed negative query
    hard_ptr: np.ndarray  # CSR over items: hard_idx[hard_ptr[i]:hard_ptr[i + 1]] = item i's hard negatives
    hard_idx: np.ndarray
    known: np.ndarray  # sorted int64 keys item * m + query of every pair known relevant (never a negative)
    sources: dict[str, int]  # positives by source
    hard_share: float

    @property
    def train(self) -> np.ndarray:
        """The positives of the items not held out."""
        return self.positives[~self.heldout_items[self.positives[:, 0]]]

    def is_known(self, items: np.ndarray, queries: np.ndarray) -> np.ndarray:
        keys = items.astype(np.int64) * len(self.corpus.texts) + queries.astype(np.int64)
        pos = np.searchsorted(self.known, keys)
        pos = np.minimum(pos, max(len(self.known) - 1, 0))
        return (self.known[pos] == keys) if len(self.known) else np.zeros(len(keys), bool)

    def negatives(self, items: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One negative query per item: hard (from its pool) with probability ``hard_share``, else random;
        a random draw that hits a known-relevant pair is drawn again (a few times)."""
        m = len(self.corpus.texts)
        out = rng.integers(0, m, len(items))
        for _ in range(8):
            bad = self.is_known(items, out)
            if not bad.any():
                break
            out[bad] = rng.integers(0, m, int(bad.sum()))
        sizes = self.hard_ptr[items + 1] - self.hard_ptr[items]
        hard = (rng.random(len(items)) < self.hard_share) & (sizes > 0)
        if hard.any():
            pick = self.hard_ptr[items[hard]] + (rng.random(int(hard.sum())) * sizes[hard]).astype(np.int64)
            out[hard] = self.hard_idx[pick]
        return out


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def make_pairs(data: SiteData, *, holdout: float, hard_share: float, seed: int) -> TrainingPairs:
    """The pairs of ``data`` (see the module docstring)."""
    from sitegen.core import urls
    from sitegen.distribute.annotate import with_aliases
    from sitegen.learn.relevance.guideline import RELEVANT

    items = data.items
    n = len(items)
    pos_of = {item.id: i for i, item in enumerate(items)}
    targets, _page_of = with_aliases(data.collections)
    texts: list[str] = [t.topic for t in targets]
    slugs = [t.slug for t in targets]
    categories = [t.category for t in targets]
    index: dict[str, int] = {}
    for q, t in enumerate(texts):
        index.setdefault(_norm(t), q)

    def query(text: str) -> int:
        key = _norm(text)
        if key not in index:
            index[key] = len(texts)
            texts.append(text)
        return index[key]

    positives: dict[tuple[int, int], str] = {}
    for q, t in enumerate(targets):
        for item_id in t.item_ids:
            i = pos_of.get(item_id)
            if i is not None:
                positives.setdefault((i, q), "membership")
    known: set[tuple[int, int]] = set(positives)
    irrelevant: set[tuple[int, int]] = set()
    for text, cands, scores in data.scored:
        q = query(text)
        for i, s in zip(cands.tolist(), scores.tolist()):
            (known.add if s >= data.threshold else irrelevant.add)((i, q))
    for j in data.judgments:
        i = pos_of.get(j.item_id)
        if i is None:
            continue
        q = query(j.topic)
        if j.grade >= RELEVANT:
            positives.setdefault((i, q), "human")
            known.add((i, q))
        elif j.grade <= 2:
            irrelevant.add((i, q))
    page_items: dict[str, list[int]] = {urls.item_url(it.slug): [i] for i, it in enumerate(items) if it.slug}
    for t in targets:
        if "#" not in t.slug:
            page_items[urls.collection_url(t.slug)] = [pos_of[x] for x in t.item_ids if x in pos_of]
    clicked: dict[tuple[str, str], float] = defaultdict(float)
    for r in data.signals:
        clicked[(r.query, r.page)] += float(r.clicks)
    for (text, page), clicks in sorted(clicked.items()):
        if clicks > 0 and page in page_items:
            q = query(text)
            for i in page_items[page]:
                positives.setdefault((i, q), "console")
                known.add((i, q))
    irrelevant -= known

    vectors = np.asarray(data.encode(texts), np.float32) if texts else np.zeros((0, 384), np.float32)
    m = len(texts)
    pos = np.array(sorted(positives), np.int64).reshape(-1, 2)
    sources: dict[str, int] = defaultdict(int)
    for key in positives.values():
        sources[key] += 1
    known_keys = np.unique(np.array([i * m + q for i, q in known], np.int64))

    # hard negatives: graded irrelevant, plus each item's nearest queries (text embedding) not known relevant
    hard: list[list[int]] = [[] for _ in range(n)]
    for i, q in sorted(irrelevant):
        hard[i].append(q)
    if m and n:
        tv = np.asarray(data.embedded.texts, np.float32)
        k = min(m, HARD_NEAREST * 3)
        for start in range(0, n, _BLOCK):
            sims = tv[start:start + _BLOCK] @ vectors.T
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < m else np.tile(np.arange(m), (len(sims), 1))
            order = np.take_along_axis(sims, top, axis=1).argsort(axis=1)[:, ::-1]
            top = np.take_along_axis(top, order, axis=1)
            rows = np.arange(start, start + len(top))[:, None]
            ok = ~np.isin(rows * m + top, known_keys)
            for r in range(len(top)):
                hard[start + r].extend(top[r][ok[r]][:HARD_NEAREST].tolist())
    hard = [sorted(set(h)) for h in hard]
    ptr = np.zeros(n + 1, np.int64)
    ptr[1:] = np.cumsum([len(h) for h in hard])
    idx = np.array([q for h in hard for q in h], np.int64)

    rng = np.random.default_rng(seed)
    held = np.zeros(n, bool)
    if holdout > 0 and n > 1:
        with_pos = np.unique(pos[:, 0]) if len(pos) else np.zeros(0, np.int64)
        k = int(round(holdout * len(with_pos)))
        if 0 < k < len(with_pos):
            held[rng.choice(with_pos, k, replace=False)] = True
    pairs = TrainingPairs(Corpus(texts, vectors, len(targets), slugs, categories), pos, held,
                          np.zeros((0, 3), np.int64), ptr, idx, known_keys, dict(sources), hard_share)
    test = pos[held[pos[:, 0]]] if len(pos) else pos
    if len(test):
        pairs.heldout = np.column_stack([test, pairs.negatives(test[:, 0], rng)])
    return pairs
