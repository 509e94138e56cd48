"""``sitegen trends run``: one run of the trend-mining agent over ``trends.source`` (or ``--source DIR``), printing
each trend with its lifecycle stage, the decision and its reason; proposals then wait for approval in the
review app (``/_review/trends`` in ``sitegen serve``) unless ``trends.auto_approve``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sitegen.cli.main import CONFIG_OPTION, SET_OPTION, _load, _progress, main


@main.group(name="trends")
def trends() -> None:
    """The trend-mining agent (Google Trends files -> proposed topic pages): `run`."""


@trends.command(name="run")
@CONFIG_OPTION
@SET_OPTION
@click.option("--source", type=click.Path(file_okay=False, exists=True), default=None,
              help="A folder of Google Trends files (default: trends.source).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def run(config_path, overrides, source, fmt, quiet) -> None:
    """Run the agent once: each trend's stage, decision (propose, refresh, expire, reject) and reason."""
    from sitegen.demand.trends.agent import run_agent
    from sitegen.store.db import Store

    cfg = _load(config_path, overrides, {"trends.source": str(Path(source).resolve()) if source else None})
    if not cfg.trends.source:
        raise click.ClickException("no trends folder: set [trends] source in site.toml or pass --source DIR")
    with Store(cfg.store_path) as store, _progress(cfg.build.progress and not quiet) as factory:
        result = run_agent(cfg, store, progress=factory)
    rows = [{"trend": d.trend, "source": d.source, "stage": d.stage, "decision": d.decision, "reason": d.reason,
             "topics": list(d.topics)} for d in result.decisions]
    if fmt == "json":
        click.echo(json.dumps({"trends": rows}, indent=2, ensure_ascii=False))
        return
    click.echo(format_table(rows))
    counts = {k: sum(1 for r in rows if r["decision"] == k) for k in ("propose", "refresh", "expire", "reject")}
    line = (f"{len(rows)} trends: {counts['propose']} proposed, {counts['refresh']} refreshed, "
            f"{counts['expire']} expired, {counts['reject']} rejected")
    if result.pending:
        line += (f"; {len(result.pending)} proposal(s) wait for approval at "
                 f"http://{cfg.serve.host}:{cfg.serve.port}/_review/trends (sitegen serve)")
    elif counts["propose"] and cfg.trends.auto_approve:
        line += "; approved (trends.auto_approve): the next build publishes them"
    click.echo(line)


def format_table(rows: list[dict]) -> str:
    if not rows:
        return "no trends in the source folder"
    head = ("decision", "stage", "trend", "source", "reason / topics")
    lines = [head]
    for r in rows:
        detail = r["reason"] + (f" -> {', '.join(r['topics'])}" if r["topics"] else "")
        lines.append((r["decision"], r["stage"], r["trend"], r["source"], detail))
    widths = [min(28, max(len(row[i]) for row in lines)) for i in range(4)]
    out = []
    for row in lines:
        cells = [row[i][:widths[i]].ljust(widths[i]) for i in range(4)]
        out.append("  ".join([*cells, row[4]]).rstrip())
    return "\n".join(out)
