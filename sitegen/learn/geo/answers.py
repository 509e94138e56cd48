"""Extractive answers from retrieved passages, and the GEO paper's visibility of each cited page in them.

**Answer.** An answer engine writes its answer from the top ``TOP_PASSAGES`` passages it retrieved; this one
quotes them. Every sentence of those passages is scored by the share of the query's words it holds (the
engine's words: lowercased, accents dropped, stop-words removed, plurals folded). The sentences holding at
least one query word are taken best first (ties: the better-ranked passage, then page order), skipping a
sentence already quoted, until the answer has ``ANSWER_WORDS`` words or ``MAX_SENTENCES`` sentences. When no
sentence holds a query word (a passage retrieved by meaning alone), the answer is the first sentence of each
passage, in rank order, under the same limits. Every answer sentence cites the one page its passage is from.

**Visibility** (Aggarwal et al., "GEO: Generative Engine Optimization", KDD 2024, section 2.2): the answer's
sentences s_0 .. s_{N-1}, in order; a cited page c's *word count* is the words of the sentences citing it over
the answer's words, and its *position-adjusted word count* (PAWC)

    PAWC(c) = sum_{i: s_i cites c} |s_i| * exp(-i / (N - 1))  /  sum_i |s_i| * exp(-i / (N - 1))

(the weight is 1 for a one-sentence answer), so the pages of an answer share 1 and a sentence quoted first counts
more than one quoted last. The paper's reference code splits a sentence citing several sources evenly; here a
sentence cites exactly one page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from sitegen.learn.geo.passages import Passage, word_count

TOP_PASSAGES = 5
ANSWER_WORDS = 100
MAX_SENTENCES = 10


@dataclass(frozen=True)
class Quote:
    """One sentence of an answer and the page it cites."""

    text: str
    page: str  # URL path of the cited page
    kind: str  # that page's kind (collection, item, hub, home, page, baseline)
    passage: str  # the passage's id
    score: float  # share of the query's words the sentence holds

    @property
    def words(self) -> int:
        return word_count(self.text)


@dataclass(frozen=True)
class Answer:
    query: str
    quotes: tuple[Quote, ...]

    @property
    def text(self) -> str:
        return " ".join(q.text for q in self.quotes)


def extract_answer(query: str, passages: Sequence[Passage], stop: frozenset[str], *,
                   max_words: int = ANSWER_WORDS, max_sentences: int = MAX_SENTENCES) -> Answer:
    """The extractive answer to ``query`` from ``passages`` (ranked, best first; see the module docstring)."""
    from sitegen.learn.simulate.engine import terms

    wanted = set(terms(query, stop))
    scored = []
    for rank, passage in enumerate(passages):
        for n, sentence in enumerate(passage.sentences):
            have = wanted & set(terms(sentence, stop))
            scored.append((len(have) / len(wanted) if wanted else 0.0, rank, n, sentence, passage))
    chosen = sorted((c for c in scored if c[0] > 0), key=lambda c: (-c[0], c[1], c[2]))
    if not chosen:
        chosen = [c for c in scored if c[2] == 0]  # scored is in rank order
    quotes: list[Quote] = []
    seen: set[str] = set()
    words = 0
    for score, _rank, _n, sentence, passage in chosen:
        key = " ".join(sentence.lower().split())
        if key in seen:
            continue
        seen.add(key)
        quotes.append(Quote(sentence, passage.page, passage.kind, passage.path, round(score, 6)))
        words += word_count(sentence)
        if words >= max_words or len(quotes) >= max_sentences:
            break
    return Answer(query, tuple(quotes))


def position_weights(n: int) -> list[float]:
    """exp(-i / (n - 1)) for the i-th of ``n`` sentences (1.0 when n = 1)."""
    return [math.exp(-i / (n - 1)) if n > 1 else 1.0 for i in range(n)]


def pawc(answer: Answer) -> dict[str, float]:
    """Position-adjusted word count share of every page the answer cites (they sum to 1; {} for no answer)."""
    return _shares(answer, position_weights(len(answer.quotes)))


def word_share(answer: Answer) -> dict[str, float]:
    """Word count share of every page the answer cites (the paper's Imp_wc, without the position weight)."""
    return _shares(answer, [1.0] * len(answer.quotes))


def _shares(answer: Answer, weights: Sequence[float]) -> dict[str, float]:
    per: dict[str, float] = {}
    for quote, weight in zip(answer.quotes, weights):
        per[quote.page] = per.get(quote.page, 0.0) + quote.words * weight
    total = sum(per.values())
    return {page: v / total for page, v in per.items()} if total > 0 else {}
