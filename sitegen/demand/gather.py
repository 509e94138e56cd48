"""The demand a build starts from: signals imported, rewards computed, the trend agent run, and the topics
searchers (console) and trends ask for, handed to the GEO stages as one ``Demand``.

Order: ``signals.paths`` are imported (pages matched through the lifecycle's redirects, so a retired URL's
signals count for the page it redirects to) -> the reward table -> console topics -> the trend agent when
``trends.source`` is set (it reads the rewards to remember each trend's outcome) -> the approved trends' topics
and the topics of expired trends (which the page lifecycle retires).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sitegen.core.models import Demand


@dataclass(frozen=True)
class BuildDemand:
    demand: Demand
    expired: frozenset[str] = frozenset()  # topics whose trend expired
    counters: dict = field(default_factory=dict)  # for the build summary


def retired_redirects(store) -> dict[str, str]:
    """Old path -> the path it redirects to ('' for a 410) of every retired collection URL."""
    return {path: r.target.split("#", 1)[0] if r.status == 301 else "" for path, r in store.lifecycle.retired().items()}


def gather_demand(cfg, store, site, *, progress: Callable[[str], Callable[[int, int], None] | None] | None = None
                  ) -> BuildDemand:
    """Import the configured signals, then rewards, console topics and (with ``trends.source``) the trend agent
    over the gathered ``site``."""
    from sitegen.demand.console import console_topics
    from sitegen.demand.reward import reward_table
    from sitegen.demand.signals import import_configured, site_redirects

    counters: dict = {}
    if cfg.signals.paths:
        report = import_configured(store, cfg, site_redirects(cfg, retired_redirects(store)))
        counters.update(signals_rows=report.rows, signals_used=report.used)
    rewards = reward_table(store, cfg)
    topics = list(console_topics(store, cfg))
    counters.update(reward_pages=len(rewards.pages), reward_queries=len(rewards.queries),
                    reward_average=round(rewards.average, 5), console_topics=len(topics))
    expired: frozenset[str] = frozenset()
    if cfg.trends.source:
        from sitegen.demand.trends.topics import build_topics, expired_topics

        runs: list = []
        trend = build_topics(cfg, store, site, rewards, progress, runs)
        decided = [d.decision for run in runs for d in run.decisions]
        counters.update(trends_read=len(decided), trends_proposed=decided.count("propose"),
                        trends_rejected=decided.count("reject"), trends_pending=sum(len(r.pending) for r in runs),
                        trend_topics=len(trend))
        topics.extend(trend)
        expired = frozenset(expired_topics(store))
        counters["trends_expired"] = len(expired)
    return BuildDemand(Demand(rewards, tuple(topics)), expired, counters)
