"""The GEO stages: embed -> represent -> index -> collect -> annotate."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, replace

from sitegen.core.models import Item, Site
from sitegen.core.text import item_text
from sitegen.distribute.plan import OTHER
from sitegen.store.db import Store


def geo_stages(cfg, store, run_id, site: Site, timer, summary, progress):
    """represent -> embed -> index -> collect -> annotate. Returns the site with collections and
    annotations, the topic vectors of the published collections, and the queries."""
    from sitegen.distribute.annotate import annotate
    from sitegen.aggregate.collect import collect, make_topics
    from sitegen.engines.embed import Embedder
    from sitegen.engines.index import load_or_build
    from sitegen.represent.postprocess import PostProcessor
    from sitegen.represent.run import make_generator, represent

    items = site.items
    embedder = Embedder(cfg.embed.model, batch_size=cfg.embed.batch_size, device=cfg.embed.device, store=store)
    hub_names = {i.id: (i.category or OTHER) for i in items}

    def hub_of(item: Item) -> str:
        return hub_names[item.id]

    with timer("embed"):
        item_vectors = embedder.encode([item_text(i) for i in items], progress=progress("embed"))

    with timer("represent"):
        generator = make_generator(cfg, embedder, items, store, item_text=item_text)
        try:
            post = PostProcessor(cfg.represent, embedder)
            queries, dropped, qstats = represent(items, generator, post, progress=progress("represent"))
        finally:
            generator.close()
        summary.counters["generator"] = generator.name
        summary.counters.update({f"generator_{k}": v for k, v in getattr(generator, "stats", {}).items()
                                 if isinstance(v, (int, float))})
        summary.counters.update({f"queries_{k}": v for k, v in qstats.items()})
        store.geo.record_dropped(run_id, "query", ((d.text, d.reason, "", d.item_id) for d in dropped))

    with timer("index"):
        fingerprint = hashlib.sha256(item_vectors.tobytes() + repr(asdict(cfg.index)).encode()).hexdigest()[:24]
        index, rebuilt = load_or_build(item_vectors, cfg.index, cfg.store_path.parent / "index", fingerprint)
        summary.counters["index_rebuilt"] = int(rebuilt)
        summary.counters["index_backend"] = index.backend

    with timer("collect"):
        topics = make_topics(items, queries, hub_of)
        topic_vecs = embedder.encode([t.text for t in topics], progress=progress("topics"))
        collections, dropped_topics, cstats = collect(topics, topic_vecs, items, item_vectors, index, cfg.collect,
                                                      hub_of=hub_of, item_text=item_text,
                                                      progress=progress("collect"))
        summary.counters.update({f"collect_{k}": v for k, v in cstats.items() if isinstance(v, (int, float))})
        store.geo.record_dropped(run_id, "topic", ((d.topic, d.reason, d.detail, "") for d in dropped_topics))
        by_text = {t.text: v for t, v in zip(topics, topic_vecs)}
        topic_vectors = {c.slug: by_text[c.topic] if c.topic in by_text else embedder.encode([c.topic])[0]
                         for c in collections}

    with timer("annotate"):
        annotations = annotate(items, collections, item_vectors, topic_vectors, cfg.link, cfg.represent.mix)

    summary.counters["texts_embedded"] = embedder.stats.get("embedded", 0)
    summary.counters["texts_cached"] = embedder.stats.get("cached", 0)
    summary.counters["collections"] = len(collections)
    return replace(site, collections=list(collections), annotations=annotations), topic_vectors, queries


def store_geo(store: Store, plan, site: Site, queries) -> None:
    """Queries, collections, links and PageRank of this build, for the report and later stages."""
    store.geo.replace_collections(site.collections, queries)
    store.geo.replace_links([(p.path, target, role) for p in plan.pages for target, role in plan.links(p)],
                            site.pagerank or {})
