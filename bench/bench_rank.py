"""PageRank and click depth of a site-sized link graph: NetworkX vs sitegen.distribute.rank (sparse matrix).

    .venv/bin/python bench/bench_rank.py [--pages 12000] [--links 25] [--repeat 5]

Builds a random site-like DiGraph (a home page linking hubs, pages with weighted links, some dangling), then
times each way (median of --repeat runs) and prints the largest score difference. The graph API stays
NetworkX's; only the measures are computed on a CSR matrix.
"""

from __future__ import annotations

import argparse
import statistics
import time

import networkx as nx
import numpy as np

from sitegen.distribute.rank import click_depth, measure, pagerank


def site_graph(pages: int, links: int, seed: int = 0) -> nx.DiGraph:
    rng = np.random.default_rng(seed)
    graph = nx.DiGraph()
    graph.add_nodes_from(["/"] + [f"/p{i}/" for i in range(pages - 1)])
    names = list(graph)
    for i, name in enumerate(names):
        if i % 13 == 7:
            continue
        for j in rng.integers(0, pages, size=int(rng.integers(1, 2 * links))).tolist():
            if j != i:
                graph.add_edge(name, names[j], weight=int(rng.integers(1, 3)))
    return graph


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=12000)
    ap.add_argument("--links", type=int, default=25)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    graph = site_graph(args.pages, args.links)
    t_nx_pr, nx_pr = timed(lambda: nx.pagerank(graph, weight="weight"), args.repeat)
    t_pr, pr = timed(lambda: pagerank(graph), args.repeat)
    t_nx_d, nx_d = timed(lambda: nx.single_source_shortest_path_length(graph, "/"), args.repeat)
    t_d, d = timed(lambda: click_depth(graph, "/"), args.repeat)
    t_nx_both, _ = timed(lambda: (nx.pagerank(graph, weight="weight"),
                                  nx.single_source_shortest_path_length(graph, "/")), args.repeat)
    t_both, (pr2, d2) = timed(lambda: measure(graph, "/"), args.repeat)
    diff = max(abs(pr[k] - nx_pr[k]) for k in graph)
    print(f"graph: {graph.number_of_nodes():,} pages, {graph.number_of_edges():,} links")
    print(f"pagerank     networkx {t_nx_pr * 1000:8.1f} ms   sparse {t_pr * 1000:8.1f} ms   "
          f"({t_nx_pr / t_pr:.1f}x)   max |difference| {diff:.2e}")
    print(f"click depth  networkx {t_nx_d * 1000:8.1f} ms   sparse {t_d * 1000:8.1f} ms   "
          f"({t_nx_d / t_d:.1f}x)   identical: {d == nx_d}")
    print(f"both         networkx {t_nx_both * 1000:8.1f} ms   sparse {t_both * 1000:8.1f} ms   "
          f"({t_nx_both / t_both:.1f}x)   identical: {pr2 == pr and d2 == nx_d}")


if __name__ == "__main__":
    main()
