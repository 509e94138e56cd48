"""Collection quality gates: which viable topics get a page of their own, which become an *alias* (a line with
an anchor on a stronger page), which items each page shows and which hub it is filed under.

Topics are taken strongest first, except that a use-case or style topic comes after its *base topic* (the same
words without its purpose or style clause: "skirt for college" -> "skirts", "grey casual bag" -> "casual bag",
"how to style blue shirts" -> "blue shirts"), so that the base is the page that stays. Then, for each topic:

1. *same as its base*: a use-case or style topic whose items overlap its base topic's with Jaccard >=
   ``collect.duplicate_jaccard`` is an alias of the base's page (reason ``same_as_base``);
2. *duplicate*: a topic whose relevant (passing) items, or the items its page would show, overlap those of a
   page already kept with Jaccard >= ``collect.duplicate_jaccard`` is an alias of that page (``duplicate``).
   Two topics that searchers typed (each query has searches in the imported signals: "tshirts online" and
   "casual tshirts") are two demands, however much the catalog items relevant to them overlap, so between
   them only the shown items count: each gets its page when its page can show other items;
   The shown items are chosen first as ``select`` does (the best half by score, then items no stronger page
   shows yet); when only the shown sets overlap too much, the page is chosen again without the items of the
   pages it overlaps, before it is given up. So no two published pages share that much of their items;
3. ``collect.max_collections`` caps the pages kept;
4. relevant items that no page shows (some were shown only by topics that became aliases) replace, beyond the
   best half of a page, items that other pages show too (``cover``): coverage is kept, overlaps only shrink;
5. each kept page is filed under the hub (category) that holds most of the items it shows (on a tie, the hub
   its topic came from, else the hub of its best item among the tied ones).

Nothing here reads or writes files; deterministic.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from typing import Mapping, Sequence

import numpy as np

from sitegen.core import urls
from sitegen.core.lexicon import english
from sitegen.core.models import Alias, AliasReason, DroppedTopic, Topic
from sitegen.core.text import match_words, topic_key

_AUDIENCE = frozenset({"men", "women", "boys", "girls", "unisex", "kid", "kids", "baby", "babies"})
_PLAIN = {"description": 0, "style": 1, "use_case": 2}  # a base is at least as plain as the topic
_MAX_CLAUSE = 4  # clause words removed at most when looking for a base (2**4 subsets)
# ids the packaged theme uses on a collection page: an alias anchor never takes one of them
RESERVED_IDS = frozenset({"main", "question", "images", "related", "also"})


@dataclass
class Candidate:
    """A topic whose relevant items reached ``min_items``."""

    pos: int  # position in the topics list
    checked: tuple[str, ...]
    passing: np.ndarray  # item indices, best first
    scores: np.ndarray


@dataclass
class Kept:
    cand: Candidate
    members: np.ndarray  # the items the page shows, best score first
    scores: np.ndarray
    hub: str = ""
    aliases: list[tuple[int, AliasReason, float]] = field(default_factory=list)  # (topic pos, reason, Jaccard)
    alias_items: dict[int, Candidate] = field(default_factory=dict)  # topic pos -> its relevant items
    index: int = -1  # its index into the viable topics


def _style_words() -> frozenset[str]:
    lex = english()
    words = {w for phrase in (*lex.style_words, *lex.style_phrases) for w in match_words(phrase)}
    return frozenset(words | {"_".join(match_words(p)) for p in lex.style_phrases})


def topic_words(analysed: tuple[tuple[str, ...], tuple[str, ...]]) -> frozenset[str]:
    """A topic's content words: its catalog words and its other words (``Lexicon.analyse``), stop-words out."""
    checked, free = analysed
    return frozenset(checked) | frozenset(free)


def clause_words(category: str, analysed: tuple[tuple[str, ...], tuple[str, ...]],
                 style: frozenset[str]) -> frozenset[str]:
    """The words of a topic that its base topic leaves out: for a use case, the words the catalog does not check
    (its purpose: "college", "office") and audience words; for a style topic, style words ("grey", "boho",
    "striped") and unchecked words. Template words ("how to style", "outfit ideas") are stop-words already."""
    checked, free = analysed
    if category == "use_case":
        return frozenset(free) | (frozenset(checked) & _AUDIENCE)
    if category == "style":
        return frozenset(free) | frozenset(w for w in checked if w in style or set(w.split("_")) <= style)
    return frozenset()


def find_bases(viable: Sequence[Candidate], topics: Sequence[Topic],
               analysed: Sequence[tuple[tuple[str, ...], tuple[str, ...]]]) -> dict[int, int]:
    """viable index -> viable index of its base topic: the viable topic with the most words among those whose
    words are the topic's minus some of its clause words (with no word removed, a plainer category: a
    description is the base of "how to style" it). The strongest such topic wins a tie."""
    style = _style_words()
    by_words: dict[frozenset[str], list[int]] = {}
    words = []
    for n, cand in enumerate(viable):
        w = topic_words(analysed[cand.pos])
        words.append(w)
        by_words.setdefault(w, []).append(n)
    bases: dict[int, int] = {}
    for n, cand in enumerate(viable):
        topic = topics[cand.pos]
        if topic.category not in ("use_case", "style"):
            continue
        clause = sorted(clause_words(topic.category, analysed[cand.pos], style) & words[n])
        if len(clause) > _MAX_CLAUSE:
            clause = clause[:_MAX_CLAUSE]
        found = None
        for size in range(0, len(clause) + 1):  # fewest words removed first: the closest base
            for removed in combinations(clause, size):
                rest = words[n] - frozenset(removed)
                if not rest:
                    continue
                for b in by_words.get(rest, ()):
                    if b == n:
                        continue
                    if size == 0 and _PLAIN[topics[viable[b].pos].category] >= _PLAIN[topic.category]:
                        continue
                    if found is None or b < found:
                        found = b
            if found is not None:
                break
        if found is not None:
            bases[n] = found
    return bases


def processing_order(n: int, bases: dict[int, int]) -> list[int]:
    """0..n-1 (strongest first), each topic preceded by its chain of bases."""
    out: list[int] = []
    done = [False] * n
    for start in range(n):
        chain = []
        j: int | None = start
        while j is not None and not done[j] and j not in chain:
            chain.append(j)
            j = bases.get(j)
        for j in reversed(chain):
            done[j] = True
            out.append(j)
    return out


def select(cand: Candidate, max_items: int, shown: np.ndarray,
           avoid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The page's items: all when they fit; else the best half by score, then the best of the items no stronger
    page shows yet, then the rest by score. With ``avoid`` (a mask over items), no head: the best of the items
    outside ``avoid`` first, fresh ones before the others. Returned best score first."""
    if len(cand.passing) <= max_items:
        return cand.passing, cand.scores
    pos = np.arange(len(cand.passing))
    if avoid is None:
        head = max_items // 2
        rest = pos[head:]
        fresh = rest[shown[cand.passing[rest]] == 0]
        seen = rest[shown[cand.passing[rest]] > 0]
        chosen = np.concatenate([pos[:head], fresh, seen])[:max_items]
    else:
        out = avoid[cand.passing]
        is_fresh = shown[cand.passing] == 0
        chosen = np.concatenate([pos[~out & is_fresh], pos[~out & ~is_fresh], pos[out]])[:max_items]
    chosen = np.sort(chosen)  # positions in the score order
    return cand.passing[chosen], cand.scores[chosen]


class _Overlaps:
    """Item -> kept pages holding it, for the passing and the shown sets; Jaccard of a new set with each page."""

    def __init__(self):
        self.passing: dict[int, list[int]] = {}
        self.shown: dict[int, list[int]] = {}
        self.sizes: list[tuple[int, int]] = []  # (passing, shown) per kept page

    def add(self, passing: np.ndarray, shown: np.ndarray) -> None:
        k = len(self.sizes)
        for i in passing.tolist():
            self.passing.setdefault(i, []).append(k)
        for i in shown.tolist():
            self.shown.setdefault(i, []).append(k)
        self.sizes.append((len(passing), len(shown)))

    def jaccard(self, items: np.ndarray, which: int) -> dict[int, float]:
        """kept page -> Jaccard of ``items`` with its passing (``which`` 0) or shown (1) set, when they share any."""
        postings = self.passing if which == 0 else self.shown
        inter: Counter = Counter()
        for i in items.tolist():
            inter.update(postings.get(i, ()))
        n = len(items)
        return {k: c / (n + self.sizes[k][which] - c) for k, c in inter.items()}


def _worst(overlap: dict[int, float]) -> tuple[int | None, float]:
    """The kept page overlapping most (the earlier one on a tie), with its Jaccard; (None, 0) when none."""
    if not overlap:
        return None, 0.0
    k = min(overlap, key=lambda k: (-overlap[k], k))
    return k, overlap[k]


def apply_gates(viable: Sequence[Candidate], topics: Sequence[Topic],
                analysed: Sequence[tuple[tuple[str, ...], tuple[str, ...]]], item_hubs: Sequence[str], *,
                threshold: float, max_items: int, max_collections: int = 0,
                searched: frozenset[int] = frozenset()) -> tuple[list[Kept], list[DroppedTopic]]:
    """``viable`` strongest first -> (kept pages with their aliases, shown items and hub; dropped topics).
    ``item_hubs[i]`` is the hub of item ``i``; ``threshold`` is ``collect.duplicate_jaccard``. ``searched``:
    the indices into ``viable`` of topics that searchers typed (their query has searches in the signals);
    two of them are told apart by the items their pages show only (see the module docstring)."""
    bases = find_bases(viable, topics, analysed)
    order = processing_order(len(viable), bases)
    kept: list[Kept] = []
    overlaps = _Overlaps()
    page_of: dict[int, int] = {}  # viable index -> kept page it is (or is an alias on)
    shown = np.zeros(len(item_hubs), np.int32)
    dropped: list[DroppedTopic] = []
    limit = max_collections or len(viable)

    def alias(n: int, k: int, reason: AliasReason, jac: float) -> None:
        kept[k].aliases.append((viable[n].pos, reason, round(float(jac), 4)))
        kept[k].alias_items[viable[n].pos] = viable[n]
        page_of[n] = k

    for n in order:
        cand = viable[n]
        base = bases.get(n)
        if base is not None and base in page_of:
            jac = _jaccard(cand.passing, viable[base].passing)
            if jac >= threshold:
                alias(n, page_of[base], "same_as_base", jac)
                continue
        passing = overlaps.jaccard(cand.passing, 0)
        if n in searched:  # searchers ask for both: only the shown items may not repeat
            passing = {k: j for k, j in passing.items() if kept[k].index not in searched}
        k, jac = _worst(passing)
        if k is not None and jac >= threshold:
            alias(n, k, "duplicate", jac)
            continue
        if len(kept) >= limit:
            dropped.append(DroppedTopic(topics[cand.pos].text, "max_collections", f"collect.max_collections = {limit}"))
            continue
        members, scores = select(cand, max_items, shown)
        near = {k: j for k, j in overlaps.jaccard(members, 1).items() if j >= threshold}
        if near:  # only the shown items overlap: show others before giving the page up
            avoid = np.zeros(len(item_hubs), bool)
            for k in near:
                avoid[kept[k].members] = True
            members, scores = select(cand, max_items, shown, avoid)
            k, jac = _worst(overlaps.jaccard(members, 1))
            if k is not None and jac >= threshold:
                alias(n, k, "duplicate", jac)
                continue
        shown[members] += 1
        overlaps.add(cand.passing, members)
        page_of[n] = len(kept)
        kept.append(Kept(cand, members, scores, index=n))
    cover(kept, shown, max_items)
    for page in kept:
        page.hub = file_under(page.members, item_hubs, topics[page.cand.pos].hub)
    return kept, dropped


def cover(kept: Sequence[Kept], shown: np.ndarray, max_items: int) -> int:
    """Give the relevant items that no page shows (some were shown only by topics that became aliases) a place:
    each page, strongest first, swaps items beyond its best half that other pages show too for its best unshown
    relevant items. Overlaps between pages only shrink. ``shown`` counts the pages showing each item (updated).
    Returns the number of items placed."""
    placed = 0
    head = max_items // 2
    for page in kept:
        if len(page.members) >= len(page.cand.passing):
            continue
        unshown = page.cand.passing[shown[page.cand.passing] == 0]
        if not len(unshown):
            continue
        order = np.argsort(-page.scores, kind="stable")  # members best first (they are already)
        tail = order[head:]
        shared = tail[shown[page.members[tail]] >= 2][::-1]  # worst first
        n = min(len(shared), len(unshown))
        if not n:
            continue
        out, into = shared[:n], unshown[:n]
        shown[page.members[out]] -= 1
        shown[into] += 1
        score_of = dict(zip(page.cand.passing.tolist(), page.cand.scores.tolist()))
        keep = np.setdiff1d(np.arange(len(page.members)), out)
        members = np.concatenate([page.members[keep], into])
        scores = np.array([score_of[i] for i in members.tolist()], np.float32)
        rank = np.lexsort((members, -scores))
        page.members, page.scores = members[rank], scores[rank]
        placed += n
    return placed


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return inter / union if union else 0.0


def file_under(members: np.ndarray, item_hubs: Sequence[str], topic_hub: str) -> str:
    """The hub holding most of ``members`` (best first): on a tie the topic's own hub when it is one of the
    tied, else the hub of the best item among the tied hubs."""
    hubs = [item_hubs[i] for i in members.tolist()]
    if not hubs:
        return topic_hub
    counts = Counter(hubs)
    top = max(counts.values())
    tied = {h for h, c in counts.items() if c == top}
    if topic_hub in tied:
        return topic_hub
    return next(h for h in hubs if h in tied)


class SlugBook:
    """Collection slugs: ``slugify(topic)``, then ``-2``, ``-3`` ... on a collision, taken in the order asked.
    ``owned`` (slug -> topic key, ``core.text.topic_key``) holds every slug sitegen has published, live or
    retired: a topic that owns a slug gets it back, and no other topic ever gets it, so a URL never comes back
    as a different page. With nothing owned the slugs are those of the topic order alone."""

    def __init__(self, owned: Mapping[str, str] | None = None, used: set[str] | None = None):
        self.owned = dict(owned or {})
        self.of_key: dict[str, str] = {}
        for slug, key in sorted(self.owned.items()):
            self.of_key.setdefault(key, slug)
        self.used = used if used is not None else set()

    def take(self, texts: Sequence[str]) -> list[str]:
        """Slugs for ``texts`` in order: first every topic's own slug, then new ones."""
        out: list[str | None] = [None] * len(texts)
        for n, text in enumerate(texts):
            slug = self.of_key.get(topic_key(text))
            if slug is not None and slug not in self.used:
                out[n] = slug
                self.used.add(slug)
        for n, text in enumerate(texts):
            if out[n] is None:
                key = topic_key(text)
                base = urls.slugify(text) or "topic"
                slug, k = base, 1
                while slug in self.used or self.owned.get(slug, key) != key:
                    k += 1
                    slug = f"{base}-{k}"
                self.used.add(slug)
                out[n] = slug
        return [s for s in out if s is not None]


def alias_records(kept: Sequence[Kept], topics: Sequence[Topic], used: set[str] | SlugBook,
                  item_ids: Sequence[str]) -> list[tuple[Alias, ...]]:
    """Per kept page, its aliases in topic order, each with the slug its page would have had (taken in topic
    order, after the collections' slugs ``used`` (a set, or the ``SlugBook`` that gave them), which it joins),
    its anchor on the page (the slug unless the theme uses that id) and the page's items relevant to it with
    their scores (``item_ids[i]`` is the id of item ``i``)."""
    book = used if isinstance(used, SlugBook) else SlugBook(used=used)
    out: list[list[Alias]] = [[] for _ in kept]
    rows = sorted((pos, k, reason, jac) for k, page in enumerate(kept) for pos, reason, jac in page.aliases)
    slugs = book.take([topics[pos].text for pos, *_ in rows])
    for (pos, k, reason, jac), slug in zip(rows, slugs):
        topic = topics[pos]
        anchor = slug if slug not in RESERVED_IDS else f"topic-{slug}"
        page, own = kept[k], kept[k].alias_items[pos]
        score_of = dict(zip(own.passing.tolist(), own.scores.tolist()))
        on_page = [i for i in page.members.tolist() if i in score_of]
        out[k].append(Alias(topic.text, slug, anchor, topic.category, reason, jac,
                            tuple(item_ids[i] for i in on_page), tuple(round(score_of[i], 4) for i in on_page)))
    return [tuple(a) for a in out]
