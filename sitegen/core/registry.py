"""The one registry of pluggable implementations, built-ins exactly like third-party ones.

An implementation is registered under a *kind* (an extension point, listed in ``KINDS`` and documented in
``EXTENDING.md``) and a *name* that ``site.toml`` chooses it by. Built-ins register lazily as
``"module:attribute"`` strings, so choosing one imports only that module; third-party packages register through
the entry-point group ``sitegen.plugins``: each entry point names a callable that receives this module and calls
``register`` (or a module whose import registers its implementations).

    from sitegen.core import registry

    @registry.register("topic_source", "my-topics")
    class MyTopics: ...

    registry.get("topic_source", "my-topics")
"""

from __future__ import annotations

import sys
from typing import Any

from sitegen.core.errors import PluginError

ENTRY_POINT_GROUP = "sitegen.plugins"

KINDS: dict[str, str] = {
    "generator": "query generators: predict the search queries of each item (represent.generator)",
    "scorer": "relevance scorers: grade how well an item satisfies a topic (collect.scorer)",
    "annotator": "annotators: choose the collections each item links to (link.annotator)",
    "topic_source": "topic sources: propose topics that may become collections (collect.topic_sources)",
    "runner": "runners: execute the batch stages, locally or scaled out (runner.kind)",
    "judge": "relevance judges (teachers): grade topic-item pairs 1-5 into the store (relevance.teacher)",
}

_entries: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
_plugins_loaded = False


RegistryError = PluginError  # an unknown kind or name; the message lists what is registered


def register(kind: str, name: str, obj: Any = None, *, replace: bool = False) -> Any:
    """Register ``obj`` (a class, a function, or a lazy ``"module:attribute"`` string) as ``name`` of ``kind``.
    Without ``obj`` it is a decorator. A second registration of a taken name is an error unless ``replace``."""
    if kind not in _entries:
        raise RegistryError(f"unknown extension point {kind!r}; known: {', '.join(sorted(KINDS))}")
    if not name or name != name.strip():
        raise RegistryError(f"{kind}: a plugin name must be a non-empty word, not {name!r}")

    def add(target: Any) -> Any:
        current = _entries[kind].get(name)
        if current is not None and current is not target and not replace:
            raise RegistryError(f"{kind} {name!r} is already registered ({_describe(current)})")
        _entries[kind][name] = target
        return target

    return add if obj is None else add(obj)


def get(kind: str, name: str) -> Any:
    """The implementation registered as ``name`` of ``kind`` (lazy entries are imported now)."""
    _ensure_plugins()
    if kind not in _entries:
        raise RegistryError(f"unknown extension point {kind!r}; known: {', '.join(sorted(KINDS))}")
    entry = _entries[kind].get(name)
    if entry is None:
        raise RegistryError(f"no {kind} named {name!r}; registered: {', '.join(names(kind)) or 'none'}")
    if isinstance(entry, str):
        entry = _entries[kind][name] = _import(entry)
    return entry


def names(kind: str) -> list[str]:
    """Every name registered for ``kind``, sorted."""
    _ensure_plugins()
    return sorted(_entries.get(kind, {}))


def unregister(kind: str, name: str) -> None:
    """Remove a registration (tests, and plugins that replace a built-in)."""
    _entries.get(kind, {}).pop(name, None)


def load_plugins(force: bool = False) -> list[str]:
    """Import every entry point of the group ``sitegen.plugins`` once; returns their names."""
    global _plugins_loaded
    if _plugins_loaded and not force:
        return []
    _plugins_loaded = True
    from importlib.metadata import entry_points

    loaded = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            target = ep.load()
        except Exception as exc:  # a broken plugin names itself instead of failing somewhere later
            raise RegistryError(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
        if callable(target) and not isinstance(target, type):
            target(sys.modules[__name__])
        loaded.append(ep.name)
    return loaded


def _ensure_plugins() -> None:
    if not _plugins_loaded:
        _register_builtins()
        load_plugins()


def _register_builtins() -> None:
    from sitegen.core import builtins  # noqa: F401  (registers the built-in implementations)


def _import(ref: str) -> Any:
    from importlib import import_module

    module, _, attr = ref.partition(":")
    obj: Any = import_module(module)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


def _describe(entry: Any) -> str:
    if isinstance(entry, str):
        return entry
    return f"{getattr(entry, '__module__', '?')}:{getattr(entry, '__qualname__', repr(entry))}"
