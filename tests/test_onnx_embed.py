"""sitegen.engines.onnx_bert / embed_onnx: the graph paths of the text embedder (ONNX Runtime, OpenVINO) equal
the sentence-transformers model, run without torch, cache their graph by fingerprint, and guard bf16 and int8."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from sitegen.core.errors import ModelError
from sitegen.engines import embed as embed_mod
from sitegen.engines import onnx_bert
from sitegen.engines.embed import Embedder, default_model_path, neighbour_overlap
from sitegen.store.db import Store

from tests.test_embed import tiny_model  # noqa: F401  (fixture)

TEXTS = ["red cotton kurta for women", "watch", "black leather boots . Footwear . Shoes . Black Casual",
         "Sunflower clipart with a green stem and yellow petals, free public domain image",
         "", "   spaced    out   ", "ÜBER café naïve résumé", "x" * 40, " ".join(["long"] * 400)]


def _torch_vectors(folder, texts):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    return model.encode(texts, batch_size=4, normalize_embeddings=True, convert_to_numpy=True)


def test_default_model_matches_sentence_transformers():
    onnx = Embedder(device="cpu", backend="onnx", batch_size=4)
    assert onnx.backend == "onnx" and onnx.model_id == "all-MiniLM-L6-v2"
    got = onnx.encode(TEXTS)
    want = _torch_vectors(default_model_path(), TEXTS)  # includes a text past the 256-token limit
    assert float(np.min(np.sum(got * want, axis=1))) > 0.99999


def test_local_bert_folder_matches(tiny_model):  # noqa: F811
    got = Embedder(str(tiny_model), device="cpu", backend="onnx", batch_size=3).encode(TEXTS)
    want = _torch_vectors(tiny_model, TEXTS)
    assert got.shape == (len(TEXTS), 32)
    assert float(np.min(np.sum(got * want, axis=1))) > 0.99999


def test_batching_does_not_change_a_vector():
    e = Embedder(device="cpu", backend="onnx", batch_size=2)
    alone = e.encode(["black leather boots"])[0]
    e.clear_memory()
    mixed = e.encode(["a much longer text about black leather boots for men", "black leather boots", "hat"])
    np.testing.assert_allclose(mixed[1], alone, atol=1e-5)


needs_bf16 = pytest.mark.skipif(not embed_mod.cpu_has_bf16(), reason="this CPU has no native bfloat16")


def test_openvino_matches_sentence_transformers():
    want = _torch_vectors(default_model_path(), TEXTS)
    fp32 = Embedder(device="cpu", backend="openvino", precision="fp32", batch_size=4)
    assert (fp32.backend, fp32.precision, fp32.model_id) == ("openvino", "fp32", "all-MiniLM-L6-v2")
    assert float(np.min(np.sum(fp32.encode(TEXTS) * want, axis=1))) > 0.99999


@needs_bf16
def test_bf16_is_close_and_does_not_depend_on_its_batch():
    e = Embedder(device="cpu", backend="openvino", precision="bf16", batch_size=2)
    e._decided = True  # the vectors themselves, whatever the guard would say
    assert e.model_id == "all-MiniLM-L6-v2+bf16"
    got = e.encode(TEXTS)
    assert float(np.min(np.sum(got * _torch_vectors(default_model_path(), TEXTS), axis=1))) > 0.999
    e.clear_memory()
    alone = e.encode(["black leather boots"])[0]
    e.clear_memory()
    mixed = e.encode(["a much longer text about black leather boots for men", "black leather boots", "hat"])
    np.testing.assert_array_equal(mixed[1], alone)  # batches hold one token length: nothing is padded
    texts = _texts(200)
    e.clear_memory()
    whole = e.encode(texts)
    e.clear_memory()
    part = e.encode(texts[::-3])  # other batches, other neighbours in them
    np.testing.assert_array_equal(part, whole[::-3])


def test_auto_takes_bf16_only_where_the_cpu_has_it(monkeypatch):
    e = Embedder(device="cpu")
    if embed_mod.cpu_has_bf16():
        assert (e.backend, e.precision) == ("openvino", "bf16")
    monkeypatch.setattr(embed_mod, "cpu_has_bf16", lambda: False)
    assert (Embedder(device="cpu").backend, Embedder(device="cpu").precision) == ("onnx", "fp32")
    assert Embedder(device="cpu", backend="openvino").precision == "fp32"
    with pytest.raises(ModelError, match="embed.precision: bf16 needs"):
        Embedder(device="cpu", precision="bf16")
    with pytest.raises(ModelError, match="embed.precision: bf16 needs"):
        Embedder(device="cpu", backend="openvino", precision="bf16")


@pytest.mark.parametrize("backend, precision", [("onnx", "bf16"), ("torch", "bf16"), ("openvino", "int8"),
                                                ("torch", "int8")])
def test_a_precision_on_the_wrong_backend_is_an_error_naming_the_key(tmp_path, backend, precision):
    from sitegen.core.config import load_config
    from sitegen.core.errors import ConfigError

    with pytest.raises(ModelError, match="embed.precision"):
        Embedder(device="cpu", backend=backend, precision=precision)
    (tmp_path / "site.toml").write_text(f'[embed]\nbackend = "{backend}"\nprecision = "{precision}"\n')
    with pytest.raises(ConfigError, match=f"embed.precision: {precision} runs on embed.backend"):
        load_config(tmp_path / "site.toml")


def test_default_build_path_never_imports_torch(tmp_path):
    code = ("import sys; from sitegen.engines.embed import Embedder; e = Embedder(device='cpu'); "
            "v = e.encode(['a red dress', 'blue jeans']); "
            "print(e.backend in ('onnx', 'openvino'), v.shape, 'torch' in sys.modules, "
            "'sentence_transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "(2,", "384)", "False", "False"]


def test_graph_is_cached_by_fingerprint(tmp_path, monkeypatch, tiny_model):  # noqa: F811
    from sitegen.engines import embed_onnx

    monkeypatch.setenv("SITEGEN_CACHE", str(tmp_path / "cache"))
    first = embed_onnx.graph_path(tiny_model, "fp32")
    assert first.is_file() and first.is_relative_to(tmp_path / "cache" / "onnx")
    stamp = first.stat().st_mtime_ns
    assert embed_onnx.graph_path(tiny_model, "fp32") == first and first.stat().st_mtime_ns == stamp  # reused
    copy = tmp_path / "changed"
    import shutil

    shutil.copytree(tiny_model, copy)
    cfg = json.loads((copy / "config.json").read_text())
    cfg["layer_norm_eps"] = 1e-6
    (copy / "config.json").write_text(json.dumps(cfg))
    assert embed_onnx.graph_path(copy, "fp32") != first  # another fingerprint, another graph


def test_unsupported_folders_fall_back_to_torch(tmp_path, tiny_model):  # noqa: F811
    import shutil

    copy = tmp_path / "cls-pooled"
    shutil.copytree(tiny_model, copy)
    pooling = copy / "1_Pooling" / "config.json"
    cfg = json.loads(pooling.read_text())
    cfg["pooling_mode"] = "cls"
    pooling.write_text(json.dumps(cfg))
    assert "mean pooling" in onnx_bert.supported(copy)
    assert Embedder(str(copy), device="cpu").backend == "torch"
    with pytest.raises(ModelError, match="embed.backend: onnx cannot run"):
        Embedder(str(copy), device="cpu", backend="onnx")
    with pytest.raises(ModelError, match="embed.backend"):
        Embedder(device="cuda", backend="onnx")


def _texts(n: int) -> list[str]:
    colours, things = ["red", "blue", "black", "white", "green", "pink"], ["dress", "shirt", "shoes", "bag",
                                                                         "watch", "kurta", "jeans", "cap"]
    rng = np.random.default_rng(1)
    return sorted({f"{rng.choice(colours)} {rng.choice(things)} for {rng.choice(['men', 'women', 'kids'])} {i % 7}"
                   for i in range(n)})


@pytest.mark.parametrize("precision", ["int8", pytest.param("bf16", marks=needs_bf16)])
@pytest.mark.parametrize("threshold, kept", [(0.0, True), (1.01, False)])
def test_precision_guard(tmp_path, monkeypatch, precision, threshold, kept):
    monkeypatch.setattr(embed_mod, "MIN_OVERLAP", threshold)
    machine = tmp_path / "machine"
    monkeypatch.setattr(embed_mod, "_machine_decision_path", lambda folder, backend, p: machine / f"{backend}.{p}")
    texts = _texts(300)
    with Store(tmp_path / "site.duckdb") as store:
        e = Embedder(device="cpu", store=store, precision=precision)
        v = e.encode(texts)
        assert e.guard["texts"] == len(set(texts)) and 0 < e.guard["overlap"] <= 1
        assert (e.precision, e.model_id) == ((precision, f"all-MiniLM-L6-v2+{precision}") if kept else
                                             ("fp32", "all-MiniLM-L6-v2"))
        assert e.backend == ({"int8": "onnx", "bf16": "openvino"}[precision] if kept else "onnx")
        full = Embedder(device="cpu", precision="fp32").encode(texts)
        assert float(np.mean(np.sum(v * full, axis=1))) > (0.97 if kept else 0.99999)
        # the decision is kept in the store: a later embedder does not measure again
        monkeypatch.setattr(Embedder, "_guard", lambda *_: pytest.fail("measured twice"))
        again = Embedder(device="cpu", store=store, precision=precision)
        assert again.model_id == e.model_id and again.guard == e.guard
    # nor does another store on this machine: the decision is kept for the model, precision, runtime and CPU
    with Store(tmp_path / "other.duckdb") as store:
        other = Embedder(device="cpu", store=store, precision=precision)
        other.encode(texts[:60])
        assert other.model_id == e.model_id and other.guard == e.guard


def test_the_machine_decision_is_keyed_by_model_precision_and_runtime(tmp_path, monkeypatch, tiny_model):  # noqa: F811
    monkeypatch.setenv("SITEGEN_CACHE", str(tmp_path))
    path = embed_mod._machine_decision_path(default_model_path(), "openvino", "bf16")
    assert path.is_relative_to(tmp_path / "guard")
    assert path == embed_mod._machine_decision_path(default_model_path(), "openvino", "bf16")
    assert len({path, embed_mod._machine_decision_path(default_model_path(), "onnx", "int8"),
                embed_mod._machine_decision_path(tiny_model, "openvino", "bf16")}) == 3


def test_precision_guard_waits_for_enough_texts(tmp_path, monkeypatch):
    monkeypatch.setattr(embed_mod, "MIN_OVERLAP", 1.01)  # a measurement would reject int8
    monkeypatch.setattr(embed_mod, "_machine_decision_path", lambda *_: tmp_path / "decision.json")
    e = Embedder(device="cpu", precision="int8")
    e.encode(["one text", "another"])  # too few to measure: int8 stays, undecided, and its id is stable
    assert (e.precision, e.model_id, e.guard) == ("int8", "all-MiniLM-L6-v2+int8", None)
    e.encode(_texts(300))
    assert (e.precision, e.guard["kept"]) == ("fp32", False)


def test_neighbour_overlap():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(60, 8)).astype(np.float32)
    assert neighbour_overlap(a, a) == 1.0
    assert neighbour_overlap(a, rng.normal(size=(60, 8)).astype(np.float32)) < 0.5
