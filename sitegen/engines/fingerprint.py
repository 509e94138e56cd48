"""The one model-folder fingerprint: what embedding, VLM and GEO caches key a local model or adapter by."""

from __future__ import annotations

import hashlib
from pathlib import Path

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".onnx")
_MIB = 1 << 20


def folder_fingerprint(path: str | Path) -> str:
    """A short, stable hash of a model or adapter folder: every JSON config in full, and the size and sampled
    bytes (first, middle and last MiB) of each weight file, so a retrained or fine-tuned copy gets a new id
    without hashing gigabytes, while a copy of the same folder elsewhere keeps its id. Hidden files are
    ignored. Anything that is not a folder (a hosted model's name) hashes its text."""
    folder = Path(path)
    h = hashlib.sha256()
    if not folder.is_dir():
        h.update(str(path).encode())
        return h.hexdigest()[:16]
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not any(x.startswith(".") for x in p.parts[-2:]))
    for p in files:
        rel = p.relative_to(folder).as_posix()
        if p.suffix == ".json":
            h.update(f"{rel}\0".encode())
            h.update(p.read_bytes())
        elif p.suffix in WEIGHT_SUFFIXES:
            size = p.stat().st_size
            h.update(f"{rel}\0{size}\0".encode())
            with p.open("rb") as f:
                for offset in sorted({0, max(0, size // 2 - _MIB // 2), max(0, size - _MIB)}):
                    f.seek(offset)
                    h.update(f.read(_MIB))
    return h.hexdigest()[:16]


def local_model_id(backend: str, model_dir: Path, adapter: Path | None = None) -> str:
    """The cache identity of a local model folder (and its LoRA adapter) under one backend."""
    model_id = f"{backend}:{Path(model_dir).name}:{folder_fingerprint(model_dir)}"
    return model_id + (f"+lora:{folder_fingerprint(adapter)}" if adapter else "")
