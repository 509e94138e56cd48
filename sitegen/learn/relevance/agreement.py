"""Inter-rater agreement: quadratic-weighted kappa (QWK) between every two raters of one source over the
pairs both graded, and their mean; with the judgment counts per source and rater, as the review report and
``sitegen judgments show`` print them.

QWK on the 5-level scale (levels 1..5 fixed, so a rater who never uses a grade still has it): with ``O`` the
5 x 5 matrix of how often rater A gave grade i and rater B grade j, ``E`` the outer product of their grade
histograms divided by the number of pairs, and weights ``w[i, j] = (i - j)^2 / (5 - 1)^2``,

    kappa = 1 - sum(w * O) / sum(w * E)

1 is perfect agreement, 0 what chance gives, below 0 worse than chance. It is undefined (``None``) when
``sum(w * E)`` is 0: both raters gave one and the same grade to every pair.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from typing import Iterable, Sequence

from sitegen.core.models import Judgment
from sitegen.learn.relevance.human import MEDIAN_RATER

LOW, HIGH = 1, 5


def quadratic_weighted_kappa(a: Sequence[int], b: Sequence[int], low: int = LOW, high: int = HIGH
                             ) -> float | None:
    """QWK of two aligned grade lists on the levels ``low..high``; None when undefined (no pairs, or no
    expected disagreement)."""
    if len(a) != len(b):
        raise ValueError(f"{len(a)} grades against {len(b)}")
    k = high - low + 1
    n = len(a)
    if n == 0 or k < 2:
        return None
    observed = [[0.0] * k for _ in range(k)]
    hist_a, hist_b = [0.0] * k, [0.0] * k
    for x, y in zip(a, b):
        i, j = int(x) - low, int(y) - low
        if not (0 <= i < k and 0 <= j < k):
            raise ValueError(f"grade outside {low}..{high}: {x if not 0 <= i < k else y}")
        observed[i][j] += 1
        hist_a[i] += 1
        hist_b[j] += 1
    num = den = 0.0
    for i in range(k):
        for j in range(k):
            w = (i - j) ** 2 / (k - 1) ** 2
            num += w * observed[i][j]
            den += w * hist_a[i] * hist_b[j] / n
    return None if den == 0 else 1.0 - num / den


@dataclass(frozen=True)
class RaterPair:
    raters: tuple[str, str]
    n: int  # pairs both graded
    qwk: float | None
    exact: float  # share of those pairs with the same grade


@dataclass(frozen=True)
class Agreement:
    source: str
    raters: tuple[str, ...]
    pairs: tuple[RaterPair, ...]  # every two raters with at least one pair in common
    mean_qwk: float | None  # mean of the defined pairwise kappas


def agreement(judgments: Iterable[Judgment], source: str = "human") -> Agreement:
    """Pairwise QWK between the raters of ``source`` (the human judge's own median rows left out)."""
    by_rater: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    for j in judgments:
        if j.source == source and j.rater != MEDIAN_RATER:
            by_rater[j.rater][(j.topic, j.item_id)] = j.grade
    raters = tuple(sorted(by_rater))
    pairs = []
    for ra, rb in combinations(raters, 2):
        common = sorted(by_rater[ra].keys() & by_rater[rb].keys())
        if not common:
            continue
        ga = [by_rater[ra][k] for k in common]
        gb = [by_rater[rb][k] for k in common]
        pairs.append(RaterPair((ra, rb), len(common), quadratic_weighted_kappa(ga, gb),
                               sum(x == y for x, y in zip(ga, gb)) / len(common)))
    kappas = [p.qwk for p in pairs if p.qwk is not None]
    return Agreement(source, raters, tuple(pairs), sum(kappas) / len(kappas) if kappas else None)


def judgment_summary(judgments: Sequence[Judgment]) -> dict:
    """Counts per source and rater, pairs graded, and the agreement of every source with two or more raters,
    as plain data (the report's ``judgments`` section, ``sitegen judgments show --format json``)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    pairs: dict[str, set] = defaultdict(set)
    for j in judgments:
        counts[j.source][j.rater] += 1
        pairs[j.source].add((j.topic, j.item_id))
    sources = []
    agreements = {}
    for source in sorted(counts):
        raters = counts[source]
        sources.append({"source": source, "grades": sum(raters.values()), "pairs": len(pairs[source]),
                        "raters": [{"rater": r, "grades": n} for r, n in sorted(raters.items())]})
        if len([r for r in raters if r != MEDIAN_RATER]) >= 2:
            a = agreement(judgments, source)
            agreements[source] = {
                "raters": list(a.raters), "mean_qwk": _round(a.mean_qwk),
                "pairs": [{"raters": list(p.raters), "n": p.n, "qwk": _round(p.qwk), "exact": round(p.exact, 4)}
                          for p in a.pairs]}
    return {"total": len(judgments), "sources": sources, "agreement": agreements}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
