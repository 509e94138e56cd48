"""The one GEO pipeline: embed -> represent -> index -> collect -> annotate -> link.

``run_geo`` is what ``sitegen build``, ``sitegen eval`` and the benchmarks run. Its result is cached in the
store under a key derived from the stages' own declarations (``core/stage.py``): the items, the text pages, and
for every stage the settings, data files, model folders, chosen plugins and source code it depends on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Callable, ContextManager, Sequence

from sitegen.aggregate.stage import COLLECT
from sitegen.core.models import Demand, Query, Site
from sitegen.core.stage import Stage, StageContext, StageResults
from sitegen.distribute.stage import ANNOTATE, LINK
from sitegen.engines.stage import EMBED, INDEX
from sitegen.pipeline import cache
from sitegen.represent.stage import REPRESENT

GEO_STAGES: tuple[Stage, ...] = (EMBED, REPRESENT, INDEX, COLLECT, ANNOTATE, LINK)


@dataclass
class GeoResult:
    site: Site  # with collections, annotations, related links, hub listings, featured and PageRank
    link_report: dict
    key: str
    reused: bool  # read back from the store: no stage ran
    counters: dict = field(default_factory=dict)
    queries: list[Query] | None = None  # None when reused
    outputs: StageResults | None = None  # every stage's typed output; None when reused
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> reason -> count; empty when reused


def geo_key(cfg, site: Site, stages: Sequence[Stage] = GEO_STAGES, demand: Demand | None = None) -> str:
    """The cache key of the GEO result: the items (pixel colours and slugs included), the text pages (part of
    the link graph), each stage's declared dependencies, in pipeline order, and the demand (rewards, demanded
    topics) when there is any."""
    h = hashlib.sha256()
    if demand is not None and demand.key():
        h.update(f"demand:{demand.key()}\n".encode())
    for stage in stages:
        h.update(f"{stage.name}:{stage.key(cfg)}\n".encode())
    h.update(json.dumps([p.slug for p in site.pages]).encode())
    for item in site.items:
        h.update(json.dumps(asdict(item), sort_keys=True, default=str).encode())
    return h.hexdigest()[:32]


def run_geo(cfg, store, site: Site, *, run_id: int | None = None,
            progress: Callable[[str], Callable[[int, int], None] | None] | None = None,
            timer: Callable[[str], ContextManager] | None = None, reuse: bool = True,
            stages: Sequence[Stage] = GEO_STAGES, demand: Demand | None = None) -> GeoResult:
    """Run the GEO stages on ``site`` (items, hubs and text pages) with the configured runner, or read their
    result back from the store when nothing they depend on changed (``reuse``). ``demand``: the rewards and
    demanded topics of the demand loop (``sitegen.demand``), given to the stages as ``StageContext.demand``."""
    key = geo_key(cfg, site, stages, demand)
    if reuse:
        cached = cache.load(store, key, site)
        if cached is not None:
            reused_site, link_report, counters = cached
            return GeoResult(reused_site, link_report, key, True, dict(counters))
    ctx, results = run_stages(cfg, store, site, stages, run_id=run_id, progress=progress, timer=timer,
                              demand=demand)
    linked = results.values[stages[-1].name]
    stats = ctx.embedder_stats
    if stats:
        ctx.counters["texts_embedded"] = stats.get("embedded", 0)
        ctx.counters["texts_cached"] = stats.get("cached", 0)
    kept = {k: v for k, v in ctx.counters.items() if not k.startswith("texts_")}
    cache.save(store, key, linked.site, linked.report, kept)
    queries = results.values["represent"].queries if "represent" in results.values else []
    return GeoResult(linked.site, linked.report, key, False, dict(ctx.counters), queries, results, ctx.dropped)


def run_stages(cfg, store, site: Site, stages: Sequence[Stage], *, run_id: int | None = None,
               progress: Callable[[str], Callable[[int, int], None] | None] | None = None,
               timer: Callable[[str], ContextManager] | None = None,
               demand: Demand | None = None) -> tuple[StageContext, StageResults]:
    """Run ``stages`` (a prefix of the GEO stages, or all) on ``site`` with the configured runner, uncached;
    the context (embedder, counters) and every stage's output."""
    from sitegen.core import registry

    ctx = StageContext(cfg, store, run_id, progress or (lambda _name: None), demand=demand or Demand())
    runner = registry.get("runner", cfg.runner.kind)()
    return ctx, runner.run(stages, ctx, StageResults({"site": site}), timer)
