"""Topic sources: where the topics that may become collections come from.

A topic source is registered under the extension point ``topic_source`` and chosen by name in
``collect.topic_sources`` (in order; the first source that proposes a topic keeps it). It is called with a
``TopicRequest`` and returns ``Topic``s whose ``hub`` names one of the catalog's categories (the hubs).
The built-in ``queries`` source turns the items' predicted queries into topics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from sitegen.core.models import DroppedTopic, Item, Query, Topic


@dataclass(frozen=True)
class TopicRequest:
    items: Sequence[Item]
    queries: Sequence[Query]
    hub_of: Callable[[Item], str]
    hubs: frozenset[str]  # the hub (category) names a topic may be filed under
    cfg: Any


def query_topics(request: TopicRequest) -> list[Topic]:
    """The ``queries`` source: each distinct predicted query (after normalisation) is a topic."""
    from sitegen.aggregate.collect import make_topics

    return make_topics(request.items, request.queries, request.hub_of)


def gather_topics(request: TopicRequest, sources: Sequence[str]) -> tuple[list[Topic], list[DroppedTopic]]:
    """The topics of every named source, de-duplicated by their normalised text (first source wins)."""
    from sitegen.aggregate.collect import topic_key
    from sitegen.core import registry

    topics: list[Topic] = []
    dropped: list[DroppedTopic] = []
    seen: set[str] = set()
    for name in sources:
        for topic in registry.get("topic_source", name)(request):
            key = topic_key(topic.text)
            if not key or key in seen:
                continue
            if topic.hub not in request.hubs:
                dropped.append(DroppedTopic(topic.text, "unknown_hub", f"{name}: no category {topic.hub!r}"))
                continue
            seen.add(key)
            topics.append(topic)
    return topics, dropped
