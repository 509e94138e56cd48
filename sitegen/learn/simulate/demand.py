"""The hidden demand: who searches for what, how often, in which words.

**Facets.** Every item of the catalog gets facet values, from its own columns: ``category`` (the catalog's
category, the kind of thing: the fashion catalog's ``article_type``), every attribute column with 2-60
distinct values that the category does not decide (``base_colour`` and ``usage`` are kept; ``master_category``
and ``sub_category`` are not: 99.95 and 99.8 % of the fashion items have their category's usual value - they
restate it - where usage has it for 91 % and base_colour for 28 %; the cut is 98 %) and ``audience``, the gender word
of the title ("Men", "Women", "Boys", "Girls", "Unisex"; as ``sitegen eval`` reads it), when at least a tenth of
the titles name one. A repeated attribute (pixel colours) counts by its first value.

**Intents.** An intent is a category with up to three modifier facets (audience, colour, others): for the
fashion catalog gender x base_colour x article_type x usage and every coarser combination of them, such as
"black formal shoes for men" or "kurtas for women". Only combinations that at least ``min_support`` items of
the catalog satisfy are candidates; an item satisfies an intent when every value of the intent is one of its
own (exact values: a "Navy Blue" item does not satisfy "blue"). Two intents written the same way (usage
"Formal" adds no word to "formal shoes") are one: the one more items satisfy.

**Volumes.** ``n_intents`` intents are drawn without replacement with probability proportional to their
support (Gumbel top-k, seeded), so common things are more likely to be searched for at all. They are ranked by
support (the broadest first: "tshirts for men" before "navy blue casual tshirts for men"; equal support in the
order drawn), and the i-th gets ``searches x i^-s / sum_j j^-s`` searches a week (Zipf's law of query
frequencies, exponent ``zipf``, 1.0 by default): a head of broad intents and a long tail of specific ones.

**Phrasings.** Each intent is searched in up to three phrasings, e.g. "black formal shoes for men", "men's
black formal shoes", "formal shoes men black" (without an audience: "black formal shoes", "formal shoes
black", "black formal shoes online"); its volume is split 50 / 30 / 20 % over them, the order shuffled per
intent (seeded).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from sitegen.core.models import Item
from sitegen.core.text import is_colour_key
from sitegen.learn.evaluate import GENDERS

KIND = "category"
AUDIENCE = "audience"
MAX_VALUES = 60
DECIDED = 0.98  # a column whose value is its category's usual one for this share of items restates it
AUDIENCE_SHARE = 0.1
SHARES = (0.5, 0.3, 0.2)
_AUDIENCE_WORDS = {"men": ("for men", "men's", "men"), "women": ("for women", "women's", "women"),
                   "boys": ("for boys", "boys'", "boys"), "girls": ("for girls", "girls'", "girls"),
                   "unisex": ("unisex", "unisex", "unisex")}


@dataclass(frozen=True)
class Intent:
    """One hidden search need."""

    key: str  # "category=Formal Shoes|audience=men|base_colour=Black"
    values: tuple[tuple[str, str], ...]  # (facet, value), the category first
    queries: tuple[str, ...]  # its phrasings
    shares: tuple[float, ...]  # share of its volume per phrasing (sums to 1)
    support: int  # catalog items that satisfy it
    volume: float = 0.0  # mean searches per week
    season: str = ""  # the Google Trends series its weekly multiplier follows ("" = flat)
    season_cosine: float = 0.0

    @property
    def text(self) -> str:
        return self.queries[0]


@dataclass(frozen=True)
class Population:
    """The searchers' hidden demand and the catalog's facets it is judged by."""

    intents: tuple[Intent, ...]
    facets: dict[str, dict[str, frozenset[str]]] = field(repr=False)  # item id -> facet -> values
    fields: tuple[str, ...] = ()

    def satisfies(self, item_id: str, intent: Intent) -> bool:
        have = self.facets.get(item_id)
        return have is not None and all(v in have.get(f, ()) for f, v in intent.values)

    def with_intents(self, intents: Sequence[Intent]) -> "Population":
        return replace(self, intents=tuple(intents))


def _audience(title: str) -> set[str]:
    words = re.findall(r"[a-z]+", re.sub(r"['\u2019]s\b", "s", title.lower()))
    return {GENDERS[w] for w in words if w in GENDERS}


def catalog_facets(items: Sequence[Item]) -> tuple[dict[str, dict[str, frozenset[str]]], tuple[str, ...]]:
    """Facet values per item id, and the facets used (see the module docstring)."""
    firsts: list[dict[str, str]] = []
    for it in items:
        first: dict[str, str] = {}
        for name, value in it.attributes:
            value = " ".join(value.split())
            if value and name not in first:
                first[name] = value
        firsts.append(first)
    names = sorted({n for f in firsts for n in f})
    kept = []
    for name in names:
        values = {f[name] for f in firsts if name in f}
        if not 2 <= len(values) <= MAX_VALUES:
            continue
        per_kind: dict[str, Counter] = {}
        for it, f in zip(items, firsts):
            if name in f:
                per_kind.setdefault(it.category, Counter())[f[name]] += 1
        usual = sum(c.most_common(1)[0][1] for c in per_kind.values())
        if usual < DECIDED * sum(sum(c.values()) for c in per_kind.values()):  # not decided by the category
            kept.append(name)
    audiences = [_audience(it.title) for it in items]
    use_audience = sum(bool(a) for a in audiences) >= AUDIENCE_SHARE * max(len(items), 1)
    fields = (KIND, *((AUDIENCE,) if use_audience else ()), *kept)
    facets: dict[str, dict[str, frozenset[str]]] = {}
    for it, f, aud in zip(items, firsts, audiences):
        if not it.category:
            continue
        got = {KIND: frozenset({it.category})}
        if use_audience and aud:
            got[AUDIENCE] = frozenset(aud)
        for name in kept:
            if name in f:
                got[name] = frozenset({f[name]})
        facets[it.id] = got
    return facets, fields


def _low(value: str) -> str:
    return " ".join(value.lower().split())


def phrasings(values: dict[str, str]) -> list[str]:
    """The ways an intent is written (see the module docstring), without repeats."""
    kind = _low(values[KIND])
    kind_words = set(kind.split())
    colours = [_low(v) for f, v in values.items() if f != KIND and f != AUDIENCE and is_colour_key(f)]
    others = [_low(v) for f, v in values.items() if f != KIND and f != AUDIENCE and not is_colour_key(f)]
    mods = [m for m in colours + others if not set(m.split()) <= kind_words]  # "formal" adds nothing to "formal shoes"
    pre = " ".join(mods)
    aud = values.get(AUDIENCE)
    if aud:
        for_, poss, plain = _AUDIENCE_WORDS.get(aud.lower(), (f"for {aud.lower()}",) * 3)
        forms = [f"{pre} {kind} {for_}", f"{poss} {pre} {kind}", f"{kind} {plain} {pre}"]
    else:
        forms = [f"{pre} {kind}", f"{kind} {pre}", f"{pre} {kind} online"]
    return list(dict.fromkeys(" ".join(f.split()) for f in forms))


def candidate_intents(facets: dict[str, dict[str, frozenset[str]]], fields: Sequence[str], *,
                      min_support: int = 2, max_modifiers: int = 3) -> list[Intent]:
    """Every combination of a category and up to ``max_modifiers`` other facets that at least ``min_support``
    items satisfy, with its phrasings (volumes not set yet), sorted by key."""
    from itertools import combinations

    modifiers = [f for f in fields if f != KIND]
    subsets = [c for r in range(min(max_modifiers, len(modifiers)) + 1) for c in combinations(modifiers, r)]
    support: Counter = Counter()
    for have in facets.values():
        for kind in have[KIND]:
            for subset in subsets:
                if not all(f in have for f in subset):
                    continue
                combos: list[tuple[tuple[str, str], ...]] = [((KIND, kind),)]
                for f in subset:
                    combos = [c + ((f, v),) for c in combos for v in sorted(have[f])]
                support.update(combos)
    order = {f: n for n, f in enumerate(fields)}
    by_text: dict[str, Intent] = {}
    for values, n in sorted(support.items()):
        if n < min_support:
            continue
        values = tuple(sorted(values, key=lambda fv: order[fv[0]]))
        queries = tuple(phrasings(dict(values)))
        key = "|".join(f"{f}={v}" for f, v in values)
        intent = Intent(key=key, values=values, queries=queries, shares=(), support=int(n))
        prev = by_text.get(queries[0])
        if prev is None or (intent.support, -len(intent.values)) > (prev.support, -len(prev.values)):
            by_text[queries[0]] = intent
    return sorted(by_text.values(), key=lambda i: i.key)


def draw_population(items: Sequence[Item], *, seed: int, n_intents: int, searches: float, zipf: float = 1.0,
                    min_support: int = 2) -> Population:
    """The hidden demand over ``items`` (see the module docstring); the same arguments give the same
    population."""
    facets, fields = catalog_facets(items)
    candidates = candidate_intents(facets, fields, min_support=min_support)
    rng = np.random.default_rng([seed, 7013])
    if not candidates:
        return Population((), facets, fields)
    keys = np.log([c.support for c in candidates]) + rng.gumbel(size=len(candidates))
    drawn = np.lexsort((np.arange(len(candidates)), -keys))[:n_intents]  # Gumbel top-k: weighted by support
    # the head of the Zipf law is the broadest intents: by support, ties in the order drawn
    chosen = [candidates[i] for i in sorted(drawn.tolist(), key=lambda i: -candidates[i].support)]
    ranks = np.arange(1, len(chosen) + 1, dtype=np.float64)
    weights = ranks ** -zipf
    volumes = searches * weights / weights.sum()
    intents = []
    for intent, volume in zip(chosen, volumes):
        shares = np.array(SHARES[:len(intent.queries)])
        shares = shares / shares.sum()
        shares = shares[rng.permutation(len(shares))]
        intents.append(replace(intent, volume=float(volume), shares=tuple(float(s) for s in shares)))
    return Population(tuple(intents), facets, fields)
