"""Post-processing shared by every generator: normalise, filter, validate, language-tag, de-duplicate, select.

Every candidate that is not kept comes back as a ``DroppedQuery`` with one reason code:

=================  ==========================================================================================
``blocklist``      contains a term of the safety list (packaged ``blocklist.txt`` + ``represent.blocklist``)
``too_short``      fewer than 2 characters after normalising
``too_long``       more than ``represent.max_words`` words or ``represent.max_chars`` characters
``brand``          contains a brand / trademark term of ``represent.brands``
``stopwords``      only stop-words ("for the")
``too_generic``    only generic words ("image", "clipart", "free photo")
``duplicate``      the same text as a better candidate of the same item
``near_duplicate`` the same words in another order, or embedding cosine >= ``represent.dedup_cosine`` to a query
                   already selected for the item
``surplus``        valid but not selected (the item had enough queries of that category)
=================  ==========================================================================================

Selection: each item gets ``min(represent.max_queries, valid candidates)`` queries, split across the
categories in the ``represent.mix`` proportions. The per-item counts are rounded by systematic sampling with an
offset drawn from a hash of the item id (7 queries at 30/30/40 give 2/2/3 for most items and 3/2/2 or 2/3/2
for the rest), so the shares converge to the mix over many items while each item's queries depend on nothing
but the item. A category without enough candidates gives its slots to the others.

Language tag (deliberately tiny): ``en`` when the text is plain ASCII or contains an English stop-word,
otherwise ``und`` (undetermined).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from sitegen.core.config import RepresentSection
from sitegen.core.lexicon import english
from sitegen.core.models import QUERY_CATEGORIES, DroppedQuery, Item, Query, QueryCategory
from sitegen.core.text import normalise
from sitegen.represent.base import Candidate

if TYPE_CHECKING:
    from sitegen.engines.embed import Embedder


STOPWORDS: frozenset[str] = frozenset(english().stopwords)  # sitegen/lexicons/en.toml
GENERIC_WORDS: frozenset[str] = frozenset(english().generic_words)

REASONS = ("blocklist", "too_short", "too_long", "brand", "stopwords", "too_generic", "duplicate",
           "near_duplicate", "surplus")

_BOUNDARY_L = r"(?<![\w'-])"
_BOUNDARY_R = r"(?![\w'-])"


def words(text: str) -> list[str]:
    """The words of an already normalised text."""
    return text.split()


def language(text: str) -> str:
    if text.isascii() or any(w in STOPWORDS for w in text.split()):
        return "en"
    return "und"


@lru_cache(maxsize=1)
def default_blocklist() -> tuple[str, ...]:
    """The packaged safety list (``sitegen/represent/blocklist.txt``), normalised."""
    raw = resources.files("sitegen.represent").joinpath("blocklist.txt").read_text(encoding="utf-8")
    terms = (normalise(line.split("#", 1)[0]) for line in raw.splitlines())
    return tuple(sorted({t for t in terms if t}))


def term_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    """One regex matching any of the (normalised) terms as whole words; None when there are none."""
    terms = sorted({normalise(t) for t in terms if normalise(t)}, key=lambda t: (-len(t), t))
    if not terms:
        return None
    return re.compile(_BOUNDARY_L + "(?:" + "|".join(re.escape(t) for t in terms) + ")" + _BOUNDARY_R)


def quotas(n: int, mix: dict[str, float], key: str) -> dict[QueryCategory, int]:
    """Split ``n`` slots across categories in the ``mix`` shares: floors, then the remaining slots by
    systematic sampling over the fractional parts with an offset from a hash of ``key``. The expected count
    of each category is exactly n * share, so shares converge over many items."""
    total = sum(max(0.0, mix.get(c, 0.0)) for c in QUERY_CATEGORIES) or 1.0
    exact = {c: n * max(0.0, mix.get(c, 0.0)) / total for c in QUERY_CATEGORIES}
    counts = {c: int(np.floor(exact[c] + 1e-9)) for c in QUERY_CATEGORIES}
    left = n - sum(counts.values())
    if left > 0:
        u = int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) / 2 ** 32
        points = [u + j for j in range(left)]
        cum = 0.0
        for c in QUERY_CATEGORIES:
            lo, cum = cum, cum + max(0.0, exact[c] - counts[c])
            counts[c] += sum(1 for p in points if lo <= p < cum)
        short = n - sum(counts.values())  # float rounding at the top end
        if short > 0:
            best = max(QUERY_CATEGORIES, key=lambda c: (exact[c] - counts[c], -QUERY_CATEGORIES.index(c)))
            counts[best] += short
    return counts


class PostProcessor:
    """Turns each item's raw candidates into its final queries (see the module docstring)."""

    def __init__(self, cfg: RepresentSection, embedder: Embedder | None):
        self.cfg = cfg
        self.embedder = embedder
        self._block = term_pattern([*default_blocklist(), *cfg.blocklist])
        self._brand = term_pattern(cfg.brands)

    def check(self, text: str) -> tuple[str, str | None]:
        """(normalised text, drop reason or None) for one candidate, before de-duplication."""
        norm = normalise(text)
        if self._block is not None and self._block.search(norm):
            return norm, "blocklist"
        if len(norm) < 2:
            return norm, "too_short"
        ws = norm.split()
        if len(ws) > self.cfg.max_words or len(norm) > self.cfg.max_chars:
            return norm, "too_long"
        if self._brand is not None and self._brand.search(norm):
            return norm, "brand"
        content = [w for w in ws if w not in STOPWORDS]
        if not content:
            return norm, "stopwords"
        if all(w in GENERIC_WORDS for w in content):
            return norm, "too_generic"
        return norm, None

    def process(self, items: Sequence[Item],
                candidates: list[list[Candidate]]) -> tuple[list[Query], list[DroppedQuery]]:
        if len(items) != len(candidates):
            raise ValueError(f"{len(items)} items but {len(candidates)} candidate lists")
        dropped: list[DroppedQuery] = []
        valid: list[list[tuple[str, Candidate]]] = []
        for item, cands in zip(items, candidates):
            # Best first (score desc, then the generator's order), so a duplicate keeps its best copy.
            order = sorted(range(len(cands)), key=lambda i: (-cands[i].score, i))
            seen: set[str] = set()
            kept: list[tuple[str, Candidate]] = []
            for i in order:
                cand = cands[i]
                norm, reason = self.check(cand.text)
                if reason is None and norm in seen:
                    reason = "duplicate"
                if reason is not None:
                    dropped.append(DroppedQuery(norm or cand.text.strip(), reason, item.id))
                    continue
                seen.add(norm)
                kept.append((norm, cand))
            valid.append(kept)
        vectors = self._vectors(valid)
        queries: list[Query] = []
        for item, kept in zip(items, valid):
            sel, drop = self._select(item, kept, vectors)
            queries.extend(sel)
            dropped.extend(drop)
        return queries, dropped

    def _vectors(self, valid: list[list[tuple[str, Candidate]]]) -> dict[str, np.ndarray]:
        if self.embedder is None:
            return {}
        texts = list(dict.fromkeys(norm for kept in valid for norm, _ in kept))
        if not texts:
            return {}
        return dict(zip(texts, self.embedder.encode(texts)))

    def _select(self, item: Item, kept: list[tuple[str, Candidate]],
                vectors: dict[str, np.ndarray]) -> tuple[list[Query], list[DroppedQuery]]:
        n = min(self.cfg.max_queries, len(kept))
        quota = quotas(n, self.cfg.mix, item.id)
        queues: dict[str, list[tuple[str, Candidate]]] = {c: [] for c in QUERY_CATEGORIES}
        for norm, cand in kept:  # already best first
            queues.setdefault(cand.category, []).append((norm, cand))
        counts = {c: 0 for c in queues}
        chosen: list[tuple[str, Candidate]] = []
        chosen_keys: set[tuple[str, ...]] = set()
        chosen_vecs: list[np.ndarray] = []
        dropped: list[DroppedQuery] = []
        pos = {c: 0 for c in queues}
        mix_total = sum(self.cfg.mix.values()) or 1.0

        def near_dup(norm: str) -> bool:
            if tuple(sorted(norm.split())) in chosen_keys:
                return True
            vec = vectors.get(norm)
            if vec is None or not chosen_vecs:
                return False
            return float(np.max(np.stack(chosen_vecs) @ vec)) >= self.cfg.dedup_cosine

        while len(chosen) < n:
            open_cats = [c for c in queues if pos[c] < len(queues[c])]
            if not open_cats:
                break
            in_quota = [c for c in open_cats if counts[c] < quota.get(c, 0)]  # type: ignore[call-overload]
            if in_quota:  # the best head among categories still under quota
                cat = min(in_quota, key=lambda c: (-queues[c][pos[c]][1].score, _cat_rank(c)))
            else:  # a category ran dry: give its slot to the one furthest below its share
                cat = max(open_cats, key=lambda c: (self.cfg.mix.get(c, 0.0) / mix_total * n - counts[c],
                                                    -_cat_rank(c)))
            norm, cand = queues[cat][pos[cat]]
            pos[cat] += 1
            if near_dup(norm):
                dropped.append(DroppedQuery(norm, "near_duplicate", item.id))
                continue
            chosen.append((norm, cand))
            chosen_keys.add(tuple(sorted(norm.split())))
            if norm in vectors:
                chosen_vecs.append(vectors[norm])
            counts[cat] += 1
        for cat, queue in queues.items():
            for norm, _ in queue[pos[cat]:]:
                dropped.append(DroppedQuery(norm, "near_duplicate" if near_dup(norm) else "surplus", item.id))
        chosen.sort(key=lambda nc: (-nc[1].score, _cat_rank(nc[1].category)))
        queries = [Query(item.id, norm, cand.category, cand.source, float(cand.score), language(norm))
                   for norm, cand in chosen]
        return queries, dropped


_CATEGORY_RANK: dict[str, int] = {c: i for i, c in enumerate(QUERY_CATEGORIES)}


def _cat_rank(category: str) -> int:
    return _CATEGORY_RANK.get(category, len(QUERY_CATEGORIES))
