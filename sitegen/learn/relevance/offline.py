"""``sitegen eval relevance``: the scorers side by side on held-out human grades of a labelled CSV.

1. The pairs are split by query (``split_by_query``): no query is in both parts.
2. The products become a catalog (``labelled.LabelledCatalog``: one item per distinct product text, embedded
   with the packaged MiniLM, the collect ``Lexicon`` over them); each query's graded products are its candidates.
3. Scorers, through the same ``Scorer`` interface collect uses: ``bm25``, ``heuristic`` (the real
   ``HeuristicScorer`` with the default weights) and ``student`` (trained here on the training part's grades).
   Each scores both parts; its score -> grade cutpoints are fitted on the training part (``metrics.GradeMapping``),
   and the metrics are taken on the test part (``metrics.report``).
4. With ``teacher="cross-encoder"`` (``sitegen.learn.relevance.cross_encoder``): the teacher is trained on the
   training part's grades; an unlabelled pool is retrieved for the training queries - products not graded for
   that query, nor graded for any test query (so no test product is seen in training), ranked per query by
   reciprocal-rank fusion of the embedding cosine and BM25 - and the teacher grades ``distill_factor`` times as
   many pairs as the training part has, once. The student learns from the human grades plus a prefix of those
   (the best-ranked pairs of every query first): the learning curve reports prefixes of 1x, 10x, 50x, 100x (those
   up to the factor, and the factor itself; 0x = human grades only); ``student`` is the full-factor one, and
   ``teacher`` (its predicted grades as the score) joins the scorers.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from sitegen.aggregate.relevance import HeuristicScorer, Scorer
from sitegen.core.errors import ModelError
from sitegen.learn.relevance import metrics
from sitegen.learn.relevance.bm25 import Bm25Index, Bm25Scorer
from sitegen.learn.relevance.features import SPEC, Features
from sitegen.learn.relevance.labelled import LabelledCatalog, Labels, split_by_query
from sitegen.learn.relevance.student import Student, StudentScorer, train_student

ProgressFactory = Callable[[str], Callable[[int, int], None] | None]
CURVE_FACTORS = (1, 10, 50, 100)
_RRF = 60  # reciprocal-rank fusion constant


def _none(_name: str) -> None:
    return None


def curve_factors(distill_factor: int) -> list[int]:
    """The prefixes of the learning curve: 0 (human grades only), 1, 10, 50, 100 up to the factor, the factor."""
    return [0, *sorted({f for f in CURVE_FACTORS if f <= distill_factor} | {distill_factor})]


class _Part:
    """The pairs of one side of the split, grouped by query."""

    def __init__(self, labels: Labels, mask: np.ndarray):
        self.rows = np.flatnonzero(mask)
        self.queries = [labels.queries[i] for i in self.rows]
        self.grades = labels.grades[self.rows]
        self.groups = labels.query_ids[self.rows]
        positions: dict[str, list[int]] = {}
        for n, q in enumerate(self.queries):
            positions.setdefault(q, []).append(n)
        self.by_query = {q: np.asarray(v, np.int64) for q, v in positions.items()}
        self.product = labels.product[self.rows]


def _scores(scorer: Scorer, lc: LabelledCatalog, part: _Part) -> np.ndarray:
    out = np.zeros(len(part.rows), np.float64)
    for q, pos in part.by_query.items():
        out[pos] = scorer.score(lc.evidence(q, part.product[pos]))
    return out


def _features(features: Features, lc: LabelledCatalog, part: _Part) -> np.ndarray:
    out = np.zeros((len(part.rows), len(SPEC.names)), np.float32)
    for q, pos in part.by_query.items():
        out[pos] = features.rows(lc.evidence(q, part.product[pos]))
    return out


def evaluate_labels(labels: Labels, embed: Callable[..., np.ndarray], *, test_share: float = 0.2, seed: int = 0,
                    teacher: str = "none", distill_factor: int = 10,
                    progress: ProgressFactory = _none) -> dict[str, Any]:
    """The report: {"n_train", "n_test", "scale", "queries", "scorers": {name: metrics.report}, "curve"?}.
    ``embed(texts, progress=...)`` is an ``Embedder.encode``."""
    if teacher not in ("none", "cross-encoder"):
        raise ValueError(f"unknown teacher {teacher!r}")
    if distill_factor < 1:
        raise ValueError("distill_factor must be >= 1")
    train_cross_encoder = _load_cross_encoder() if teacher == "cross-encoder" else None
    t0 = time.perf_counter()
    scale = labels.scale
    test_mask = split_by_query(labels.queries, test_share, seed)
    train, test = _Part(labels, ~test_mask), _Part(labels, test_mask)
    if not len(train.rows) or not len(test.rows):
        raise ValueError("the split left one part empty: the file needs at least two queries")
    lc = LabelledCatalog.build(labels.items, labels.queries, embed, progress)
    features = Features(lc.catalog)
    x_train = _features(features, lc, train)

    scorers: dict[str, Scorer] = {"bm25": Bm25Scorer(), "heuristic": HeuristicScorer()}
    curve: list[dict] = []
    teacher_scores: tuple[np.ndarray, np.ndarray] | None = None
    if teacher == "none":
        student = train_student(x_train, train.grades, train.groups, SPEC, scale, seed=seed,
                                progress=progress("student"))
        scorers["student"] = StudentScorer(student=student)
    else:
        student, curve, teacher_scores = _distil(train_cross_encoder, lc, features, train, test, x_train, scale,
                                                 seed, distill_factor, progress)
        scorers["student"] = StudentScorer(student=student)

    report: dict[str, Any] = {"n_train": int(len(train.rows)), "n_test": int(len(test.rows)),
                              "scale": list(scale), "queries": {"train": len(train.by_query),
                                                                "test": len(test.by_query)},
                              "scorers": {}}
    for name, scorer in scorers.items():
        scorer.prepare(lc.catalog)
        report["scorers"][name] = _report(_scores(scorer, lc, train), _scores(scorer, lc, test), train, test, scale)
    if teacher_scores is not None:
        report["scorers"]["teacher"] = _report(*teacher_scores, train, test, scale)
        report["curve"] = curve
        report["distill_factor"] = distill_factor
    report["seconds"] = round(time.perf_counter() - t0, 1)
    return report


def _report(train_scores: np.ndarray, test_scores: np.ndarray, train: _Part, test: _Part,
            scale: tuple[int, int]) -> dict:
    mapping = metrics.GradeMapping.fit(train_scores, train.grades, scale)
    return metrics.report(test_scores, test.grades, test.groups, scale, mapping)


# -- distillation ------------------------------------------------------------------------------------------

def _load_cross_encoder():
    import importlib

    try:
        cross_encoder = importlib.import_module("sitegen.learn.relevance.cross_encoder")
    except ImportError as exc:
        if exc.name == "sitegen.learn.relevance.cross_encoder":
            raise ModelError("--teacher cross-encoder needs the cross-encoder teacher "
                             "(sitegen.learn.relevance.cross_encoder), which this sitegen does not include") from None
        raise ModelError(f"the cross-encoder teacher cannot be loaded: {exc}") from None
    return cross_encoder.train_cross_encoder


def unlabelled_pool(lc: LabelledCatalog, bm25: Bm25Index, train: _Part, test: _Part, size: int, seed: int
                    ) -> list[tuple[str, int, int]]:
    """Up to ``size`` (query, item, rank) pairs for the training queries: items not graded for the query nor
    for any test query, ranked per query by reciprocal-rank fusion of cosine and BM25; ordered best rank first
    across queries (queries in a seeded order within a rank), so every prefix spreads over the queries."""
    n_items = len(lc.catalog.items)
    excluded = np.zeros(n_items, bool)
    excluded[test.product] = True
    queries = list(train.by_query)
    per_query = -(-size // max(len(queries), 1))
    ranked: dict[str, np.ndarray] = {}
    for q in queries:
        allowed = ~excluded
        allowed[train.product[train.by_query[q]]] = False
        cand = np.flatnonzero(allowed)
        if not len(cand):
            ranked[q] = cand
            continue
        sims = lc.catalog.vectors[cand] @ lc.query_vectors[q]
        lexical = bm25.raw(q, cand)
        fused = np.zeros(len(cand))
        for values in (sims, lexical):
            order = np.argsort(-values, kind="mergesort")
            r = np.empty(len(cand))
            r[order] = np.arange(len(cand))
            fused += 1.0 / (_RRF + r)
        top = np.lexsort((cand, -fused))[:per_query]
        ranked[q] = cand[top]
    rng = np.random.default_rng(seed)
    qorder = [queries[i] for i in rng.permutation(len(queries))]
    out: list[tuple[str, int, int]] = []
    depth = max((len(v) for v in ranked.values()), default=0)
    for rank in range(depth):
        for q in qorder:
            if rank < len(ranked[q]):
                out.append((q, int(ranked[q][rank]), rank))
                if len(out) >= size:
                    return out
    return out


def _distil(train_cross_encoder, lc: LabelledCatalog, features: Features, train: _Part, test: _Part,
            x_train: np.ndarray, scale: tuple[int, int], seed: int, factor: int, progress: ProgressFactory):
    texts = lc.catalog.texts
    with tempfile.TemporaryDirectory(prefix="sitegen-teacher-") as tmp:
        model = train_cross_encoder(train.queries, [texts[i] for i in train.product], train.grades, Path(tmp),
                                    scale=scale, seed=seed, progress=progress("teacher"))
        pool = unlabelled_pool(lc, features.bm25, train, test, factor * len(train.rows), seed)
        pool_grades = np.asarray(model.predict([q for q, _, _ in pool], [texts[i] for _, i, _ in pool],
                                               progress=progress("teacher labels")), np.float64)
        teacher_train = np.asarray(model.predict(train.queries, [texts[i] for i in train.product]), np.float64)
        teacher_test = np.asarray(model.predict(test.queries, [texts[i] for i in test.product]), np.float64)
    # features of the pool pairs: each training query over its graded products and its pool items
    by_query: dict[str, list[int]] = {}
    for n, (q, _, _) in enumerate(pool):
        by_query.setdefault(q, []).append(n)
    x_pool = np.zeros((len(pool), len(SPEC.names)), np.float32)
    qid = {q: int(train.groups[pos[0]]) for q, pos in train.by_query.items()}
    g_pool = np.zeros(len(pool), np.int64)
    for q, rows in by_query.items():
        items = np.array([pool[r][1] for r in rows], np.int64)
        graded = train.product[train.by_query[q]]
        x = features.rows(lc.evidence(q, np.concatenate([graded, items])))
        x_pool[rows] = x[len(graded):]
        g_pool[rows] = qid[q]
    curve = []
    student: Student | None = None
    for f in curve_factors(factor):
        n = min(f * len(train.rows), len(pool))
        x = np.concatenate([x_train, x_pool[:n]])
        y = np.concatenate([train.grades, pool_grades[:n]])
        g = np.concatenate([train.groups, g_pool[:n]])
        student = train_student(x, y, g, SPEC, scale, seed=seed, progress=progress(f"student {f}x"))
        scorer = StudentScorer(student=student)
        scorer.prepare(lc.catalog)
        point = _report(_scores(scorer, lc, train), _scores(scorer, lc, test), train, test, scale)
        curve.append({"factor": f, "teacher_pairs": int(n), "rows": int(len(y)), **point})
    assert student is not None
    return student, curve, (teacher_train, teacher_test)


def format_table(report: dict) -> str:
    """The scorers, one row each; then the learning curve when there is one."""
    thresholds = sorted({t for r in report["scorers"].values() for t in r["auroc"]}, key=int)
    head = ["scorer", "accuracy", "qwk", *[f"auroc@{t}" for t in thresholds], "ndcg@20"]

    def cells(r: dict) -> list[str]:
        au = [("-" if r["auroc"].get(t) is None else f"{r['auroc'][t]:.4f}") for t in thresholds]
        return [f"{r['accuracy']:.4f}", f"{r['qwk']:.4f}", *au, f"{r['ndcg@20']:.4f}"]

    rows = [[name, *cells(r)] for name, r in report["scorers"].items()]
    lines = [f"train {report['n_train']} pairs ({report['queries']['train']} queries), test {report['n_test']} "
             f"pairs ({report['queries']['test']} queries), scale {report['scale'][0]}-{report['scale'][1]}",
             *_table(head, rows)]
    if report.get("curve"):
        head2 = ["factor", "teacher pairs", "rows", "accuracy", "qwk", *[f"auroc@{t}" for t in thresholds],
                 "ndcg@20"]
        rows2 = [[f"{p['factor']}x", str(p["teacher_pairs"]), str(p["rows"]), *cells(p)] for p in report["curve"]]
        lines += ["", "learning curve (student on human grades + teacher-labelled pairs)", *_table(head2, rows2)]
    return "\n".join(lines)


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return [fmt.format(*head), *(fmt.format(*r) for r in rows)]
