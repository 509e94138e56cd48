"""Offline relevance metrics, the same for every scorer: accuracy and quadratic-weighted kappa on grades,
AUROC at each threshold of the scale, nDCG@k per query.

- Grades may be means of several raters (2.33): accuracy and kappa compare *levels*, the grades rounded to the
  nearest level (half up: 2.5 -> 3); nDCG uses the raw grades.
- A scorer gives one score per pair, not a grade. ``GradeMapping`` turns scores into levels with cutpoints
  fitted on the training part so that the predicted level distribution matches the training grades' (the
  quantiles of the training scores); the same procedure serves every scorer, so their kappa and accuracy are
  compared fairly whatever the range of their scores.
- AUROC at threshold ``t``: the binary label "rounded grade >= t", for every level but the lowest; ties in the
  scores count half (Mann-Whitney). ``None`` when the part holds only one class.
- nDCG@k of a query: gain ``2 ** (grade - lowest) - 1`` (the lowest level gains nothing), discount
  ``1 / log2(rank + 1)``; items with equal scores share the mean discount of the ranks they occupy (the
  expected DCG over the orders of a tie), so a constant scorer earns no credit from the input order. Queries
  whose grades are all the lowest level (no ideal DCG) are left out; the mean is over the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Scale = tuple[int, int]  # (lowest level, highest level), e.g. (1, 5)


def levels(scale: Scale) -> np.ndarray:
    return np.arange(scale[0], scale[1] + 1)


def round_grades(grades: np.ndarray, scale: Scale) -> np.ndarray:
    """Grades rounded half up to the nearest level, clipped to the scale (int64)."""
    g = np.floor(np.asarray(grades, np.float64) + 0.5).astype(np.int64)
    return np.clip(g, scale[0], scale[1])


def accuracy(predicted: np.ndarray, grades: np.ndarray, scale: Scale) -> float:
    """Share of pairs whose predicted level equals the rounded grade."""
    p, g = round_grades(predicted, scale), round_grades(grades, scale)
    return float(np.mean(p == g)) if len(g) else 0.0


def quadratic_kappa(predicted: np.ndarray, grades: np.ndarray, scale: Scale) -> float:
    """Quadratic-weighted Cohen's kappa between two gradings on ``scale`` (both rounded to levels):
    1 - sum(w * observed) / sum(w * expected), w = (i - j)^2 / (K - 1)^2. 0.0 when it is undefined (one level)."""
    a, b = round_grades(predicted, scale) - scale[0], round_grades(grades, scale) - scale[0]
    k = scale[1] - scale[0] + 1
    if len(a) == 0 or k < 2:
        return 0.0
    observed = np.zeros((k, k))
    np.add.at(observed, (a, b), 1.0)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / len(a)
    i, j = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    w = (i - j) ** 2 / (k - 1) ** 2
    denom = float((w * expected).sum())
    return 1.0 - float((w * observed).sum()) / denom if denom > 0 else 0.0


def _ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, ties given their mean rank."""
    order = np.argsort(x, kind="mergesort")
    sx = x[order]
    ranks = np.empty(len(x), np.float64)
    start = 0
    n = len(x)
    while start < n:
        end = start + 1
        while end < n and sx[end] == sx[start]:
            end += 1
        ranks[order[start:end]] = (start + end + 1) / 2.0
        start = end
    return ranks


def auroc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Area under the ROC curve of ``scores`` for binary ``labels`` (ties count half); None with one class."""
    scores = np.asarray(scores, np.float64)
    labels = np.asarray(labels, bool)
    pos, neg = int(labels.sum()), int((~labels).sum())
    if pos == 0 or neg == 0:
        return None
    r = _ranks(scores)
    return float((r[labels].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def auroc_at_thresholds(scores: np.ndarray, grades: np.ndarray, scale: Scale) -> dict[str, float | None]:
    """{"t": AUROC of "rounded grade >= t"} for every level t above the lowest."""
    g = round_grades(grades, scale)
    return {str(t): auroc(scores, g >= t) for t in range(scale[0] + 1, scale[1] + 1)}


def dcg_at_k(scores: np.ndarray, gains: np.ndarray, k: int) -> float:
    """DCG@k of ranking by ``scores`` (descending), ties sharing the mean discount of their ranks."""
    scores = np.asarray(scores, np.float64)
    gains = np.asarray(gains, np.float64)
    n = len(scores)
    discount = np.zeros(n)
    top = min(k, n)
    discount[:top] = 1.0 / np.log2(np.arange(2, top + 2))
    order = np.argsort(-scores, kind="mergesort")
    s = scores[order]
    total = 0.0
    start = 0
    while start < n:
        end = start + 1
        while end < n and s[end] == s[start]:
            end += 1
        total += gains[order[start:end]].sum() * discount[start:end].mean()
        start = end
    return float(total)


def ndcg_at_k(scores: np.ndarray, grades: np.ndarray, scale: Scale, k: int = 20) -> float | None:
    """nDCG@k of one query on its raw grades; None when the ideal DCG is 0 (every grade the lowest level)."""
    gains = 2.0 ** (np.clip(np.asarray(grades, np.float64), scale[0], scale[1]) - scale[0]) - 1.0
    ideal_order = np.sort(gains)[::-1][:k]
    ideal = float((ideal_order / np.log2(np.arange(2, len(ideal_order) + 2))).sum())
    if ideal <= 0:
        return None
    return dcg_at_k(scores, gains, k) / ideal


def mean_ndcg(scores: np.ndarray, grades: np.ndarray, groups: np.ndarray, scale: Scale, k: int = 20) -> float:
    """nDCG@k per query (``groups`` holds each pair's query), averaged over the queries where it is defined."""
    scores, grades, groups = np.asarray(scores), np.asarray(grades), np.asarray(groups)
    values = []
    for g in np.unique(groups):
        mask = groups == g
        v = ndcg_at_k(scores[mask], grades[mask], scale, k)
        if v is not None:
            values.append(v)
    return float(np.mean(values)) if values else 0.0


@dataclass(frozen=True)
class GradeMapping:
    """Scores -> levels by cutpoints: a score >= ``cutpoints[i]`` is at least level ``scale[0] + i + 1``."""

    scale: Scale
    cutpoints: tuple[float, ...]

    @classmethod
    def fit(cls, scores: np.ndarray, grades: np.ndarray, scale: Scale) -> "GradeMapping":
        """Cutpoints at the quantiles of the training ``scores`` that give the training grades' level shares:
        the share of pairs predicted at each level matches the share graded at it (up to ties in the scores)."""
        scores = np.asarray(scores, np.float64)
        g = round_grades(grades, scale)
        if len(scores) == 0:
            return cls(scale, tuple(float("inf") for _ in range(scale[1] - scale[0])))
        counts = np.array([(g == lv).sum() for lv in levels(scale)], np.float64)
        cumulative = np.cumsum(counts)[:-1] / len(g)  # share below each boundary
        cuts = np.quantile(scores, np.clip(cumulative, 0.0, 1.0), method="linear")
        return cls(scale, tuple(float(c) for c in cuts))

    def predict(self, scores: np.ndarray) -> np.ndarray:
        """The level of each score (int64)."""
        idx = np.searchsorted(np.asarray(self.cutpoints, np.float64), np.asarray(scores, np.float64),
                              side="right")
        return idx.astype(np.int64) + self.scale[0]


def report(scores: np.ndarray, grades: np.ndarray, groups: np.ndarray, scale: Scale, mapping: GradeMapping,
           k: int = 20) -> dict:
    """The metrics of one scorer on one part: {"accuracy", "qwk", "auroc": {"t": ...}, "ndcg@k"}."""
    predicted = mapping.predict(scores)
    return {"accuracy": round(accuracy(predicted, grades, scale), 4),
            "qwk": round(quadratic_kappa(predicted, grades, scale), 4),
            "auroc": {t: (None if v is None else round(v, 4))
                      for t, v in auroc_at_thresholds(scores, grades, scale).items()},
            f"ndcg@{k}": round(mean_ndcg(scores, grades, groups, scale, k), 4)}
