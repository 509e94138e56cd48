"""Build state keyed by content and config (Lektor's rule): when the items, the settings and the code of the
GEO stages (represent, embed, index, collect, annotate, link) are unchanged, their result is read back from the
store instead of being computed again. A no-change rebuild of a 44,000-item catalog then costs seconds.

The fingerprint covers every input of those stages: each item's fields (pixel colours and slug included), the
text pages (they are part of the link graph), the settings of every GEO section, the search-console export,
the model folders (names, sizes and mtimes of their files) and the source of the stage modules themselves.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from pathlib import Path

from sitegen.core.config import Config
from sitegen.core.models import Collection, Site
from sitegen.store.db import Store

NAMESPACE = "geo"
_PACKAGE = Path(__file__).resolve().parents[1]
_SOURCES = ("represent", "engines", "aggregate", "distribute/annotate.py", "distribute/link.py",
            "distribute/plan.py", "ingest/colours.py", "pipeline/cache.py", "core/text.py", "core/lexicon.py",
            "lexicons")


def _source_digest() -> str:
    h = hashlib.sha256()
    for name in _SOURCES:
        path = _PACKAGE / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for f in files:
            if f.is_file() and f.suffix in (".py", ".txt", ".toml"):
                h.update(f.relative_to(_PACKAGE).as_posix().encode())
                h.update(f.read_bytes())
    return h.hexdigest()


def fingerprint(cfg: Config, site: Site) -> str:
    h = hashlib.sha256()
    settings = {name: asdict(getattr(cfg, name)) for name in ("represent", "embed", "index", "collect", "link", "vlm")}
    settings["hub_page_size"] = cfg.build.hub_page_size
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    if cfg.represent.console_export and cfg.path(cfg.represent.console_export).is_file():
        h.update(cfg.path(cfg.represent.console_export).read_bytes())
    from sitegen.core.lexicon import lexicon_paths

    for path in lexicon_paths(cfg.represent.lexicons, cfg.root):  # a site's own word lists may change
        h.update(path.read_bytes())
    from sitegen.engines.vlm import folder_fingerprint

    for value in (cfg.embed.model, cfg.vlm.model, cfg.vlm.adapter):
        if value and cfg.path(value).exists():
            h.update(folder_fingerprint(cfg.path(value)).encode())
    h.update(_source_digest().encode())
    h.update(json.dumps([p.slug for p in site.pages]).encode())
    for item in site.items:
        h.update(json.dumps(asdict(item), sort_keys=True, default=str).encode())
    return h.hexdigest()[:32]


def load(store: Store, key: str, site: Site) -> tuple[Site, dict, dict] | None:
    """(site with collections, annotations, featured, hub links and PageRank; link report; counters), or None."""
    payload = store.cache_get(NAMESPACE, [key]).get(key)
    if payload is None:
        return None
    collections = [Collection(**{k: tuple(v) if isinstance(v, list) else v for k, v in c.items()})
                   for c in payload["collections"]]
    hub_links = payload["hub_collections"]
    hubs = [replace(h, collection_slugs=tuple(hub_links.get(h.slug, ()))) for h in site.hubs]
    site = replace(site, hubs=hubs, collections=collections,
                   annotations={k: tuple(v) for k, v in payload["annotations"].items()},
                   featured=tuple(payload["featured"]), pagerank=payload["pagerank"])
    return site, payload["link_report"], payload["counters"]


def save(store: Store, key: str, site: Site, link_report: dict, counters: dict) -> None:
    """Keep only the newest result (the store does not grow with every build)."""
    payload = {
        "collections": [asdict(c) for c in site.collections],
        "annotations": {k: list(v) for k, v in site.annotations.items()},
        "featured": list(site.featured),
        "hub_collections": {h.slug: list(h.collection_slugs) for h in site.hubs},
        "pagerank": site.pagerank,
        "link_report": json.loads(json.dumps(link_report, default=str)),
        "counters": counters,
    }
    with store.transaction():
        store.con.execute("DELETE FROM cache WHERE namespace = ?", [NAMESPACE])
        store.cache_put(NAMESPACE, {key: payload})
