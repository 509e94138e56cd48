"""Measuring annotators on held-out items: ``similarity`` (the baseline) and ``two_tower`` side by side.

- correct rank: the share of held-out positive (item, query) pairs scored above their fixed negative - for
  ``two_tower`` the towers' cosine, for ``similarity`` the cosine of the item's text vector and the query's;
- recall@k: per held-out item with a positive among the link targets, the share of those positives among its
  ``k`` best-scored targets (by the same score), averaged over the items;
- precision: the share of the held-out items' published annotations whose topic the item truly satisfies:
  on the fashion catalog by its columns (``learn.evaluate.Truth``: every value the topic names matches; topics
  naming no value are left out), elsewhere by the ``catalog`` judge (grade >= 4 of the pairs it can grade);
- the query mix of all the annotations, and the annotators' time (items per second).

``train_site`` is ``sitegen train two-tower``: the pairs, the training, the held-out figures, the saved folder.
``evaluate_annotations`` is ``sitegen eval annotations``: the same training (not saved) and both annotators.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from sitegen.learn.twotower.pairs import SiteData, TrainingPairs

ProgressFactory = Callable[[str], Callable[[int, int], None] | None]
RECALL_K = 5


def inputs(data: SiteData, pairs: TrainingPairs) -> tuple[np.ndarray, np.ndarray]:
    """The item tower's inputs for every item, the query tower's for every corpus query."""
    from sitegen.learn.twotower.model import item_inputs, query_inputs

    return (item_inputs(data.embedded.texts, data.embedded.image_vectors, data.quality),
            query_inputs(pairs.corpus.vectors, pairs.corpus.texts))


def ranking_metrics(item_vecs: np.ndarray, query_vecs: np.ndarray, pairs: TrainingPairs, k: int = RECALL_K) -> dict:
    """Correct rank and recall@k of the score ``item_vecs[i] . query_vecs[q]`` on the held-out pairs."""
    held = pairs.heldout
    if not len(held):
        return {"correct_rank": None, f"recall@{k}": None, "heldout_pairs": 0}
    pos = np.einsum("ij,ij->i", item_vecs[held[:, 0]], query_vecs[held[:, 1]])
    neg = np.einsum("ij,ij->i", item_vecs[held[:, 0]], query_vecs[held[:, 2]])
    t = pairs.corpus.targets
    test = held[held[:, 1] < t]
    recalls = []
    if len(test) and t:
        order = np.argsort(test[:, 0], kind="stable")
        test = test[order]
        items, starts = np.unique(test[:, 0], return_index=True)
        ends = np.append(starts[1:], len(test))
        sims = item_vecs[items] @ query_vecs[:t].T
        kk = min(k, t)
        top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk] if kk < t else np.tile(np.arange(t), (len(items), 1))
        for r, (a, b) in enumerate(zip(starts, ends)):
            wanted = set(test[a:b, 1].tolist())
            recalls.append(len(wanted & set(top[r].tolist())) / len(wanted))
    return {"correct_rank": round(float((pos > neg).mean()), 4),
            f"recall@{k}": round(float(np.mean(recalls)), 4) if recalls else None,
            "heldout_pairs": int(len(held)), "heldout_items_ranked": len(recalls),
            "mean_positive": round(float(pos.mean()), 4), "mean_negative": round(float(neg.mean()), 4)}


def annotation_precision(annotations: dict[str, tuple[str, ...]], items, collections, item_ids: set[str],
                         truth=None, judge=None) -> dict:
    """Precision of the annotations of ``item_ids`` (see the module docstring)."""
    from sitegen.distribute.annotate import with_aliases
    from sitegen.learn.relevance.judge import Pair

    targets, _ = with_aliases(collections)
    topic = {t.slug: t.topic for t in targets}
    category = {t.slug: t.category for t in targets}
    by_id = {i.id: i for i in items}
    chosen = [(i, s) for i in sorted(item_ids) for s in annotations.get(i, ()) if s in topic]
    if truth is not None:
        judged = [truth.matches(i, named) for i, s in chosen if (named := truth.named(topic[s]))]
        how = "fashion catalog columns"
    elif judge is not None:
        grades = judge.grade([Pair(topic[s], by_id[i], category[s]) for i, s in chosen])
        judged = [g.grade >= 4 for g in grades]
        how = "catalog judge (grade >= 4)"
    else:
        return {"precision": None, "annotations": len(chosen), "judged": 0}
    return {"precision": round(float(np.mean(judged)), 4) if judged else None, "annotations": len(chosen),
            "judged": len(judged), "judged_by": how}


def train_site(cfg, store, *, out_dir: Path | None = None, progress: ProgressFactory | None = None,
               step_progress=None):
    """``sitegen train two-tower``: train on the site's pairs and save the model (``two_tower.model``, or
    ``out_dir``) with its held-out figures. Returns (TrainResult, held-out metrics, folder, pairs)."""
    from sitegen.learn.twotower.model import save_model
    from sitegen.learn.twotower.pairs import make_pairs, site_data
    from sitegen.learn.twotower.train import fit

    s = cfg.two_tower
    data = site_data(cfg, store, progress=progress)
    pairs = make_pairs(data, holdout=s.holdout, hard_share=s.hard_negatives, seed=s.seed)
    item_x, query_x = inputs(data, pairs)
    result = fit(pairs, item_x, query_x, s, progress=step_progress)
    metrics = ranking_metrics(result.model.encode_items(item_x), result.model.encode_queries(query_x), pairs)
    result.model.spec["heldout"] = metrics
    folder = save_model(result.model, Path(out_dir) if out_dir else cfg.path(s.model))
    return result, metrics, folder, pairs


def evaluate_annotations(cfg, store, *, truth=None, progress: ProgressFactory | None = None,
                         step_progress=None) -> dict:
    """``sitegen eval annotations``: both annotators on the held-out items of one split (see the module
    docstring). ``truth``: the fashion catalog's ground truth (``learn.evaluate.Truth``), else the catalog
    judge grades the annotations."""
    from sitegen.learn.twotower.pairs import site_data

    return compare_annotators(cfg, site_data(cfg, store, progress=progress), truth=truth,
                              step_progress=step_progress)


def compare_annotators(cfg, data: SiteData, *, truth=None, step_progress=None) -> dict:
    """``evaluate_annotations`` on a site already run up to collect (``pairs.site_data``)."""
    from sitegen.distribute.annotate import annotation_mix
    from sitegen.distribute.stage import similarity_annotator
    from sitegen.distribute.twotower import rank_annotations
    from sitegen.learn.twotower.pairs import make_pairs
    from sitegen.learn.twotower.train import fit

    s = cfg.two_tower
    pairs = make_pairs(data, holdout=s.holdout, hard_share=s.hard_negatives, seed=s.seed)
    item_x, query_x = inputs(data, pairs)
    result = fit(pairs, item_x, query_x, s, progress=step_progress)
    model = result.model
    held_ids = {data.items[i].id for i in np.flatnonzero(pairs.heldout_items).tolist()}
    judge = None
    if truth is None:
        from sitegen.learn.relevance.catalog import CatalogJudge

        judge = CatalogJudge(cfg)
        judge.prepare(data.items, np.asarray(data.embedded.texts, np.float32), data.encode)

    t0 = time.perf_counter()
    sim_ann = similarity_annotator(data.items, data.collections, data.embedded.item_vectors, data.topic_vectors,
                                   cfg, embed=data.encode)
    sim_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    tt_ann = rank_annotations(data.items, data.collections, model, data.embedded.texts, data.embedded.image_vectors,
                              data.quality, data.topic_vectors, cfg.link, cfg.represent.mix, cfg.index)
    tt_seconds = time.perf_counter() - t0

    tv = np.asarray(data.embedded.texts, np.float32)
    tv = tv / np.maximum(np.linalg.norm(tv, axis=1, keepdims=True), 1e-12)
    qv = pairs.corpus.vectors / np.maximum(np.linalg.norm(pairs.corpus.vectors, axis=1, keepdims=True), 1e-12)
    n = len(data.items)
    out = {}
    for name, ann, ranks, secs in (
            ("similarity", sim_ann, ranking_metrics(tv, qv, pairs), sim_seconds),
            ("two_tower", tt_ann, ranking_metrics(model.encode_items(item_x), model.encode_queries(query_x), pairs),
             tt_seconds)):
        prec = annotation_precision(ann, data.items, data.collections, held_ids, truth, judge)
        out[name] = {"correct_rank": ranks["correct_rank"], f"recall@{RECALL_K}": ranks[f"recall@{RECALL_K}"],
                     "precision": prec["precision"], "query_mix": {k: round(v, 4) for k, v in
                                                                  annotation_mix(ann, data.collections).items()},
                     "annotations_judged": prec["judged"], "annotations_heldout": prec["annotations"],
                     "judged_by": prec.get("judged_by", ""),
                     "annotate_seconds": round(secs, 2), "items_per_second": round(n / max(secs, 1e-9), 1),
                     "mean_positive": ranks.get("mean_positive"), "mean_negative": ranks.get("mean_negative")}
    tr = model.spec["training"]
    out["two_tower"].update({"train_seconds": round(result.seconds, 2), "train_pairs": result.examples,
                             "train_steps": result.steps, "train_threads": result.threads,
                             "device": result.device, "losses": tr["losses"], "threshold": model.threshold})
    for name in out:
        out[name].update({"heldout_items": len(held_ids), "heldout_pairs": int(len(pairs.heldout)),
                          "items": n, "queries": len(pairs.corpus.texts), "targets": pairs.corpus.targets,
                          "positives_by_source": dict(pairs.sources)})
    return {"annotators": out}


def format_report(report: dict) -> str:
    """A plain-text table of ``evaluate_annotations``' report."""
    names = list(report["annotators"])
    rows = [("correct rank", "correct_rank"), (f"recall@{RECALL_K}", f"recall@{RECALL_K}"),
            ("annotation precision (held-out items)", "precision"), ("items / s (annotate)", "items_per_second")]
    width = max(len(r[0]) for r in rows + [("query mix (description / style / use case)", "")])

    def fmt(v) -> str:
        return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) and v < 10 else str(v))

    lines = [f"{'metric'.ljust(width)}  " + "  ".join(n.rjust(12) for n in names), "-" * (width + 14 * len(names))]
    for label, key in rows:
        lines.append(f"{label.ljust(width)}  " + "  ".join(fmt(report['annotators'][n].get(key)).rjust(12)
                                                          for n in names))
    lines.append(f"{'query mix (description / style / use case)'.ljust(width)}  " + "  ".join(
        " / ".join(f"{v:.0%}" for v in report["annotators"][n]["query_mix"].values()).rjust(12) for n in names))
    tt = report["annotators"].get("two_tower", {})
    a = report["annotators"][names[0]]
    lines.append("")
    lines.append(f"held out: {a['heldout_items']} items, {a['heldout_pairs']} pairs; judged by {a['judged_by']}; "
                 f"positives by source: {a['positives_by_source']}")
    if "train_seconds" in tt:
        lines.append(f"two_tower: trained {tt['train_steps']} steps on {tt['train_pairs']} pairs in "
                     f"{tt['train_seconds']:.1f}s ({tt['device']}, {tt['train_threads']} threads); "
                     f"loss {tt['losses'][0]:.3f} -> {tt['losses'][-1]:.3f}; threshold {tt['threshold']}"
                     if tt.get("losses") else "two_tower: no training pairs")
    return "\n".join(lines)

