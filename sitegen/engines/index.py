"""Nearest-neighbour search over L2-normalised vectors: Annoy, HNSW (hnswlib) and exact, behind one interface.

Similarity is the cosine (= dot product of unit vectors). Ids are row numbers of the indexed matrix. Every
backend is seeded and built single-threaded, so the same vectors and config give the same index file bytes and
the same results. ``load_or_build`` keeps the index on disk next to a small JSON file holding the caller's
fingerprint, and reuses it when the fingerprint matches.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from sitegen.core.config import IndexSection

_FORMAT = 1
_META = "index.json"
_FILES = {"annoy": "index.annoy", "hnsw": "index.hnsw", "exact": "index.npy"}
_QUERY_BLOCK = 1024  # exact search: query rows per matrix product


def _as_unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"expected a 2-d array of vectors, got shape {vectors.shape}")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def _sort_rows(ids: np.ndarray, sims: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Sort each row by similarity desc, then id asc (ties are deterministic); pad to k with -1 / -inf."""
    n = ids.shape[0]
    out_ids = np.full((n, k), -1, dtype=np.int64)
    out_sims = np.full((n, k), -np.inf, dtype=np.float32)
    if ids.size == 0:
        return out_ids, out_sims
    sims = np.where(ids < 0, -np.inf, sims).astype(np.float32)
    big = np.iinfo(np.int64).max
    order = np.lexsort((np.where(ids < 0, big, ids), -sims), axis=1)
    ids = np.take_along_axis(ids, order, axis=1)[:, :k]
    sims = np.take_along_axis(sims, order, axis=1)[:, :k]
    out_ids[:, :ids.shape[1]] = ids
    out_sims[:, :sims.shape[1]] = sims
    out_ids[~np.isfinite(out_sims)] = -1
    return out_ids, out_sims


class AnnIndex(ABC):
    backend: str = ""

    def __init__(self, size: int, dim: int):
        self.size = size
        self.dim = dim

    def query(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids int64 (n, k), sims float32 (n, k)), sorted by similarity desc; -1 / -inf pad missing hits."""
        if k <= 0:
            raise ValueError("k must be > 0")
        queries = _as_unit(np.atleast_2d(vectors))
        if queries.shape[0] and queries.shape[1] != self.dim:
            raise ValueError(f"query dimension {queries.shape[1]} differs from the index ({self.dim})")
        if self.size == 0 or queries.shape[0] == 0:
            return _sort_rows(np.zeros((queries.shape[0], 0), np.int64), np.zeros((queries.shape[0], 0)), k)
        ids, sims = self._search(queries, min(k, self.size))
        return _sort_rows(ids, sims, k)

    @abstractmethod
    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Unsorted or sorted hits for unit queries, k <= size; -1 marks a missing hit."""

    @abstractmethod
    def save(self, path: Path) -> None: ...


class ExactIndex(AnnIndex):
    backend = "exact"

    def __init__(self, vectors: np.ndarray):
        self.vectors = _as_unit(vectors)
        super().__init__(self.vectors.shape[0], self.vectors.shape[1])

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        ids = np.empty((queries.shape[0], k), np.int64)
        sims = np.empty((queries.shape[0], k), np.float32)
        for start in range(0, queries.shape[0], _QUERY_BLOCK):
            block = queries[start:start + _QUERY_BLOCK] @ self.vectors.T
            if k < self.size:
                top = np.argpartition(-block, k - 1, axis=1)[:, :k]  # deterministic for the same input
            else:
                top = np.broadcast_to(np.arange(self.size), block.shape)
            top_ids, top_sims = _sort_rows(np.ascontiguousarray(top, dtype=np.int64),
                                           np.take_along_axis(block, top, axis=1), k)
            ids[start:start + block.shape[0]] = top_ids
            sims[start:start + block.shape[0]] = top_sims
        return ids, sims

    def save(self, path: Path) -> None:
        with open(path, "wb") as f:
            np.save(f, self.vectors, allow_pickle=False)

    @classmethod
    def load(cls, path: Path) -> ExactIndex:
        return cls(np.load(path, allow_pickle=False))


class AnnoyIndex(AnnIndex):
    """Annoy with the angular metric: d = sqrt(2 - 2 cos), so cos = 1 - d^2 / 2."""

    backend = "annoy"

    def __init__(self, index, size: int, dim: int, search_k: int, trees: int):
        super().__init__(size, dim)
        self._index = index
        self.search_k = search_k
        self.trees = trees

    @classmethod
    def build(cls, vectors: np.ndarray, cfg: IndexSection) -> AnnoyIndex:
        from annoy import AnnoyIndex as _Annoy

        index = _Annoy(vectors.shape[1], "angular")
        index.set_seed(cfg.seed)
        for i, v in enumerate(vectors):
            index.add_item(i, v.tolist())
        index.build(cfg.trees, n_jobs=1)  # one thread: the tree order (and file bytes) are deterministic
        return cls(index, vectors.shape[0], vectors.shape[1], cfg.search_k, cfg.trees)

    @classmethod
    def load(cls, path: Path, size: int, dim: int, cfg: IndexSection) -> AnnoyIndex:
        from annoy import AnnoyIndex as _Annoy

        index = _Annoy(dim, "angular")
        index.load(str(path))  # memory-mapped
        return cls(index, size, dim, cfg.search_k, cfg.trees)

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        search_k = self.search_k or self.trees * k * 20
        ids = np.full((queries.shape[0], k), -1, np.int64)
        sims = np.full((queries.shape[0], k), -np.inf, np.float32)
        for row, q in enumerate(queries):
            hit_ids, dists = self._index.get_nns_by_vector(q.tolist(), k, search_k=search_k, include_distances=True)
            n = len(hit_ids)
            ids[row, :n] = hit_ids
            sims[row, :n] = 1.0 - np.square(np.asarray(dists, np.float32)) / 2.0
        return ids, sims

    def save(self, path: Path) -> None:
        self._index.save(str(path))  # annoy re-maps the index from the written file


class HnswIndex(AnnIndex):
    """hnswlib with the inner-product space (distance = 1 - dot)."""

    backend = "hnsw"

    def __init__(self, index, size: int, dim: int, ef_search: int):
        super().__init__(size, dim)
        self._index = index
        self.ef_search = ef_search

    @classmethod
    def build(cls, vectors: np.ndarray, cfg: IndexSection) -> HnswIndex:
        import hnswlib

        index = hnswlib.Index(space="ip", dim=vectors.shape[1])
        index.init_index(max_elements=vectors.shape[0], ef_construction=cfg.ef_construction, M=cfg.m,
                         random_seed=cfg.seed)
        index.set_num_threads(1)  # insertion order decides the graph: one thread keeps it deterministic
        index.add_items(vectors, np.arange(vectors.shape[0]))
        return cls(index, vectors.shape[0], vectors.shape[1], cfg.ef_search)

    @classmethod
    def load(cls, path: Path, size: int, dim: int, cfg: IndexSection) -> HnswIndex:
        import hnswlib

        index = hnswlib.Index(space="ip", dim=dim)
        index.load_index(str(path), max_elements=size)
        return cls(index, size, dim, cfg.ef_search)

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        self._index.set_ef(max(self.ef_search, k))
        self._index.set_num_threads(_threads())  # queries are independent: threads do not change results
        try:
            labels, dists = self._index.knn_query(queries, k=k)
        except RuntimeError:  # hnswlib could not fill k results (tiny or disconnected graph): search wider
            self._index.set_ef(max(self.size, k))
            labels, dists = self._index.knn_query(queries, k=k)
        return labels.astype(np.int64), (1.0 - dists).astype(np.float32)

    def save(self, path: Path) -> None:
        self._index.save_index(str(path))


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _effective_backend(n: int, cfg: IndexSection) -> str:
    return "exact" if cfg.backend == "exact" or n < max(cfg.exact_below, 1) else cfg.backend


def build_index(vectors: np.ndarray, cfg: IndexSection) -> AnnIndex:
    """An index over the rows of ``vectors`` (normalised here if they are not). Below ``cfg.exact_below``
    vectors the search is exact whatever the backend."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"expected a 2-d array of vectors, got shape {vectors.shape}")
    backend = _effective_backend(vectors.shape[0], cfg)
    if backend == "exact":
        return ExactIndex(vectors)
    unit = _as_unit(vectors)
    if backend == "annoy":
        return AnnoyIndex.build(unit, cfg)
    if backend == "hnsw":
        return HnswIndex.build(unit, cfg)
    raise ValueError(f"unknown index backend {cfg.backend!r}")


def _load(backend: str, path: Path, size: int, dim: int, cfg: IndexSection) -> AnnIndex:
    if backend == "annoy":
        return AnnoyIndex.load(path, size, dim, cfg)
    if backend == "hnsw":
        return HnswIndex.load(path, size, dim, cfg)
    return ExactIndex.load(path)


def load_or_build(vectors: np.ndarray, cfg: IndexSection, folder: Path,
                  fingerprint: str) -> tuple[AnnIndex, bool]:
    """The index saved in ``folder`` when its metadata names the same fingerprint (the caller's hash of the
    item vectors / ids and the index config), backend, size and dimension; otherwise a new one, saved there.
    Returns (index, rebuilt). The index file is written first and the metadata last, each through a
    temporary file and an atomic rename, so an interrupted save is rebuilt next time."""
    folder = Path(folder)
    vectors = np.asarray(vectors, dtype=np.float32)
    n, dim = vectors.shape if vectors.ndim == 2 else (0, 0)
    backend = _effective_backend(n, cfg)
    meta = {"format": _FORMAT, "fingerprint": fingerprint, "backend": backend, "size": int(n), "dim": int(dim)}
    path = folder / _FILES[backend]
    meta_path = folder / _META
    try:
        saved = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = None
    if saved == meta and path.is_file():
        try:
            return _load(backend, path, n, dim, cfg), False
        except (OSError, RuntimeError, ValueError):
            pass  # unreadable: rebuild below
    index = build_index(vectors, cfg)
    folder.mkdir(parents=True, exist_ok=True)
    meta_path.unlink(missing_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    index.save(tmp)
    os.replace(tmp, path)
    tmp_meta = meta_path.with_name(_META + ".tmp")
    tmp_meta.write_text(json.dumps(meta, sort_keys=True), encoding="utf-8")
    os.replace(tmp_meta, meta_path)
    return index, True


def recall_at_k(index: AnnIndex, exact: AnnIndex, queries: np.ndarray, k: int = 10) -> float:
    """Mean share of the exact top-k that ``index`` finds. A hit tied in similarity with the exact k-th
    result counts too, so catalogs with duplicate vectors are not penalised for returning another copy."""
    ids, sims = index.query(queries, k)
    true_ids, true_sims = exact.query(queries, k)
    total = 0.0
    counted = 0
    for row in range(true_ids.shape[0]):
        valid = true_ids[row] >= 0
        wanted = int(valid.sum())
        if wanted == 0:
            continue
        kth = float(true_sims[row][valid].min())
        truth = set(true_ids[row][valid].tolist())
        hits = sum(1 for i, s in zip(ids[row], sims[row]) if i >= 0 and (int(i) in truth or s >= kth - 1e-5))
        total += min(hits, wanted) / wanted
        counted += 1
    return total / counted if counted else 1.0
