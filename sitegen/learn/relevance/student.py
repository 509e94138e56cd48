"""The relevance student: a small MLP over the precomputed features (``features.py``) that predicts the grade
distribution of a (topic, item) pair, trained on teacher grades; and the ``student`` scorer that collect and
annotate use when a trained model exists.

- Training (``train_student``, torch, imported only there): the features are standardised; an MLP (ReLU hidden
  layers) outputs one logit per level of the scale; the loss is the cross-entropy against the grade as a
  distribution over levels (a mean grade such as 2.33 puts 2/3 on level 2 and 1/3 on level 3). A seeded share
  of the queries is held out (no query on both sides) for early stopping: the weights of the epoch with the
  lowest held-out loss are kept. ``members`` such networks, each with its own held-out queries (folds by query)
  and seed, are averaged. Seeded and deterministic (one CPU thread, deterministic algorithms).
- Saved in a folder: ``student.json`` (the feature spec and version, the scale, the architecture, training
  statistics and a hash of the training data) and ``student.npz`` (standardisation and weights).
- Inference is numpy only (``Student.predict_proba``): a build never imports torch.
- The scorer's score is P(grade >= relevant), where relevant is ``guideline.RELEVANT`` (4 of 1-5) carried over
  to the model's scale linearly (1-4 -> 3.25, rounded: 3), so ``collect.threshold = 0.5`` means "more likely
  relevant than not".
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from sitegen.aggregate.relevance import CatalogView, Scorer, TopicEvidence
from sitegen.core.errors import ModelError
from sitegen.learn.relevance.features import SPEC, FeatureSpec, Features
from sitegen.learn.relevance.guideline import GRADES, RELEVANT

MODEL_FILE = "student.json"
WEIGHTS_FILE = "student.npz"
FORMAT = 1
HIDDEN = (64, 32)
Progress = Callable[[int, int], None] | None


def relevant_level(scale: tuple[int, int]) -> int:
    """The guideline's ``RELEVANT`` grade (on 1-5) carried over to ``scale`` linearly, rounded half up."""
    lo5, hi5 = min(GRADES), max(GRADES)
    lo, hi = scale
    pos = lo + (RELEVANT - lo5) / (hi5 - lo5) * (hi - lo)
    return int(min(max(np.floor(pos + 0.5), lo + 1), hi))


def grade_targets(grades: np.ndarray, scale: tuple[int, int]) -> np.ndarray:
    """Each grade as a distribution over the levels (linear between the two nearest levels)."""
    lo, hi = scale
    g = np.clip(np.asarray(grades, np.float64), lo, hi) - lo
    k = hi - lo + 1
    below = np.clip(np.floor(g).astype(np.int64), 0, k - 1)
    above = np.clip(below + 1, 0, k - 1)
    frac = g - below
    out = np.zeros((len(g), k))
    rows = np.arange(len(g))
    out[rows, below] += 1.0 - frac
    out[rows, above] += frac
    return out


def data_hash(features: np.ndarray, grades: np.ndarray, groups: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in (np.ascontiguousarray(features, np.float32), np.ascontiguousarray(grades, np.float64),
              np.ascontiguousarray(groups).astype(np.int64)):
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


@dataclass
class Student:
    """A trained student: ``members`` MLPs, each a list of (W, b) layers, over standardised features."""

    spec: FeatureSpec
    scale: tuple[int, int]
    mean: np.ndarray
    std: np.ndarray
    members: list[list[tuple[np.ndarray, np.ndarray]]]
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def levels(self) -> np.ndarray:
        return np.arange(self.scale[0], self.scale[1] + 1)

    def _check(self, features: np.ndarray) -> np.ndarray:
        x = np.asarray(features, np.float32)
        if x.ndim != 2 or x.shape[1] != len(self.spec.names):
            raise ValueError(f"expected (n, {len(self.spec.names)}) features, got {x.shape}")
        return x

    def logits(self, features: np.ndarray) -> list[np.ndarray]:
        """Each member's logits (float32), numpy only."""
        x = (self._check(features) - self.mean) / self.std
        out = []
        for layers in self.members:
            h = x
            for n, (w, b) in enumerate(layers):
                h = h @ w + b
                if n < len(layers) - 1:
                    h = np.maximum(h, 0.0)
            out.append(h.astype(np.float32))
        return out

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """(n, levels) probabilities of each level, the mean over the members."""
        probs = []
        for z in self.logits(features):
            z = z.astype(np.float64)
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            probs.append(e / e.sum(axis=1, keepdims=True))
        return np.mean(probs, axis=0) if probs else np.zeros((len(features), len(self.levels)))

    def expected_grade(self, features: np.ndarray) -> np.ndarray:
        return self.predict_proba(features) @ self.levels.astype(np.float64)

    def relevant_probability(self, features: np.ndarray) -> np.ndarray:
        """P(grade >= the relevant level of the scale), float32 in [0, 1]."""
        p = self.predict_proba(features)
        start = relevant_level(self.scale) - self.scale[0]
        return np.clip(p[:, start:].sum(axis=1), 0.0, 1.0).astype(np.float32)

    # -- files ------------------------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {"mean": self.mean, "std": self.std}
        for m, layers in enumerate(self.members):
            for n, (w, b) in enumerate(layers):
                arrays[f"m{m}_w{n}"] = w
                arrays[f"m{m}_b{n}"] = b
        np.savez(folder / WEIGHTS_FILE, **arrays)
        meta = {"format": FORMAT, "kind": "sitegen relevance student", "features": self.spec.to_json(),
                "scale": list(self.scale), "relevant_level": relevant_level(self.scale),
                "members": len(self.members), "layers": [int(w.shape[1]) for w, _ in self.members[0]],
                "activation": "relu", "stats": self.stats}
        (folder / MODEL_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "Student":
        """Read a saved student; any unreadable or incompatible file is a one-line ``ModelError``."""
        folder = Path(folder)
        where = f"relevance model {folder}"
        if not (folder / MODEL_FILE).is_file():
            raise ModelError(f"{where}: no {MODEL_FILE} (train one with `sitegen train relevance`)")
        try:
            meta = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
            if not isinstance(meta, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            raise ModelError(f"{where}: {MODEL_FILE} is not readable ({exc})") from None
        if meta.get("format") != FORMAT:
            raise ModelError(f"{where}: model format {meta.get('format')!r}, this sitegen reads {FORMAT}; retrain it")
        feats = meta.get("features") or {}
        spec = FeatureSpec(tuple(feats.get("names") or ()), feats.get("version"))
        if spec != SPEC:
            raise ModelError(f"{where}: trained on feature spec v{spec.version} ({len(spec.names)} features), "
                             f"this sitegen computes v{SPEC.version} ({len(SPEC.names)}); retrain it")
        try:
            lo, hi = (int(v) for v in meta["scale"])
            n_members, n_layers = int(meta["members"]), len(meta["layers"])
            with np.load(folder / WEIGHTS_FILE, allow_pickle=False) as z:
                mean, std = z["mean"].astype(np.float32), z["std"].astype(np.float32)
                members = [[(z[f"m{m}_w{n}"].astype(np.float32), z[f"m{m}_b{n}"].astype(np.float32))
                            for n in range(n_layers)] for m in range(n_members)]
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise ModelError(f"{where}: {WEIGHTS_FILE} is missing or does not match {MODEL_FILE} ({exc})") from None
        width = len(spec.names)
        for layers in members:
            for w, b in layers:
                if w.ndim != 2 or w.shape[0] != width or b.shape != (w.shape[1],):
                    raise ModelError(f"{where}: {WEIGHTS_FILE} has layers of the wrong shape; retrain it")
                width = w.shape[1]
            if width != hi - lo + 1:
                raise ModelError(f"{where}: the output has {width} levels, the scale {lo}-{hi} needs {hi - lo + 1}")
            width = len(spec.names)
        if mean.shape != (len(spec.names),) or std.shape != (len(spec.names),):
            raise ModelError(f"{where}: the standardisation does not match the features; retrain it")
        return cls(spec, (lo, hi), mean, std, members, dict(meta.get("stats") or {}))


def exists(folder: str | Path | None) -> bool:
    """True when ``folder`` holds a saved student (readable or not)."""
    return folder is not None and (Path(folder) / MODEL_FILE).is_file()


# -- training ----------------------------------------------------------------------------------------------

def _folds(groups: np.ndarray, k: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``k`` disjoint sets of groups (queries), shuffled."""
    distinct = np.unique(groups)
    order = rng.permutation(len(distinct))
    return [distinct[order[i::k]] for i in range(k)]


def train_student(features: np.ndarray, grades: np.ndarray, groups: np.ndarray, spec: FeatureSpec = SPEC,
                  scale: tuple[int, int] = (1, 5), *, seed: int = 0, progress: Progress = None,
                  members: int = 5, hidden: tuple[int, ...] = HIDDEN, epochs: int = 200, patience: int = 15,
                  lr: float = 2e-3, weight_decay: float = 1e-4, batch_size: int = 256,
                  sample_weight: np.ndarray | None = None) -> Student:
    """Train a student on ``features`` (n, len(spec.names)) and ``grades`` (n, on ``scale``; fractional means
    allowed); ``groups`` holds each row's query, so held-out rows are whole queries. ``members`` networks are
    averaged, member ``m`` holding out the m-th of ``max(members, 2)`` folds of the queries (with one query,
    a random 15% of the rows). ``progress(done, total)`` counts epochs over all members."""
    import torch

    x = np.asarray(features, np.float32)
    y = np.asarray(grades, np.float64)
    g = np.asarray(groups)
    if x.ndim != 2 or x.shape[1] != len(spec.names):
        raise ValueError(f"expected (n, {len(spec.names)}) features, got {x.shape}")
    if not (len(x) == len(y) == len(g)) or len(x) < 2:
        raise ValueError("features, grades and groups need the same length, at least 2")
    t0 = time.perf_counter()
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.where(std > 1e-6, std, 1.0).astype(np.float32)
    xs = (x - mean) / std
    targets = grade_targets(y, scale).astype(np.float32)
    weight = np.ones(len(x), np.float32) if sample_weight is None else np.asarray(sample_weight, np.float32)
    rng = np.random.default_rng(seed)
    n_folds = max(members, 2)
    folds = _folds(g, n_folds, rng) if len(np.unique(g)) >= n_folds else None

    threads = torch.get_num_threads()
    det = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    trained: list[list[tuple[np.ndarray, np.ndarray]]] = []
    member_stats = []
    done, total = 0, members * epochs
    try:
        for m in range(members):
            if folds is not None:
                held = np.isin(g, folds[m % n_folds])
            else:
                held = np.zeros(len(x), bool)
                held[rng.permutation(len(x))[:max(1, int(0.15 * len(x)))]] = True
            tr, va = np.flatnonzero(~held), np.flatnonzero(held)
            torch.manual_seed(seed * 1000 + m)
            sizes = [x.shape[1], *hidden, scale[1] - scale[0] + 1]
            layers: list[Any] = []
            for i in range(len(sizes) - 1):
                layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
                if i < len(sizes) - 2:
                    layers.append(torch.nn.ReLU())
            net = torch.nn.Sequential(*layers)
            opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
            xt, tt, wt = torch.from_numpy(xs), torch.from_numpy(targets), torch.from_numpy(weight)
            xv, tv, wv = xt[va], tt[va], wt[va]

            def loss_of(logits, target, w):
                per = -(target * torch.log_softmax(logits, dim=1)).sum(dim=1)
                return (per * w).sum() / w.sum().clamp_min(1e-9)

            best, best_state, best_epoch, stale = float("inf"), None, 0, 0
            order_rng = np.random.default_rng(seed * 1000 + m)
            for epoch in range(epochs):
                net.train()
                perm = tr[order_rng.permutation(len(tr))]
                for start in range(0, len(perm), batch_size):
                    b = torch.from_numpy(perm[start:start + batch_size])
                    opt.zero_grad()
                    loss = loss_of(net(xt[b]), tt[b], wt[b])
                    loss.backward()
                    opt.step()
                net.eval()
                with torch.no_grad():
                    val = float(loss_of(net(xv), tv, wv)) if len(va) else float(loss)
                done += 1
                if progress is not None:
                    progress(done, total)
                if val < best - 1e-5:
                    best, best_epoch, stale = val, epoch + 1, 0
                    best_state = [p.detach().clone() for p in net.parameters()]
                else:
                    stale += 1
                    if stale >= patience:
                        break
            done = (m + 1) * epochs
            params = best_state if best_state is not None else [p.detach().clone() for p in net.parameters()]
            arrays = [p.numpy().astype(np.float32) for p in params]
            trained.append([(arrays[i].T.copy(), arrays[i + 1].copy()) for i in range(0, len(arrays), 2)])
            member_stats.append({"best_epoch": best_epoch, "heldout_loss": round(best, 5),
                                 "train_rows": int(len(tr)), "heldout_rows": int(len(va))})
    finally:
        torch.use_deterministic_algorithms(det)
        torch.set_num_threads(threads)
    if progress is not None:
        progress(total, total)
    stats = {"rows": int(len(x)), "queries": int(len(np.unique(g))), "seed": int(seed),
             "hidden": list(hidden), "lr": lr, "weight_decay": weight_decay, "batch_size": batch_size,
             "data_hash": data_hash(x, y, g), "members": member_stats,
             "seconds": round(time.perf_counter() - t0, 2)}
    return Student(spec, (int(scale[0]), int(scale[1])), mean.astype(np.float32), std, trained, stats)


# -- the scorer --------------------------------------------------------------------------------------------

class StudentScorer(Scorer):
    """The ``student`` scorer: P(grade >= relevant) from the student saved in ``relevance.model``
    (``make_scorer`` passes the folder as ``model_dir``)."""

    name = "student"

    def __init__(self, cfg=None, student: Student | None = None):
        super().__init__(cfg)
        self.student = student
        self._features: Features | None = None

    def load(self) -> Student:
        if self.student is None:
            if self.model_dir is None:
                raise ModelError("the student scorer needs relevance.model (a trained model folder)")
            self.student = Student.load(self.model_dir)
        return self.student

    def prepare(self, catalog: CatalogView) -> None:
        self.load()
        self._features = Features(catalog)

    def score(self, topic: TopicEvidence) -> np.ndarray:
        if self._features is None:
            raise RuntimeError("StudentScorer.score called before prepare")
        return self.load().relevant_probability(self._features.rows(topic))
