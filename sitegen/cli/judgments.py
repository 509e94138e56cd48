"""``sitegen judgments``: the relevance grades in the store: ``show`` (counts per source and rater, the
raters' agreement), ``export`` and ``import`` (CSV, columns ``topic,item_id,grade,source,rater,at``)."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Iterator

import click

from sitegen.cli.main import CONFIG_OPTION, SET_OPTION, _load, main


@contextmanager
def _store(cfg) -> Iterator:
    from sitegen.store.db import Store

    if not cfg.store_path.is_file():
        raise click.ClickException(f"no store at {cfg.store_path} (a build creates it)")
    with Store(cfg.store_path, brief=True) as store:
        yield store


@main.group(name="judgments")
def judgments() -> None:
    """Relevance grades (topic, item, 1-5) from every judge: `show`, `export`, `import`."""


@judgments.command(name="show")
@CONFIG_OPTION
@SET_OPTION
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def show(config_path, overrides, fmt) -> None:
    """Grades per source and rater, and the agreement between raters (quadratic-weighted kappa over the
    pairs both graded)."""
    from sitegen.learn.relevance.agreement import judgment_summary

    cfg = _load(config_path, overrides)
    with _store(cfg) as store:
        summary = judgment_summary(store.judgments.all())
    if fmt == "json":
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    click.echo(format_summary(summary))


def format_summary(summary: dict) -> str:
    if not summary["total"]:
        return "no judgments yet: grade pairs at /_review/ (sitegen serve) or `sitegen judgments import FILE.csv`"
    rows = [("source", "rater", "grades", "pairs")]
    for s in summary["sources"]:
        for n, r in enumerate(s["raters"]):
            rows.append((s["source"] if n == 0 else "", r["rater"] or "-", str(r["grades"]),
                         str(s["pairs"]) if n == 0 else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [f"{summary['total']} grades"]
    for r in rows:
        lines.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    for source, a in summary["agreement"].items():
        lines.append("")
        lines.append(f"agreement of the {source} raters (quadratic-weighted kappa over the pairs both graded):")
        if not a["pairs"]:
            lines.append("  no pair graded by two of them yet")
        for p in a["pairs"]:
            kappa = "undefined" if p["qwk"] is None else f"{p['qwk']:.3f}"
            lines.append(f"  {p['raters'][0]} / {p['raters'][1]}: {p['n']} pairs, kappa {kappa}, "
                         f"same grade {p['exact']:.0%}")
        if a["mean_qwk"] is not None:
            lines.append(f"  mean kappa {a['mean_qwk']:.3f}")
    return "\n".join(lines)


@judgments.command(name="export")
@CONFIG_OPTION
@SET_OPTION
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Only this judge's grades (human, catalog, llm, cross-encoder ...; repeatable). Default: all.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to FILE instead of standard output.")
def export(config_path, overrides, sources, output) -> None:
    """Write grades as CSV: topic,item_id,grade,source,rater,at."""
    from sitegen.learn.relevance.csvio import write_csv

    cfg = _load(config_path, overrides)
    with _store(cfg) as store:
        rows = store.judgments.all(list(sources) if sources else None)
    if output is None:
        write_csv(rows, sys.stdout)
        return
    with open(output, "w", newline="", encoding="utf-8") as f:
        n = write_csv(rows, f)
    click.echo(f"wrote {n} grades to {output}", err=True)


@judgments.command(name="import")
@CONFIG_OPTION
@SET_OPTION
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", default=None, metavar="NAME",
              help="Source of every row (replaces the file's source column; default: the column, else human).")
@click.option("--rater", default=None, metavar="NAME", help="Rater of every row (replaces the file's rater column).")
@click.option("--encoding", default="utf-8-sig", show_default=True, help="The file's text encoding.")
def import_(config_path, overrides, file, source, rater, encoding) -> None:
    """Read grades from a CSV (topic,item_id,grade[,source,rater,at]); every bad row is reported with its line
    number and the rest imported; the exit status is 1 when a row was rejected. Importing a file again changes
    nothing."""
    from sitegen.learn.relevance.csvio import read_csv

    cfg = _load(config_path, overrides)
    with _store(cfg) as store:
        known = {row.id for row in store.items.all()}
        if not known:
            raise click.ClickException(f"the store {cfg.store_path} has no items: run `sitegen build` first")
        result = read_csv(file, known, source=source, rater=rater, existing=store.judgments.all(),
                          encoding=encoding)
        with store.transaction():
            store.judgments.add(result.judgments)
    for err in result.errors:
        click.echo(f"{file}:{err.line}: {err.message}", err=True)
    note = f" ({result.repeated} repeated a pair and rater: the last row kept)" if result.repeated else ""
    click.echo(f"imported {len(result.judgments)} grades from {result.rows} rows{note}; "
               f"{len(result.errors)} rows rejected")
    if result.errors:
        sys.exit(1)
