"""``sitegen train teacher``: fine-tune the cross-encoder teacher on human grades (the store's, or a labelled
CSV's) and save it where the ``cross-encoder`` judge loads it (``relevance.teacher_model``)."""

from __future__ import annotations

import re
import time
from collections import defaultdict
from pathlib import Path

import click

from sitegen.cli.main import CONFIG_OPTION, SET_OPTION, _load, _progress, train
from sitegen.core.errors import SitegenError


@train.command(name="teacher")
@CONFIG_OPTION
@SET_OPTION
@click.option("--labels", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Train on a labelled CSV instead of the store's human grades.")
@click.option("--query-col", default=None, help="--labels: the query column.")
@click.option("--title-col", default=None, help="--labels: the item title column.")
@click.option("--text-col", default=None, help="--labels: an item description column (optional).")
@click.option("--grade-col", default=None, help="--labels: the grade column (numbers; means allowed).")
@click.option("--encoding", default="utf-8", show_default=True, help="--labels: the CSV's text encoding.")
@click.option("--scale", default=None, metavar="LO-HI",
              help="--labels: the grade scale, e.g. 1-4 (default: the lowest and highest grade found).")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="The teacher's folder (relevance.teacher_model).")
@click.option("--base", default=None, type=click.Path(exists=True, file_okay=False),
              help="The model to fine-tune (default: the packaged all-MiniLM-L6-v2).")
@click.option("--epochs", type=int, default=None, help="Passes over the grades (default 3; stops earlier "
              "when the held-out error stops improving).")
@click.option("--batch-size", type=int, default=None, help="Pairs per step (default 16).")
@click.option("--max-length", type=int, default=None, help="Tokens per query-item pair (default 64).")
@click.option("--lr", type=float, default=None, help="Peak learning rate (default 4e-5).")
@click.option("--seed", type=int, default=None, help="Seed of the split and the training (relevance.seed).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def train_teacher(config_path, overrides, labels, query_col, title_col, text_col, grade_col, encoding, scale,
                  out_dir, base, epochs, batch_size, max_length, lr, seed, quiet) -> None:
    """Fine-tune the cross-encoder teacher (query and item text in one input, a grade head) on human grades;
    the `cross-encoder` judge (relevance.teacher = "cross-encoder") then grades many more pairs with it."""
    from sitegen.learn.relevance import cross_encoder as ce

    cfg = _load(config_path, overrides)
    if labels:
        queries, texts, grades, grade_scale, where = _from_csv(labels, query_col, title_col, text_col, grade_col,
                                                               encoding, scale)
    else:
        if any((query_col, title_col, text_col, grade_col, scale)):
            raise click.UsageError("--query-col, --title-col, --text-col, --grade-col and --scale go with --labels")
        queries, texts, grades, grade_scale, where = _from_store(cfg)
    out = Path(out_dir) if out_dir else cfg.path(cfg.relevance.teacher_model)
    click.echo(f"training the teacher on {len(queries)} graded pairs ({len(set(queries))} queries, "
               f"scale {grade_scale[0]}-{grade_scale[1]}) from {where}")
    options = {k: v for k, v in (("epochs", epochs), ("batch_size", batch_size), ("max_length", max_length),
                                 ("lr", lr)) if v is not None}
    started = time.perf_counter()
    with _progress(enabled=cfg.build.progress and not quiet) as factory:
        teacher = ce.train_cross_encoder(queries, texts, grades, out, scale=grade_scale,
                                         seed=cfg.relevance.seed if seed is None else seed,
                                         progress=factory("teacher"), base=Path(base) if base else None, **options)
    fp = teacher.fingerprint
    m = fp["metrics"]
    aurocs = ", ".join(f"@{t} {v:.3f}" for t, v in m["auroc"].items())
    click.echo(f"held-out ({fp['validation_pairs']} pairs, {fp['validation_queries']} queries): "
               f"qwk {m['qwk']:.3f} (cutpoints {m['qwk_cutpoints']:.3f}), accuracy {m['accuracy']:.3f}, "
               f"rmse {m['rmse']:.3f}, auroc {aurocs}")
    click.echo(f"best at epoch {m['epoch']:g} of {fp['settings']['epochs']}; {time.perf_counter() - started:.0f}s "
               f"on {fp['settings']['device']}")
    click.echo(f"saved: {out} ({teacher.id})")
    if out != cfg.path(cfg.relevance.teacher_model):
        click.echo(f'use it with: relevance.teacher_model = "{out}"')


def _parse_scale(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    found = re.fullmatch(r"\s*(-?\d+)\s*[-:,]\s*(-?\d+)\s*", value)
    if not found or int(found[1]) >= int(found[2]):
        raise click.BadParameter(f"{value!r} is not a scale LO-HI such as 1-4", param_hint="--scale")
    return int(found[1]), int(found[2])


def _from_csv(path, query_col, title_col, text_col, grade_col, encoding, scale):
    from sitegen.learn.relevance.labels import read_labels_csv

    missing = [f"--{n}" for n, v in (("query-col", query_col), ("title-col", title_col), ("grade-col", grade_col))
               if not v]
    if missing:
        raise click.UsageError(f"--labels needs {', '.join(missing)}")
    pairs = read_labels_csv(path, query_col=query_col, title_col=title_col, grade_col=grade_col,
                            text_col=text_col or "", encoding=encoding)
    if not len(pairs):
        raise SitegenError(f"{path}: no graded rows (each needs a query, a title and a numeric {grade_col})")
    where = f"{path}" + (f" ({pairs.skipped} rows without a query, title or grade skipped)" if pairs.skipped else "")
    return pairs.queries, pairs.texts, pairs.grades, _parse_scale(scale) or pairs.scale(), where


def _from_store(cfg):
    """The store's human grades (several raters of one pair averaged), joined with the items' text."""
    import numpy as np

    from sitegen.core.text import item_text
    from sitegen.learn.relevance.cross_encoder import GUIDELINE_SCALE
    from sitegen.store.db import Store

    with Store(cfg.store_path) as store:
        judgments = store.judgments.all(["human"])
        items = _items(cfg, store) if judgments else {}
    if not judgments:
        raise SitegenError("no human grades in the store to train the teacher on: grade pairs in the review app "
                           "(`sitegen serve`, /_review/) or pass --labels FILE.csv")
    grades: dict[tuple[str, str], list[int]] = defaultdict(list)
    unknown = set()
    for j in judgments:
        if j.item_id in items:
            grades[(j.topic, j.item_id)].append(j.grade)
        else:
            unknown.add(j.item_id)
    keys = sorted(grades)
    where = f"the store's {len(judgments)} human grades"
    if unknown:
        where += f" ({len(unknown)} items no longer in the catalog skipped)"
    return ([t for t, _ in keys], [item_text(items[i]) for _, i in keys],
            np.array([np.mean(grades[k]) for k in keys], dtype=np.float64), GUIDELINE_SCALE, where)


def _items(cfg, store) -> dict:
    """The items of the last build (as collect graded them), else the catalog read now."""
    from sitegen.core.models import Item

    rows = store.items.all()
    if rows:
        items = {}
        for row in rows:
            data = dict(row.data)
            data["keywords"] = tuple(data.get("keywords") or ())
            data["attributes"] = tuple(tuple(a) for a in data.get("attributes") or ())
            items[row.id] = Item(**data)
        return items
    from sitegen.ingest.load import load_catalog

    loaded = load_catalog(cfg.catalog, cfg.root, image_cache_dir=cfg.store_path.parent / "images",
                          image_meta=store.media.image_meta())
    return {i.id: i for i in loaded.items}
