"""What the trend agent gives the build: the topics of approved proposals (``trend_topics``, ``DemandTopic``s of
source ``trend`` for ``Demand.topics``), the topic source ``trends`` that turns them into ``Topic``s, and the
topics of expired trends (``expired_topics``) whose pages the page lifecycle may retire. ``build_topics`` is the
build's step: one agent run when ``trends.source`` is set, then the approved topics."""

from __future__ import annotations

from collections import Counter

from sitegen.core.models import DemandTopic, Topic
from sitegen.core.text import topic_key


def trend_topics(store, cfg=None) -> list[DemandTopic]:
    """The topics of every approved proposal, heaviest first, each once (by topic key); a topic's ``hub`` is
    the category most of its items were in when it was validated."""
    seen: set[str] = set()
    out: list[DemandTopic] = []
    props = sorted(store.trends.proposals(["approved"]), key=lambda p: (-p.weight, p.proposed_at, p.id))
    for p in props:
        for t in p.topics:
            key = topic_key(t.text)
            if key and key not in seen:
                seen.add(key)
                out.append(t)
    return out


def build_topics(cfg, store, site, rewards=None, progress=None, runs: list | None = None) -> list[DemandTopic]:
    """The build's trend step: when ``trends.source`` is set, one agent run over the gathered ``site`` (its
    proposals wait for approval unless ``trends.auto_approve``; the run's ``AgentRun`` is appended to ``runs``);
    then the approved topics, this run's approvals included."""
    if cfg.trends.source:
        from sitegen.demand.trends.agent import make_llm, run_agent
        from sitegen.demand.trends.tools import Toolbox, catalog_from_site

        def toolbox() -> Toolbox:
            return Toolbox(cfg, store, catalog_from_site(cfg, store, site, progress), llm=make_llm(cfg, store))

        run = run_agent(cfg, store, toolbox=toolbox, rewards=rewards, progress=progress)
        if runs is not None:
            runs.append(run)
    return trend_topics(store, cfg)


def expired_topics(store) -> list[str]:
    """The topics of expired proposals that no approved proposal still holds: their trend has declined."""
    live = {topic_key(t.text) for t in trend_topics(store)}
    out: list[str] = []
    for p in store.trends.proposals(["expired"]):
        for t in p.topics:
            key = topic_key(t.text)
            if key not in live and t.text not in out:
                out.append(t.text)
    return out


def trend_topic_source(request) -> list[Topic]:
    """The ``trends`` topic source: each demanded topic of source ``trend`` (``request.demand.topics``) as a
    ``Topic``; one whose hub is not a category of this catalog is filed under the largest category (collect
    files a collection under the category holding most of its items anyway)."""
    demanded = [t for t in request.demand.topics if t.source == "trend"]
    if not demanded:
        return []
    sizes = Counter(request.hub_of(i) for i in request.items)
    largest = min(sizes.items(), key=lambda kv: (-kv[1], kv[0]))[0] if sizes else ""
    return [Topic(text=t.text, category=t.category, hub=t.hub if t.hub in request.hubs else largest,
                  source_items=(), weight=float(t.weight)) for t in demanded]
