"""The interface every query generator implements (retrieval, vlm), and the candidate it returns.

A generator proposes raw candidate queries per item; the shared post-processing in
``represent/postprocess.py`` normalises, filters, validates, language-tags and de-duplicates them, the same
for every generator.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

from sitegen.core.models import Item, QueryCategory


@dataclass(frozen=True, slots=True)
class Candidate:
    text: str
    category: QueryCategory
    source: str  # "title", "keywords", "ngram", "colour", "lexicon", "console", "vlm", ...
    score: float = 0.0  # higher is better; generators rank their own candidates


class QueryGenerator(ABC):
    """Proposes candidate queries for a batch of items. Implementations must be deterministic."""

    name: str = "base"

    @abstractmethod
    def generate(self, items: Sequence[Item]) -> list[list[Candidate]]:
        """One candidate list per item, in the order of ``items``. May return more candidates than needed;
        post-processing keeps the best ``represent.min_queries``..``max_queries`` per item in the configured mix."""

    def close(self) -> None:  # release models / sessions
        return None
