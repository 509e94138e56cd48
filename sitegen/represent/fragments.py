"""Title fragments and facets: what may never head a topic, learnt from the catalog itself (nothing is listed).

Titles carry words that say who made or sold an item, not what it is: brand names ("Jealous 21 Women Pink
Top"), model numbers ("Air Max 2"), a creator's name in a file name ("architetto-fra-red-apple"). A topic built
from them ("21 pink top", "Architetto fra outfit ideas") is junk. ``learn_fragments`` finds them with four
signals, each over normalised title words that are not *vocabulary* - the words of the catalog's own columns
(keywords, categories, taxonomy attributes) and of the lexicon (colours, audiences, kind, style, use-case and
stop-words), which are always content:

=============  ==============================================================================================
``lead``       in a product catalog (at least ``PRODUCT_SHARE`` of titles name an audience in their first five
               words: "<Brand> Women ..."), a word standing before the audience word in at least
               ``LEAD_SHARE`` of the titles that have it (at least twice; the first word of a title without an
               audience word counts as standing before it). Each item's own words before its
               audience word are its *span* ("u s polo assn" of "U.S. Polo Assn. Men Blue Shirt"), whatever
               their frequency
``digits``     a word with a digit ("21", "5", "45", "22l")
``prefix``     a word of a repeated title prefix - the first one to four words that at least 0.2% of the titles
               (and at least 3) start with, followed by varied words (at least two distinct next words, and
               at least ``PREFIX_VARIETY`` of those titles; no stop-word in it or mostly after it: "red apple
               by ..." is a subject) - standing at that position in at least ``LEAD_SHARE`` of the titles that
               have it ("lotus herbals", "architetto fra", "diadem" of "Royal Diadem")
``line``       in a product catalog, a word right after a fragment at the start of at least three titles (the words before it all
               fragments or audience words), standing there in at least ``LINE_SHARE`` of its titles: a
               product line or model ("soft touch" of "Colorbar Soft Touch ...", "max" of "Nike Men Air
               Max ...")
``spread``     a word whose items are spread over the catalog's categories like the catalog itself (overlap of
               the two category distributions >= ``SPREAD_OVERLAP``, in at least three categories, from at
               least ``SPREAD_MIN`` categorised items): a creator draws everything, a subject stays in its
               category. Needs categories on some items
=============  ==============================================================================================

An item's span is its lead words, every fragment word of its title, and the words before a fragment among its
first five words that are no vocabulary ("royal" of "Royal Diadem Blue Earrings"); ``clean_title`` is the title
without it (what the generator derives subjects from, and what relevance reads as the item's own words).

A *facet* is a topic that names only colours (and pattern or style words such as "check", "striped" or
"cartoon", unless the catalog holds such things as a category, keyword or attribute): "Black", "Grey", "Check
black", "Blue cartoon". It filters a page, it is not one. A colour word that is also a thing the catalog holds
(a title or category of only that word: "Orange" the fruit) is a subject, not a facet.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from sitegen.core import text as core_text
from sitegen.core.lexicon import Lexicon
from sitegen.core.models import Item
from sitegen.core.text import normalise
from sitegen.ingest.colours import COLOUR_WORDS

PRODUCT_SHARE = 0.3
LEAD_SHARE = 0.8
PREFIX_VARIETY = 0.3
SPREAD_OVERLAP = 0.6
SPREAD_MIN = 5
LINE_SHARE = 0.6
_LEAD_WINDOW = 5
PATTERN_WORDS = frozenset({"check", "checks", "checked", "checkered", "striped", "stripes", "stripe", "solid",
                           "printed", "print", "prints", "plain", "dotted", "dots", "polka", "colourblocked",
                           "colorblocked", "shade", "shades", "dark", "light", "multi"})


@dataclass(frozen=True)
class Fragments:
    """What ``learn_fragments`` found: fragment words with their signal, each item's span, and the colour
    words of the catalog (for the facet rule)."""

    tokens: dict[str, str] = field(default_factory=dict)  # word -> "lead" / "digits" / "prefix" / "line" / "spread"
    spans: dict[str, tuple[int, ...]] = field(default_factory=dict)  # item id -> positions in its title words
    colours: frozenset[str] = frozenset()  # colour words (palette + the catalog's colour columns)
    subjects: frozenset[str] = frozenset()  # colour words that are also things (a one-word title / category)
    product: bool = False  # titles read "<Brand> <Audience> ..."
    things: frozenset[str] = frozenset()  # words of the catalog's categories, keywords and other non-colour values

    def clean_title(self, item: Item) -> list[str]:
        """The item's normalised title words without its span."""
        words = normalise(item.title).split()
        span = set(self.spans.get(item.id, ()))
        return [w for i, w in enumerate(words) if i not in span]

    def fragment(self, text: str) -> str | None:
        """The first fragment word of a topic (or query) text, or None."""
        return next((w for w in normalise(text).split() if w in self.tokens), None)

    def is_facet(self, text: str, words: Lexicon) -> bool:
        """True when the topic names only colours (and pattern words): see the module docstring."""
        ignore = set(words.stopwords) | set(words.relevance_stopwords) | set(words.kind_words) | set(
            words.intent_markers) | (set(words.generic_words) - self.things)  # "top" is generic, but not in fashion
        content = [w for w in normalise(text).split() if w not in ignore]
        colours = [w for w in content if w in self.colours and w not in self.subjects]
        looks = PATTERN_WORDS | (set(words.style_words) - self.things)  # "cartoon", "vintage", unless a thing
        return bool(colours) and all(w in self.colours and w not in self.subjects or w in looks for w in content)

    def reason(self, text: str, words: Lexicon) -> str | None:
        """The topic gate: ``fragment:<word>``, ``facet``, or None for a topic that may have a page."""
        token = self.fragment(text)
        if token is not None:
            return f"fragment:{token}"
        return "facet" if self.is_facet(text, words) else None


def vocabulary(items: Sequence[Item], words: Lexicon) -> set[str]:
    """Words that are always content: the catalog's keywords, categories and taxonomy attribute values (an
    attribute with at most max(50, a fifth of the items) distinct values), and the lexicon's word lists; only
    keyword and category words may have a digit."""
    n = max(1, len(items))
    vocab: set[str] = set(COLOUR_WORDS)
    named: set[str] = set()  # keyword and category words: these may carry digits ("4th of july", "3d")
    for lst in (words.stopwords, words.generic_words, words.relevance_stopwords, words.intent_markers,
                words.use_case_words, words.use_case_phrases, words.style_words, words.style_phrases,
                words.domain_words, tuple(words.audiences), tuple(words.genders), tuple(words.kind_words),
                tuple(words.occasions), tuple(words.implies),
                tuple(v for vs in words.occasions.values() for v in vs)):
        for phrase in lst:
            vocab.update(normalise(phrase).split())
    values: dict[str, set[str]] = {}
    for item in items:
        named.update(normalise(item.category).split())
        for kw in item.keywords:
            named.update(normalise(kw).split())
        for name, value in item.attributes:
            values.setdefault(name, set()).add(normalise(value))
    for vals in values.values():
        if len(vals) <= max(50, 0.2 * n):
            vocab.update(w for v in vals for w in v.split())
    vocab = {w for w in vocab if not any(ch.isdigit() for ch in w)} | named
    return vocab | {w[:-1] for w in vocab if w.endswith("s") and len(w) > 3} | {w + "s" for w in vocab}


def learn_fragments(items: Sequence[Item], words: Lexicon) -> Fragments:
    """The fragment words and item spans of a catalog (see the module docstring). Deterministic."""
    n = len(items)
    vocab = vocabulary(items, words)
    audience = set(words.audiences) | set(words.genders)
    titles = [normalise(item.title).split() for item in items]
    any_df: Counter[str] = Counter()
    lead_df: Counter[str] = Counter()
    cuts: list[int | None] = []
    for title in titles:
        any_df.update(set(title))
        cut = next((i for i, w in enumerate(title[:_LEAD_WINDOW]) if w in audience), None)
        cuts.append(cut if cut else None)
        if cut:
            lead_df.update(set(title[:cut]))
    product = n > 0 and sum(c is not None for c in cuts) >= PRODUCT_SHARE * n
    if product:  # a product title without an audience word starts with its brand too ("Adrika Green Earrings")
        lead_df.update(title[0] for title, cut in zip(titles, cuts) if cut is None and title)
    tokens: dict[str, str] = {}

    def flag(word: str, why: str) -> None:
        if word not in vocab and word not in tokens:
            tokens[word] = why

    for word in sorted(any_df):
        if any(ch.isdigit() for ch in word):
            flag(word, "digits")
    if product:
        for word, c in sorted(lead_df.items()):
            if c >= 2 and c >= LEAD_SHARE * any_df[word]:
                flag(word, "lead")
    # repeated prefixes
    stop = set(words.stopwords)
    prefix_min = max(3, math.ceil(0.002 * n))
    starts: Counter[tuple[str, ...]] = Counter()
    nexts: dict[tuple[str, ...], Counter[str]] = {}
    at: Counter[tuple[str, int]] = Counter()  # (word, position) in a title
    for title in titles:
        for pos, w in enumerate(title[:4]):
            at[(w, pos)] += 1
        for k in (1, 2, 3, 4):
            if len(title) > k:
                p = tuple(title[:k])
                starts[p] += 1
                nexts.setdefault(p, Counter())[title[k]] += 1
    for p, c in sorted(starts.items()):
        if c < prefix_min or len(nexts[p]) < max(2, PREFIX_VARIETY * c):
            continue
        if any(w in stop for w in p) or sum(k for w, k in nexts[p].items() if w in stop) * 2 >= c:
            continue  # a subject phrase: "red apple by ...", "bunch of ..."
        for pos, w in enumerate(p):  # each word that (nearly) only ever stands there
            if at[(w, pos)] >= LEAD_SHARE * any_df[w]:
                flag(w, "prefix")
    # product lines: the words that continue a fragment at the start of titles ("colorbar soft touch ...")
    for k in (2, 3, 4) if product else ():  # after a creator's name comes the subject, not a line
        for p, c in sorted(starts.items()):
            w = p[-1]
            if (len(p) == k and c >= 3 and all(x in tokens or x in audience for x in p[:-1])
                    and p[-2] in tokens and w not in tokens
                    and at[(w, k - 1)] >= LINE_SHARE * any_df[w]):
                flag(w, "line")
    # spread across categories
    cats = [normalise(item.category) for item in items]
    labelled = [c for c in cats if c]
    cat_share = {c: k / len(labelled) for c, k in Counter(labelled).items()} if labelled else {}
    if len(cat_share) >= 3:
        per: dict[str, Counter[str]] = {}
        for title, c in zip(titles, cats):
            if c:
                for w in set(title):
                    if w not in vocab:
                        per.setdefault(w, Counter())[c] += 1
        for word, counts in sorted(per.items()):
            df = sum(counts.values())
            if df < SPREAD_MIN or len(counts) < 3:
                continue
            overlap = sum(min(k / df, cat_share[c]) for c, k in counts.items())
            if overlap >= SPREAD_OVERLAP:
                flag(word, "spread")
    spans: dict[str, tuple[int, ...]] = {}
    for item, title, cut in zip(items, titles, cuts):
        span = set(range(cut)) if product and cut else set()
        span |= {i for i, w in enumerate(title) if w in tokens}
        last = max((i for i in span if i < _LEAD_WINDOW), default=-1)  # "royal" of "Royal Diadem ..."
        span |= {i for i in range(last) if title[i] not in vocab}
        if span:
            spans[item.id] = tuple(sorted(span))
    colours = set(COLOUR_WORDS)
    subjects: set[str] = set()
    things: set[str] = set()
    kinds = set(words.kind_words) | set(words.generic_words)
    for item, title in zip(items, titles):
        things.update(normalise(item.category).split())
        things.update(w for k in item.keywords for w in normalise(k).split())
        for name, value in item.attributes:
            (colours if core_text.is_colour_key(name) else things).update(normalise(value).split())
    for item, title in zip(items, titles):
        bare = [w for w in title if w not in kinds]
        if len(bare) == 1:
            subjects.add(bare[0])
        if normalise(item.category) in colours:
            subjects.add(normalise(item.category))
    colours -= audience
    things |= {w[:-1] for w in things if w.endswith("s") and len(w) > 3}
    return Fragments(tokens, spans, frozenset(colours), frozenset(subjects & colours), product,
                     frozenset(things - colours))
