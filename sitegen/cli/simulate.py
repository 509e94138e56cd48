"""``sitegen simulate``: the closed-loop simulator (attached to ``main`` by ``sitegen/cli/main.py``)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from sitegen.cli.main import CONFIG_OPTION, SET_OPTION, _load, _progress, main


def _iso_date(ctx, param, value):
    try:
        date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO date (YYYY-MM-DD): {value!r}") from None
    return value


@main.command()
@CONFIG_OPTION
@SET_OPTION
@click.option("--rounds", type=click.IntRange(min=1), default=8, show_default=True,
              help="Rounds (simulated weeks): build, simulate a week, import its export.")
@click.option("--no-feedback", is_flag=True,
              help="Never import the exports; trends, reward steering and lifecycle retirement off.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the hidden demand, the clicks and (with --dataset) the subset.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--dataset", default=None, type=click.Path(file_okay=False),
              help="Simulate a seeded subset of the fashion catalog in this folder instead of the site.")
@click.option("-n", "--items", "n_items", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="With --dataset: size of the subset.")
@click.option("--work-dir", default=".sitegen/simulate", show_default=True, type=click.Path(file_okay=False),
              help="Where the arms' sites, stores, exports, results and the curve are written.")
@click.option("--page-budget", type=click.IntRange(min=0), default=None,
              help="Collections the site may publish (collect.max_collections; 0 = no cap).")
@click.option("--start", default="2018-06-04", show_default=True, callback=_iso_date,
              help="First day of the first simulated week.")
@click.option("--searches", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Searches a week over all intents (before seasonality).")
@click.option("--intents", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Hidden intents drawn from the catalog's attribute combinations.")
@click.option("--zipf", type=click.FloatRange(min=0.0), default=1.0, show_default=True,
              help="Exponent of the Zipf law of intent volumes.")
@click.option("--min-support", type=click.IntRange(min=1), default=2, show_default=True,
              help="Catalog items an attribute combination needs to be an intent.")
@click.option("--seasons", default=None,
              help="Folder of Google Trends files for seasonality, or 'none' (flat). Default: trends.source, "
              "else the google-trends folder beside --dataset.")
@click.option("--season-threshold", type=click.FloatRange(0.0, 1.0), default=0.7, show_default=True,
              help="Least embedding cosine of a series' term and an intent for the series to season it.")
@click.option("--trends", "trends_dir", default=None,
              help="With feedback: the trend agent's folder, or 'none'. Default: trends.source, else --seasons.")
@click.option("--competitors", type=click.IntRange(min=0), default=10, show_default=True,
              help="Other sites' results competing for each query's first results page (0 = the site alone).")
@click.option("--export-rows", type=click.Choice(["day", "week"]), default="day", show_default=True,
              help="Search Console rows per day (as the API writes them) or one per week.")
@click.option("--ga4", is_flag=True, help="Also write (and import) a GA4 landing-page export each week.")
def simulate(config_path, overrides, rounds, no_feedback, seed, fmt, dataset, n_items, work_dir, page_budget, start,
             searches, intents, zipf, min_support, seasons, season_threshold, trends_dir, competitors, export_rows,
             ga4) -> None:
    """Measure the demand loop offline: a search engine over the built HTML, searchers with hidden demand
    (the catalog's attribute combinations, Zipf volumes, Google Trends seasonality) and their clicks, written
    as Search Console exports that the next build imports."""
    from sitegen.learn.simulate.curve import comparable_arms, write_curve
    from sitegen.learn.simulate.loop import SimulationSettings, run_simulation

    work = Path(work_dir)
    cfg = _load(config_path, overrides) if Path(config_path).exists() or overrides or dataset is None else None
    if dataset is not None:
        from sitegen.learn.evaluate import fashion_config

        if not (Path(dataset) / "catalog.csv").is_file():
            raise click.ClickException(f"--dataset: {dataset}/catalog.csv not found")
        cfg, _truth, _usages = fashion_config(Path(dataset), n_items=n_items, seed=seed, cfg=cfg, work_dir=work)
    season_dir = _folder("--seasons", seasons, cfg.path(cfg.trends.source) if cfg.trends.source else
                         (Path(dataset).resolve().parent / "google-trends" if dataset else None))
    trend_dir = _folder("--trends", trends_dir, cfg.path(cfg.trends.source) if cfg.trends.source else season_dir)
    settings = SimulationSettings(rounds=rounds, feedback=not no_feedback, seed=seed, start=start, searches=searches,
                                  intents=intents, zipf=zipf, min_support=min_support,
                                  seasons=str(season_dir or ""), season_threshold=season_threshold,
                                  trends=str(trend_dir or ""), competitors=competitors, page_budget=page_budget,
                                  export_rows=export_rows,
                                  ga4=ga4, dataset=str(Path(dataset).resolve()) if dataset else "",
                                  items=n_items if dataset else 0)
    with _progress(enabled=cfg.build.progress) as factory:
        out = run_simulation(cfg, settings, work, progress=factory)
    curve = write_curve(work, settings.arm)
    if fmt == "json":
        click.echo(json.dumps(out, indent=2))
    else:
        click.echo(format_rounds(out, comparable_arms(work, settings.arm)))
    if curve is not None:
        click.echo(f"curve: {curve}", err=fmt == "json")


def _folder(option: str, value: str | None, default: Path | None) -> Path | None:
    if value is not None:
        if value.lower() == "none":
            return None
        if not Path(value).is_dir():
            raise click.ClickException(f"{option}: {value}: not a folder")
        return Path(value).resolve()
    return default if default is not None and default.is_dir() else None


def format_rounds(out: dict, arms: dict[str, dict]) -> str:
    """The rounds as a table, and the last rounds of both arms side by side when both were run."""
    head = ("round", "week", "searches", "impressions", "clicks", "ctr", "pages", "collections", "seconds")
    rows = [head]
    for r in out["rounds"]:
        rows.append((str(r["round"]), r.get("week", ""), f"{r.get('searches', 0):,}", f"{r['impressions']:,}",
                     f"{r['clicks']:,}", f"{r.get('ctr', 0.0):.4f}", str(r["pages"]), str(r.get("collections", "")),
                     f"{sum(r.get('seconds', {}).values()):.1f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [f"feedback: {'on' if out['feedback'] else 'off'}"]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows]
    if len(arms) == 2 and all(a["rounds"] for a in arms.values()):
        fb, nf = arms["feedback"]["rounds"][-1]["clicks"], arms["no-feedback"]["rounds"][-1]["clicks"]
        ratio = f"{fb / nf:.3f}x" if nf else "n/a"
        lines.append(f"last round clicks: feedback {fb:,}, no-feedback {nf:,} ({ratio})")
    return "\n".join(lines)
