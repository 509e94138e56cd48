"""The annotate and link stages: items -> their collections; pages -> the link graph, shaped by PageRank."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from sitegen.aggregate.stage import Collected, relevance_model, scorer_choice, scorer_models
from sitegen.core.models import Collection, Item, Site
from sitegen.core.lexicon import lexicon_files
from sitegen.core.stage import Stage, StageContext
from sitegen.engines.stage import Embedded


@dataclass(frozen=True)
class Annotated:
    annotations: dict[str, tuple[str, ...]]  # item id -> collection slugs, best first


@dataclass(frozen=True)
class Linked:
    site: Site  # with collections, annotations, related links, hub listings, featured and PageRank
    report: dict


def similarity_annotator(items: Sequence[Item], collections: Sequence[Collection], item_vectors: np.ndarray,
                         topic_vectors: dict[str, np.ndarray], cfg, embed=None) -> dict[str, tuple[str, ...]]:
    """The built-in ``similarity`` annotator: each item's nearest collections that hold it, in the query mix."""
    from sitegen.core.lexicon import site_lexicon
    from sitegen.core.text import item_text
    from sitegen.distribute.annotate import annotate

    from sitegen.represent.fragments import learn_fragments

    words = site_lexicon(cfg, [item_text(i) for i in items])
    return annotate(items, collections, item_vectors, topic_vectors, cfg.link, cfg.represent.mix, cfg.collect,
                    implies=words.implies, fragments=learn_fragments(items, words), model_dir=relevance_model(cfg),
                    embed=embed)


def _takes(fn, name: str) -> bool:
    import inspect

    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def annotate(ctx: StageContext, site: Site, embed: Embedded, collect: Collected) -> Annotated:
    from sitegen.core import registry

    annotator = registry.get("annotator", ctx.cfg.link.annotator)
    # what an annotator may ask for by name: the site's embedder, the embed stage's output, the store
    offered = {"embed": ctx.embedder.encode, "embedded": embed, "store": ctx.store}
    extra = {k: v for k, v in offered.items() if _takes(annotator, k)}
    return Annotated(annotator(site.items, collect.collections, embed.item_vectors, collect.topic_vectors, ctx.cfg,
                               **extra))


def annotator_models(cfg) -> list:
    """The relevance student's folder (see ``scorer_models``), and the two-tower's when it annotates."""
    two_tower = [cfg.path(cfg.two_tower.model)] if cfg.link.annotator == "two_tower" else []
    return [*scorer_models(cfg), *two_tower]


def link(ctx: StageContext, site: Site, collect: Collected, annotate: Annotated) -> Linked:
    site = replace(site, collections=list(collect.collections), annotations=annotate.annotations)
    rewards = ctx.demand.rewards if ctx.demand is not None else None
    site, report = link_site(site, collect.topic_vectors, ctx.cfg, rewards, collect.steering)
    return Linked(site, report)


def link_site(site: Site, topic_vectors: dict[str, np.ndarray], cfg, rewards=None,
              collect_steering: dict | None = None) -> tuple[Site, dict]:
    """Related links, hub listings, featured collections and PageRank of ``site`` (``distribute.link``), steered
    by ``rewards`` when ``reward.steer`` is on; the link report, with ``reward`` (the reward table and what
    steering changed in collect and here) when there are rewards."""
    from sitegen.demand.steer import steering, table_summary
    from sitegen.distribute.link import shape_links
    from sitegen.core import urls

    site, report = shape_links(site, topic_vectors, cfg.link, hub_page_size=cfg.build.hub_page_size,
                               rewards=steering(rewards, cfg.reward.steer))
    changed = report.pop("steering", {})
    table = table_summary(rewards, {urls.collection_url(c.slug): c.topic for c in site.collections},
                          steering(rewards, cfg.reward.steer) is not None)
    if table:
        report["reward"] = {"table": table, "collect": dict(collect_steering or {}), "link": changed}
    return site, report


ANNOTATE = Stage("annotate", annotate, inputs=("site", "embed", "collect"), output=Annotated,
                 settings=("link", "represent.mix", "collect", "two_tower.model"), data_files=lexicon_files,
                 models=annotator_models,
                 plugins=lambda cfg: [("annotator", cfg.link.annotator), *scorer_choice(cfg)],
                 doc="items -> their best 3-5 collections in the 30 / 30 / 40 mix")
LINK = Stage("link", link, inputs=("site", "collect", "annotate"), output=Linked,
             settings=("link", "build.hub_page_size", "reward.steer"),
             doc="related collections, hub listings, featured collections; PageRank and link shaping")
