"""The GEO stages: embed -> represent -> index -> collect -> annotate."""

from __future__ import annotations

import hashlib
import json
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
        store.record_dropped(run_id, "query", ((d.text, d.reason, "", d.item_id) for d in dropped))

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
        store.record_dropped(run_id, "topic", ((d.topic, d.reason, d.detail, "") for d in dropped_topics))
        by_text = {t.text: v for t, v in zip(topics, topic_vecs)}
        topic_vectors = {c.slug: by_text[c.topic] if c.topic in by_text else embedder.encode([c.topic])[0]
                         for c in collections}

    with timer("annotate"):
        annotations = annotate(items, collections, item_vectors, topic_vectors, cfg.link, cfg.represent.mix,
                               cfg.collect)

    summary.counters["texts_embedded"] = embedder.stats.get("embedded", 0)
    summary.counters["texts_cached"] = embedder.stats.get("cached", 0)
    summary.counters["collections"] = len(collections)
    return replace(site, collections=list(collections), annotations=annotations), topic_vectors, queries


def store_geo(store: Store, plan, site: Site, queries) -> None:
    """Queries, collections, links and PageRank of this build, for the report and later stages."""
    _store_collections(store, site.collections, queries)
    rows = [(p.path, target, role) for p in plan.pages for target, role in plan.links(p)]
    with store.transaction():
        store.con.execute("DELETE FROM links")
        store.con.execute("DELETE FROM pagerank")
        if rows:
            store._bulk_insert("links", ["src", "dst", "kind"], [list(c) for c in zip(*rows)])
        if site.pagerank:
            paths = sorted(site.pagerank)
            store._bulk_insert("pagerank", ["path", "phase", "score"],
                               [paths, ["final"] * len(paths), [float(site.pagerank[p]) for p in paths]])


def _store_collections(store: Store, collections, queries) -> None:
    with store.transaction():
        store.con.execute("DELETE FROM collections")
        store.con.execute("DELETE FROM queries")
        if collections:
            cols = [[c.slug for c in collections], [c.topic for c in collections], [c.category for c in collections],
                    [c.hub for c in collections], [json.dumps(c.item_ids) for c in collections],
                    [json.dumps([round(s, 4) for s in c.scores]) for c in collections],
                    [json.dumps(c.related) for c in collections], [c.summary for c in collections]]
            store._bulk_insert("collections", ["slug", "topic", "category", "hub", "item_ids", "scores", "related",
                                               "summary"], cols)
        if queries:
            store._bulk_insert("queries", ["item_id", "text", "category", "source", "score", "lang"],
                               [[q.item_id for q in queries], [q.text for q in queries], [q.category for q in queries],
                                [q.source for q in queries], [float(q.score) for q in queries],
                                [q.lang for q in queries]])
