"""The represent stage: each item -> the search queries people would type to find it."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sitegen.core.models import Query, Site
from sitegen.core.lexicon import lexicon_files
from sitegen.core.stage import Stage, StageContext
from sitegen.core.text import item_text
from sitegen.engines.stage import Embedded


@dataclass(frozen=True)
class Represented:
    queries: list[Query]
    generator: str


def represent(ctx: StageContext, site: Site, embed: Embedded) -> Represented:
    """Every item's queries from the generator; with an image encoder on, weak-text items (``embed.weak``) get
    theirs from their image neighbours' queries instead (``represent.neighbours``)."""
    from sitegen.represent.postprocess import PostProcessor
    from sitegen.represent.run import make_generator, represent as run

    cfg = ctx.cfg
    weak = embed.weak if embed.weak is not None and embed.neighbours is not None else None
    by_text = site.items if weak is None else [it for it, w in zip(site.items, weak) if not w]
    generator = make_generator(cfg, ctx.embedder, site.items, ctx.store, item_text=item_text)
    try:
        post = PostProcessor(cfg.represent, ctx.embedder)
        queries, dropped, stats = run(by_text, generator, post, progress=ctx.progress("represent"))
    finally:
        generator.close()
    if weak is not None and weak.any():
        queries, dropped = _with_image_queries(site, embed, queries, dropped, post, stats)
    ctx.counters["generator"] = generator.name
    ctx.counters.update({f"generator_{k}": v for k, v in getattr(generator, "stats", {}).items()
                         if isinstance(v, (int, float))})
    ctx.counters.update({f"queries_{k}": v for k, v in stats.items()})
    ctx.record_dropped("query", ((d.text, d.reason, "", d.item_id) for d in dropped))
    return Represented(queries, generator.name)


def _with_image_queries(site: Site, embed: Embedded, queries: list[Query], dropped: list, post, stats: dict):
    """``queries`` plus the weak-text items' (from their image neighbours), in item order; ``stats`` counts them."""
    from sitegen.represent.neighbours import neighbour_candidates

    rows, nbrs, sims = embed.neighbours
    weak_items = [site.items[r] for r in rows.tolist()]
    cands = neighbour_candidates(site.items, rows, nbrs, sims, queries, embed.item_vectors, post.embedder.encode)
    more, more_dropped = post.process(weak_items, cands)
    per_item = {it.id: 0 for it in weak_items}
    for q in more:
        per_item[q.item_id] += 1
        stats[q.category] = stats.get(q.category, 0) + 1
    stats["items"] = stats.get("items", 0) + len(weak_items)
    stats["queries"] = stats.get("queries", 0) + len(more)
    stats["candidates"] = stats.get("candidates", 0) + sum(len(c) for c in cands)
    stats["dropped"] = stats.get("dropped", 0) + len(more_dropped)
    stats["items_short"] = stats.get("items_short", 0) + sum(1 for n in per_item.values() if n < post.cfg.min_queries)
    stats["items_empty"] = stats.get("items_empty", 0) + sum(1 for n in per_item.values() if n == 0)
    stats["from_image"] = len(more)
    for d in more_dropped:
        key = f"dropped_{d.reason}"
        if key in stats:
            stats[key] += 1
    order = {it.id: n for n, it in enumerate(site.items)}
    merged = sorted([*queries, *more], key=lambda q: order.get(q.item_id, len(order)))  # stable: per-item order kept
    return merged, [*dropped, *more_dropped]


def data_files(cfg) -> list[Path]:
    files = [Path(str(resources.files("sitegen.represent").joinpath("blocklist.txt"))), *lexicon_files(cfg)]
    if cfg.represent.console_export:
        files.append(cfg.path(cfg.represent.console_export))
    return files


def model_folders(cfg) -> list[Path]:
    return [cfg.path(v) for v in (cfg.embed.model, cfg.vlm.model, cfg.vlm.adapter) if v and cfg.path(v).exists()]


REPRESENT = Stage("represent", represent, inputs=("site", "embed"), output=Represented,
                  settings=("represent", "vlm", "embed"), data_files=data_files, models=model_folders,
                  plugins=lambda cfg: [("generator", cfg.represent.generator)],
                  doc="items -> description / style / use-case queries (30 / 30 / 40)")
