"""The link graph's fast PageRank and click depth (sitegen.distribute.rank) against NetworkX's own."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from sitegen.distribute.rank import click_depth, measure, pagerank


def random_site(n: int, seed: int) -> nx.DiGraph:
    """A site-like graph: a home page, pages with weighted links, some dangling and some unreachable."""
    rng = np.random.default_rng(seed)
    graph = nx.DiGraph()
    graph.add_nodes_from(f"/p{i}/" for i in range(n))
    for i in range(n):
        if i % 7 == 3:
            continue  # dangling: links nowhere
        for j in rng.choice(n, size=min(n, int(rng.integers(1, 12))), replace=False).tolist():
            if j != i and j % 11 != 5:  # a few pages nobody links to
                graph.add_edge(f"/p{i}/", f"/p{j}/", weight=int(rng.integers(1, 4)))
    return graph


@pytest.mark.parametrize("n,seed", [(1, 0), (40, 1), (1500, 2)])
def test_pagerank_equals_networkx_to_1e_9(n, seed):
    graph = random_site(n, seed)
    ours, theirs = pagerank(graph), nx.pagerank(graph, weight="weight")
    assert list(ours) == list(graph)
    assert max(abs(ours[k] - theirs[k]) for k in graph) < 1e-9
    assert sum(ours.values()) == pytest.approx(1.0)
    unweighted = pagerank(graph, weight=None)
    assert max(abs(unweighted[k] - v) for k, v in nx.pagerank(graph, weight=None).items()) < 1e-9


def test_click_depth_equals_networkx():
    graph = random_site(1500, 3)
    assert click_depth(graph, "/p0/") == nx.single_source_shortest_path_length(graph, "/p0/")
    assert click_depth(graph, "/nowhere/") == {} and pagerank(nx.DiGraph()) == {}
    chain = nx.DiGraph([("/", "/a/"), ("/a/", "/b/"), ("/c/", "/")])
    assert click_depth(chain, "/") == {"/": 0, "/a/": 1, "/b/": 2}


def test_pagerank_says_when_it_does_not_converge():
    with pytest.raises(RuntimeError, match="no convergence"):
        pagerank(random_site(200, 4), max_iter=2)


def test_measure_gives_both_from_one_reading():
    graph = random_site(300, 5)
    pr, depth = measure(graph, "/p0/")
    assert pr == pagerank(graph) and depth == click_depth(graph, "/p0/")
    assert measure(nx.DiGraph(), "/") == ({}, {})


def test_the_link_arrays_measure_as_the_networkx_graph_of_the_same_plan():
    from sitegen.distribute.plan import link_edges, link_graph, plan_site
    from tests.test_link import synthetic_site

    site, _ = synthetic_site()
    plan = plan_site(site, hub_page_size=20)
    arrays, graph = link_edges(plan), link_graph(plan)
    assert list(arrays) == list(graph) and arrays.links == sum(w for _, _, w in graph.edges(data="weight"))
    assert all(arrays.in_degree(p) == graph.in_degree(p) for p in graph)
    pr_a, depth_a = measure(arrays, "/")
    pr_g, depth_g = measure(graph, "/")
    assert pr_a == pr_g and depth_a == depth_g  # the same matrix: bit for bit
    assert max(abs(pr_a[p] - v) for p, v in nx.pagerank(graph, weight="weight").items()) < 1e-9
