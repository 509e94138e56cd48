"""Build state keyed by content and config (Lektor's rule): the GEO result (collections, annotations, hub
listings, featured collections, PageRank and the link report) is kept in the store under the key that
``pipeline.geo.geo_key`` derives from the stages' declarations, and read back when the key is the same. A
no-change rebuild of a 44,000-item catalog then costs seconds."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from pathlib import Path

from sitegen.core.models import Alias, Collection, Site
from sitegen.store.db import Store

NAMESPACE = "geo"


def load(store: Store, key: str, site: Site) -> tuple[Site, dict, dict] | None:
    """(site with collections, annotations, featured, hub links and PageRank; link report; counters), or None."""
    payload = store.cache.get(NAMESPACE, [key]).get(key)
    if payload is None:
        return None
    collections = [_collection(c) for c in payload["collections"]]
    hub_links = payload["hub_collections"]
    hubs = [replace(h, collection_slugs=tuple(hub_links.get(h.slug, ()))) for h in site.hubs]
    site = replace(site, hubs=hubs, collections=collections,
                   annotations={k: tuple(v) for k, v in payload["annotations"].items()},
                   featured=tuple(payload["featured"]), pagerank=payload["pagerank"])
    return site, payload["link_report"], payload["counters"]


def _collection(data: dict) -> Collection:
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    fields["aliases"] = tuple(Alias(**{k: tuple(v) if isinstance(v, list) else v for k, v in a.items()})
                              for a in data.get("aliases", ()))
    return Collection(**fields)


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
    store.cache.replace(NAMESPACE, {key: payload})


def output_key(cfg, geo_key: str, site: Site) -> str:
    """Everything the written site depends on beyond the GEO stages: every setting, the text pages, the logo,
    every template and asset, and sitegen's own code."""
    from sitegen.core.config import config_hash
    from sitegen.publish.render import template_dirs

    h = hashlib.sha256(f"{geo_key}\0{config_hash(cfg)}".encode())
    for page in site.pages:
        h.update(json.dumps([page.slug, page.title, page.description, page.html]).encode())
    if cfg.site.logo and cfg.path(cfg.site.logo).is_file():
        h.update(cfg.path(cfg.site.logo).read_bytes())
    for folder in [*template_dirs(cfg), Path(__file__).resolve().parents[1]]:
        for f in sorted(folder.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                h.update(f.relative_to(folder).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:32]
