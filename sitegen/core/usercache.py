"""The user's cache folder: what a machine computes once and every site on it reuses (ONNX graphs, the precision
guard's decisions, the import lists of the stage keys). ``$SITEGEN_CACHE``, else ``$XDG_CACHE_HOME/sitegen``,
else ``~/.cache/sitegen``. Everything in it can be deleted at any time; it is written again when needed."""

from __future__ import annotations

import json
import os
from pathlib import Path


def cache_root() -> Path:
    if os.environ.get("SITEGEN_CACHE"):
        return Path(os.environ["SITEGEN_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sitegen"


def read_json(name: str) -> dict:
    """The JSON object cached under ``name``; {} when missing or unreadable."""
    try:
        value = json.loads((cache_root() / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def write_json(name: str, value: dict) -> None:
    """Write ``value`` under ``name`` atomically (concurrent builds never read half a file); a cache folder that
    cannot be written is not an error."""
    path = cache_root() / name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(value, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass
