"""The collect stage: topics (from the configured topic sources) -> collections of relevant items."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from sitegen.core import urls
from sitegen.core.models import Collection, Item, Site
from sitegen.core.lexicon import lexicon_files
from sitegen.core.stage import Stage, StageContext
from sitegen.core.text import item_text
from sitegen.demand.steer import steering
from sitegen.distribute.plan import OTHER
from sitegen.engines.stage import Embedded, Indexed
from sitegen.represent.stage import Represented


@dataclass(frozen=True)
class Collected:
    collections: list[Collection]
    topic_vectors: dict[str, np.ndarray]  # collection slug (or alias key) -> its topic's vector
    steering: dict = field(default_factory=dict)  # what query rewards changed (``collect``'s stats["steering"])


@dataclass(frozen=True)
class TopicPlan:
    """The topics a site's collect scores, and what it reads them with."""

    topics: list  # Topic, heaviest first
    unfiled: list  # DroppedTopic: unknown hub, fragment, facet
    words: Any  # the site's lexicon (sitegen.core.lexicon.site_lexicon)
    fragments: Any  # the catalog's title fragments (sitegen.represent.fragments.learn_fragments)
    hub_of: Callable[[Item], str]


def plan_topics(cfg, items: Sequence[Item], queries, demand=None) -> TopicPlan:
    """The topics of the configured sources for ``items`` and their predicted ``queries``, gated (fragments,
    bare colours, unknown hubs): the same for the build and for the relevance loop's candidate pass.
    ``demand`` (``core.models.Demand``) carries the rewards and demanded topics the topic sources may read."""
    from sitegen.aggregate.topics import TopicRequest, gather_topics, topic_gate
    from sitegen.core.lexicon import site_lexicon
    from sitegen.represent.fragments import learn_fragments

    words = site_lexicon(cfg, [item_text(i) for i in items])
    fragments = learn_fragments(items, words)
    hub_names = {i.id: (i.category or OTHER) for i in items}

    def hub_of(item) -> str:
        return hub_names[item.id]

    from sitegen.core.models import Demand

    request = TopicRequest(items, queries, hub_of, frozenset(hub_names.values()), cfg, demand or Demand())
    topics, unfiled = gather_topics(request, cfg.collect.topic_sources, topic_gate(fragments, words))
    return TopicPlan(topics, unfiled, words, fragments, hub_of)


def collect(ctx: StageContext, site: Site, embed: Embedded, represent: Represented, index: Indexed) -> Collected:
    from sitegen.aggregate.collect import collect as run

    cfg, items = ctx.cfg, site.items
    plan = plan_topics(cfg, items, represent.queries, ctx.demand)
    topics = plan.topics
    ctx.counters["lexicons"] = " ".join(plan.words.names)
    vectors = ctx.embedder.encode([t.text for t in topics], progress=ctx.progress("topics"))
    collections, dropped, stats = run(topics, vectors, items, embed.item_vectors, index.index, cfg.collect,
                                      hub_of=plan.hub_of, item_text=item_text, progress=ctx.progress("collect"),
                                      implies=plan.words.implies, fragments=plan.fragments,
                                      model_dir=relevance_model(cfg), embed=ctx.embedder.encode,
                                      rewards=steering(ctx.demand.rewards if ctx.demand else None, cfg.reward.steer),
                                      owned=owned_slugs(ctx.store), evidence_items=embed.evidence_items(items))
    ctx.counters.update({f"collect_{k}": v for k, v in stats.items() if isinstance(v, (int, float))})
    ctx.record_dropped("topic", ((d.topic, d.reason, d.detail, "") for d in [*plan.unfiled, *dropped]))
    by_text = {t.text: v for t, v in zip(topics, vectors)}
    topic_vectors = {c.slug: by_text[c.topic] if c.topic in by_text else ctx.embedder.encode([c.topic])[0]
                     for c in collections}
    topic_vectors.update({urls.alias_key(c.slug, a.anchor): by_text[a.topic]
                          for c in collections for a in c.aliases if a.topic in by_text})
    ctx.counters["collections"] = len(collections)
    return Collected(list(collections), topic_vectors, stats.get("steering", {}))


def owned_slugs(store) -> dict[str, str]:
    """slug -> topic key of every collection URL published before, live or retired (``store.lifecycle``): they
    stay their topics'. The GEO result is reused only when nothing it reads changed, and a published result
    already respects these; the build checks it anyway (``pipeline.lifecycle``)."""
    lifecycle = getattr(store, "lifecycle", None)
    if lifecycle is None:
        return {}
    return {urls.collection_slug(path): key for path, key in lifecycle.owners().items() if urls.collection_slug(path)}


def relevance_model(cfg) -> Path:
    """The trained student's folder (``relevance.model``, relative to site.toml)."""
    return cfg.path(cfg.relevance.model)


def scorer_choice(cfg) -> list[tuple[str, str]]:
    """The scorer collect and annotate will use (``collect.scorer``, ``auto`` resolved)."""
    from sitegen.aggregate.relevance import scorer_name

    return [("scorer", scorer_name(cfg.collect.scorer, relevance_model(cfg)))]


def scorer_models(cfg) -> list[Path]:
    """The student's folder when the scorer may be the student: retraining it re-runs collect and annotate."""
    return [relevance_model(cfg)] if cfg.collect.scorer in ("auto", "student") else []


COLLECT = Stage("collect", collect, inputs=("site", "embed", "represent", "index"), output=Collected,
                settings=("collect", "embed", "represent.lexicons", "reward.steer"), data_files=lexicon_files,
                models=scorer_models,
                plugins=lambda cfg: [*scorer_choice(cfg),
                                     *[("topic_source", name) for name in cfg.collect.topic_sources]],
                doc="topics -> collections: ANN candidates, relevance, thin / duplicate gates, summaries")
