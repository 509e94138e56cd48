"""The represent stage: each item -> the search queries people would type to find it."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sitegen.core.models import Query, Site
from sitegen.core.lexicon import lexicon_files
from sitegen.core.stage import Stage, StageContext
from sitegen.core.text import item_text


@dataclass(frozen=True)
class Represented:
    queries: list[Query]
    generator: str


def represent(ctx: StageContext, site: Site) -> Represented:
    from sitegen.represent.postprocess import PostProcessor
    from sitegen.represent.run import make_generator, represent as run

    cfg = ctx.cfg
    generator = make_generator(cfg, ctx.embedder, site.items, ctx.store, item_text=item_text)
    try:
        post = PostProcessor(cfg.represent, ctx.embedder)
        queries, dropped, stats = run(site.items, generator, post, progress=ctx.progress("represent"))
    finally:
        generator.close()
    ctx.counters["generator"] = generator.name
    ctx.counters.update({f"generator_{k}": v for k, v in getattr(generator, "stats", {}).items()
                         if isinstance(v, (int, float))})
    ctx.counters.update({f"queries_{k}": v for k, v in stats.items()})
    ctx.record_dropped("query", ((d.text, d.reason, "", d.item_id) for d in dropped))
    return Represented(queries, generator.name)


def data_files(cfg) -> list[Path]:
    files = [Path(str(resources.files("sitegen.represent").joinpath("blocklist.txt"))), *lexicon_files(cfg)]
    if cfg.represent.console_export:
        files.append(cfg.path(cfg.represent.console_export))
    return files


def model_folders(cfg) -> list[Path]:
    return [cfg.path(v) for v in (cfg.embed.model, cfg.vlm.model, cfg.vlm.adapter) if v and cfg.path(v).exists()]


REPRESENT = Stage("represent", represent, inputs=("site",), output=Represented,
                  settings=("represent", "vlm", "embed"), data_files=data_files, models=model_folders,
                  plugins=lambda cfg: [("generator", cfg.represent.generator)],
                  doc="items -> description / style / use-case queries (30 / 30 / 40)")
