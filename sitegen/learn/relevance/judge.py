"""The judge (teacher) interface: one class per way of grading, registered under the extension point ``judge``
and chosen by ``relevance.teacher`` (built-ins: ``catalog``, ``cross-encoder``, ``llm``, ``human``).

A judge is built with the site's config and grades ``Pair``s on the 5-level guideline; its grades are
``Judgment``s (``source`` = the judge's name) that the caller writes to ``store.judgments``. A judge that cannot
grade a pair (a person has not seen it yet, the catalog cannot check it) leaves it out of its answer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

from sitegen.core.models import Item, Judgment


@dataclass(frozen=True)
class Pair:
    """A topic (or query) and a candidate item to grade; ``category`` is the topic's query category
    (description / style / use_case) when known."""

    topic: str
    item: Item
    category: str = ""


class Judge(ABC):
    """Grades topic-item pairs 1-5 (``sitegen.learn.relevance.guideline``)."""

    name = ""
    store: Any = None  # the caller's open Store, when it has one (set by ``make_judge``): the store is locked

    def __init__(self, cfg: Any = None):
        self.cfg = cfg

    @property
    def rater(self) -> str:
        """Who grades within this judge (a model id, a rule set's version); stored with each grade."""
        return self.name

    @abstractmethod
    def grade(self, pairs: Sequence[Pair], progress: Callable[[int, int], None] | None = None) -> list[Judgment]:
        """Grades for the pairs this judge can grade, in the order given."""

    def judgment(self, pair: Pair, grade: int) -> Judgment:
        return Judgment(pair.topic, pair.item.id, int(grade), self.name, self.rater, now())


def now() -> str:
    """The current time as stored with a grade (ISO 8601, UTC, seconds)."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def make_judge(name: str, cfg: Any = None, store: Any = None) -> Judge:
    """The judge registered as ``name``, built with the site's config; ``store``: the caller's open store
    (a judge that reads or caches in the store must use it, since the file is locked while it is open)."""
    from sitegen.core import registry

    judge = registry.get("judge", name)(cfg)
    if store is not None:
        judge.store = store
    return judge
