"""Graph measures of the link graph at sparse-matrix speed: PageRank and click depth.

The graph stays a NetworkX ``DiGraph`` (the API the link stage, the audit and plugins use); these functions
read its edges once into a scipy CSR matrix and compute:

- ``pagerank``: NetworkX's algorithm step for step (power iteration on the row-normalised weighted adjacency,
  dangling pages' rank spread evenly, damping ``alpha``, stopping when the L1 change is below ``N x tol``), so
  the scores equal ``nx.pagerank(graph, weight="weight")`` to float rounding (the tests hold them to 1e-9);
- ``click_depth``: the fewest links from the home page to each page it reaches (unweighted breadth-first
  search), as ``nx.single_source_shortest_path_length``.

Pure functions, no I/O; scipy is imported inside them.
"""

from __future__ import annotations

from typing import Hashable

import numpy as np

ALPHA = 0.85
TOL = 1.0e-6
MAX_ITER = 100


def _matrix(graph, weight: str | None):
    """(nodes in the graph's order, CSR adjacency: row = source, edge weights; 1 each when ``weight`` is None)."""
    import scipy.sparse as sp

    nodes = list(graph)
    index = {n: i for i, n in enumerate(nodes)}
    src, dst, w = [], [], []
    for u, targets in graph.succ.items():
        iu = index[u]
        for v, data in targets.items():
            src.append(iu)
            dst.append(index[v])
            w.append(data.get(weight, 1.0) if weight is not None else 1.0)
    n = len(nodes)
    matrix = sp.csr_array((np.asarray(w, float), (np.asarray(src, np.int64), np.asarray(dst, np.int64))),
                          shape=(n, n))
    return nodes, matrix


def _edge_matrix(graph, weighted: bool):
    """(nodes, CSR adjacency) of a ``plan.LinkGraph``, straight from its arrays: the same matrix ``_matrix``
    reads from the DiGraph built from the same plan (its rows hold the targets in the same order)."""
    import scipy.sparse as sp

    n = len(graph.nodes)
    w = np.asarray(graph.weight, float) if weighted else np.ones(len(graph.src))
    matrix = sp.csr_array((w, (np.asarray(graph.src, np.int64), np.asarray(graph.dst, np.int64))), shape=(n, n))
    return list(graph.nodes), matrix


def measure(graph, root: Hashable, *, weight: str | None = "weight") -> tuple[dict, dict]:
    """(``pagerank``, ``click_depth`` from ``root``) from one reading of the graph's edges: a NetworkX DiGraph,
    or a ``plan.LinkGraph`` (its arrays, no graph object built)."""
    if graph.number_of_nodes() == 0:
        return {}, {}
    nodes, a = _edge_matrix(graph, weight is not None) if hasattr(graph, "src") else _matrix(graph, weight)
    return _pagerank(nodes, a), _depth(nodes, a, root)


def pagerank(graph, *, alpha: float = ALPHA, weight: str | None = "weight", tol: float = TOL,
             max_iter: int = MAX_ITER) -> dict[Hashable, float]:
    """PageRank of every node (see the module docstring); {} for an empty graph. Raises ``RuntimeError`` when
    the iteration does not converge within ``max_iter`` steps, as NetworkX does."""
    if graph.number_of_nodes() == 0:
        return {}
    nodes, a = _matrix(graph, weight)
    return _pagerank(nodes, a, alpha=alpha, tol=tol, max_iter=max_iter)


def click_depth(graph, root: Hashable) -> dict[Hashable, int]:
    """Links from ``root`` to each node it reaches (``root`` itself 0); {} when ``root`` is not in the graph."""
    if root not in graph:
        return {}
    nodes, a = _matrix(graph, None)
    return _depth(nodes, a, root)


def _pagerank(nodes: list, a, *, alpha: float = ALPHA, tol: float = TOL, max_iter: int = MAX_ITER) -> dict:
    import scipy.sparse as sp

    n = len(nodes)
    out_weight = np.asarray(a.sum(axis=1)).ravel()
    inverse = np.zeros(n)
    inverse[out_weight != 0] = 1.0 / out_weight[out_weight != 0]
    a = sp.diags_array(inverse, format="csr") @ a
    x = np.repeat(1.0 / n, n)
    p = np.repeat(1.0 / n, n)
    dangling = np.where(out_weight == 0)[0]
    for _ in range(max_iter):
        last = x
        x = alpha * (x @ a + x[dangling].sum() * p) + (1 - alpha) * p
        if np.abs(x - last).sum() < n * tol:
            return dict(zip(nodes, map(float, x)))
    raise RuntimeError(f"pagerank: no convergence within {max_iter} iterations")


def _depth(nodes: list, a, root: Hashable) -> dict:
    from scipy.sparse.csgraph import breadth_first_order

    try:
        start = nodes.index(root)
    except ValueError:
        return {}
    order, predecessors = breadth_first_order(a, start, directed=True, return_predecessors=True)
    depth = np.zeros(len(nodes), np.int64)
    for i in order[1:].tolist():  # breadth-first: a node's predecessor is placed before it
        depth[i] = depth[predecessors[i]] + 1
    return {nodes[i]: int(depth[i]) for i in order.tolist()}
