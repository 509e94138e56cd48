"""link: related collections, hub listings, featured collections, PageRank and shaping on a synthetic site."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from sitegen.core import urls
from sitegen.core.config import LinkSection
from sitegen.distribute.link import gini, shape_links
from sitegen.core.models import Collection, Hub, Item, Site
from sitegen.distribute.plan import link_graph, plan_site


def synthetic_site(n_items=300, n_hubs=3, n_collections=24, seed=0):
    rng = np.random.default_rng(seed)
    items = [Item(id=f"i{n}", title=f"Thing {n}", image="", image_sha="", width=1, height=1,
                  category=f"Hub {n % n_hubs}", slug=f"thing-{n}") for n in range(n_items)]
    hubs = [Hub(slug=f"hub-{h}", name=f"Hub {h}", item_ids=tuple(i.id for i in items if i.category == f"Hub {h}"))
            for h in range(n_hubs)]
    collections, vectors = [], {}
    for c in range(n_collections):
        size = 40 if c < n_collections // 3 else 6  # a few big, many small (weak) collections
        members = rng.choice(n_items, size, replace=False)
        slug = f"topic-{c}"
        collections.append(Collection(slug=slug, topic=f"topic {c}", category="style", hub=f"Hub {c % n_hubs}",
                                      item_ids=tuple(f"i{m}" for m in sorted(members)),
                                      scores=tuple([0.8] * size)))
        vectors[slug] = rng.standard_normal(16).astype(np.float32)
    return Site(items=items, hubs=hubs, pages=[], collections=collections), vectors


def test_gini():
    assert gini([1, 1, 1, 1]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert gini([]) == 0.0 and gini([0, 0]) == 0.0
    assert 0 < gini([1, 2, 3, 10]) < 1


def test_shaping_no_orphans_depth_and_related():
    site, vectors = synthetic_site()
    cfg = LinkSection()
    shaped, report = shape_links(site, vectors, cfg, hub_page_size=20)
    assert report["orphans"] == [] and report["too_deep_count"] == 0
    assert report["max_depth"] <= cfg.max_depth
    assert report["weak_collections"] > 0 and report["links_added"]["related"] > 0
    for c in shaped.collections:
        assert cfg.related_min <= len(c.related) <= cfg.related_max + 2
        assert c.slug not in c.related and len(set(c.related)) == len(c.related)
    # what the report says is what the plan's graph shows
    graph = link_graph(plan_site(shaped, hub_page_size=20))
    depth = nx.single_source_shortest_path_length(graph, "/")
    assert len(depth) == graph.number_of_nodes() and max(depth.values()) <= 3
    assert all(graph.in_degree(p) > 0 for p in graph if p != "/")
    assert set(shaped.pagerank) == set(graph) and sum(shaped.pagerank.values()) == pytest.approx(1.0)
    for key in ("pagerank_before", "pagerank_after"):
        assert set(report[key]) == {"min", "median", "max", "gini"}
    assert sum(report["pages_by_depth"].values()) == report["pages"]


def test_weak_collections_gain_pagerank():
    site, vectors = synthetic_site(seed=1)
    _, report = shape_links(site, vectors, LinkSection(), hub_page_size=20)
    assert report["collection_pagerank_after"]["min"] > report["collection_pagerank_before"]["min"]


def test_hubs_and_featured():
    site, vectors = synthetic_site()
    cfg = LinkSection(home_collections=6)
    shaped, _ = shape_links(site, vectors, cfg, hub_page_size=20)
    for hub in shaped.hubs:
        listed = [c for c in shaped.collections if c.hub == hub.name]
        assert set(hub.collection_slugs) == {c.slug for c in listed}
        sizes = [len(shaped.collection_by_slug()[s].item_ids) for s in hub.collection_slugs]
        assert sizes == sorted(sizes, reverse=True)
    assert len(shaped.featured) == 6
    hubs_featured = {shaped.collection_by_slug()[s].hub for s in shaped.featured}
    assert len(hubs_featured) == 3  # spread across hubs


def test_deep_items_are_brought_within_reach():
    # max_depth 2: items on hub pages are 2 (page 1) or 3 (page N) clicks away; shaping features the
    # collections holding deep items; deep items in no collection cannot be helped and are reported.
    site, vectors = synthetic_site(n_items=120, n_hubs=1, n_collections=6)
    cfg = LinkSection(max_depth=2, related_min=2, related_max=3, home_collections=3)
    shaped, report = shape_links(site, vectors, cfg, hub_page_size=10)
    assert report["deep_before"] > 0 and report["links_added"]["featured"] > 0
    in_collection = {i for c in shaped.collections for i in c.item_ids}
    slug_to_id = {it.slug: it.id for it in shaped.items}
    remaining = [p for p in report["too_deep"] if p.startswith("/item/")]
    assert remaining and report["too_deep_count"] < report["deep_before"]
    assert all(slug_to_id[p.split("/")[2]] not in in_collection for p in remaining)
    assert set(remaining) <= set(report["unfixable"])


def test_deterministic():
    site, vectors = synthetic_site(seed=2)
    a, ra = shape_links(site, vectors, LinkSection(), hub_page_size=20)
    b, rb = shape_links(site, vectors, LinkSection(), hub_page_size=20)
    assert a.collections == b.collections and a.featured == b.featured and a.pagerank == b.pagerank
    ra.pop("seconds"), rb.pop("seconds")
    assert ra == rb
    assert urls.home_url() in a.pagerank
