"""The ``ray`` runner: the model work of the GEO stages as Ray Data ``map_batches`` on an actor pool, with output
identical to the local runner's. The default run checks what the actors run (the embedder rebuilt from its spec,
the callable class) in this process; ``-m slow`` starts a local Ray cluster of 2 CPUs and builds the example
site on it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from sitegen.core.config import load_config
from sitegen.engines.embed import Embedder

TEXTS = [f"{c} {t} for {w}" for c in ("red", "blue", "green", "black") for t in ("dress", "shirt", "shoes", "bag")
         for w in ("men", "women", "kids")] + ["a much longer text about black leather boots for men in winter"]


def test_ray_is_a_registered_runner_with_validated_settings(tmp_path):
    from sitegen.core import registry
    from sitegen.core.errors import ConfigError
    from sitegen.pipeline.ray_runner import RayRunner

    assert registry.get("runner", "ray") is RayRunner
    (tmp_path / "site.toml").write_text('[runner]\nkind = "ray"\nthreads = 0\nrows_per_batch = 64\n')
    with pytest.raises(ConfigError, match="runner.threads"):
        load_config(tmp_path / "site.toml")


def test_ray_without_ray_installed_is_an_error_naming_the_key(tmp_path, monkeypatch):
    import importlib.util

    from sitegen.core.errors import ConfigError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    (tmp_path / "site.toml").write_text('[runner]\nkind = "ray"\n')
    with pytest.raises(ConfigError, match="runner.kind: ray needs Ray Data"):
        load_config(tmp_path / "site.toml")


def test_an_actor_computes_what_the_local_embedder_does():
    from sitegen.pipeline.ray_runner import _EmbedBatches

    local = Embedder(device="cpu")
    local._decided = True
    actor = _EmbedBatches(local.spec(), threads=1)  # as Ray Data makes it in each actor
    assert (actor.embedder.backend, actor.embedder.precision) == (local.backend, local.precision)
    rows = np.arange(len(TEXTS))
    half = len(TEXTS) // 2  # two batches, as two actors would get them
    got = [actor({"row": rows[s], "text": np.array(TEXTS, dtype=object)[s]})
           for s in (slice(0, half), slice(half, None))]
    vectors = np.concatenate([g["vector"] for g in got])
    assert np.concatenate([g["row"] for g in got]).tolist() == rows.tolist()
    np.testing.assert_array_equal(vectors, local.raw_vectors(TEXTS))


@pytest.fixture
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             _node_ip_address="127.0.0.1")
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.mark.slow
def test_the_ray_encoder_equals_the_local_one(local_ray, tmp_path):
    from sitegen.core.config import RunnerSection
    from sitegen.pipeline.ray_runner import RayEncoder

    local = Embedder(device="cpu")
    local._decided = True
    remote = RayEncoder(local.spec(), RunnerSection(rows_per_batch=8), str(tmp_path / "scratch"), gpu=False)
    np.testing.assert_array_equal(remote(TEXTS), local.raw_vectors(TEXTS))
    assert not any((tmp_path / "scratch").iterdir())  # its Parquet files are gone


@pytest.mark.slow
def test_a_build_on_ray_equals_the_local_build(example_build, example_site_copy, monkeypatch):
    from sitegen.pipeline.build import build_site

    pytest.importorskip("ray")
    local_site, local = example_build
    site = example_site_copy()
    shutil.rmtree(site / ".sitegen")  # a cold store: every text goes through the actors
    shutil.rmtree(site / "build")
    cfg = load_config(site / "site.toml", {"runner.kind": "ray", "runner.cpus": 2})
    result = build_site(cfg)
    assert result.summary.counters["texts_embedded"] == local.summary.counters["texts_embedded"]

    def tree(out):
        return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
                if p.is_file() and p.relative_to(out).parts[0] != "_report"}

    want, got = tree(local_site / "build"), tree(site / "build")
    assert sorted(got) == sorted(want)
    assert [p for p in want if got[p] != want[p]] == []
