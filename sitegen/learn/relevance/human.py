"""The ``human`` judge: the grades people gave in the review app (``sitegen serve``, ``/_review/``) or imported
from a CSV (``sitegen judgments import``), read back from ``store.judgments`` (source ``human``).

A pair graded by several raters gets the median of their grades, a half (the median of an even number of
grades, 3.5) rounded up; a pair nobody graded is left out of the answer. The judge's own answers carry the
rater ``median``; rows with that rater are never counted as a person's grade (writing the judge's answers
back to the store changes nothing).
"""

from __future__ import annotations

import math
from collections import defaultdict
from statistics import median
from typing import Any, Callable, Iterable, Sequence

from sitegen.core.models import Judgment
from sitegen.learn.relevance.judge import Judge, Pair, now

SOURCE = "human"
MEDIAN_RATER = "median"  # the rater of the human judge's aggregated grades


def median_grade(grades: Sequence[int]) -> int:
    """The median of 1-5 grades, halves rounded up (3, 4 -> 4; 2, 3 -> 3)."""
    if not grades:
        raise ValueError("no grades")
    return int(math.floor(median(grades) + 0.5))


def human_grades(judgments: Iterable[Judgment], source: str = SOURCE) -> dict[tuple[str, str], tuple[int, int]]:
    """(topic, item_id) -> (median grade, number of raters) over the people's grades of ``source``."""
    grades: dict[tuple[str, str], list[int]] = defaultdict(list)
    for j in judgments:
        if j.source == source and j.rater != MEDIAN_RATER:
            grades[(j.topic, j.item_id)].append(j.grade)
    return {key: (median_grade(g), len(g)) for key, g in grades.items()}


class HumanJudge(Judge):
    """Grades = the stored human grades (median over raters). Reads the store at ``cfg.store_path`` for each
    call, or ``store`` when given one (a caller that already holds the store open)."""

    name = SOURCE

    def __init__(self, cfg: Any = None, store: Any = None):
        super().__init__(cfg)
        self.store = store

    @property
    def rater(self) -> str:
        return MEDIAN_RATER

    def grade(self, pairs: Sequence[Pair], progress: Callable[[int, int], None] | None = None) -> list[Judgment]:
        stored = self._stored()
        at = now()
        out = []
        for n, pair in enumerate(pairs, 1):
            got = stored.get((pair.topic, pair.item.id))
            if got is not None:
                out.append(Judgment(pair.topic, pair.item.id, got[0], self.name, self.rater, at))
            if progress is not None:
                progress(n, len(pairs))
        return out

    def _stored(self) -> dict[tuple[str, str], tuple[int, int]]:
        if self.store is not None:
            return human_grades(self.store.judgments.all([SOURCE]))
        if self.cfg is None:
            raise ValueError("HumanJudge needs the site's config or an open store")
        from sitegen.store.db import Store

        if not self.cfg.store_path.is_file():
            return {}
        with Store(self.cfg.store_path, brief=True) as store:
            return human_grades(store.judgments.all([SOURCE]))
