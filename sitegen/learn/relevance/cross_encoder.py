"""The cross-encoder teacher: the packaged all-MiniLM-L6-v2 (or any local BERT-like folder) fine-tuned on graded
(query, item text) pairs read as one input, ``[CLS] query [SEP] text [SEP]``, with a head that predicts the grade.

- ``train_cross_encoder`` fine-tunes it (a plain torch loop: AdamW, linear warmup and decay, gradient clipping)
  with a seeded, by-query validation slice of the training pairs for early stopping (evaluated twice per epoch;
  the best state is kept), and saves the model, its tokenizer and ``teacher.json`` (the fingerprint: base model
  id, data hash, scale, settings, validation metrics and history) into one folder. CPU, or CUDA when present.
- ``CrossEncoderTeacher.load(folder).predict(queries, texts)`` is the expected grade on the training scale
  (float), batched over pairs sorted by token length, under ``torch.inference_mode``.
- ``CrossEncoderJudge`` is the built-in judge ``cross-encoder``: it loads ``relevance.teacher_model`` and grades
  ``Pair``s (text: ``item_text``) on the 5-level guideline, the training scale mapped linearly onto 1..5.

Two heads: ``regression`` (one output; sigmoid of it is the normalised grade, squared error loss) and
``classification`` (one logit per level, soft targets for mean grades, the expected grade under the softmax).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from sitegen.core.errors import ModelError, SitegenError
from sitegen.core.models import Judgment
from sitegen.learn.relevance.judge import Judge, Pair
from sitegen.learn.relevance.labels import split_by_query

FINGERPRINT = "teacher.json"
KIND = "cross-encoder"
HEADS = ("regression", "classification")
DEFAULT_HEAD = "regression"
DEFAULT_EPOCHS = 3
DEFAULT_BATCH_SIZE = 16
DEFAULT_MAX_LENGTH = 64
DEFAULT_LR = 4e-5
PREDICT_BATCH_SIZE = 64
VALIDATION_SHARE = 0.1  # of the training queries, held out for early stopping
EVALS_PER_EPOCH = 2
PATIENCE = 2  # evaluations without a better validation error before training stops
WARMUP = 0.1  # share of the steps with a rising learning rate
MIN_PAIRS = 20
MIN_QUERIES = 2
GUIDELINE_SCALE = (1, 5)

Progress = Callable[[int, int], None]


@dataclass
class CrossEncoderTeacher:
    """A fine-tuned cross-encoder, ready to predict grades on the scale it was trained on."""

    model: Any
    tokenizer: Any
    folder: Path
    fingerprint: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"

    @property
    def id(self) -> str:
        return str(self.fingerprint["id"])

    @property
    def scale(self) -> tuple[int, int]:
        lo, hi = self.fingerprint["scale"]
        return int(lo), int(hi)

    @property
    def head(self) -> str:
        return str(self.fingerprint["settings"]["head"])

    @property
    def max_length(self) -> int:
        return int(self.fingerprint["settings"]["max_length"])

    @classmethod
    def load(cls, folder: str | Path, *, device: str | None = None, quantize: bool = False) -> "CrossEncoderTeacher":
        """The teacher saved in ``folder``. ``quantize`` (CPU only) converts its Linear layers to dynamic int8."""
        folder = Path(folder)
        fingerprint = read_fingerprint(folder)
        import torch

        device = _device(device)
        with _quiet_transformers():
            from transformers import AutoModelForSequenceClassification, AutoTokenizer

            try:
                tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
                model = AutoModelForSequenceClassification.from_pretrained(str(folder), local_files_only=True)
            except (OSError, ValueError) as exc:
                raise ModelError(f"could not load the cross-encoder teacher from {folder}: {exc}") from exc
        model.eval()
        if quantize and device == "cpu":
            with warnings.catch_warnings():  # torch.ao.quantization is deprecated in favour of torchao
                warnings.simplefilter("ignore")
                from torch.ao.quantization import quantize_dynamic

                model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        return cls(model.to(device), tokenizer, folder, fingerprint, device)

    def predict(self, queries: Sequence[str], texts: Sequence[str], *, batch_size: int = PREDICT_BATCH_SIZE,
                progress: Progress | None = None, max_length: int | None = None) -> np.ndarray:
        """The expected grade of each (query, text) pair on the training scale (float32, in [lo, hi]).
        ``max_length`` (default: the training one) cuts each pair to that many tokens."""
        if len(queries) != len(texts):
            raise ValueError(f"{len(queries)} queries but {len(texts)} texts")
        encoded = _encode(self.tokenizer, queries, texts, max_length or self.max_length)
        return _predict_encoded(self.model, encoded, self.head, self.scale, batch_size, self.device, progress)

    def levels(self, predictions: np.ndarray) -> np.ndarray:
        """Predicted grades as integer levels of the training scale, by the cutpoints fitted on the validation
        slice (they make the predicted levels follow the training grades' distribution), else by rounding."""
        cuts = self.fingerprint.get("cutpoints")
        if cuts:
            return apply_cutpoints(predictions, cuts, self.scale)
        lo, hi = self.scale
        return np.clip(np.rint(predictions), lo, hi).astype(np.int64)


def read_fingerprint(folder: str | Path) -> dict[str, Any]:
    """A teacher folder's ``teacher.json``; a missing one says how to make it."""
    path = Path(folder) / FINGERPRINT
    if not path.is_file():
        raise ModelError(f"no cross-encoder teacher in {folder}: run `sitegen train teacher` first")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ModelError(f"{path}: not valid JSON: {exc}") from exc
    if data.get("kind") != KIND or "id" not in data or "scale" not in data:
        raise ModelError(f"{path}: not a cross-encoder teacher fingerprint")
    return data


# -- training ----------------------------------------------------------------------------------------------

def train_cross_encoder(queries: list[str], texts: list[str], grades: np.ndarray, out_dir: Path, *,
                        scale: tuple[int, int], seed: int = 0, progress: Progress | None = None,
                        base: Path | None = None, epochs: int = DEFAULT_EPOCHS, batch_size: int = DEFAULT_BATCH_SIZE,
                        max_length: int = DEFAULT_MAX_LENGTH, lr: float = DEFAULT_LR, head: str = DEFAULT_HEAD,
                        device: str | None = None) -> CrossEncoderTeacher:
    """Fine-tune the cross-encoder on graded pairs (grades on ``scale``, means allowed) and save it in ``out_dir``
    (replacing an earlier teacher there). The same data, settings, seed and device give the same model."""
    grades = np.asarray(grades, dtype=np.float64)
    lo, hi = int(scale[0]), int(scale[1])
    _check_data(queries, texts, grades, (lo, hi), epochs, batch_size, max_length, lr, head)
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    import random

    import torch

    from sitegen.engines.embed import DEFAULT_MODEL, default_model_path
    from sitegen.engines.fingerprint import folder_fingerprint

    started = time.perf_counter()
    base_path = Path(base) if base else default_model_path()
    base_id = f"{DEFAULT_MODEL if base is None else base_path.name}:{folder_fingerprint(base_path)}"
    device = _device(device)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    levels = hi - lo + 1
    with _quiet_transformers():
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(str(base_path), local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(
                str(base_path), local_files_only=True, num_labels=1 if head == "regression" else levels)
        except (OSError, ValueError) as exc:
            raise ModelError(f"could not load the base model for the teacher from {base_path}: {exc}") from exc
    limit = int(getattr(model.config, "max_position_embeddings", 512) or 512)
    if max_length > limit:
        raise SitegenError(f"max_length {max_length} exceeds the model's {limit} positions")
    if head == "classification":
        model.config.id2label = {i: str(lo + i) for i in range(levels)}
        model.config.label2id = {str(lo + i): i for i in range(levels)}
    model.to(device)

    train_idx, val_idx = split_by_query(list(queries), VALIDATION_SHARE, seed)
    encoded = _encode(tokenizer, queries, texts, max_length)
    targets = _targets(grades, (lo, hi), head)
    steps_per_epoch = math.ceil(len(train_idx) / batch_size)
    total = steps_per_epoch * epochs
    eval_at = {min(steps_per_epoch, math.ceil(steps_per_epoch * (k + 1) / EVALS_PER_EPOCH))
               for k in range(EVALS_PER_EPOCH)}
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, int(WARMUP * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))
    rng = np.random.default_rng(seed)
    val_grades = grades[val_idx]
    best: dict[str, Any] = {}
    history: list[dict[str, Any]] = []
    step, since_best, running = 0, 0, []
    for epoch in range(epochs):
        order = train_idx[rng.permutation(len(train_idx))]
        model.train()
        for b in range(steps_per_epoch):
            rows = order[b * batch_size:(b + 1) * batch_size]
            batch = _batch(encoded, rows, tokenizer.pad_token_id or 0, device)
            logits = model(**batch).logits.float()
            target = torch.as_tensor(targets[rows], dtype=torch.float32, device=device)
            if head == "regression":
                loss = torch.nn.functional.mse_loss(torch.sigmoid(logits[:, 0]), target)
            else:
                loss = torch.nn.functional.cross_entropy(logits, target)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            running.append(float(loss.detach()))
            if progress is not None:
                progress(step, total)
            if b + 1 not in eval_at:
                continue
            predicted = _predict_encoded(model, _subset(encoded, val_idx), head, (lo, hi), PREDICT_BATCH_SIZE,
                                         device, None)
            model.train()
            entry = {"epoch": round(epoch + (b + 1) / steps_per_epoch, 3), "step": step,
                     "train_loss": round(float(np.mean(running)), 5), **grade_metrics(val_grades, predicted, (lo, hi))}
            history.append(entry)
            running = []
            if not best or entry["rmse"] < best["entry"]["rmse"]:
                best = {"entry": entry, "predictions": predicted,
                        "state": {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}}
                since_best = 0
            else:
                since_best += 1
        if since_best >= PATIENCE:
            break
    model.load_state_dict(best["state"])
    model.eval()
    cutpoints = fit_cutpoints(best["predictions"], grades, (lo, hi))
    metrics = {k: v for k, v in best["entry"].items() if k != "train_loss"}
    metrics["qwk_cutpoints"] = round(quadratic_weighted_kappa(
        np.rint(val_grades), apply_cutpoints(best["predictions"], cutpoints, (lo, hi)), (lo, hi)), 5)
    settings = {"head": head, "epochs": epochs, "batch_size": batch_size, "max_length": max_length, "lr": lr,
                "seed": seed, "validation_share": VALIDATION_SHARE, "patience": PATIENCE, "warmup": WARMUP,
                "weight_decay": 0.01, "device": device, "torch_threads": torch.get_num_threads()}
    fingerprint = {
        "kind": KIND, "base_model": base_id, "data_hash": data_hash(queries, texts, grades), "scale": [lo, hi],
        "settings": settings, "pairs": len(queries), "queries": len(set(queries)), "train_pairs": len(train_idx),
        "validation_pairs": len(val_idx), "validation_queries": len({queries[i] for i in val_idx}),
        "metrics": metrics, "cutpoints": [round(float(c), 6) for c in cutpoints], "history": history,
        "seconds": round(time.perf_counter() - started, 1),
    }
    _save(model, tokenizer, fingerprint, out_dir)
    return CrossEncoderTeacher(model, tokenizer, out_dir, fingerprint, device)


def _check_data(queries: Sequence[str], texts: Sequence[str], grades: np.ndarray, scale: tuple[int, int],
                epochs: int, batch_size: int, max_length: int, lr: float, head: str) -> None:
    lo, hi = scale
    if len(queries) != len(texts) or len(queries) != len(grades):
        raise ValueError(f"{len(queries)} queries, {len(texts)} texts and {len(grades)} grades")
    if hi <= lo:
        raise SitegenError(f"the grade scale {lo}-{hi} needs at least two levels")
    if head not in HEADS:
        raise SitegenError(f"unknown teacher head {head!r} (one of: {', '.join(HEADS)})")
    for name, value, least in (("epochs", epochs, 1), ("batch_size", batch_size, 1), ("max_length", max_length, 8)):
        if value < least:
            raise SitegenError(f"{name} must be >= {least} (got {value})")
    if not lr > 0:
        raise SitegenError(f"lr must be > 0 (got {lr})")
    if len(grades) and (not np.isfinite(grades).all() or grades.min() < lo or grades.max() > hi):
        raise SitegenError(f"grades must lie on the scale {lo}-{hi} (found {grades.min():g} to {grades.max():g})")
    n_queries = len(set(queries))
    if len(queries) < MIN_PAIRS or n_queries < MIN_QUERIES:
        raise SitegenError(f"too few grades to train the teacher: {len(queries)} graded pair(s) over {n_queries} "
                           f"query(ies); it needs at least {MIN_PAIRS} pairs over {MIN_QUERIES} queries (some "
                           "queries are held out to stop the training in time)")
    if len(np.unique(np.rint(grades))) < 2:
        raise SitegenError("every grade is the same: the teacher needs pairs graded at two levels at least")


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise SitegenError(f"{out_dir} is a file, not a folder for the teacher")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / FINGERPRINT).is_file():
        raise SitegenError(f"{out_dir} holds other files; the teacher needs an empty folder or an earlier teacher's")


def _device(device: str | None) -> str:
    import torch

    if device in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(f"device {device!r} was asked for but CUDA is not available")
    return device


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """No load report, progress bar or deprecation warning from transformers and torch (the CLI reports)."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # sitegen never downloads weights
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


# -- encoding and prediction -------------------------------------------------------------------------------

def _encode(tokenizer: Any, queries: Sequence[str], texts: Sequence[str], max_length: int) -> dict[str, Any]:
    """Token ids of each pair, cut to ``max_length`` (the longer of query and text loses tokens first)."""
    if not len(queries):
        return {"input_ids": [], "lengths": np.zeros(0, dtype=np.int64)}
    enc = tokenizer(list(queries), list(texts), truncation="longest_first", max_length=max_length,
                    return_attention_mask=False)
    out = {k: list(enc[k]) for k in ("input_ids", "token_type_ids") if k in enc}
    out["lengths"] = np.array([len(x) for x in out["input_ids"]], dtype=np.int64)
    return out


def _subset(encoded: dict[str, Any], rows: np.ndarray) -> dict[str, Any]:
    return {k: (v[rows] if isinstance(v, np.ndarray) else [v[i] for i in rows]) for k, v in encoded.items()}


def _batch(encoded: dict[str, Any], rows: Sequence[int], pad_id: int, device: str) -> dict[str, Any]:
    """Padded tensors for these rows: input ids, token types, attention mask."""
    import torch

    width = int(max(encoded["lengths"][i] for i in rows))
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    types = np.zeros((len(rows), width), dtype=np.int64) if "token_type_ids" in encoded else None
    for r, i in enumerate(rows):
        n = encoded["lengths"][i]
        ids[r, :n] = encoded["input_ids"][i]
        mask[r, :n] = 1
        if types is not None:
            types[r, :n] = encoded["token_type_ids"][i]
    batch = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
    if types is not None:
        batch["token_type_ids"] = torch.from_numpy(types)
    return {k: v.to(device) for k, v in batch.items()}


def _targets(grades: np.ndarray, scale: tuple[int, int], head: str) -> np.ndarray:
    """Regression: the grade normalised to [0, 1]. Classification: a distribution over the levels (a mean
    grade such as 2.33 splits its mass between the two levels around it)."""
    lo, hi = scale
    position = np.clip(grades, lo, hi) - lo
    if head == "regression":
        return (position / (hi - lo)).astype(np.float32)
    floor = np.minimum(np.floor(position).astype(np.int64), hi - lo - 1)
    frac = position - floor
    out = np.zeros((len(grades), hi - lo + 1), dtype=np.float32)
    out[np.arange(len(grades)), floor] = 1.0 - frac
    out[np.arange(len(grades)), floor + 1] += frac
    return out


def _predict_encoded(model: Any, encoded: dict[str, Any], head: str, scale: tuple[int, int], batch_size: int,
                     device: str, progress: Progress | None) -> np.ndarray:
    import torch

    lo, hi = scale
    n = len(encoded["input_ids"])
    out = np.zeros(n, dtype=np.float32)
    order = np.argsort(encoded["lengths"], kind="stable")
    pad_id = int(getattr(model.config, "pad_token_id", 0) or 0)
    levels = torch.arange(lo, hi + 1, dtype=torch.float32, device=device)
    with torch.inference_mode():
        for start in range(0, n, max(1, batch_size)):
            rows = order[start:start + batch_size]
            logits = model(**_batch(encoded, rows, pad_id, device)).logits.float()
            if head == "regression":
                scores = lo + torch.sigmoid(logits[:, 0]) * (hi - lo)
            else:
                scores = torch.softmax(logits, dim=-1) @ levels
            out[rows] = scores.cpu().numpy()
            if progress is not None:
                progress(min(n, start + len(rows)), n)
    return out


# -- metrics -----------------------------------------------------------------------------------------------

def quadratic_weighted_kappa(truth: np.ndarray, predicted: np.ndarray, scale: tuple[int, int]) -> float:
    """Cohen's kappa with quadratic weights between two integer gradings on ``scale``."""
    lo, hi = scale
    k = hi - lo + 1
    a = np.clip(np.asarray(truth, dtype=np.int64), lo, hi) - lo
    b = np.clip(np.asarray(predicted, dtype=np.int64), lo, hi) - lo
    if not len(a):
        return math.nan
    observed = np.zeros((k, k))
    np.add.at(observed, (a, b), 1.0)
    expected = np.outer(observed.sum(1), observed.sum(0)) / len(a)
    weights = (np.subtract.outer(np.arange(k), np.arange(k)) ** 2) / (k - 1) ** 2
    denominator = float((weights * expected).sum())
    return 1.0 - float((weights * observed).sum()) / denominator if denominator else math.nan


def auroc(positive: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (ties count half); NaN when one class is absent."""
    positive = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return math.nan
    order = np.argsort(scores, kind="stable")
    s = np.asarray(scores, dtype=np.float64)[order]
    ranks = np.empty(len(s))
    start = 0
    for end in np.append(np.flatnonzero(np.diff(s)) + 1, len(s)):  # average ranks over ties
        ranks[order[start:end]] = (start + end + 1) / 2.0
        start = end
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def grade_metrics(truth: np.ndarray, predicted: np.ndarray, scale: tuple[int, int]) -> dict[str, Any]:
    """RMSE (raw grades), accuracy and quadratic-weighted kappa (both rounded to levels), AUROC of the
    prediction for "grade >= t" at every level t above the lowest."""
    lo, hi = scale
    truth, predicted = np.asarray(truth, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    t_levels, p_levels = np.clip(np.rint(truth), lo, hi), np.clip(np.rint(predicted), lo, hi)
    return {
        "rmse": round(float(np.sqrt(np.mean((truth - predicted) ** 2))), 5) if len(truth) else math.nan,
        "accuracy": round(float(np.mean(t_levels == p_levels)), 5) if len(truth) else math.nan,
        "qwk": round(quadratic_weighted_kappa(t_levels, p_levels, scale), 5),
        "auroc": {str(t): round(auroc(t_levels >= t, predicted), 5) for t in range(lo + 1, hi + 1)},
    }


def fit_cutpoints(predictions: np.ndarray, grades: np.ndarray, scale: tuple[int, int]) -> list[float]:
    """Thresholds between the levels that give ``predictions`` the distribution of ``grades`` (rounded)."""
    lo, hi = scale
    counts = np.bincount(np.clip(np.rint(grades), lo, hi).astype(np.int64) - lo, minlength=hi - lo + 1)
    shares = np.cumsum(counts)[:-1] / max(1, counts.sum())
    if not len(predictions):
        return [lo + k + 0.5 for k in range(hi - lo)]
    return [float(c) for c in np.maximum.accumulate(np.quantile(predictions, shares))]


def apply_cutpoints(predictions: np.ndarray, cutpoints: Sequence[float], scale: tuple[int, int]) -> np.ndarray:
    return scale[0] + np.searchsorted(np.asarray(cutpoints, dtype=np.float64),
                                      np.asarray(predictions, dtype=np.float64), side="right")


def data_hash(queries: Sequence[str], texts: Sequence[str], grades: np.ndarray) -> str:
    """A hash of the training pairs, in order."""
    h = hashlib.sha256()
    for q, t, g in zip(queries, texts, np.asarray(grades, dtype=np.float64)):
        h.update(f"{q}\0{t}\0{float(g)!r}\n".encode())
    return h.hexdigest()[:16]


def _save(model: Any, tokenizer: Any, fingerprint: dict[str, Any], out_dir: Path) -> None:
    """Write the model, tokenizer and fingerprint to a temporary folder beside ``out_dir``, then swap it in."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    for leftover in (tmp, old):
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        with _quiet_transformers():
            model.save_pretrained(str(tmp))
            tokenizer.save_pretrained(str(tmp))
        h = hashlib.sha256()
        for weights in sorted(tmp.glob("*.safetensors")):
            h.update(weights.read_bytes())
        fingerprint["id"] = f"{KIND}:{h.hexdigest()[:16]}"
        ordered = {"id": fingerprint.pop("id"), **fingerprint}
        fingerprint.clear()
        fingerprint.update(ordered)
        (tmp / FINGERPRINT).write_text(json.dumps(fingerprint, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        if out_dir.exists():
            out_dir.rename(old)
        tmp.rename(out_dir)
    except OSError as exc:
        raise SitegenError(f"cannot save the teacher to {out_dir}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


# -- the judge ---------------------------------------------------------------------------------------------

def to_guideline(predictions: np.ndarray, scale: tuple[int, int]) -> np.ndarray:
    """Grades on ``scale`` mapped linearly onto the guideline's 1..5 and rounded (1-4: 1, 2, 3, 4 -> 1, 2.33,
    3.67, 5 -> 1, 2, 4, 5)."""
    lo, hi = scale
    g_lo, g_hi = GUIDELINE_SCALE
    mapped = g_lo + (np.asarray(predictions, dtype=np.float64) - lo) * (g_hi - g_lo) / (hi - lo)
    return np.clip(np.rint(mapped), g_lo, g_hi).astype(np.int64)


class CrossEncoderJudge(Judge):
    """Grades pairs with the fine-tuned cross-encoder in ``relevance.teacher_model`` (``sitegen train teacher``)."""

    name = KIND

    def __init__(self, cfg: Any = None, *, folder: str | Path | None = None):
        super().__init__(cfg)
        if folder is None:
            if cfg is None:
                raise ModelError("the cross-encoder judge needs the site's config (relevance.teacher_model)")
            folder = cfg.path(cfg.relevance.teacher_model)
        self.folder = Path(folder)
        self.fingerprint = read_fingerprint(self.folder)
        self._teacher: CrossEncoderTeacher | None = None

    @property
    def rater(self) -> str:
        return str(self.fingerprint["id"])

    @property
    def teacher(self) -> CrossEncoderTeacher:
        if self._teacher is None:
            self._teacher = CrossEncoderTeacher.load(self.folder)
        return self._teacher

    def grade(self, pairs: Sequence[Pair], progress: Progress | None = None) -> list[Judgment]:
        from sitegen.core.text import item_text

        if not pairs:
            return []
        predicted = self.teacher.predict([p.topic for p in pairs], [item_text(p.item) for p in pairs],
                                         progress=progress)
        return [self.judgment(p, int(g)) for p, g in zip(pairs, to_guideline(predicted, self.teacher.scale))]
