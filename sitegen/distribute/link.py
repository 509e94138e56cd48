"""link: related collections, hub and home listings, PageRank, and link shaping.

1. Each collection gets ``related_min``..``related_max`` related collections: its nearest topics by embedding,
   same hub first (up to ``related_max - 2`` of them, so a page also points out of its hub).
2. Each hub lists its collections, strongest first (strength = items x mean relevance score); the home page
   features ``home_collections`` strong collections, taken round-robin across hubs. With query rewards
   (``demand.steer``) the strength is multiplied by the reward ratio, and among a collection's near neighbours
   the related slots go to similarity x reward ratio first.
3. The link graph is exactly the page plan's (``plan.plan_site`` + ``plan.link_edges``: arrays, no graph object
   is built); PageRank is NetworkX's algorithm, weighted by the number of links between two pages, computed on a
   sparse matrix (``rank.py``: the same scores to 1e-9, a fraction of the time), as is the click depth from home.
4. Shaping: every collection whose PageRank is in the bottom quartile gets links from up to two strong
   (above-median) related collections, each of which may grow to ``related_max + 2`` related links; any page
   deeper than ``max_depth`` clicks from home, or with no link to it, is fixed where the structure allows (the
   collection, or one holding the item, is featured on the home page); what cannot be fixed is reported.
   With the page plan's structure (home -> every hub -> every collection of the hub and every hub page) every
   page is within 3 clicks already; the fixes matter for smaller ``max_depth`` or unusual plans.

Nothing is stored here; the orchestrator stores the returned site and report.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable, Sequence

import numpy as np

from sitegen.core import urls
from sitegen.core.config import LinkSection
from sitegen.core.models import Collection, RewardTable, Site
from sitegen.demand import steer
from sitegen.distribute.plan import link_edges, plan_site

RELATED_MIN_SIM = 0.3  # below this a neighbour is used only to reach related_min
DONORS = 2  # strong collections that link to each weak one
_NEIGHBOURS = 48
_BLOCK = 2048


def gini(values) -> float:
    """Gini coefficient of non-negative values: 0 = all equal, (n-1)/n = one holds everything."""
    x = np.sort(np.asarray(list(values), np.float64))
    if x.size == 0 or x.sum() <= 0:
        return 0.0
    cum = np.cumsum(x)
    return float((x.size + 1 - 2 * (cum / cum[-1]).sum()) / x.size)


def distribution(values) -> dict[str, float]:
    x = np.asarray(list(values), np.float64)
    if x.size == 0:
        return {"min": 0.0, "median": 0.0, "max": 0.0, "gini": 0.0}
    return {"min": float(x.min()), "median": float(np.median(x)), "max": float(x.max()), "gini": round(gini(x), 4)}


def strength(c: Collection) -> float:
    mean = float(np.mean(c.scores)) if c.scores else 1.0
    return len(c.item_ids) * mean


def _neighbours(collections: Sequence[Collection], vectors: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Top neighbours of each collection by topic cosine: (indices (C, m), sims (C, m)), best first."""
    c = len(collections)
    dims = {np.asarray(v).shape[-1] for v in vectors.values()}
    dim = dims.pop() if len(dims) == 1 else 1
    mat = np.zeros((c, dim), np.float32)
    for i, coll in enumerate(collections):
        v = vectors.get(coll.slug)
        if v is not None and np.asarray(v).shape[-1] == dim:
            mat[i] = np.asarray(v, np.float32) / max(float(np.linalg.norm(v)), 1e-12)
    m = min(c - 1, _NEIGHBOURS)
    if m <= 0:
        return np.zeros((c, 0), np.int64), np.zeros((c, 0), np.float32)
    idx = np.empty((c, m), np.int64)
    sims = np.empty((c, m), np.float32)
    for start in range(0, c, _BLOCK):
        block = mat[start:start + _BLOCK] @ mat.T
        rows = np.arange(block.shape[0])
        block[rows, rows + start] = -np.inf  # not its own neighbour
        top = np.argpartition(-block, m - 1, axis=1)[:, :m]
        top_sims = np.take_along_axis(block, top, axis=1)
        order = np.lexsort((top, -top_sims), axis=1)
        idx[start:start + _BLOCK] = np.take_along_axis(top, order, axis=1)
        sims[start:start + _BLOCK] = np.take_along_axis(top_sims, order, axis=1)
    return idx, sims


def steer_neighbours(cands: list[tuple[int, float]], ratios: Sequence[float], pool: int) -> list[tuple[int, float]]:
    """Rewarded neighbours first: the ``pool`` nearest neighbours similar enough to be related
    (>= ``RELATED_MIN_SIM``) reordered by similarity x reward ratio, then the rest in similarity order."""
    close = [c for c in cands if c[1] >= RELATED_MIN_SIM][:pool]
    chosen = {j for j, _ in close}
    close.sort(key=lambda c: (-steer.steered(c[1], ratios[c[0]]), -c[1], c[0]))
    return close + [c for c in cands if c[0] not in chosen]


def _related(collections, near, near_sims, cfg: LinkSection,
             ratios: Sequence[float] | None = None) -> list[tuple[str, ...]]:
    out = []
    for i, coll in enumerate(collections):
        cands = [(int(j), float(s)) for j, s in zip(near[i], near_sims[i])]
        if ratios is not None:
            cands = steer_neighbours(cands, ratios, 2 * cfg.related_max)
        same = [j for j, s in cands if s >= RELATED_MIN_SIM and collections[j].hub == coll.hub]
        picked = same[:max(cfg.related_max - 2, 0)]
        for j, s in cands:  # then the nearest from anywhere
            if len(picked) >= cfg.related_max:
                break
            if j not in picked and s >= RELATED_MIN_SIM:
                picked.append(j)
        for j, _ in cands:  # only to reach related_min
            if len(picked) >= cfg.related_min:
                break
            if j not in picked:
                picked.append(j)
        out.append(tuple(collections[j].slug for j in picked))
    return out


def hub_listings(collections: Sequence[Collection],
                 weight: Callable[[Collection], float] = strength) -> dict[str, list[Collection]]:
    """hub name -> its collections, strongest first (``weight``: strength, or the steered strength)."""
    by_hub: dict[str, list[Collection]] = {}
    for c in sorted(collections, key=lambda c: (-weight(c), c.slug)):
        by_hub.setdefault(c.hub, []).append(c)
    return by_hub


def _featured(collections: Sequence[Collection], count: int,
              weight: Callable[[Collection], float] = strength) -> tuple[str, ...]:
    by_hub = hub_listings(collections, weight)
    hubs = sorted(by_hub, key=lambda h: (-weight(by_hub[h][0]), h))
    out: list[str] = []
    depth = 0
    while len(out) < count and any(len(v) > depth for v in by_hub.values()):
        for h in hubs:
            if len(out) < count and len(by_hub[h]) > depth:
                out.append(by_hub[h][depth].slug)
        depth += 1
    return tuple(out)


def _measure(site: Site, hub_page_size: int):
    from sitegen.distribute.rank import measure

    plan = plan_site(site, hub_page_size=hub_page_size)
    graph = link_edges(plan)
    pagerank, depth = measure(graph, urls.home_url())
    return plan, graph, pagerank, depth


def shape_links(site: Site, topic_vectors_by_slug: dict[str, np.ndarray], cfg: LinkSection, *,
                hub_page_size: int, rewards: RewardTable | None = None) -> tuple[Site, dict]:
    """Fill related collections, hub listings and the featured collections, measure PageRank, shape the links.
    Returns the new site (with ``pagerank``: URL path -> score) and a report. ``rewards``
    (``demand.steer.steering``; None = off) steers the hub order, featured and related slots; the report's
    ``steering`` then says what it changed against the unsteered choice."""
    t0 = time.perf_counter()
    collections = list(site.collections)
    near, near_sims = _neighbours(collections, topic_vectors_by_slug) if collections else (None, None)
    ratios = steer.collection_ratios(rewards, collections) if rewards is not None else None
    weight = strength
    if ratios is not None:
        ratio_of = {c.slug: r for c, r in zip(collections, ratios)}

        def weight(c: Collection) -> float:
            return steer.steered(strength(c), ratio_of[c.slug])

    steering: dict = {}
    if collections:
        related = _related(collections, near, near_sims, cfg, ratios)
        if ratios is not None:
            steering = _steering(collections, related, _related(collections, near, near_sims, cfg), weight,
                                 cfg.home_collections, ratios)
        collections = [replace(c, related=r) for c, r in zip(collections, related)]
    by_hub = hub_listings(collections, weight)
    hubs = [replace(h, collection_slugs=tuple(c.slug for c in by_hub.get(h.name, ()))) for h in site.hubs]
    site = replace(site, collections=collections, hubs=hubs,
                   featured=_featured(collections, cfg.home_collections, weight))

    plan, graph, pr_before, depth = _measure(site, hub_page_size)
    before = {"orphans": _orphans(graph), "deep": sum(1 for p in graph if depth.get(p, 1 << 30) > cfg.max_depth)}
    added = {"related": 0, "featured": 0}

    # weak collections get links from strong related ones
    weak: list[int] = []
    if len(collections) > 1:
        score = np.array([pr_before[urls.collection_url(c.slug)] for c in collections])
        q1, median = np.quantile(score, 0.25), np.median(score)
        weak = sorted(np.flatnonzero(score < q1).tolist(), key=lambda i: (score[i], i))
        strong = score >= median
        rel = [list(c.related) for c in collections]
        for w in weak:
            got = 0
            for j in near[w].tolist():
                if got >= DONORS:
                    break
                if strong[j] and collections[w].slug not in rel[j] and len(rel[j]) < cfg.related_max + 2:
                    rel[j].append(collections[w].slug)
                    got += 1
                    added["related"] += 1
        collections = [replace(c, related=tuple(r)) if len(r) != len(c.related) else c
                       for c, r in zip(collections, rel)]
        site = replace(site, collections=collections)

    # depth and orphans: fix what the structure allows, measuring again after each change
    if added["related"]:
        plan, graph, pagerank, depth = _measure(site, hub_page_size)
    else:
        pagerank = pr_before
    unfixable: list[str] = []
    for _round in range(3):
        bad = [p for p in plan.pages if p.path != urls.home_url()
               and (depth.get(p.path, 1 << 30) > cfg.max_depth or graph.in_degree(p.path) == 0)]
        if not bad:
            break
        site, fixed, unfixable = _fix(site, bad, depth, cfg, added)
        if not fixed:
            break
        plan, graph, pagerank, depth = _measure(site, hub_page_size)
    orphans = _orphans(graph)
    deep = sorted(p for p in graph if depth.get(p, 1 << 30) > cfg.max_depth)
    by_depth: dict[str, int] = {}
    for p in graph:
        d = depth.get(p)
        key = str(d) if d is not None else "unreachable"
        by_depth[key] = by_depth.get(key, 0) + 1
    report = {
        "pages": graph.number_of_nodes(), "links": graph.links,
        "pagerank_before": distribution(pr_before.values()), "pagerank_after": distribution(pagerank.values()),
        "collection_pagerank_before": distribution(pr_before[urls.collection_url(c.slug)] for c in collections),
        "collection_pagerank_after": distribution(pagerank[urls.collection_url(c.slug)] for c in collections),
        "weak_collections": len(weak), "links_added": added, "orphans_before": len(before["orphans"]),
        "deep_before": before["deep"], "orphans": orphans, "too_deep": deep[:100], "too_deep_count": len(deep),
        "max_depth": max((d for d in depth.values()), default=0),
        "pages_by_depth": dict(sorted(by_depth.items(), key=lambda kv: (kv[0] == "unreachable", kv[0].zfill(4)))),
        "unfixable": sorted(set(unfixable))[:100], "seconds": round(time.perf_counter() - t0, 3),
    }
    if steering:
        report["steering"] = steering
    return replace(site, pagerank={p: float(s) for p, s in sorted(pagerank.items())}), report


def _steering(collections: Sequence[Collection], related: list[tuple[str, ...]], plain: list[tuple[str, ...]],
              weight: Callable[[Collection], float], home: int, ratios: Sequence[float], limit: int = 200) -> dict:
    """What the rewards changed in the link structure, against the unsteered choice: moves within hub pages,
    featured collections gained and lost, related links added and removed."""
    topic = {c.slug: c.topic for c in collections}
    ratio_of = {c.slug: round(r, 3) for c, r in zip(collections, ratios)}
    before, after = hub_listings(collections), hub_listings(collections, weight)
    hub_moves = [{"hub": hub, "topic": topic[slug], "path": urls.collection_url(slug), "before": b, "after": a,
                  "ratio": ratio_of[slug]}
                 for hub in sorted(after) for slug, b, a in steer.moves([c.slug for c in before[hub]],
                                                                        [c.slug for c in after[hub]])]
    gained, lost = steer.gained_lost(_featured(collections, home), _featured(collections, home, weight))
    links = []
    for c, new, old in zip(collections, related, plain):
        added, removed = steer.gained_lost(old, new)
        if added or removed:
            links.append({"topic": c.topic, "path": urls.collection_url(c.slug),
                          "added": [{"topic": topic[s], "path": urls.collection_url(s), "ratio": ratio_of[s]}
                                    for s in added],
                          "removed": [{"topic": topic[s], "path": urls.collection_url(s), "ratio": ratio_of[s]}
                                      for s in removed]})
    return {"hub_moves": hub_moves[:limit], "hub_moves_total": len(hub_moves),
            "featured_gained": [{"topic": topic[s], "path": urls.collection_url(s), "ratio": ratio_of[s]}
                                for s in gained],
            "featured_lost": [{"topic": topic[s], "path": urls.collection_url(s), "ratio": ratio_of[s]}
                              for s in lost],
            "related": links[:limit], "related_total": len(links)}


def _orphans(graph) -> list[str]:
    return sorted(p for p in graph if p != urls.home_url() and graph.in_degree(p) == 0)


def _fix(site: Site, bad, depth, cfg: LinkSection, added: dict) -> tuple[Site, int, list[str]]:
    """Bring deep or unlinked pages within ``max_depth``: a collection (or a collection holding a deep item) is
    featured on the home page when its hub page cannot bring it close enough (at most twice
    ``home_collections`` featured in all). Items in no collection cannot be moved closer without pushing
    others away (hub pages are in a fixed order): they are reported."""
    far = 1 << 30
    featured = list(site.featured)
    colls = site.collection_by_slug()
    containing: dict[str, list[str]] = {}
    for c in sorted(site.collections, key=lambda c: (-strength(c), c.slug)):
        for i in c.item_ids:
            containing.setdefault(i, []).append(c.slug)
    fixed, unfixable = 0, []

    def reach(slug: str, need: int) -> bool:
        if depth.get(urls.collection_url(slug), far) <= need or slug in featured:
            return True
        if need >= 1 and len(featured) < 2 * cfg.home_collections:
            featured.append(slug)
            added["featured"] += 1
            return True
        return False

    for page in bad:
        if page.kind == "collection" and page.key in colls:
            ok = reach(page.key, cfg.max_depth - 1) or reach(page.key, cfg.max_depth)
        elif page.kind == "item":
            ok = any(reach(s, cfg.max_depth - 1) for s in containing.get(page.key, ()))
        else:
            ok = False
        if ok:
            fixed += 1
        else:
            unfixable.append(page.path)
    return replace(site, featured=tuple(featured)), fixed, unfixable
