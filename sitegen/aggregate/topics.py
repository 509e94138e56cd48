"""Topic sources: where the topics that may become collections come from.

A topic source is registered under the extension point ``topic_source`` and chosen by name in
``collect.topic_sources`` (in order; the first source that proposes a topic keeps it, with the heaviest weight
any source gives it). It is called with a
``TopicRequest`` and returns ``Topic``s whose ``hub`` names one of the catalog's categories (the hubs).
The built-in ``queries`` source turns the items' predicted queries into topics; ``console``
(``sitegen.demand.console``) the queries searchers used (``request.demand.topics`` of source ``console``). A source
may append ``DroppedTopic``s with their reasons to ``request.dropped`` for what it could not propose.

Every topic, whatever its source, then passes the topic gate (``topic_gate``): a topic holding a title fragment
(a brand, creator or model-number word, ``sitegen.represent.fragments``) is dropped as ``fragment:<word>``, and
one naming only colours ("Black", "Check black") as ``facet``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

from sitegen.core.models import Demand, DroppedTopic, Item, Query, Topic


@dataclass(frozen=True)
class TopicRequest:
    items: Sequence[Item]
    queries: Sequence[Query]
    hub_of: Callable[[Item], str]
    hubs: frozenset[str]  # the hub (category) names a topic may be filed under
    cfg: Any
    demand: Demand = field(default_factory=Demand)  # rewards and the topics searchers and trends ask for
    dropped: list[DroppedTopic] = field(default_factory=list)  # a source's own drops, with their reasons


def query_topics(request: TopicRequest) -> list[Topic]:
    """The ``queries`` source: each distinct predicted query (after normalisation) is a topic."""
    from sitegen.aggregate.collect import make_topics

    return make_topics(request.items, request.queries, request.hub_of)


def topic_gate(fragments: Any, words: Any) -> Callable[[str], tuple[str, str] | None]:
    """The gate for a catalog's fragments (``represent.fragments.learn_fragments``) and its lexicon
    (``core.lexicon.Lexicon``): text -> (reason, detail) for a topic that may not have a page, else None."""
    why = {"lead": "stands before an audience word in product titles (a brand)", "digits": "has a digit (a "
           "model number or a brand)", "prefix": "starts many titles (a brand or creator)",
           "spread": "is spread over unrelated categories (a creator, not a subject)"}

    def gate(text: str) -> tuple[str, str] | None:
        reason = fragments.reason(text, words)
        if reason is None:
            return None
        if reason == "facet":
            return reason, "names only a colour: a facet of other pages, not a page"
        token = reason.split(":", 1)[1]
        return reason, f"{token!r} {why[fragments.tokens[token]]}"

    return gate


def gather_topics(request: TopicRequest, sources: Sequence[str],
                  gate: Callable[[str], tuple[str, str] | None] | None = None
                  ) -> tuple[list[Topic], list[DroppedTopic]]:
    """The topics of every named source, de-duplicated by their normalised text (the first source's text, hub
    and items; the heaviest weight any source gives: "watches" proposed by three items and typed by searchers
    who find a hundred watches in the catalog weighs a hundred); ``gate``
    (``topic_gate``) drops the topics that may not have a page, with its reason."""
    from sitegen.aggregate.collect import topic_key
    from sitegen.core import registry

    topics: list[Topic] = []
    dropped: list[DroppedTopic] = []
    seen: set[str] = set()
    at: dict[str, int] = {}  # key -> position in topics
    for name in sources:
        before = len(request.dropped)
        proposed = registry.get("topic_source", name)(request)
        dropped.extend(request.dropped[before:])
        for topic in proposed:
            key = topic_key(topic.text)
            if not key:
                continue
            if key in seen:
                if key in at and topic.weight > topics[at[key]].weight:  # the strongest evidence counts
                    topics[at[key]] = replace(topics[at[key]], weight=topic.weight)
                continue
            if topic.hub not in request.hubs:
                dropped.append(DroppedTopic(topic.text, "unknown_hub", f"{name}: no category {topic.hub!r}"))
                continue
            seen.add(key)
            gated = gate(topic.text) if gate is not None else None
            if gated is not None:
                dropped.append(DroppedTopic(topic.text, *gated))
                continue
            at[key] = len(topics)
            topics.append(topic)
    return topics, dropped
