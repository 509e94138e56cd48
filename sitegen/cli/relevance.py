"""``sitegen eval relevance``: the relevance scorers on held-out grades of any labelled CSV, or of the site's own
teacher-graded candidate pairs (attached to the ``eval`` group by ``sitegen/cli/main.py``); ``sitegen train
relevance``: the student from the site's graded pairs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sitegen.cli.main import CONFIG_OPTION, SET_OPTION, _load, _progress, train


@click.command(name="relevance")
@CONFIG_OPTION
@SET_OPTION
@click.option("--labels", "labels_path", default=None, type=click.Path(dir_okay=False),
              help="CSV of graded query-product pairs (quoted fields may span lines). Without it: the site's own "
              "candidate pairs graded by relevance.teacher, held out by topic.")
@click.option("--query-col", default=None, help="Column of the query (with --labels).")
@click.option("--title-col", default=None, help="Column of the product title (with --labels).")
@click.option("--text-col", default=None, help="Column of the product description (HTML is stripped).")
@click.option("--grade-col", default=None, help="Column of the grade (a number; a mean of raters is fine).")
@click.option("--dataset", default=None, type=click.Path(file_okay=False),
              help="Without --labels: evaluate a seeded subset of the fashion catalog in this folder instead of "
              "the site, and also build it with each scorer (collection precision, duplicates, coverage).")
@click.option("-n", "--items", "n_items", type=int, default=10_000, show_default=True,
              help="With --dataset: size of the subset.")
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of the CSV, e.g. latin-1.")
@click.option("--split-by-query", "test_share", type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
              default=0.2, show_default=True, help="Share of the queries held out for testing.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the split and the training.")
@click.option("--teacher", type=click.Choice(["none", "cross-encoder"]), default="none", show_default=True,
              help="Also distil a cross-encoder teacher trained on the training part into the student.")
@click.option("--distill-factor", type=click.IntRange(min=1), default=10, show_default=True,
              help="With --teacher: the teacher labels this many times as many pairs as the training part has.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def eval_relevance(config_path, overrides, labels_path, query_col, title_col, text_col, grade_col, dataset, n_items,
                   encoding, test_share, seed, teacher, distill_factor, fmt) -> None:
    """Accuracy, quadratic-weighted kappa, AUROC at each threshold and nDCG@20 of the bm25, heuristic and
    student scorers (and the teacher) on held-out queries of a labelled CSV, or on held-out topics of the
    site's candidate pairs graded by its teacher."""
    from pathlib import Path

    if labels_path is None:
        return _eval_site(config_path, overrides, dataset, n_items, test_share, seed, fmt)
    missing = [f"--{n}" for n, v in (("query-col", query_col), ("title-col", title_col), ("grade-col", grade_col))
               if not v]
    if missing:
        raise click.UsageError(f"--labels needs {', '.join(missing)}")
    if not Path(labels_path).is_file():
        raise click.ClickException(f"--labels: {labels_path}: file not found")
    from sitegen.engines.embed import Embedder
    from sitegen.store.db import Store
    from sitegen.learn.relevance.labelled import read_labels
    from sitegen.learn.relevance.offline import evaluate_labels, format_table

    try:
        labels = read_labels(labels_path, query_col=query_col, title_col=title_col, text_col=text_col,
                             grade_col=grade_col, encoding=encoding)
    except LookupError as exc:  # an unknown --encoding
        raise click.ClickException(f"--encoding: {exc}") from None
    if len(set(labels.queries)) < 2:
        raise click.ClickException(f"{labels_path}: a split by query needs at least two distinct queries")
    parent = click.get_current_context().parent
    work = Path((parent.params.get("work_dir") if parent else None) or Path(".sitegen") / "eval")
    cache = work / "relevance" / "embeddings.duckdb"  # the eval group's --work-dir
    cache.parent.mkdir(parents=True, exist_ok=True)
    with Store(cache) as store, _progress(enabled=True) as factory:
        embedder = Embedder(store=store)
        report = evaluate_labels(labels, embedder.encode, test_share=test_share, seed=seed, teacher=teacher,
                                 distill_factor=distill_factor, progress=factory)
    click.echo(json.dumps(report, indent=2) if fmt == "json" else format_table(report))


def _eval_site(config_path, overrides, dataset, n_items, holdout, seed, fmt) -> None:
    from sitegen.learn.relevance.site import evaluate_relevance, format_site_report
    from sitegen.store.db import Store

    cfg = _load(config_path, overrides) if Path(config_path).exists() or overrides else None
    truth = usages = None
    if dataset is not None:
        from sitegen.learn.evaluate import fashion_config

        if not (Path(dataset) / "catalog.csv").is_file():
            raise click.ClickException(f"--dataset: {dataset}/catalog.csv not found")
        parent = click.get_current_context().parent
        work = Path((parent.params.get("work_dir") if parent else None) or Path(".sitegen") / "eval")
        cfg, truth, usages = fashion_config(Path(dataset), n_items=n_items, seed=seed, cfg=cfg, work_dir=work)
    elif cfg is None:
        raise click.ClickException(f"{config_path}: not found (pass --labels FILE.csv, --dataset DIR or -c site.toml)")
    with _progress(enabled=True) as factory:
        with Store(cfg.store_path) as store:
            report = evaluate_relevance(cfg, store, holdout=holdout, seed=seed, progress=factory)
        if truth is not None:
            from sitegen.learn.relevance.site import compare_builds

            report["collections"] = compare_builds(cfg, truth, usages, report["model"], seed=seed,
                                                   progress=factory)
    click.echo(json.dumps(report, indent=2) if fmt == "json" else format_site_report(report))


@train.command(name="relevance")
@CONFIG_OPTION
@SET_OPTION
@click.option("--source", "sources", multiple=True,
              help="Grades to learn from (repeatable; default: human, llm, cross-encoder and relevance.teacher's).")
@click.option("--regrade", is_flag=True, help="Have the teacher grade a fresh sample even when it has grades.")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Folder of the trained student (relevance.model).")
def train_relevance(config_path, overrides, sources, regrade, out_dir) -> None:
    """Train the relevance student on the site's graded candidate pairs (the teacher grades a sample first when
    it has none); collect and annotate use it from the next build (collect.scorer = auto or student)."""
    from sitegen.learn.relevance.pairs import candidate_pass, grade_pairs, sample_pairs
    from sitegen.learn.relevance.site import train_site_student
    from sitegen.store.db import Store

    cfg = _load(config_path, overrides, {"relevance.model": out_dir})
    chosen = list(sources) or sorted({"human", "llm", "cross-encoder", cfg.relevance.teacher})
    with Store(cfg.store_path) as store, _progress(enabled=cfg.build.progress) as factory:
        cands = candidate_pass(cfg, store, progress=factory)
        if regrade or not store.judgments.counts().get(cfg.relevance.teacher):
            pairs = sample_pairs(cands, cfg.relevance.sample)
            graded = grade_pairs(cfg, store, pairs, cands=cands, progress=factory("judge"))
            click.echo(f"{cfg.relevance.teacher}: graded {len(graded)} of {len(pairs)} sampled pair(s)")
        student, judged, folder = train_site_student(cfg, cands, store.judgments.all(chosen),
                                                     progress=factory("train"))
    used = ", ".join(f"{s}: {n}" for s, n in sorted(judged.sources.items()))
    click.echo(f"student: {len(judged.grades)} graded pair(s) over {len(set(judged.groups.tolist()))} topic(s) "
               f"({used}; {judged.missing} graded pair(s) no longer candidates)")
    click.echo(f"saved: {folder}")
