"""The relevance student's features: one row per (topic, candidate item), computed from what every scorer gets
(``TopicEvidence`` for the topic, ``CatalogView`` for the catalog), so the same code serves the build (collect,
annotate) and the offline evaluation on a labelled CSV.

The spec (``SPEC``: the names in order, and a version) is saved with a trained student; a model whose spec
differs from this code's is refused at load. Change a feature, its order or its meaning -> bump ``VERSION``.

Version 1 (``Features.rows``):

- ``cosine``: the embedding cosine of the topic and the item text (``TopicEvidence.similarity``);
  ``cosine_gap``: its distance below the best candidate's; ``cosine_rank``: the candidate's rank by cosine among
  the topic's candidates, as a share (0 = best, 1 = worst); ``cosine_z``: its z-score among them;
  ``title_cosine`` / ``text_cosine``: the cosine of the topic and the item's title alone / its description
  alone (the title when it has none), embedded with ``CatalogView.embed`` (the site's embedder; without one,
  or without the topic's vector, the item-text cosine stands in);
- ``bm25_log``: log(1 + raw BM25) of the topic against the item text (``bm25.Bm25Index``, bm25s);
  ``bm25_norm``: BM25 normalised by the query's own bound (``Bm25Index.normalised``: 1.0 = an average-length
  text with every word); ``bm25_max``: raw BM25 / the best candidate's; ``bm25_rank``: rank share by BM25;
  ``bm25_title_norm`` / ``bm25_title_max``: the same two on the item titles alone;
- ``evidence``: the share of the topic's catalog words found in the item (``TopicEvidence.evidence``, the
  collect ``Lexicon``); ``checked`` / ``free``: how many of its words the catalog can / cannot check;
- per-constraint lexical evidence, on the topic's content words: ``title_share`` (share found in the title),
  ``title_all`` (all of them are), ``title_precision`` (share of the title's words that are the topic's),
  ``title_trigrams`` (share of the topic's character trigrams found in the title: spelling variants),
  ``text_share`` (in the description), ``keyword_share`` (the category and
  keywords), ``attribute_share`` (the attribute values); ``attr_match`` / ``attr_conflict``: how many catalog
  columns the topic names a value of (a whole value some item has in that column) for which this item has that
  value / has only other values ("blue" for a "Navy Blue" item is a conflict);
- ``is_source``: the topic was predicted from this item;
- ``image_quality``: log2 of the image's shorter side / 11 (2048 px -> 1.0), 0 when unknown;
- ``query_words``: the topic's content words; ``title_words``: log(1 + the title's); ``has_text``: the item has
  a description.

Engagement (clicks, saves of the item's pages) is not in version 1: the store has no engagement signals yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from sitegen.aggregate.relevance import CatalogView, TopicEvidence
from sitegen.core.text import match_words
from sitegen.learn.relevance.bm25 import Bm25Index, tokens

VERSION = 1
_MAX_VALUE_WORDS = 4  # attribute values longer than this are not looked for in topics
_TEXT_CHARS = 2000  # description characters read per item
_EMBED_CHARS = 1000  # description characters embedded (MiniLM reads 256 word pieces)


@dataclass(frozen=True)
class FeatureSpec:
    names: tuple[str, ...]
    version: int

    def to_json(self) -> dict:
        return {"names": list(self.names), "version": self.version}


SPEC = FeatureSpec((
    "cosine", "cosine_gap", "cosine_rank", "cosine_z", "title_cosine", "text_cosine",
    "bm25_log", "bm25_norm", "bm25_max", "bm25_rank", "bm25_title_norm", "bm25_title_max",
    "evidence", "checked", "free",
    "title_share", "title_all", "title_precision", "title_trigrams", "text_share", "keyword_share",
    "attribute_share", "attr_match", "attr_conflict",
    "is_source", "image_quality", "query_words", "title_words", "has_text",
), VERSION)
_NON_WORD = re.compile(r"[^a-z0-9]+")


def trigrams(text: str) -> frozenset[str]:
    """Character trigrams of the lowercased words, padded with a space at both ends."""
    t = " " + _NON_WORD.sub(" ", text.lower()).strip() + " "
    return frozenset(t[i:i + 3] for i in range(len(t) - 2))


def _rank_share(values: np.ndarray) -> np.ndarray:
    """Rank of each value from the highest (ties share their mean rank), as a share: 0 best, 1 worst."""
    n = len(values)
    if n <= 1:
        return np.zeros(n, np.float32)
    order = np.argsort(-values, kind="mergesort")
    ranks = np.empty(n, np.float64)
    sv = values[order]
    start = 0
    while start < n:
        end = start + 1
        while end < n and sv[end] == sv[start]:
            end += 1
        ranks[order[start:end]] = (start + end - 1) / 2.0
        start = end
    return (ranks / (n - 1)).astype(np.float32)


def _of_max(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if len(values) else 0.0
    return (values / top).astype(np.float32) if top > 0 else np.zeros(len(values), np.float32)


class Features:
    """Feature rows for topics over one catalog. Building it indexes the catalog (BM25 over the texts and the
    titles, per-item word sets, the attribute values of every column); ``rows`` is then cheap per topic."""

    spec = SPEC

    def __init__(self, catalog: CatalogView):
        items = catalog.items
        self.catalog = catalog
        self.bm25 = Bm25Index(catalog.texts)
        self.bm25_title = Bm25Index([it.title for it in items])
        self._title = [frozenset(tokens(it.title)) for it in items]
        self._title_grams = [trigrams(it.title) for it in items]
        self._title_vectors = self._text_vectors = None
        if catalog.embed is not None and len(items):
            self._title_vectors = np.asarray(catalog.embed([it.title for it in items]), np.float32)
            self._text_vectors = np.asarray(catalog.embed([it.description[:_EMBED_CHARS].strip() or it.title
                                                           for it in items]), np.float32)
        self._text = [frozenset(tokens(it.description[:_TEXT_CHARS])) for it in items]
        self._keywords = [frozenset(tokens(" ".join([it.category, *it.keywords]))) for it in items]
        self._attrs = [frozenset(w for _, v in it.attributes for w in tokens(v)) for it in items]
        values: dict[str, set[tuple[str, ...]]] = {}
        self._item_values: list[dict[str, frozenset[tuple[str, ...]]]] = []
        for it in items:
            own: dict[str, set[tuple[str, ...]]] = {}
            pairs = [("\0category", it.category)] if it.category else []
            for key, value in [*pairs, *it.attributes]:
                ws = tuple(match_words(value))
                if 0 < len(ws) <= _MAX_VALUE_WORDS:
                    values.setdefault(key, set()).add(ws)
                    own.setdefault(key, set()).add(ws)
            self._item_values.append({k: frozenset(v) for k, v in own.items()})
        self._values = values
        self._has_text = np.array([bool(it.description.strip()) for it in items], np.float32)
        self._title_words = np.log1p(np.array([len(t) for t in self._title], np.float32))
        side = np.array([min(it.width, it.height) for it in items], np.float64)
        self._image = np.where(side > 0, np.clip(np.log2(np.maximum(side, 1.0)) / 11.0, 0.0, 1.0), 0.0
                               ).astype(np.float32)

    def _named_values(self, text: str) -> dict[str, set[tuple[str, ...]]]:
        """Catalog column -> the whole values of it that the topic names."""
        ws = match_words(text)
        grams = {tuple(ws[i:i + n]) for n in range(1, _MAX_VALUE_WORDS + 1) for i in range(len(ws) - n + 1)}
        out: dict[str, set[tuple[str, ...]]] = {}
        for key, vals in self._values.items():
            hit = grams & vals
            if hit:
                out[key] = hit
        return out

    def _cosines(self, topic: TopicEvidence, idx: np.ndarray, sim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The topic's cosine with the candidates' titles and descriptions (``sim`` without the vectors)."""
        if self._title_vectors is None:
            return sim, sim
        vector = topic.vector
        if vector is None:
            vector = np.asarray(self.catalog.embed([topic.topic]), np.float32)[0]
        vector = np.asarray(vector, np.float32)
        vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return self._title_vectors[idx] @ vector, self._text_vectors[idx] @ vector

    def rows(self, topic: TopicEvidence) -> np.ndarray:
        """float32 (candidates, len(SPEC.names)), in ``SPEC.names`` order."""
        if topic.candidates is None:
            raise ValueError("relevance features need the candidates' positions (TopicEvidence.candidates)")
        idx = np.asarray(topic.candidates, np.int64)
        n = len(idx)
        sim = np.asarray(topic.similarity, np.float32)
        raw = self.bm25.raw(topic.topic, idx)
        raw_title = self.bm25_title.raw(topic.topic, idx)
        words = list(dict.fromkeys(tokens(topic.topic)))
        nw = max(len(words), 1)
        title_cos, text_cos = self._cosines(topic, idx, sim)
        grams = trigrams(topic.topic)
        title_precision = np.zeros(n, np.float32)
        title_trigrams = np.zeros(n, np.float32)
        title_share = np.zeros(n, np.float32)
        text_share = np.zeros(n, np.float32)
        keyword_share = np.zeros(n, np.float32)
        attribute_share = np.zeros(n, np.float32)
        named = self._named_values(topic.topic)
        match = np.zeros(n, np.float32)
        conflict = np.zeros(n, np.float32)
        for r, i in enumerate(idx.tolist()):
            if grams:
                title_trigrams[r] = len(grams & self._title_grams[i]) / len(grams)
            if words:
                title_share[r] = sum(w in self._title[i] for w in words) / nw
                title_precision[r] = (sum(w in self._title[i] for w in words) / len(self._title[i])
                                      if self._title[i] else 0.0)
                text_share[r] = sum(w in self._text[i] for w in words) / nw
                keyword_share[r] = sum(w in self._keywords[i] for w in words) / nw
                attribute_share[r] = sum(w in self._attrs[i] for w in words) / nw
            own = self._item_values[i]
            for key, vals in named.items():
                have = own.get(key)
                if have is None:
                    continue
                if have & vals:
                    match[r] += 1
                else:
                    conflict[r] += 1
        bound = self.bm25.bound(topic.topic)
        bound_title = self.bm25_title.bound(topic.topic)
        cols = {
            "cosine": sim,
            "cosine_gap": (float(sim.max()) - sim) if n else sim,
            "cosine_rank": _rank_share(sim),
            "cosine_z": (sim - sim.mean()) / (sim.std() + 1e-6) if n else sim,
            "title_cosine": title_cos,
            "text_cosine": text_cos,
            "bm25_log": np.log1p(raw),
            "bm25_norm": np.clip(raw / bound, 0, 1) if bound > 0 else np.zeros(n, np.float32),
            "bm25_max": _of_max(raw),
            "bm25_rank": _rank_share(raw),
            "bm25_title_norm": np.clip(raw_title / bound_title, 0, 1) if bound_title > 0 else np.zeros(n, np.float32),
            "bm25_title_max": _of_max(raw_title),
            "evidence": np.asarray(topic.evidence, np.float32),
            "checked": np.full(n, topic.checked, np.float32),
            "free": np.full(n, topic.free, np.float32),
            "title_share": title_share,
            "title_all": (title_share >= 1.0).astype(np.float32) if words else np.zeros(n, np.float32),
            "title_precision": title_precision,
            "title_trigrams": title_trigrams,
            "text_share": text_share,
            "keyword_share": keyword_share,
            "attribute_share": attribute_share,
            "attr_match": match,
            "attr_conflict": conflict,
            "is_source": np.asarray(topic.is_source, np.float32),
            "image_quality": self._image[idx],
            "query_words": np.full(n, len(words), np.float32),
            "title_words": self._title_words[idx],
            "has_text": self._has_text[idx],
        }
        return np.stack([np.asarray(cols[name], np.float32) for name in SPEC.names], axis=1) if n else \
            np.zeros((0, len(SPEC.names)), np.float32)


def feature_rows(catalog: CatalogView, topics: Sequence[TopicEvidence]) -> list[np.ndarray]:
    """``Features(catalog).rows`` of each topic."""
    f = Features(catalog)
    return [f.rows(t) for t in topics]
