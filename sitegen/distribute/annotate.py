"""annotate: each item's best queries, as links from the item page to 3-5 collection pages.

Candidates for an item, best first:
1. the collections it is a member of (by its relevance score there);
2. collections whose topic is close to the item's embedding and that it is relevant to by the same scorer as
   ``collect`` (every catalog word of the topic evidenced, similarity high enough) - it would belong there but
   for the collection's size cap;
3. only to reach ``annotations_min``: the nearest remaining topics, by the same (now sub-threshold) score.

A topic that is an alias of a collection (a line on its page) is a candidate too, linked at its anchor
(``<slug>#<anchor>``), with the page's items relevant to it as its members: the query mix of an item's links
stays that of its queries though fewer topics have pages. An item page links one collection page at most
``PER_PAGE`` (2) times: the page and one of its lines, or two lines.

Then a greedy global pass balances the query categories of all published annotations towards the
``represent.mix`` (30 / 30 / 40 description / style / use_case by default): it repeatedly takes the most over-
and under-represented categories and applies the cheapest swaps, additions and removals (cost = the quality
given up), one per item per round, until every share is within ``TOLERANCE`` of its target or nothing can move.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from sitegen.aggregate.collect import Lexicon
from sitegen.aggregate.relevance import CatalogView, TopicEvidence, make_scorer
from sitegen.core import urls
from sitegen.core.config import CollectSection, LinkSection
from sitegen.core.models import QUERY_CATEGORIES, Collection, Item
from sitegen.core.text import item_text

TOLERANCE = 0.02  # aim well inside the +-5 points acceptance band
PER_PAGE = 2  # links from one item page to one collection page at most (the page and a line, or two lines)
NEIGHBOURS = 12  # nearest topics of each category considered per item, besides its memberships
_BLOCK = 4096
_MEMBER, _RELEVANT = 2.0, 1.0  # quality bonus by tier: quality = bonus + relevance score


def annotation_mix(annotations: dict[str, tuple[str, ...]], collections: Sequence[Collection]) -> dict[str, float]:
    """Share of each query category over all annotations (an alias line counts as its own topic's category)."""
    cat = {c.slug: c.category for c in collections}
    cat.update({urls.alias_key(c.slug, a.anchor): a.category for c in collections for a in c.aliases})
    counts = Counter(cat[s] for slugs in annotations.values() for s in slugs if s in cat)
    total = sum(counts.values())
    return {c: (counts[c] / total if total else 0.0) for c in QUERY_CATEGORIES}


def annotate(items: Sequence[Item], collections: Sequence[Collection], item_vectors: np.ndarray,
             topic_vectors_by_slug: dict[str, np.ndarray], cfg: LinkSection,
             mix: dict[str, float], collect: CollectSection | None = None,
             implies: Mapping[str, Sequence[str]] | None = None, fragments=None,
             model_dir: str | Path | None = None, embed=None) -> dict[str, tuple[str, ...]]:
    """item id -> its annotations (collection slugs), best first; ``annotations_min``..``annotations_max`` each
    when there are enough collections. ``collect`` is the site's collect section: its scorer and ``threshold``
    decide which nearby topics an item is relevant to (the defaults when omitted); ``implies`` and
    ``fragments``: the lexicon's occasion table and the catalog's title fragments, as collect read them
    (``Lexicon``); ``model_dir`` is the trained student's folder (``relevance.model``) for the ``student`` /
    ``auto`` scorer; ``embed`` the site's text embedder, for a scorer that needs more vectors."""
    if not collections or not items:
        return {item.id: () for item in items}
    collections, page_of = with_aliases(collections)
    cands = _candidates(items, collections, np.asarray(item_vectors, np.float32), topic_vectors_by_slug,
                        collect or CollectSection(), implies, fragments, model_dir, embed)
    return choose(items, collections, page_of, cands, cfg, mix)


def choose(items: Sequence[Item], collections: Sequence[Collection], page_of: np.ndarray,
           cands: list[list[tuple[int, float]]], cfg: LinkSection,
           mix: dict[str, float]) -> dict[str, tuple[str, ...]]:
    """Each item's annotations from its candidates (``[(target index, quality)]`` best first; quality >=
    ``_RELEVANT`` = relevant; targets and ``page_of`` from ``with_aliases``): the relevant ones up to
    ``annotations_max``, others only to reach ``annotations_min``, one page at most ``PER_PAGE`` times, then
    the query mix balanced. Shared by every annotator that ranks candidates."""
    cat_of = np.array([QUERY_CATEGORIES.index(c.category) for c in collections])
    lo, hi = cfg.annotations_min, cfg.annotations_max
    selected: list[list[int]] = []  # positions into each item's candidate list (sorted best first)
    for cl in cands:
        good: list[int] = []
        pages: Counter = Counter()
        for relevant, want in ((True, hi), (False, lo)):
            for p, (ci, q) in enumerate(cl):
                if len(good) >= want:
                    break
                if (q >= _RELEVANT) == relevant and pages[page_of[ci]] < PER_PAGE:
                    good.append(p)
                    pages[page_of[ci]] += 1
        selected.append(good)
    _balance(cands, selected, cat_of, page_of, mix, lo, hi)
    out = {}
    for item, cl, sel in zip(items, cands, selected):
        out[item.id] = tuple(collections[cl[p][0]].slug for p in sorted(sel))
    return out


def with_aliases(collections: Sequence[Collection]) -> tuple[list[Collection], np.ndarray]:
    """The collections, then one link target per alias line (slug ``<slug>#<anchor>``, its topic and category,
    the page's items relevant to it as members, with their relevance to it); and for each the index of the page
    it lands on."""
    targets, page_of = list(collections), list(range(len(collections)))
    for n, c in enumerate(collections):
        for a in c.aliases:
            targets.append(Collection(urls.alias_key(c.slug, a.anchor), a.topic, a.category, c.hub, a.item_ids,
                                      a.scores))
            page_of.append(n)
    return targets, np.asarray(page_of, np.int64)


def _candidates(items, collections, item_vectors, topic_vectors_by_slug,
                collect: CollectSection, implies=None, fragments=None, model_dir=None,
                embed=None) -> list[list[tuple[int, float]]]:
    """Per item: [(collection index, quality)] sorted by quality desc, then collection index."""
    n, c = len(items), len(collections)
    pos_of = {item.id: i for i, item in enumerate(items)}
    members: list[dict[int, float]] = [{} for _ in range(n)]
    for ci, coll in enumerate(collections):
        scores = coll.scores if len(coll.scores) == len(coll.item_ids) else (0.5,) * len(coll.item_ids)
        for item_id, s in zip(coll.item_ids, scores):
            i = pos_of.get(item_id)
            if i is not None:
                members[i][ci] = _MEMBER + float(s)

    dim = item_vectors.shape[1]
    topics = np.zeros((c, dim), np.float32)
    for ci, coll in enumerate(collections):
        v = topic_vectors_by_slug.get(coll.slug)
        if v is None:  # no topic vector: the centroid of its items
            idx = [pos_of[i] for i in coll.item_ids if i in pos_of]
            v = item_vectors[idx].mean(axis=0) if idx else np.zeros(dim, np.float32)
        topics[ci] = np.asarray(v, np.float32) / max(float(np.linalg.norm(v)), 1e-12)

    # the nearest topics of each category, so every category can offer candidates to the balancing pass
    cat_of = np.array([QUERY_CATEGORIES.index(coll.category) for coll in collections])
    parts, part_sims = [], []
    for q in range(len(QUERY_CATEGORIES)):
        sub = np.flatnonzero(cat_of == q)
        if not len(sub):
            continue
        kq = min(len(sub), NEIGHBOURS)
        idx = np.empty((n, kq), np.int64)
        val = np.empty((n, kq), np.float32)
        for start in range(0, n, _BLOCK):
            sims = item_vectors[start:start + _BLOCK] @ topics[sub].T
            top = (np.argpartition(-sims, kq - 1, axis=1)[:, :kq] if kq < len(sub)
                   else np.broadcast_to(np.arange(len(sub)), sims.shape))
            idx[start:start + _BLOCK] = sub[top]
            val[start:start + _BLOCK] = np.take_along_axis(sims, top, axis=1)
        parts.append(idx)
        part_sims.append(val)
    near = np.concatenate(parts, axis=1)
    near_sims = np.concatenate(part_sims, axis=1)
    k = near.shape[1]

    # relevance of each (item, nearby topic) pair, grouped by topic so each topic's words are looked up once
    lex = Lexicon(items, implies=implies, fragments=fragments)
    quality = np.zeros((n, k), np.float32)
    flat = near.ravel()
    order = np.argsort(flat, kind="stable")
    bounds = np.searchsorted(flat[order], np.arange(c + 1))
    threshold = collect.threshold
    scorer = make_scorer(collect, model_dir)
    scorer.prepare(CatalogView(items, [item_text(i) for i in items], item_vectors, lex, embed))
    for ci in range(c):
        pairs = order[bounds[ci]:bounds[ci + 1]]
        if not len(pairs):
            continue
        checked, free = lex.analyse(collections[ci].topic, collections[ci].category)
        rows = pairs // k
        r = scorer.score(TopicEvidence(near_sims.ravel()[pairs], lex.evidence(checked, rows), np.zeros(len(pairs)),
                                       len(checked), len(free), collections[ci].topic, collections[ci].category,
                                       rows, checked, free, topics[ci]))
        quality.ravel()[pairs] = np.where(r >= threshold, _RELEVANT + r, r)

    out = []
    for i in range(n):
        got = dict(members[i])
        for ci, q in zip(near[i].tolist(), quality[i].tolist()):
            if ci not in got:
                got[ci] = q
        out.append(sorted(got.items(), key=lambda kv: (-kv[1], kv[0])))
    return out


def _balance(cands, selected, cat_of, page_of, mix, lo, hi) -> None:
    """Greedy global balancing of the category shares of all selected annotations (in place); an item links one
    page at most ``PER_PAGE`` times (``page_of``: the page each candidate lands on)."""
    total_mix = sum(max(mix.get(c, 0.0), 0.0) for c in QUERY_CATEGORIES)
    if total_mix <= 0:
        return
    target = np.array([max(mix.get(c, 0.0), 0.0) / total_mix for c in QUERY_CATEGORIES])
    counts = np.zeros(len(QUERY_CATEGORIES))
    for cl, sel in zip(cands, selected):
        for p in sel:
            counts[cat_of[cl[p][0]]] += 1
    for _round in range(50):
        n = counts.sum()
        if n == 0:
            return
        dev = counts / n - target
        if np.abs(dev).max() <= TOLERANCE:
            return
        under = int(np.argmin(dev))
        applied = 0
        for over in sorted(np.flatnonzero(dev > TOLERANCE / 2).tolist(), key=lambda c: (-dev[c], c)):
            # the most over-represented category first; the next one when none of its links can move
            applied = _moves(cands, selected, cat_of, page_of, counts, target, over, under, lo, hi)
            if applied:
                break
        if not applied:
            return


def _moves(cands, selected, cat_of, page_of, counts, target, over: int, under: int, lo: int, hi: int) -> int:
    """One round of the cheapest moves from ``over`` to ``under`` (at most one per item); returns how many."""
    moves = []
    for i, (cl, sel) in enumerate(zip(cands, selected)):
        chosen = set(sel)
        linked = Counter(page_of[cl[p][0]] for p in sel)
        outs = [p for p in sel if cat_of[cl[p][0]] == over]
        ins = [p for p in range(len(cl)) if p not in chosen and cat_of[cl[p][0]] == under
               and cl[p][1] >= _RELEVANT]  # balancing never brings in a topic the item is not relevant to
        worst_out = min(outs, key=lambda p: (cl[p][1], -p)) if outs else None
        # candidates are sorted best first; one whose page is linked PER_PAGE times only replaces such a link
        add_in = next((p for p in ins if linked[page_of[cl[p][0]]] < PER_PAGE), None)
        swap_in = next((p for p in ins if linked[page_of[cl[p][0]]] < PER_PAGE or (
            worst_out is not None and page_of[cl[p][0]] == page_of[cl[worst_out][0]])), None)
        if worst_out is not None and swap_in is not None:
            moves.append((cl[worst_out][1] - cl[swap_in][1], i, "swap", worst_out, swap_in))
        if add_in is not None and len(sel) < hi:
            moves.append((_MEMBER - cl[add_in][1], i, "add", None, add_in))
        if worst_out is not None and len(sel) > lo:
            moves.append((cl[worst_out][1] - _RELEVANT, i, "drop", worst_out, None))
    moves.sort(key=lambda m: (m[0], m[1], m[2]))
    applied, done_items = 0, set()
    for _cost, i, kind, p_out, p_in in moves:
        if i in done_items:
            continue
        n = counts.sum()
        if counts[over] / n - target[over] <= TOLERANCE / 2 or counts[under] / n - target[under] >= -TOLERANCE / 2:
            break
        if p_out is not None:
            selected[i].remove(p_out)
            counts[over] -= 1
        if p_in is not None:
            selected[i].append(p_in)
            counts[under] += 1
        done_items.add(i)
        applied += 1
    return applied
