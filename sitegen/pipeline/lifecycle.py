"""The page lifecycle in a build: read what the store remembers, decide (``demand.lifecycle``), take retired
pages out of this build's site (and every link to them), and record the new state with the pages.

Between the GEO stages and the page plan. Cheap when nothing is retired: the topic vectors come from the
embedding cache (no model is loaded for texts embedded before), and the link structure is recomputed only when a
page was taken out of this build's collections.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, ContextManager

import numpy as np

from sitegen.core import urls
from sitegen.core.models import Demand, LivePage, Site
from sitegen.core.text import topic_key
from sitegen.demand.lifecycle import Decisions, decide
from sitegen.pipeline.geo import GeoResult, run_geo


@dataclass
class Lifecycle:
    site: Site  # the site to publish: the GEO result without the pages retired for reward or trend
    link_report: dict
    decisions: Decisions
    changed: bool  # pages were taken out: the site differs from the GEO result

    @property
    def key(self) -> str:
        """What the written site depends on here (part of the output key)."""
        removed = ",".join(sorted(self.decisions.removed))
        return f"{self.decisions.key()}:{removed}" if removed or self.decisions.retired else ""


def run_geo_keeping_urls(cfg, store, site: Site, *, run_id: int, demand: Demand,
                         progress: Callable | None = None, timer: Callable[[str], ContextManager] | None = None
                         ) -> GeoResult:
    """``run_geo``, except that a reused result giving a URL to another topic than the one it was published for
    (possible only after a build that failed once its GEO result was cached) is computed again."""
    geo = run_geo(cfg, store, site, run_id=run_id, progress=progress, timer=timer, demand=demand)
    if geo.reused and slug_conflicts(geo.site, store.lifecycle.owners()):
        geo = run_geo(cfg, store, site, run_id=run_id, progress=progress, timer=timer, demand=demand, reuse=False)
    return geo


def slug_conflicts(site: Site, owners: dict[str, str]) -> list[str]:
    """Collection URLs of ``site`` owned (published before, live or retired) by another topic."""
    out = []
    for c in site.collections:
        path = urls.collection_url(c.slug)
        if path in owners and owners[path] != topic_key(c.topic):
            out.append(path)
    return out


def apply_lifecycle(cfg, store, geo: GeoResult, *, run_id: int, now: str, demand: Demand,
                    expired=()) -> Lifecycle:
    """Decide created / refreshed / retired pages for this build and the site to publish. ``expired``: the
    topics whose trend expired (the trend agent's ``expire`` decisions)."""
    previous = previous_pages(store)
    dropped = {}
    if not geo.reused:
        dropped = {topic_key(text): (reason, detail or "") for kind, text, reason, detail, _ in store.geo.dropped(run_id)
                   if kind == "topic"}
    steering = (geo.link_report.get("reward") or {}).get("collect") or {}
    embed = _TopicVectors(cfg, store)
    decisions = decide(previous, store.lifecycle.retired(), geo.site.collections, embed, cfg.lifecycle,
                       dropped=dropped, rewards=demand.rewards, expired=expired,
                       proposed=[t.text for t in demand.topics if t.source == "trend"],
                       gained=[g["topic"] for g in steering.get("gained", ())],
                       items={i.id for i in geo.site.items}, run_id=run_id, now=now,
                       through=(store.signals.date_range() or ("", ""))[1])
    if not decisions.removed:
        return Lifecycle(geo.site, geo.link_report, decisions, False)
    site, report = _relink(cfg, geo, decisions, embed, demand, steering)
    return Lifecycle(site, report, decisions, True)


def previous_pages(store) -> dict[str, LivePage]:
    """The collection pages the live site has (``store.pages``), as the lifecycle remembers them; a page it
    does not know yet (a site built before the lifecycle existed) is read from the last GEO result, else from
    its title."""
    live = store.lifecycle.live()
    published = [r for r in store.pages.published().values() if r.kind == "collection"]
    missing = [r for r in published if r.path not in live]
    known = {urls.collection_url(c.slug): c for c in store.geo.collections()} if missing else {}
    out = {}
    for r in published:
        if r.path in live:
            out[r.path] = live[r.path]
        elif r.path in known:
            out[r.path] = LivePage(r.path, known[r.path].topic, known[r.path].item_ids)
        else:
            out[r.path] = LivePage(r.path, r.title)
    return out


def record_lifecycle(store, run_id: int, life: Lifecycle, *, stash: bool = True) -> None:
    """Store this build's lifecycle state and events (in the transaction that stores its pages; ``stash`` keeps
    the previous state for a build that does not go live, see ``pipeline.output.reconcile``)."""
    if stash:
        store.lifecycle.stash()
    store.lifecycle.record(run_id, life.decisions.live, life.decisions.retired, life.decisions.events)


def _relink(cfg, geo: GeoResult, decisions: Decisions, embed: "_TopicVectors", demand: Demand,
            steering: dict) -> tuple[Site, dict]:
    """The site without the removed collections: no annotation, related link, hub or home slot points at them;
    related links, hub listings, featured collections and PageRank computed again (``distribute.stage``)."""
    from sitegen.distribute.stage import link_site

    gone = decisions.removed
    annotations = {item: tuple(k for k in keys if k.partition("#")[0] not in gone)
                   for item, keys in geo.site.annotations.items()}
    collections = [replace(c, related=()) for c in decisions.collections]
    site = replace(geo.site, collections=collections, annotations=annotations, featured=(), pagerank={})
    vectors = dict(zip((c.slug for c in collections), embed([c.topic for c in collections])))
    site, report = link_site(site, vectors, cfg, demand.rewards, steering)
    report["lifecycle_removed"] = sorted(urls.collection_url(s) for s in gone)
    return site, report


class _TopicVectors:
    """Topic texts -> L2-normalised vectors with the site's embedder (made on first use; texts embedded before
    come from the store's cache without loading the model)."""

    def __init__(self, cfg, store):
        self.cfg, self.store, self._embedder = cfg, store, None

    def __call__(self, texts) -> np.ndarray:
        if self._embedder is None:
            from sitegen.engines.embed import Embedder

            e = self.cfg.embed
            self._embedder = Embedder.from_config(e, store=self.store)
        return np.asarray(self._embedder.encode(list(texts)), np.float32)
