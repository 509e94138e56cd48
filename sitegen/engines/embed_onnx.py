"""The graph paths of the text embedder: the model folder's encoder written as an ONNX graph
(``engines.onnx_bert``), cached by the folder's fingerprint, run with the folder's own fast tokenizer on ONNX
Runtime (float32, or dynamically quantised int8) or on OpenVINO (float32, or bfloat16 on a CPU that computes it
natively: AVX512-BF16 / AMX). No torch.

The graphs live in the user's cache (``$SITEGEN_CACHE``, else ``$XDG_CACHE_HOME/sitegen``, else
``~/.cache/sitegen``) under ``onnx/<fingerprint>/``: ``model.onnx`` (float32) and ``model.int8.onnx``. They are
written once per model and machine (about 2 s; the int8 variant 2 s more), atomically, so concurrent builds
never read half a file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from sitegen.core.errors import ModelError
from sitegen.engines import onnx_bert
from sitegen.engines.fingerprint import folder_fingerprint

GRAPH_VERSION = 2  # bump when onnx_bert writes a different graph for the same weights


def cache_root() -> Path:
    if os.environ.get("SITEGEN_CACHE"):
        return Path(os.environ["SITEGEN_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sitegen"


def available(folder: Path) -> str | None:
    """None when ``folder`` can run on ONNX Runtime here, else why not (one line)."""
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError:
        return "onnxruntime is not installed (pip install onnxruntime)"
    if not (folder / "tokenizer.json").is_file():
        return f"{folder} has no tokenizer.json"
    return onnx_bert.supported(folder)


def graph_path(folder: Path, precision: str) -> Path:
    """The cached graph of ``folder`` at ``precision`` ("fp32" or "int8"), written when missing."""
    import onnxruntime

    key = hashlib.sha256(f"{folder_fingerprint(folder)}:{GRAPH_VERSION}".encode()).hexdigest()[:20]
    directory = cache_root() / "onnx" / key
    fp32 = directory / "model.onnx"
    if not fp32.is_file():
        onnx_bert.build_graph(folder, fp32)
    if precision == "fp32":
        return fp32
    # the quantiser's choices can change between ONNX Runtime releases
    int8 = directory / f"model.int8.ort{onnxruntime.__version__}.onnx"
    if not int8.is_file():
        onnx_bert.quantize(fp32, int8)
    return int8


def openvino_problem(precision: str = "fp32") -> str | None:
    """None when OpenVINO can run the graph here at ``precision`` ("fp32" or "bf16"), else why not (one line)."""
    from importlib.util import find_spec

    if find_spec("openvino") is None:  # not imported here: deciding costs no import
        return "openvino is not installed (pip install openvino)"
    if precision == "bf16":
        import openvino

        if "BF16" not in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
            return "this CPU has no native bfloat16 (AVX512-BF16 or AMX)"
    return None


class _GraphEncoder:
    """Mean-pooled sentence vectors (not normalised) from the ONNX graph of a sentence-transformers folder;
    subclasses run one batch of token ids."""

    runtime = ""

    def __init__(self, folder: Path, precision: str = "fp32", threads: int = 1):
        from tokenizers import Tokenizer

        try:
            self._open(folder, precision, threads)
        except Exception as exc:  # a damaged cache file, an unreadable weights file
            raise ModelError(f"could not run {folder} on {self.runtime}: {exc}") from exc
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()  # the file may pad every text to a fixed length; batches pad to their longest
        self.tokenizer.enable_truncation(max_length=onnx_bert.max_length(folder))
        self.precision = precision

    def _open(self, folder: Path, precision: str, threads: int) -> None:
        raise NotImplementedError

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @property
    def dim(self) -> int:
        raise NotImplementedError

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """One row per text, in order; texts are run in batches of similar length (longest first)."""
        encodings = self.tokenizer.encode_batch(texts)
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(-lengths, kind="stable")
        out: np.ndarray | None = None
        for start in range(0, len(texts), batch_size):
            rows = order[start:start + batch_size]
            width = int(lengths[rows].max())
            ids = np.zeros((len(rows), width), np.int64)
            mask = np.zeros((len(rows), width), np.int64)
            for r, i in enumerate(rows):
                ids[r, :lengths[i]] = encodings[i].ids
                mask[r, :lengths[i]] = 1
            vecs = self._run(ids, mask)
            if out is None:
                out = np.empty((len(texts), vecs.shape[1]), np.float32)
            out[rows] = vecs
        return out if out is not None else np.zeros((0, 0), np.float32)


class OnnxEncoder(_GraphEncoder):
    """The graph on ONNX Runtime's CPU provider: float32, or the dynamically quantised int8 graph."""

    runtime = "ONNX Runtime"

    def _open(self, folder: Path, precision: str, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(graph_path(folder, precision)), options,
                                            providers=["CPUExecutionProvider"])

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    @property
    def dim(self) -> int:
        return int(self.session.get_outputs()[0].shape[1])


class OpenVinoEncoder(_GraphEncoder):
    """The float32 graph compiled by OpenVINO's CPU plugin; at "bf16" its matrix products run in bfloat16 on the
    CPU's own units (the plugin keeps softmax, normalisation and accumulation in float32)."""

    runtime = "OpenVINO"

    def _open(self, folder: Path, precision: str, threads: int) -> None:
        import openvino

        core = openvino.Core()
        model = core.read_model(str(graph_path(folder, "fp32")))
        self._dim = int(model.outputs[0].get_partial_shape()[1].get_length())
        compiled = core.compile_model(model, "CPU", {
            "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32"})
        self.request = compiled.create_infer_request()

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = self.request.infer({"input_ids": ids, "attention_mask": mask})
        return np.array(out[0], dtype=np.float32)  # a copy: the request reuses its output buffer

    @property
    def dim(self) -> int:
        return self._dim
