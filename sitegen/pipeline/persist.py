"""Persist this build's GEO result (queries, collections, links and PageRank) for the report and later stages."""

from __future__ import annotations

from sitegen.core.models import Site
from sitegen.store.db import Store


def store_geo(store: Store, plan, site: Site, queries) -> None:
    """``queries`` None: the GEO result was reused, the stored queries are this build's already."""
    store.geo.replace_collections(site.collections, queries)
    store.geo.replace_links([(p.path, target, role) for p in plan.pages for target, role in plan.links(p)],
                            site.pagerank or {})
