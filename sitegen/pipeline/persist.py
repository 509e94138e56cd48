"""Persist this build's GEO result (queries, collections, links and PageRank) for the report and later stages."""

from __future__ import annotations

import json

from sitegen.core.models import Site
from sitegen.store.db import Store


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
