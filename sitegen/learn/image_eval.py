"""``sitegen eval images``: do items with no text get correct collections from their images?

On a seeded subset of the fashion catalog (10,000 items by default), a seeded share (20%) of the items has its
text hidden: the title becomes ``IMG_<id>`` and every other text column (master / sub category, article type,
colour, usage) is emptied; the image is kept. The site is then built twice in one run, with the build's own
pipeline (``evaluate.run_site``): text only (``embed.image_encoder = "none"``) and with the catalog image
encoder (``"catalog"``), which is trained first on that same hidden catalog - the hidden items' text is hidden
from training too (they are weak-text items, which never train it).

For the hidden items, measured against their TRUE catalog values (``evaluate.Truth``, the judging of
``sitegen eval``):

- precision: the share of their collection memberships whose topic their true values satisfy, over the
  memberships in collections whose topic names catalog values (a colour, an article type, a usage, a gender);
- coverage: the share of hidden items in at least one collection;
- annotated / with queries: the share with at least one annotation / query.

The same figures for the visible items, and the usual whole-site precision and coverage, show what the images do
to the rest of the site.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from sitegen.core.config import Config
from sitegen.engines.image import EncoderSettings
from sitegen.learn.evaluate import ProgressFactory, Truth, collection_precision, fashion_catalog_section, \
    read_rows, run_site, subset, write_subset

HIDDEN_SHARE = 0.2
TARGETS = {"precision": 0.8, "coverage": 0.8}  # for the hidden items, with the image encoder
HIDDEN_COLUMNS = ("master_category", "sub_category", "article_type", "base_colour", "usage")


def hide(rows: Sequence[dict[str, str]], share: float, seed: int) -> tuple[list[dict[str, str]], set[str]]:
    """The rows with a seeded ``share`` of them hidden (title ``IMG_<id>``, the text columns empty, the image
    kept), and the hidden ids."""
    n = int(round(len(rows) * share))
    pick = set(np.random.default_rng(seed + 1).choice(len(rows), n, replace=False).tolist()) if n else set()
    out, hidden = [], set()
    for i, r in enumerate(rows):
        if i in pick:
            r = {**r, "title": f"IMG_{r['id']}", **{c: "" for c in HIDDEN_COLUMNS}}
            hidden.add(r["id"])
        out.append(r)
    return out, hidden


def hidden_config(dataset_dir: Path, *, n_items: int, seed: int, share: float, cfg: Config | None,
                  work_dir: Path) -> tuple[Config, Truth, set[str]]:
    """The site of the seeded subset with a share of its items hidden, its own store under ``work_dir``."""
    rows = read_rows(dataset_dir)
    truth = Truth(rows)
    chosen, hidden = hide(subset(rows, n_items, seed), share, seed)
    work_dir = Path(work_dir)
    tag = f"{len(chosen)}-seed{seed}-hidden{share:g}"
    csv_path = write_subset(chosen, work_dir / f"catalog-{tag}.csv")
    cfg = cfg or Config()
    own = [str(cfg.path(e)) for e in cfg.represent.lexicons if e.endswith(".toml")]
    cfg = replace(cfg, represent=replace(cfg.represent, lexicons=["en", "fashion", *own]),
                  catalog=fashion_catalog_section(csv_path, dataset_dir), root=work_dir,
                  build=replace(cfg.build, store=str(work_dir / f"store-{tag}" / "site.duckdb")))
    return cfg, truth, hidden


def membership_figures(collections, annotations: dict, queries, truth: Truth, ids: set[str]) -> dict:
    """Precision of the memberships of ``ids`` (over collections whose topic names catalog values), coverage,
    annotated and with-query shares, and the worst topics they joined."""
    ok = judged = unjudged = 0
    wrong: dict[str, int] = {}
    covered: set[str] = set()
    for c in collections:
        named = truth.named(c.topic)
        for i in c.item_ids:
            if i not in ids:
                continue
            covered.add(i)
            if not named:
                unjudged += 1
                continue
            judged += 1
            if truth.matches(i, named):
                ok += 1
            else:
                wrong[c.topic] = wrong.get(c.topic, 0) + 1
    with_queries = {q.item_id for q in queries or () if q.item_id in ids}
    n = max(len(ids), 1)
    return {"items": len(ids), "memberships": judged + unjudged, "judged_memberships": judged,
            "precision": round(ok / judged, 4) if judged else 0.0,
            "coverage": round(len(covered) / n, 4),
            "annotated": round(sum(1 for i in ids if annotations.get(i)) / n, 4),
            "with_queries": round(len(with_queries) / n, 4) if queries is not None else None,
            "memberships_per_item": round((judged + unjudged) / n, 3),
            "most_wrong": sorted(wrong.items(), key=lambda kv: (-kv[1], kv[0]))[:8]}


def evaluate_images(dataset_dir: Path, *, n_items: int = 10_000, seed: int = 0, share: float = HIDDEN_SHARE,
                    cfg: Config | None = None, work_dir: Path, settings: EncoderSettings | None = None,
                    retrain: bool = False, progress: ProgressFactory | None = None) -> dict:
    """Build the hidden-text site twice (text only, then with the catalog encoder) and measure both (see the
    module docstring). The encoder is trained first (kept in the work folder's store folder and reused while
    its fingerprint matches, unless ``retrain``)."""
    from sitegen.engines.embed import Embedder
    from sitegen.engines.image import catalog_model_dir
    from sitegen.learn.image_train import fingerprint, saved_fingerprint, train_catalog_encoder, training_items
    from sitegen.core.text import item_text
    from sitegen.pipeline.gather import gather_site
    from sitegen.store.db import Store

    settings = settings or EncoderSettings()
    base, truth, hidden = hidden_config(Path(dataset_dir), n_items=n_items, seed=seed, share=share, cfg=cfg,
                                        work_dir=work_dir)
    progress = progress or (lambda _name: None)
    report: dict = {"dataset": str(dataset_dir), "seed": seed, "items": 0, "hidden": len(hidden),
                    "hidden_share": share, "targets": TARGETS, "builds": {}}
    text_cfg = replace(base, embed=replace(base.embed, image_encoder="none"))
    image_cfg = replace(base, embed=replace(base.embed, image_encoder="catalog"))

    # the encoder, trained on what the build sees
    model_dir = catalog_model_dir(image_cfg)
    t0 = time.perf_counter()
    with Store(image_cfg.store_path) as store:
        items = gather_site(image_cfg, store).site.items
        e = image_cfg.embed
        embedder = Embedder.from_config(e, store=store)
        chosen = training_items(items)
        want = fingerprint(chosen, [item_text(i) for i in chosen], embedder.model_id, settings)
        if retrain or saved_fingerprint(model_dir) != want:
            result = train_catalog_encoder(items, embedder.encode, model_dir, text_model_id=embedder.model_id,
                                           settings=settings, progress=lambda name: progress(f"image {name}"))
            report["training"] = {k: v for k, v in result.__dict__.items() if k != "model_dir"}
            report["training"]["reused"] = False
        else:
            report["training"] = {**json.loads((model_dir / "config.json").read_text())["training"], "reused": True}
    report["training"]["wall_seconds"] = round(time.perf_counter() - t0, 1)
    report["items"] = len(items)
    visible = {i.id for i in items} - hidden

    for name, cfg_ in (("text", text_cfg), ("catalog", image_cfg)):
        t1 = time.perf_counter()
        gathered, geo, seconds = run_site(cfg_, progress=progress)
        cols, ann = geo.site.collections, geo.site.annotations
        whole = collection_precision(cols, truth)
        covered = {i for c in cols for i in c.item_ids}
        report["builds"][name] = {
            "image_encoder": cfg_.embed.image_encoder, "collections": len(cols),
            "hidden": membership_figures(cols, ann, geo.queries, truth, hidden),
            "visible": membership_figures(cols, ann, geo.queries, truth, visible),
            "site_precision": whole["precision"], "site_coverage": round(len(covered) / max(len(items), 1), 4),
            "weak_text_items": geo.counters.get("items_weak_text", 0),
            "seconds": round(time.perf_counter() - t1, 1), "stage_seconds": seconds}
    h = report["builds"]["catalog"]["hidden"]
    report["passed"] = {k: h[k] >= v for k, v in TARGETS.items()}
    return report


def format_report(report: dict) -> str:
    t = report.get("training", {})
    lines = [f"items {report['items']} (seed {report['seed']}), hidden text: {report['hidden']} "
             f"({report['hidden_share']:.0%}); image encoder: {t.get('epochs', '?')} epochs (best "
             f"{t.get('best_epoch', '?')}), held-out loss {t.get('initial_loss', 0):.3f} -> {t.get('best_loss', 0):.3f}, "
             f"top-1 {t.get('held_out_top1', 0):.3f}, {t.get('seconds', 0):.0f}s"
             + (" (reused)" if t.get("reused") else ""), ""]
    head = f"{'':34}{'text only':>12}{'catalog':>12}  target"
    lines += [head, "-" * len(head)]
    b = report["builds"]
    rows = [("hidden: collection precision", "hidden", "precision", "precision"),
            ("hidden: coverage", "hidden", "coverage", "coverage"),
            ("hidden: annotated", "hidden", "annotated", None),
            ("hidden: with queries", "hidden", "with_queries", None),
            ("hidden: memberships per item", "hidden", "memberships_per_item", None),
            ("visible: collection precision", "visible", "precision", None),
            ("visible: coverage", "visible", "coverage", None)]
    for label, part, key, target in rows:
        vals = [b[n][part][key] for n in ("text", "catalog")]
        tgt = f">= {TARGETS[target]:.2f} {'ok' if report['passed'][target] else 'FAIL'}" if target else ""
        lines.append(f"{label:34}" + "".join(f"{v if v is not None else '-':>12}" for v in vals) + f"  {tgt}")
    for label, key in (("site: collection precision", "site_precision"), ("site: coverage", "site_coverage"),
                       ("collections", "collections"), ("build seconds", "seconds")):
        lines.append(f"{label:34}" + "".join(f"{b[n][key]:>12}" for n in ("text", "catalog")))
    wrong = b["catalog"]["hidden"]["most_wrong"]
    if wrong:
        lines += ["", "topics hidden items joined wrongly most often (catalog): "
                  + "; ".join(f"{t} ({k})" for t, k in wrong)]
    return "\n".join(lines)
