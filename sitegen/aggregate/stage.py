"""The collect stage: topics (from the configured topic sources) -> collections of relevant items."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sitegen.core import urls
from sitegen.core.models import Collection, Site
from sitegen.core.lexicon import lexicon_files
from sitegen.core.stage import Stage, StageContext
from sitegen.core.text import item_text
from sitegen.distribute.plan import OTHER
from sitegen.engines.stage import Embedded, Indexed
from sitegen.represent.stage import Represented


@dataclass(frozen=True)
class Collected:
    collections: list[Collection]
    topic_vectors: dict[str, np.ndarray]  # collection slug (or alias key) -> its topic's vector


def collect(ctx: StageContext, site: Site, embed: Embedded, represent: Represented, index: Indexed) -> Collected:
    from sitegen.aggregate.collect import collect as run
    from sitegen.aggregate.topics import TopicRequest, gather_topics

    cfg, items = ctx.cfg, site.items
    hub_names = {i.id: (i.category or OTHER) for i in items}

    def hub_of(item) -> str:
        return hub_names[item.id]

    request = TopicRequest(items, represent.queries, hub_of, frozenset(hub_names.values()), cfg)
    topics, unfiled = gather_topics(request, cfg.collect.topic_sources)
    vectors = ctx.embedder.encode([t.text for t in topics], progress=ctx.progress("topics"))
    collections, dropped, stats = run(topics, vectors, items, embed.item_vectors, index.index, cfg.collect,
                                      hub_of=hub_of, item_text=item_text, progress=ctx.progress("collect"))
    ctx.counters.update({f"collect_{k}": v for k, v in stats.items() if isinstance(v, (int, float))})
    ctx.record_dropped("topic", ((d.topic, d.reason, d.detail, "") for d in [*unfiled, *dropped]))
    by_text = {t.text: v for t, v in zip(topics, vectors)}
    topic_vectors = {c.slug: by_text[c.topic] if c.topic in by_text else ctx.embedder.encode([c.topic])[0]
                     for c in collections}
    topic_vectors.update({urls.alias_key(c.slug, a.anchor): by_text[a.topic]
                          for c in collections for a in c.aliases if a.topic in by_text})
    ctx.counters["collections"] = len(collections)
    return Collected(list(collections), topic_vectors)


COLLECT = Stage("collect", collect, inputs=("site", "embed", "represent", "index"), output=Collected,
                settings=("collect", "embed", "represent.lexicons"), data_files=lexicon_files,
                plugins=lambda cfg: [("scorer", cfg.collect.scorer),
                                     *[("topic_source", name) for name in cfg.collect.topic_sources]],
                doc="topics -> collections: ANN candidates, relevance, thin / duplicate gates, summaries")
