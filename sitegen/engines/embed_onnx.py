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
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sitegen.core.errors import ModelError
from sitegen.core.usercache import cache_root
from sitegen.engines import onnx_bert
from sitegen.engines.fingerprint import folder_fingerprint

GRAPH_VERSION = 2  # bump when onnx_bert writes a different graph for the same weights


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

    def _run(self, batches: Iterator[tuple[np.ndarray, np.ndarray]]) -> Iterator[np.ndarray]:
        """The vectors of each (token ids, attention mask) batch, in order."""
        raise NotImplementedError

    @property
    def dim(self) -> int:
        raise NotImplementedError

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """One row per text, in order. A batch holds texts of one token length only (longest first, at most
        ``batch_size``): nothing is padded, so a text's vector is the same whatever else is embedded with it
        (padding changes which kernels a runtime picks, and so the last bits of a reduced precision)."""
        encodings = self.tokenizer.encode_batch(texts)
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.lexsort((np.arange(len(texts)), -lengths))
        groups: list[np.ndarray] = []
        for length in dict.fromkeys(lengths[order].tolist()):
            same = order[lengths[order] == length]
            groups.extend(same[i:i + batch_size] for i in range(0, len(same), batch_size))

        def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            for rows in groups:
                ids = np.array([encodings[i].ids for i in rows], np.int64)
                yield ids, np.ones_like(ids)

        out = np.empty((len(texts), self.dim), np.float32)
        for rows, vecs in zip(groups, self._run(batches())):
            out[rows] = vecs
        return out


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

    def _run(self, batches: Iterator[tuple[np.ndarray, np.ndarray]]) -> Iterator[np.ndarray]:
        for ids, mask in batches:
            yield self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    @property
    def dim(self) -> int:
        return int(self.session.get_outputs()[0].shape[1])


class OpenVinoEncoder(_GraphEncoder):
    """The float32 graph compiled by OpenVINO's CPU plugin; at "bf16" its matrix products run in bfloat16 on the
    CPU's own units (the plugin keeps softmax, normalisation and accumulation in float32). Compiled for
    throughput: the plugin splits the threads into streams and batches run on them concurrently (about 20%
    faster on two cores than one stream of two threads; every batch's rows are its own). The compiled model is
    cached in the user cache (``openvino/``), so a later process loads it in a fraction of the compile."""

    runtime = "OpenVINO"

    def _open(self, folder: Path, precision: str, threads: int) -> None:
        import openvino

        core = openvino.Core()
        core.set_property({"CACHE_DIR": str(cache_root() / "openvino")})
        self.compiled = core.compile_model(str(graph_path(folder, "fp32")), "CPU", {
            "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "THROUGHPUT",
            "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32"})
        self._dim = int(self.compiled.outputs[0].get_partial_shape()[1].get_length())
        self._jobs = max(1, int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))

    def _run(self, batches: Iterator[tuple[np.ndarray, np.ndarray]]) -> Iterator[np.ndarray]:
        import openvino

        queue = openvino.AsyncInferQueue(self.compiled, self._jobs)
        done: dict[int, np.ndarray] = {}
        # a copy: each request reuses its output buffer
        queue.set_callback(lambda request, k: done.__setitem__(k, request.get_output_tensor(0).data.copy()))
        pending = 0
        for k, (ids, mask) in enumerate(batches):
            queue.start_async({"input_ids": ids, "attention_mask": mask}, k)  # waits while every request is busy
            while pending in done:  # hand back, in order, what has finished
                yield done.pop(pending)
                pending += 1
        queue.wait_all()
        while pending in done:
            yield done.pop(pending)
            pending += 1

    @property
    def dim(self) -> int:
        return self._dim
