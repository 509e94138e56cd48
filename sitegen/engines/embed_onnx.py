"""The ONNX Runtime path of the text embedder: the model folder's encoder written as an ONNX graph
(``engines.onnx_bert``), cached by the folder's fingerprint, run with the folder's own fast tokenizer. No torch.

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


class OnnxEncoder:
    """Mean-pooled sentence vectors (not normalised) from the ONNX graph of a sentence-transformers folder."""

    def __init__(self, folder: Path, precision: str = "fp32", threads: int = 1):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        try:
            path = graph_path(folder, precision)
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # a damaged cache file, an unreadable weights file
            raise ModelError(f"could not run {folder} on ONNX Runtime: {exc}") from exc
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()  # the file may pad every text to a fixed length; batches pad to their longest
        self.tokenizer.enable_truncation(max_length=onnx_bert.max_length(folder))
        self.precision = precision

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
            vecs = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            if out is None:
                out = np.empty((len(texts), vecs.shape[1]), np.float32)
            out[rows] = vecs
        return out if out is not None else np.zeros((0, 0), np.float32)
