"""The VASE two-tower model: its inputs, numpy inference, and its folder (weights + a fingerprinted spec).

- Item tower input (``ITEM_DIM`` = 769): the item's image embedding (``Embedded.image_vectors``; zeros of 384
  when there is no image encoder), its text embedding, and its image quality (``ingest.quality``, 0..1).
- Query tower input (``QUERY_DIM`` = 385): the query's text embedding (the site's MiniLM, 384-d) and its length
  in words over ``LENGTH_CAP``, clipped to 1.
- Each tower: Linear -> LayerNorm -> ReLU -> Dropout for the hidden sizes ``HIDDEN`` (512, 384, 256), then a
  Linear projection to ``OUT`` (128) and L2 normalisation; the score of a pair is the cosine of its two outputs.

Training (torch) is in ``train.py``; here inference is numpy only, in blocks, so a build scoring a million items
never imports torch. The folder holds ``two_tower.npz`` (weights) and ``two_tower.json`` (format, sizes,
settings, the decision threshold, training statistics, a hash of the training data and the fingerprint: a hash
of the weights and the spec); ``load_model`` refuses a folder whose fingerprint does not match.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from sitegen.core.errors import ModelError

FORMAT = 1
TEXT_DIM = 384
ITEM_DIM = 2 * TEXT_DIM + 1
QUERY_DIM = TEXT_DIM + 1
HIDDEN = (512, 384, 256)
OUT = 128
LENGTH_CAP = 16
LN_EPS = 1e-5
MODEL_FILE = "two_tower.json"
WEIGHTS_FILE = "two_tower.npz"
BLOCK = 8192


def item_inputs(text_vectors: np.ndarray, image_vectors: np.ndarray | None, quality: np.ndarray) -> np.ndarray:
    """float32 (n, ITEM_DIM): [image embedding | text embedding | quality]."""
    text = np.asarray(text_vectors, np.float32)
    n = text.shape[0]
    if text.shape[1] != TEXT_DIM:
        raise ValueError(f"text vectors have {text.shape[1]} dimensions, the item tower takes {TEXT_DIM}")
    image = np.zeros((n, TEXT_DIM), np.float32) if image_vectors is None else np.asarray(image_vectors, np.float32)
    if image.shape != (n, TEXT_DIM):
        raise ValueError(f"image vectors have shape {image.shape}, the item tower takes ({n}, {TEXT_DIM})")
    q = np.clip(np.asarray(quality, np.float32).reshape(n, 1), 0.0, 1.0)
    return np.concatenate([image, text, q], axis=1)


def query_length(texts: Sequence[str]) -> np.ndarray:
    """float32 (m,): words over ``LENGTH_CAP``, clipped to 1."""
    return np.array([min(len(t.split()), LENGTH_CAP) / LENGTH_CAP for t in texts], np.float32)


def query_inputs(query_vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """float32 (m, QUERY_DIM): [query embedding | normalised length]."""
    v = np.asarray(query_vectors, np.float32)
    if v.ndim != 2 or v.shape[1] != TEXT_DIM or v.shape[0] != len(texts):
        raise ValueError(f"query vectors have shape {v.shape}, the query tower takes ({len(texts)}, {TEXT_DIM})")
    return np.concatenate([v, query_length(texts)[:, None]], axis=1)


def tower_names(prefix: str) -> list[str]:
    """The weight names of one tower, in order (the torch module's state-dict names)."""
    names = []
    for n in range(len(HIDDEN)):
        names += [f"{prefix}.layers.{4 * n}.weight", f"{prefix}.layers.{4 * n}.bias",
                  f"{prefix}.layers.{4 * n + 1}.weight", f"{prefix}.layers.{4 * n + 1}.bias"]
    return names + [f"{prefix}.layers.{4 * len(HIDDEN)}.weight", f"{prefix}.layers.{4 * len(HIDDEN)}.bias"]


def _tower(weights: dict[str, np.ndarray], prefix: str, x: np.ndarray) -> np.ndarray:
    h = x
    for n in range(len(HIDDEN)):
        w, b = weights[f"{prefix}.layers.{4 * n}.weight"], weights[f"{prefix}.layers.{4 * n}.bias"]
        h = h @ w.T + b
        mu = h.mean(axis=1, keepdims=True)
        var = h.var(axis=1, keepdims=True)
        h = (h - mu) / np.sqrt(var + LN_EPS)
        h = h * weights[f"{prefix}.layers.{4 * n + 1}.weight"] + weights[f"{prefix}.layers.{4 * n + 1}.bias"]
        np.maximum(h, 0.0, out=h)
    last = 4 * len(HIDDEN)
    out = h @ weights[f"{prefix}.layers.{last}.weight"].T + weights[f"{prefix}.layers.{last}.bias"]
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


@dataclass
class TwoTowerModel:
    """A trained two-tower model (numpy weights) and its spec."""

    weights: dict[str, np.ndarray]
    spec: dict = field(default_factory=dict)

    @property
    def threshold(self) -> float:
        """The cosine above which a pair is taken as relevant (chosen on the training pairs)."""
        return float(self.spec.get("threshold", 0.0))

    @property
    def fingerprint(self) -> str:
        return str(self.spec.get("fingerprint", ""))

    def encode_items(self, inputs: np.ndarray) -> np.ndarray:
        """float32 (n, OUT) unit vectors of the item tower, in blocks of ``BLOCK`` rows."""
        return self._encode("item", inputs, ITEM_DIM)

    def encode_queries(self, inputs: np.ndarray) -> np.ndarray:
        """float32 (m, OUT) unit vectors of the query tower."""
        return self._encode("query", inputs, QUERY_DIM)

    def _encode(self, prefix: str, inputs: np.ndarray, dim: int) -> np.ndarray:
        x = np.asarray(inputs, np.float32)
        if x.ndim != 2 or x.shape[1] != dim:
            raise ValueError(f"the {prefix} tower takes (n, {dim}) inputs, got {x.shape}")
        out = np.empty((x.shape[0], OUT), np.float32)
        for start in range(0, x.shape[0], BLOCK):
            out[start:start + BLOCK] = _tower(self.weights, prefix, x[start:start + BLOCK])
        return out


def fingerprint_of(weights: dict[str, np.ndarray], spec: dict) -> str:
    """sha-256 over the weights (by name, in order) and the spec without its fingerprint."""
    h = hashlib.sha256()
    for name in sorted(weights):
        h.update(name.encode() + b"\0")
        h.update(np.ascontiguousarray(weights[name], np.float32).tobytes())
    h.update(json.dumps({k: v for k, v in spec.items() if k != "fingerprint"}, sort_keys=True).encode())
    return h.hexdigest()[:24]


def save_model(model: TwoTowerModel, folder: str | Path) -> Path:
    """Write the model's folder (weights first, the spec with its fingerprint last); returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = {k: np.ascontiguousarray(v, np.float32) for k, v in model.weights.items()}
    spec = {**model.spec, "format": FORMAT}
    spec["fingerprint"] = fingerprint_of(weights, spec)
    tmp = folder / (WEIGHTS_FILE + ".tmp.npz")
    np.savez(tmp, **weights)
    tmp.replace(folder / WEIGHTS_FILE)
    (folder / MODEL_FILE).write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    model.spec = spec
    return folder


def has_model(folder: str | Path) -> bool:
    folder = Path(folder)
    return (folder / MODEL_FILE).is_file() and (folder / WEIGHTS_FILE).is_file()


def load_model(folder: str | Path) -> TwoTowerModel:
    """The model saved in ``folder``; a ModelError naming the folder when it is missing, of another format, or
    its weights do not match its fingerprint."""
    folder = Path(folder)
    if not has_model(folder):
        raise ModelError(f"{folder}: no two-tower model (run `sitegen train two-tower`)")
    try:
        spec = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
        with np.load(folder / WEIGHTS_FILE, allow_pickle=False) as data:
            weights = {k: data[k].astype(np.float32) for k in data.files}
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder}: the two-tower model cannot be read ({exc})") from None
    if spec.get("format") != FORMAT:
        raise ModelError(f"{folder}: a two-tower model of format {spec.get('format')!r}, this sitegen reads "
                         f"{FORMAT}: train it again (`sitegen train two-tower`)")
    missing = [n for p in ("item", "query") for n in tower_names(p) if n not in weights]
    if missing or fingerprint_of(weights, spec) != spec.get("fingerprint"):
        raise ModelError(f"{folder}: the two-tower weights do not match their fingerprint: train it again")
    return TwoTowerModel(weights, spec)
