"""The stage protocol: what a pipeline stage declares, and the cache key derived from those declarations.

A stage names its typed inputs (the outputs of earlier stages, or ``site``) and its typed output, the settings
its result depends on (whole sections such as ``"collect"`` or single keys such as ``"build.hub_page_size"``),
the data files and model folders it reads, and the pluggable implementations it will use. Its cache key is
derived from exactly these, plus the source of every sitegen module its code imports (found by reading the
imports, transitively) and of the modules of the implementations it chose: editing a stage's code, a setting
it reads, or a data file it declares gives a new key. Nothing here is a hand-kept list of files.
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import asdict, dataclass, field, is_dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Callable, Iterable

Paths = Callable[[Any], Iterable[Path]]
Choices = Callable[[Any], Iterable[tuple[str, str]]]


def _none(_cfg: Any) -> tuple:
    return ()


@dataclass(frozen=True)
class Stage:
    """One stage of the GEO pipeline. ``run(ctx, **inputs) -> output``."""

    name: str
    run: Callable[..., Any]
    inputs: tuple[str, ...]
    output: type
    settings: tuple[str, ...] = ()
    data_files: Paths = _none  # cfg -> files whose bytes the result depends on
    models: Paths = _none  # cfg -> model folders (fingerprinted by their files' names, sizes and mtimes)
    plugins: Choices = _none  # cfg -> (kind, name) of the registered implementations it will use
    doc: str = ""

    def key(self, cfg: Any) -> str:
        """The cache key of this stage's result under ``cfg`` (see the module docstring)."""
        from sitegen.core import registry
        from sitegen.engines.fingerprint import folder_fingerprint

        h = hashlib.sha256(f"stage:{self.name}\0".encode())
        h.update(json.dumps(settings_values(cfg, self.settings), sort_keys=True, default=str).encode())
        modules = [self.run.__module__]
        for kind, name in self.plugins(cfg):
            h.update(f"plugin:{kind}:{name}\0".encode())
            impl = registry.get(kind, name)
            module = implementation_module(impl)
            if _module_file(module) is None:  # defined in __main__ or a notebook: hash its own source
                h.update(_object_source(impl).encode())
            modules.append(module)
        h.update(source_digest(tuple(modules)).encode())
        for path in self.data_files(cfg):
            path = Path(path)
            h.update(f"data:{path.name}\0".encode())
            h.update(path.read_bytes() if path.is_file() else b"<missing>")
        for folder in self.models(cfg):
            folder = Path(folder)
            h.update(folder_fingerprint(folder).encode() if folder.exists() else f"model:{folder}".encode())
        return h.hexdigest()[:32]


def settings_values(cfg: Any, names: Iterable[str]) -> dict[str, Any]:
    """``{"collect": {...}, "build.hub_page_size": 120}`` for the declared settings."""
    out: dict[str, Any] = {}
    for name in names:
        section, _, key = name.partition(".")
        value = getattr(cfg, section)
        if key:
            value = getattr(value, key)
        out[name] = asdict(value) if is_dataclass(value) else value
    return out


def implementation_module(obj: Any) -> str:
    """The module an implementation (a class, a function, or a lazy "module:attr" string) is defined in."""
    if isinstance(obj, str):
        return obj.partition(":")[0]
    return getattr(obj, "__module__", "") or ""


def _object_source(obj: Any) -> str:
    import inspect

    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return repr(obj)


def source_digest(modules: tuple[str, ...]) -> str:
    """SHA-256 over the source of ``modules`` and of every sitegen (or same-package) module they import,
    transitively."""
    h = hashlib.sha256()
    for name in sorted(module_closure(modules)):
        path = _module_file(name)
        if path is not None:
            h.update(name.encode() + b"\0")
            h.update(_file_digest(str(path), path.stat().st_mtime_ns, path.stat().st_size).encode())
    return h.hexdigest()


_IMPORTS_CACHE = "stage-imports-v1.json"  # in the user cache: "module|path|mtime|size" -> its imports


def module_closure(modules: Iterable[str]) -> set[str]:
    """``modules`` and every module they import from their own top-level package (and from sitegen). A file's
    import list is parsed once per version of the file and kept in the user cache (parsing every module's
    source each build costs about a second)."""
    from sitegen.core.usercache import read_json, write_json

    known = read_json(_IMPORTS_CACHE)
    fresh: dict[str, list[str]] = {}
    seen: set[str] = set()
    todo = [m for m in modules if m]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_file(name)
        if path is None:
            continue
        st = path.stat()
        key = f"{name}|{path}|{st.st_mtime_ns}|{st.st_size}"
        imports = known.get(key)
        if not isinstance(imports, list):
            imports = fresh[key] = list(_imports(str(path), st.st_mtime_ns, name))
        roots = {"sitegen", name.split(".")[0]}
        todo.extend(m for m in imports if m.split(".")[0] in roots and _module_file(m) is not None)
    if fresh:
        live = {k: v for k, v in known.items() if _still_there(k)}  # forget files that changed or went
        write_json(_IMPORTS_CACHE, {**live, **fresh})
    return seen


def _still_there(key: str) -> bool:
    _name, path, mtime, size = key.rsplit("|", 3)
    try:
        st = Path(path).stat()
    except OSError:
        return False
    return f"{st.st_mtime_ns}|{st.st_size}" == f"{mtime}|{size}"


@lru_cache(maxsize=None)
def _module_file(name: str) -> Path | None:
    """The source file of module ``name``, found without importing anything: ``find_spec`` of a dotted name
    imports its parents (and "from pkg.mod import Name" makes a candidate "pkg.mod.Name", which would import
    pkg.mod), so only the top-level package is looked up and the rest is read from its folders."""
    parts = name.split(".")
    try:
        spec = find_spec(parts[0])
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if len(parts) == 1:
        return Path(spec.origin) if spec.origin and spec.origin.endswith(".py") else None
    folders = [Path(f) for f in (spec.submodule_search_locations or [])]
    for part in parts[1:-1]:
        folders = [f / part for f in folders if (f / part / "__init__.py").is_file()]
    for folder in folders:
        for candidate in (folder / f"{parts[-1]}.py", folder / parts[-1] / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


@lru_cache(maxsize=None)
def _file_digest(path: str, _mtime_ns: int, _size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@lru_cache(maxsize=None)
def _imports(path: str, _mtime_ns: int, module: str) -> tuple[str, ...]:
    """Every module ``module``'s source imports, at any depth of the file (function-level imports included)."""
    tree = ast.parse(Path(path).read_bytes(), filename=path)
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            found.append(base)
            found.extend(f"{base}.{alias.name}" for alias in node.names)  # "from pkg import module"
    return tuple(sorted({m for m in found if m}))


@dataclass
class StageResults:
    """The outputs of the stages run so far, by stage name (plus ``site``), checked against declared types."""

    values: dict[str, Any] = field(default_factory=dict)

    def inputs_for(self, stage: Stage) -> dict[str, Any]:
        missing = [n for n in stage.inputs if n not in self.values]
        if missing:
            raise LookupError(f"stage {stage.name!r} needs {', '.join(missing)}, which no earlier stage produced")
        return {n: self.values[n] for n in stage.inputs}

    def put(self, stage: Stage, value: Any) -> None:
        if not isinstance(value, stage.output):
            raise TypeError(f"stage {stage.name!r} returned {type(value).__name__}, "
                            f"not the declared {stage.output.__name__}")
        self.values[stage.name] = value


@dataclass
class StageContext:
    """What every stage may use besides its inputs: the settings, the store, the shared text-embedding
    engine (made on first use), progress bars, and counters / dropped rows for the build summary."""

    cfg: Any
    store: Any
    run_id: int | None = None
    progress: Callable[[str], Callable[[int, int], None] | None] = lambda _name: None
    counters: dict[str, Any] = field(default_factory=dict)
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> reason -> count
    demand: Any = None  # sitegen.core.models.Demand: rewards and demanded topics (None = none)
    _embedder: Any = None

    @property
    def embedder(self):
        if self._embedder is None:
            from sitegen.engines.embed import Embedder

            e = self.cfg.embed
            self._embedder = Embedder.from_config(e, store=self.store)
        return self._embedder

    @property
    def embedder_stats(self) -> dict[str, int]:
        """Texts embedded and read from the cache so far ({} when no stage used the embedder)."""
        return dict(self._embedder.stats) if self._embedder is not None else {}

    def record_dropped(self, kind: str, rows: Iterable[tuple[str, str, str, str]]) -> None:
        """Dropped queries / topics (text, reason, detail, item id): counted by reason, and kept in the store
        for the review report when this is a build run."""
        rows = list(rows)
        tally = self.dropped.setdefault(kind, {})
        for _text, reason, _detail, _item in rows:
            reason = reason.split(":", 1)[0]
            tally[reason] = tally.get(reason, 0) + 1
        if self.run_id is not None:
            self.store.geo.record_dropped(self.run_id, kind, rows)
