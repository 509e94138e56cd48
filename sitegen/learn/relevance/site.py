"""The relevance loop on a site: teacher grades of the site's own candidate pairs train the student
(``sitegen train relevance``), and ``sitegen eval relevance`` without ``--labels`` measures it on held-out topics
against the ``heuristic`` and ``bm25`` baselines, in one run.

A pair graded by several judges keeps one grade, by source precedence (``PRECEDENCE``: people first, then the
LLM, the cross-encoder, the catalog's silver grades, then any plugin's); several raters of one source give their
median. Features are computed from the candidate pass (``pairs.candidate_pass``), i.e. from exactly the
``TopicEvidence`` the build's scorer sees; a graded pair that is no longer a candidate of its topic is left out
and counted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from sitegen.core.models import Judgment
from sitegen.learn.relevance.pairs import CandidateSet

PRECEDENCE = ("human", "llm", "cross-encoder", "catalog")
SCALE = (1, 5)


@dataclass
class Judged:
    """The graded candidate pairs of a site, as the student's training rows."""

    features: np.ndarray  # (n, len(SPEC.names))
    grades: np.ndarray  # (n,) on 1..5
    groups: np.ndarray  # (n,) the topic position in ``CandidateSet.topics``
    baseline: np.ndarray  # (n,) the candidate pass's scores (the configured scorer's)
    rows: list[tuple[int, int]]  # (topic position, candidate position) of each row
    sources: dict[str, int] = field(default_factory=dict)  # source -> rows whose grade it gave
    missing: int = 0  # graded pairs that are not candidates of their topic now


def one_grade_per_pair(judgments: Sequence[Judgment]) -> dict[tuple[str, str], tuple[float, str]]:
    """(topic, item id) -> (grade, source): the median of the raters of the first source by ``PRECEDENCE``."""
    by: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for j in judgments:
        if j.source == "human" and j.rater == "median":  # the human judge's own answer, not a person
            continue
        by[(j.topic, j.item_id)][j.source].append(j.grade)
    rank = {s: n for n, s in enumerate(PRECEDENCE)}
    out = {}
    for pair, sources in by.items():
        source = min(sources, key=lambda s: (rank.get(s, len(rank)), s))
        out[pair] = (float(np.median(sources[source])), source)
    return out


def judged_rows(cands: CandidateSet, judgments: Sequence[Judgment]) -> Judged:
    """The training rows of every graded pair that is a candidate of its topic."""
    from sitegen.learn.relevance.features import SPEC, Features

    lookup = cands.pairs()
    grades = one_grade_per_pair(judgments)
    by_topic: dict[int, list[tuple[int, float, str]]] = defaultdict(list)
    missing = 0
    for pair, (grade, source) in grades.items():
        where = lookup.get(pair)
        if where is None:
            missing += 1
            continue
        by_topic[where[0]].append((where[1], grade, source))
    feats = Features(cands.catalog) if by_topic else None
    xs, ys, gs, bs, rows = [], [], [], [], []
    tally: dict[str, int] = defaultdict(int)
    for t in sorted(by_topic):
        st = cands.topics[t]
        entries = sorted(by_topic[t])
        idx = np.array([c for c, _, _ in entries], np.int64)
        xs.append(feats.rows(st.evidence)[idx])
        ys += [g for _, g, _ in entries]
        gs += [t] * len(entries)
        bs.append(st.scores[idx])
        rows += [(t, c) for c, _, _ in entries]
        for _, _, s in entries:
            tally[s] += 1
    width = len(SPEC.names)
    return Judged(np.concatenate(xs).astype(np.float32) if xs else np.zeros((0, width), np.float32),
                  np.asarray(ys, np.float64), np.asarray(gs, np.int64),
                  np.concatenate(bs).astype(np.float32) if bs else np.zeros(0, np.float32), rows, dict(tally),
                  missing)


def train_site_student(cfg, cands: CandidateSet, judgments: Sequence[Judgment], *, out_dir: Path | None = None,
                       progress: Callable[[int, int], None] | None = None):
    """Train the student on the site's graded candidate pairs and save it (``relevance.model`` by default).
    Returns (student, judged rows, folder)."""
    from sitegen.core.errors import ModelError
    from sitegen.learn.relevance.student import train_student

    judged = judged_rows(cands, judgments)
    if len(judged.grades) < 20 or len(np.unique(judged.groups)) < 2:
        raise ModelError(f"too few graded candidate pairs to train the student ({len(judged.grades)} over "
                         f"{len(np.unique(judged.groups))} topic(s); need 20 over 2): run `sitegen judge` first")
    student = train_student(judged.features, judged.grades, judged.groups, scale=SCALE, seed=cfg.relevance.seed,
                            progress=progress)
    folder = Path(out_dir) if out_dir is not None else cfg.path(cfg.relevance.model)
    student.save(folder)
    return student, judged, folder


def split_topics(groups: np.ndarray, share: float, seed: int) -> np.ndarray:
    """A boolean mask of the rows whose topic is held out (``share`` of the topics, seeded)."""
    topics = np.unique(groups)
    rng = np.random.default_rng(seed)
    n_test = max(1, int(round(len(topics) * share))) if len(topics) > 1 else 0
    test = rng.choice(topics, n_test, replace=False) if n_test else np.array([], groups.dtype)
    return np.isin(groups, test)


def evaluate_relevance(cfg, store, *, holdout: float = 0.2, seed: int = 0,
                       progress: Callable[[str], Callable[[int, int], None] | None] | None = None) -> dict:
    """The site's relevance evaluation in one run: the candidate pass (with the ``heuristic`` scorer, the
    baseline), the teacher (``relevance.teacher``) grades ``relevance.sample`` of its pairs into the store, and
    ``score_heldout`` compares the scorers on held-out topics. The student trained on the other topics is saved
    beside the store (``report["model"]``), so a build can use it."""
    from dataclasses import replace

    from sitegen.learn.relevance.pairs import candidate_pass, grade_pairs, sample_pairs

    progress = progress or (lambda _name: None)
    base = replace(cfg, collect=replace(cfg.collect, scorer="heuristic"))
    cands = candidate_pass(base, store, progress=progress)
    pairs = sample_pairs(cands, cfg.relevance.sample)
    teacher = cfg.relevance.teacher
    grades = grade_pairs(cfg, store, pairs, cands=cands, progress=progress("judge"))
    judgments = grades if teacher != "human" else store.judgments.all(["human"])
    folder = cfg.store_path.parent / "eval-relevance-student"
    out = score_heldout(base, cands, judgments, holdout=holdout, seed=seed, out_dir=folder,
                        progress=progress("train"))
    out["teacher"] = teacher
    out["pairs_sampled"] = len(pairs)
    out["model"] = str(folder)
    return out


def score_heldout(cfg, cands: CandidateSet, judgments: Sequence[Judgment], *, holdout: float = 0.2,
                  seed: int = 0, out_dir: Path | None = None,
                  progress: Callable[[int, int], None] | None = None) -> dict:
    """Held-out topics' graded pairs scored by ``bm25``, ``heuristic`` and the ``student`` trained on the other
    topics' grades, side by side: {"n_train", "n_test", "scorers": {name: metrics}, "sources", "missing"}.
    ``heuristic`` is the candidate pass's own score when that pass ran the heuristic scorer."""
    from sitegen.aggregate.relevance import HeuristicScorer
    from sitegen.learn.relevance.bm25 import Bm25Scorer
    from sitegen.learn.relevance.metrics import GradeMapping, report
    from sitegen.learn.relevance.student import train_student

    judged = judged_rows(cands, judgments)
    test = split_topics(judged.groups, holdout, seed)
    train = ~test
    if train.sum() < 20 or test.sum() < 1:
        from sitegen.core.errors import ModelError

        raise ModelError(f"too few graded candidate pairs to evaluate ({len(judged.grades)}): run `sitegen judge`")
    scores: dict[str, np.ndarray] = {}
    for name, scorer in (("bm25", Bm25Scorer(cfg.collect)), ("heuristic", HeuristicScorer(cfg.collect))):
        scorer.prepare(cands.catalog)
        per_topic = {t: scorer.score(cands.topics[t].evidence) for t in np.unique(judged.groups).tolist()}
        scores[name] = np.array([per_topic[t][c] for t, c in judged.rows], np.float64)
    student = train_student(judged.features[train], judged.grades[train], judged.groups[train], scale=SCALE,
                            seed=seed, progress=progress)
    if out_dir is not None:
        student.save(out_dir)
    scores["student"] = student.relevant_probability(judged.features).astype(np.float64)
    out = {"n_train": int(train.sum()), "n_test": int(test.sum()), "scorers": {}}
    for name, s in scores.items():
        mapping = GradeMapping.fit(s[train], judged.grades[train], SCALE)
        out["scorers"][name] = report(s[test], judged.grades[test], judged.groups[test], SCALE, mapping)
    out["topics"] = {"train": int(len(np.unique(judged.groups[train]))),
                     "test": int(len(np.unique(judged.groups[test])))}
    out["sources"] = judged.sources
    out["missing"] = judged.missing
    return out


COLLECTION_KEYS = ("collections", "precision", "coverage", "occasion_precision", "fragment_headed",
                   "bare_colour_share", "duplicate_pair_share", "majority_filed_share")


def compare_builds(cfg, truth, usages, model_dir: str | Path, *, seed: int = 0,
                   progress: Callable[[str], Callable[[int, int], None] | None] | None = None) -> dict:
    """The catalog built twice, as ``sitegen build`` does, with the ``heuristic`` scorer and with the ``student``
    of ``model_dir``; each build's collection measurements against the catalog's ground truth
    (``learn.evaluate``)."""
    from dataclasses import replace

    from sitegen.learn.evaluate import evaluate_site

    out = {}
    for name in ("heuristic", "student"):
        variant = replace(cfg, collect=replace(cfg.collect, scorer=name),
                          relevance=replace(cfg.relevance, model=str(model_dir)))
        report = evaluate_site(variant, truth, seed=seed, progress=progress, usages=usages)
        out[name] = {k: report[k] for k in COLLECTION_KEYS if k in report}
        out[name]["seconds"] = round(sum(report.get("seconds", {}).values()), 1)
    return out


def format_site_report(report: dict) -> str:
    """Plain-text tables: the scorers on the held-out pairs, then (with a dataset) the two builds."""
    names = list(report["scorers"])
    first = report["scorers"][names[0]]
    levels = list(first["auroc"])
    head = ["scorer", "accuracy", "qwk", *[f"auroc@{t}" for t in levels], "ndcg@20"]
    rows = [[n, *(f"{report['scorers'][n][k]:.4f}" for k in ("accuracy", "qwk")),
             *(("-" if report["scorers"][n]["auroc"][t] is None else f"{report['scorers'][n]['auroc'][t]:.4f}")
               for t in levels), f"{report['scorers'][n]['ndcg@20']:.4f}"] for n in names]
    lines = [f"teacher {report.get('teacher', '?')}: {report['n_train']} training / {report['n_test']} held-out "
             f"graded pairs ({report['topics']['train']} / {report['topics']['test']} topics)", _table(head, rows)]
    builds = report.get("collections")
    if builds:
        keys = [k for k in (*COLLECTION_KEYS, "seconds") if any(k in b for b in builds.values())]
        lines += ["", _table(["build", *keys], [[n, *(str(b.get(k, "-")) for k in keys)]
                                                for n, b in builds.items()])]
    return "\n".join(lines)


def _table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in [head, *rows])
