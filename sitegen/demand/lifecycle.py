"""The page lifecycle: which collection pages this build creates, refreshes and retires, and why.

Inputs: the collection pages the last build published (``LivePage``: topic, items, builds below the reward
floor), the URLs retired before (``RetiredPage``), this build's collections, why collect dropped the topics it
dropped, the rewards and the topics whose trend expired. A page is *retired* when

- its topic lost its support: collect made no page of it (fewer than ``collect.min_items`` items score >= the
  threshold, or the topic is no longer proposed) -- reason ``lost_support``;
- its topic is now an alias line on another page, or merged into a near-identical topic -- ``merged``;
- it lost its slot within ``collect.max_collections`` -- ``budget``;
- its reward stayed below ``lifecycle.reward_floor`` x the average reward for ``lifecycle.floor_builds`` builds
  in a row once it had ``lifecycle.min_impressions`` impressions -- ``reward`` (a build without enough data for
  the page leaves its count as it was; one at or above the floor resets it);
- its trend expired (the trend agent's ``expire`` decision) -- ``trend``.

A page retired for its reward or its trend is taken out of this build's collections (so nothing links to it);
it stays out in later builds until a trend proposes its topic again. A retired URL redirects (301) to the live
collection whose topic is closest by embedding (cosine >= ``lifecycle.redirect_similarity``; a merged page to
the page that now holds its topic, at its anchor), or answers 410 when none is close enough. A redirect whose
target is retired later is re-aimed, so there are no chains; a 410 becomes a 301 once a close page exists. When
a retired topic gets a page again, its URL comes back (the slug is its topic's for good: collect never gives it
to another topic) and the redirect goes.

Pure: no I/O; ``vectors`` embeds topic texts (L2-normalised rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Collection as Coll, Mapping, Sequence

import numpy as np

from sitegen.core import urls
from sitegen.core.config import LifecycleSection
from sitegen.core.models import Collection, LivePage, PageEvent, RetiredPage, RewardTable
from sitegen.core.text import topic_key

Vectors = Callable[[Sequence[str]], np.ndarray]
_LOST = {"thin", "too_few_candidates"}


@dataclass
class Decisions:
    collections: list[Collection]  # this build's collections, without the ones retired for reward or trend
    removed: set[str] = field(default_factory=set)  # slugs taken out of this build's collections
    live: list[LivePage] = field(default_factory=list)  # the live pages after this build (the new state)
    retired: list[RetiredPage] = field(default_factory=list)  # every retired URL after this build
    events: list[PageEvent] = field(default_factory=list)  # what this build did, with reasons

    def key(self) -> str:
        """What the written site depends on here: the retired URLs, their status and target."""
        import hashlib

        h = hashlib.sha256()
        for r in sorted(self.retired, key=lambda r: r.path):
            h.update(f"{r.path}\0{r.status}\0{r.target}\n".encode())
        return h.hexdigest()[:16] if self.retired else ""

    def counts(self) -> dict[str, int]:
        out = {f"lifecycle_{e}": 0 for e in ("created", "refreshed", "retired", "reaimed")}
        for e in self.events:
            out[f"lifecycle_{e.event}"] += 1
        out["lifecycle_retired_total"] = len(self.retired)
        return out


def decide(previous: Mapping[str, LivePage], retired: Mapping[str, RetiredPage],
           collections: Sequence[Collection], vectors: Vectors, cfg: LifecycleSection, *,
           dropped: Mapping[str, tuple[str, str]] | None = None, rewards: RewardTable | None = None,
           expired: Coll[str] = (), proposed: Coll[str] = (), gained: Coll[str] = (),
           items: Coll[str] | None = None, run_id: int = 0, now: str = "", through: str = "") -> Decisions:
    """The lifecycle decisions of one build (see the module docstring). ``previous``: path -> the live page of
    the last build; ``retired``: path -> retired URL; ``dropped``: topic key -> (reason, detail) of the topics
    collect dropped; ``expired`` / ``proposed``: topic texts whose trend expired / that a trend proposes now;
    ``gained``: topics that got a page because of their reward (``demand.steer``), and ``items`` the ids of this
    build's items, for the reasons; ``through``: the newest signal day imported (a new page remembers it, so
    the rewards can tell a page that earned nothing from one the signals do not cover yet)."""
    dropped = dropped or {}
    expired_keys = {topic_key(t) for t in expired}
    proposed_keys = {topic_key(t) for t in proposed}
    gained_keys = {topic_key(t) for t in gained}
    current = {urls.collection_url(c.slug): c for c in collections}
    out = Decisions([])
    retiring: dict[str, tuple[str, str]] = {}  # path -> (reason, detail) decided here
    below: dict[str, int] = {}

    # 1. pages this build's collections hold that must not be published: reward floor, expired trend, and
    #    pages retired before for either of those (until a trend proposes the topic again)
    for path, c in current.items():
        key = topic_key(c.topic)
        old = retired.get(path)
        if key in expired_keys:
            if path in previous or old is not None:
                retiring[path] = ("trend", "its trend expired")
            continue
        if old is not None and old.reason in ("reward", "trend") and key not in proposed_keys:
            retiring[path] = (old.reason, old.detail)
            continue
        if path in previous:
            n, detail = _below(previous[path], rewards, cfg)
            below[path] = n
            if cfg.reward_floor > 0 and n >= cfg.floor_builds:
                retiring[path] = ("reward", detail)
    kept = {p: c for p, c in current.items() if p not in retiring and topic_key(c.topic) not in expired_keys}
    out.collections = [c for c in collections if urls.collection_url(c.slug) in kept]
    out.removed = {c.slug for p, c in current.items() if p not in kept}

    alias_at = {urls.collection_url(a.slug): urls.collection_url(urls.alias_key(c.slug, a.anchor))
                for c in out.collections for a in c.aliases}
    page_of_topic = {topic_key(c.topic): urls.collection_url(c.slug) for c in out.collections}
    page_of_topic.update({topic_key(a.topic): urls.collection_url(urls.alias_key(c.slug, a.anchor))
                          for c in out.collections for a in c.aliases})
    closest = _Closest(list(kept), [c.topic for c in kept.values()], vectors, cfg.redirect_similarity)

    # 2. live pages of the last build that have no page now
    new_retired: dict[str, RetiredPage] = {}
    for path, page in sorted(previous.items()):
        if path in kept:
            continue
        reason, detail, target = _why_gone(path, page, retiring, dropped, alias_at, page_of_topic, items)
        if not target or urls.page_path(target) not in kept:
            target = closest.target(page.topic)
        status = 301 if target else 410
        if status == 410:
            detail = f"{detail}; no live collection is close enough (cosine < {cfg.redirect_similarity:g})"
        rec = RetiredPage(path, page.topic, status, target, reason, detail, now, run_id)
        new_retired[path] = rec
        out.events.append(PageEvent(path, "retired", page.topic, reason, detail, status, target))

    # 3. URLs retired before: back when their topic has a page again, else kept, re-aimed when their target went
    for path, old in sorted(retired.items()):
        if path in new_retired:
            continue
        if path in kept:
            continue  # created again (step 4 says so)
        if path in retiring and old.reason != retiring[path][0]:
            reason, detail = retiring[path]
            old = RetiredPage(path, old.topic, old.status, old.target, reason, detail, now, run_id)
        if old.status == 301 and urls.page_path(old.target) in kept:
            new_retired[path] = old
            continue
        target = page_of_topic.get(topic_key(old.topic), "") if old.reason == "merged" else ""
        target = target if target and urls.page_path(target) in kept else closest.target(old.topic)
        if target or old.status != 410:
            status = 301 if target else 410
            old = RetiredPage(path, old.topic, status, target, old.reason, old.detail, old.retired_at, old.run_id)
            out.events.append(PageEvent(path, "reaimed", old.topic, old.reason,
                                        f"now {target}" if target else "no live collection is close enough",
                                        status, target))
        new_retired[path] = old
    out.retired = [new_retired[p] for p in sorted(new_retired)]

    # 4. created and refreshed pages; the new live state
    for path, c in sorted(kept.items()):
        key = topic_key(c.topic)
        prev = previous.get(path)
        if prev is None:
            old = retired.get(path)
            if old is not None:
                reason = f"returned: retired {old.retired_at or ''} ({old.reason})".replace("  ", " ")
            elif key in proposed_keys:
                reason = "proposed by a trend"
            elif key in gained_keys:
                reason = "won a page slot through query rewards"
            else:
                reason = "new topic"
            out.events.append(PageEvent(path, "created", c.topic, reason, f"{len(c.item_ids)} items"))
        else:
            added = len(set(c.item_ids) - set(prev.item_ids))
            gone = len(set(prev.item_ids) - set(c.item_ids))
            if added or gone:
                out.events.append(PageEvent(path, "refreshed", c.topic, "items changed",
                                            f"{added} added, {gone} removed, {len(c.item_ids)} shown"))
        out.live.append(LivePage(path, c.topic, tuple(c.item_ids), below.get(path, 0),
                                 prev.first_run if prev is not None and prev.first_run else run_id,
                                 prev.through if prev is not None else through))
    out.events.sort(key=lambda e: (e.event, e.path))
    return out


def _below(page: LivePage, rewards: RewardTable | None, cfg: LifecycleSection) -> tuple[int, str]:
    """(builds in a row below the reward floor, counting this one; why) for a live page."""
    if cfg.reward_floor <= 0 or rewards is None or rewards.empty:
        return page.below, ""
    r = rewards.pages.get(page.path)
    if r is None or max(r.impressions, r.sessions) < cfg.min_impressions or rewards.average <= 0:
        return page.below, ""
    floor = cfg.reward_floor * rewards.average
    if r.reward >= floor:
        return 0, ""
    n = page.below + 1
    return n, (f"reward {r.reward:.4f} below {cfg.reward_floor:g} x the average {rewards.average:.4f} "
               f"for {n} build{'s' if n != 1 else ''} in a row ({r.impressions:.0f} impressions)")


def _why_gone(path: str, page: LivePage, retiring: Mapping[str, tuple[str, str]],
              dropped: Mapping[str, tuple[str, str]], alias_at: Mapping[str, str],
              page_of_topic: Mapping[str, str], items: Coll[str] | None) -> tuple[str, str, str]:
    """(reason, detail, preferred target) of a live page that has no page in this build."""
    if path in retiring:
        reason, detail = retiring[path]
        return reason, detail, ""
    if path in alias_at:
        return "merged", f"its topic is now a line on {urls.page_path(alias_at[path])}", alias_at[path]
    moved = page_of_topic.get(topic_key(page.topic))
    if moved:  # a site published before the lifecycle kept its slugs: the topic got another URL
        return "merged", f"its topic is published at {moved}", moved
    why, detail = dropped.get(topic_key(page.topic), ("", ""))
    code = why.split(":", 1)[0]
    if code.startswith("merged_into"):
        into = why.split(":", 1)[1] if ":" in why else ""
        return "merged", f"merged into {into!r} ({detail})" if detail else f"merged into {into!r}", \
            page_of_topic.get(topic_key(into), "")
    if code == "max_collections":
        return "budget", f"lost its slot within the page budget ({detail})" if detail else "lost its slot", ""
    if code in _LOST:
        return "lost_support", detail or code, ""
    if code:
        return "lost_support", f"{why}: {detail}" if detail else why, ""
    detail = "no item proposes its topic any more"
    if items is not None and page.item_ids:
        left = sum(1 for i in page.item_ids if i in items)
        detail += f" ({left} of the {len(page.item_ids)} items it showed are left)"
    return "lost_support", detail, ""


class _Closest:
    """The live collection closest to a topic by embedding, when the cosine reaches ``threshold``."""

    def __init__(self, paths: list[str], topics: list[str], vectors: Vectors, threshold: float):
        self.paths, self.topics, self.vectors, self.threshold = paths, topics, vectors, threshold
        self._mat: np.ndarray | None = None

    def target(self, topic: str) -> str:
        if not self.paths:
            return ""
        if self._mat is None:
            self._mat = _unit(np.asarray(self.vectors(self.topics), np.float32))
        v = _unit(np.asarray(self.vectors([topic]), np.float32))[0]
        sims = self._mat @ v
        best = int(np.lexsort((np.arange(len(sims)), -sims))[0])
        return self.paths[best] if float(sims[best]) >= self.threshold else ""


def _unit(m: np.ndarray) -> np.ndarray:
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
