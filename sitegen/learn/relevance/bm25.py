"""BM25 of a query against item texts (``bm25s``), and the ``bm25`` relevance scorer built on it.

Texts and queries are tokenised the way relevance matches words (``core.text.match_words``: lowercase, accents
dropped, plurals to the singular, gender words to one form), without the relevance stop-words. The index uses
bm25s's Lucene variant (k1 = 1.5, b = 0.75), whose per-word score is ``idf * tf / (tf + k1 * (1 - b + b * len /
avg_len))``.

``normalised`` divides a raw score by ``sum(idf) / (k1 + 1)`` over the query's words the catalog uses, and clips
to 1: an item of average length that has every such word once scores 1.0, one that has words carrying half of
the query's idf weight about 0.5. A query none of whose words the catalog uses scores 0 everywhere. This
depends on the query alone (not on the other candidates), so ``collect.threshold`` means the same for every
topic.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

from sitegen.aggregate.relevance import CatalogView, Scorer, TopicEvidence
from sitegen.core.lexicon import english
from sitegen.core.text import match_words

K1, B = 1.5, 0.75


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    return frozenset(english().relevance_stopwords)


def tokens(text: str) -> list[str]:
    """The words BM25 and the lexical features match by (stop-words left out)."""
    stop = _stopwords()
    return [w for w in match_words(text) if w not in stop]


class Bm25Index:
    """A bm25s index over ``texts`` (positions are the texts' order)."""

    def __init__(self, texts: Sequence[str]):
        import bm25s

        self.n = len(texts)
        corpus = [tokens(t) for t in texts]
        self._empty = not any(corpus)
        self._bm25 = None
        self._idf: dict[str, float] = {}
        if self.n == 0 or self._empty:
            return
        self._bm25 = bm25s.BM25(k1=K1, b=B, method="lucene")
        self._bm25.index(corpus, show_progress=False)
        indptr = np.asarray(self._bm25.scores["indptr"])
        for word, tid in self._bm25.vocab_dict.items():
            if word:
                df = int(indptr[tid + 1] - indptr[tid])
                self._idf[word] = float(np.log(1.0 + (self.n - df + 0.5) / (df + 0.5)))

    def known(self, query: str) -> list[str]:
        """The query's words the indexed texts use, de-duplicated in order."""
        return list(dict.fromkeys(w for w in tokens(query) if w in self._idf))

    def raw(self, query: str, idx: np.ndarray | None = None) -> np.ndarray:
        """Raw BM25 scores of the texts ``idx`` (all when None), float32."""
        words = self.known(query)
        size = self.n if idx is None else len(idx)
        if not words or self._bm25 is None:
            return np.zeros(size, np.float32)
        scores = np.asarray(self._bm25.get_scores(words), np.float32)
        return scores if idx is None else scores[np.asarray(idx, np.int64)]

    def bound(self, query: str) -> float:
        """The raw score of an average-length text holding each known query word once: sum(idf) / (k1 + 1)."""
        return sum(self._idf[w] for w in self.known(query)) / (K1 + 1.0)

    def normalised(self, query: str, idx: np.ndarray | None = None) -> np.ndarray:
        """Raw scores / ``bound``, clipped to [0, 1] (see the module docstring)."""
        raw = self.raw(query, idx)
        bound = self.bound(query)
        if bound <= 0:
            return np.zeros_like(raw)
        return np.clip(raw / bound, 0.0, 1.0).astype(np.float32)


class Bm25Scorer(Scorer):
    """The ``bm25`` scorer: the normalised BM25 of the topic against each candidate's text, a lexical baseline
    that ignores the embedding."""

    name = "bm25"
    _index: Bm25Index | None = None

    def prepare(self, catalog: CatalogView) -> None:
        self._index = Bm25Index(catalog.texts)

    def score(self, topic: TopicEvidence) -> np.ndarray:
        if self._index is None:
            raise RuntimeError("Bm25Scorer.score called before prepare")
        if topic.candidates is None:
            raise ValueError("the bm25 scorer needs the candidates' positions (TopicEvidence.candidates)")
        return self._index.normalised(topic.topic, np.asarray(topic.candidates, np.int64))
