"""``sitegen eval relevance``: the relevance scorers on held-out grades of any labelled CSV (attached to the
``eval`` group by ``sitegen/cli/main.py``)."""

from __future__ import annotations

import json

import click


@click.command(name="relevance")
@click.option("--labels", "labels_path", required=True, type=click.Path(dir_okay=False),
              help="CSV of graded query-product pairs (quoted fields may span lines).")
@click.option("--query-col", required=True, help="Column of the query.")
@click.option("--title-col", required=True, help="Column of the product title.")
@click.option("--text-col", default=None, help="Column of the product description (HTML is stripped).")
@click.option("--grade-col", required=True, help="Column of the grade (a number; a mean of raters is fine).")
@click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of the CSV, e.g. latin-1.")
@click.option("--split-by-query", "test_share", type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
              default=0.2, show_default=True, help="Share of the queries held out for testing.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the split and the training.")
@click.option("--teacher", type=click.Choice(["none", "cross-encoder"]), default="none", show_default=True,
              help="Also distil a cross-encoder teacher trained on the training part into the student.")
@click.option("--distill-factor", type=click.IntRange(min=1), default=10, show_default=True,
              help="With --teacher: the teacher labels this many times as many pairs as the training part has.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def eval_relevance(labels_path, query_col, title_col, text_col, grade_col, encoding, test_share, seed, teacher,
                   distill_factor, fmt) -> None:
    """Accuracy, quadratic-weighted kappa, AUROC at each threshold and nDCG@20 of the bm25, heuristic and
    student scorers (and the teacher) on held-out queries of a labelled CSV."""
    from pathlib import Path

    from sitegen.cli.main import _progress
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
