"""sitegen.engines.index: Annoy, HNSW and exact search behind one interface; seeded, deterministic, reusable."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sitegen.core.config import IndexSection
from sitegen.engines.index import AnnoyIndex, ExactIndex, HnswIndex, build_index, load_or_build, recall_at_k


def clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    """Unit vectors around 40 centres: closer to real embeddings than uniform noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, dim))
    x = centres[rng.integers(0, 40, n)] + 0.6 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return clustered(1500), clustered(200, seed=1)


def cfg(backend: str, **kw) -> IndexSection:
    kw.setdefault("trees", 16)  # small test sets: fewer trees keep the suite fast
    return IndexSection(backend=backend, exact_below=kw.pop("exact_below", 100), **kw)


def test_exact_matches_brute_force(data):
    x, q = data
    ids, sims = build_index(x, cfg("exact")).query(q, 10)
    brute = q @ x.T
    assert ids.dtype == np.int64 and sims.dtype == np.float32 and ids.shape == (200, 10)
    np.testing.assert_allclose(sims, -np.sort(-brute, axis=1)[:, :10], atol=1e-5)
    assert (np.diff(sims, axis=1) <= 1e-7).all()  # sorted by similarity, best first
    np.testing.assert_allclose(np.take_along_axis(brute, ids, axis=1), sims, atol=1e-5)


@pytest.mark.parametrize("backend, cls", [("annoy", AnnoyIndex), ("hnsw", HnswIndex), ("exact", ExactIndex)])
def test_backends_agree_with_exact(data, backend, cls):
    x, q = data
    index = build_index(x, cfg(backend))
    assert isinstance(index, cls) and index.backend == backend
    exact = build_index(x, cfg("exact"))
    assert recall_at_k(index, exact, q, k=10) >= 0.95
    ids, sims = index.query(q, 10)
    true_ids, _ = exact.query(q, 10)
    assert (ids[:, 0] == true_ids[:, 0]).mean() >= 0.95
    found = np.take_along_axis(q @ x.T, ids, axis=1)
    np.testing.assert_allclose(found, sims, atol=1e-4)  # reported similarities are true cosines


def test_small_sets_are_exact_and_padded():
    x = clustered(50)
    index = build_index(x, IndexSection(backend="hnsw"))  # default exact_below = 2000
    assert index.backend == "exact"
    ids, sims = index.query(x[:3], 60)
    assert ids.shape == (3, 60)
    assert (ids[:, 50:] == -1).all() and np.isneginf(sims[:, 50:]).all()
    assert (ids[:, 0] == [0, 1, 2]).all()


@pytest.mark.parametrize("backend", ["annoy", "hnsw"])
def test_ann_pads_when_k_exceeds_size(backend):
    x = clustered(150)
    ids, sims = build_index(x, cfg(backend)).query(x[:2], 200)
    assert ids.shape == (2, 200) and (ids[:, 150:] == -1).all() and np.isneginf(sims[:, 150:]).all()
    assert ids[0, 0] == 0 and sims[0, 0] == pytest.approx(1.0, abs=1e-4)


def test_empty_index_and_bad_queries():
    index = build_index(np.zeros((0, 8), np.float32), cfg("annoy"))
    ids, sims = index.query(np.ones((2, 8), np.float32), 3)
    assert (ids == -1).all() and np.isneginf(sims).all()
    with pytest.raises(ValueError):
        build_index(clustered(10, dim=8), cfg("exact")).query(np.ones((1, 4), np.float32), 3)
    with pytest.raises(ValueError):
        build_index(np.ones(8, np.float32), cfg("exact"))


def test_unnormalised_input_is_normalised(data):
    x, q = data
    scaled = x * np.linspace(0.5, 3.0, len(x), dtype=np.float32)[:, None]
    a = build_index(scaled, cfg("hnsw")).query(q * 7, 5)
    b = build_index(x, cfg("hnsw")).query(q, 5)
    assert (a[0] == b[0]).mean() > 0.99
    np.testing.assert_allclose(a[1], b[1], atol=1e-4)


@pytest.mark.parametrize("backend", ["annoy", "hnsw", "exact"])
def test_deterministic_bytes_and_results(tmp_path, data, backend):
    x, q = data
    one, two = build_index(x, cfg(backend)), build_index(x, cfg(backend))
    one.save(tmp_path / "one")
    two.save(tmp_path / "two")
    assert (tmp_path / "one").read_bytes() == (tmp_path / "two").read_bytes()
    r1, r2 = one.query(q, 10), two.query(q, 10)
    assert (r1[0] == r2[0]).all() and (r1[1] == r2[1]).all()


def test_seed_changes_annoy_trees(tmp_path, data):
    x, _ = data
    build_index(x, cfg("annoy", seed=1)).save(tmp_path / "a")
    build_index(x, cfg("annoy", seed=2)).save(tmp_path / "b")
    assert (tmp_path / "a").read_bytes() != (tmp_path / "b").read_bytes()


@pytest.mark.parametrize("backend", ["annoy", "hnsw", "exact"])
def test_load_or_build_reuses_saved_index(tmp_path, data, backend):
    x, q = data
    c = cfg(backend)
    first, rebuilt = load_or_build(x, c, tmp_path / "ix", "fp-1")
    assert rebuilt and first.backend == backend
    meta = json.loads((tmp_path / "ix" / "index.json").read_text())
    assert meta["fingerprint"] == "fp-1" and meta["size"] == 1500
    again, rebuilt = load_or_build(x, c, tmp_path / "ix", "fp-1")
    assert not rebuilt and again.backend == backend
    a, b = first.query(q, 10), again.query(q, 10)
    assert (a[0] == b[0]).all()
    np.testing.assert_allclose(a[1], b[1], atol=1e-6)
    _, rebuilt = load_or_build(x, c, tmp_path / "ix", "fp-2")
    assert rebuilt
    (tmp_path / "ix" / "index.json").write_text("{not json")
    _, rebuilt = load_or_build(x, c, tmp_path / "ix", "fp-2")
    assert rebuilt
    assert not list((tmp_path / "ix").glob("*.tmp"))


def test_load_or_build_switches_backend(tmp_path, data):
    x, _ = data
    load_or_build(x, cfg("annoy"), tmp_path, "fp")
    index, rebuilt = load_or_build(x, cfg("hnsw"), tmp_path, "fp")
    assert rebuilt and index.backend == "hnsw"


def test_recall_counts_tied_duplicates():
    base = clustered(200)
    x = np.concatenate([base, base])  # every vector twice: ids i and i + 200 tie
    exact = build_index(x, cfg("exact"))

    class Other(ExactIndex):
        """Prefers the second copy of each tie: different ids, same similarities."""

        def _search(self, queries, k):
            ids, sims = super()._search(queries, k)
            return np.where(ids < 200, ids + 200, ids - 200), sims

    assert recall_at_k(Other(x), exact, base[:20], k=2) == pytest.approx(1.0)
