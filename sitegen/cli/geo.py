"""``sitegen eval geo``: the offline GEO visibility check (attached to the ``eval`` group by
``sitegen/cli/main.py``)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click

from sitegen.cli.main import CONFIG_OPTION, SET_OPTION, _load, _progress


@click.command(name="geo")
@CONFIG_OPTION
@SET_OPTION
@click.option("--dataset", default=None, type=click.Path(file_okay=False),
              help="Build and check a seeded subset of the fashion catalog in this folder instead of the site.")
@click.option("-n", "--items", "n_items", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="With --dataset: size of the subset.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the held-out queries (the simulator's hidden demand) and, with --dataset, the subset.")
@click.option("--queries", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Held-out queries: intents drawn from the catalog's attribute combinations, one query each.")
@click.option("--min-support", type=click.IntRange(min=1), default=2, show_default=True,
              help="Catalog items an attribute combination needs to be a query.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def eval_geo(config_path, overrides, dataset, n_items, seed, queries, min_support, fmt) -> None:
    """Position-adjusted word count share (the GEO paper's PAWC) of the site's collection pages vs a plain
    category-listing baseline of the same items, in extractive answers to held-out queries from a local answer
    engine (the simulator's BM25 + dense retrieval over passages of the built pages)."""
    from sitegen.engines.embed import Embedder
    from sitegen.learn.geo.evaluate import evaluate_geo, format_geo
    from sitegen.store.db import Store

    parent = click.get_current_context().parent
    work = Path((parent.params.get("work_dir") if parent else None) or Path(".sitegen") / "eval").resolve()
    cfg = _load(config_path, overrides) if Path(config_path).exists() or overrides or dataset is None else None
    with _progress(enabled=True) as factory:
        if dataset is not None:
            from sitegen.learn.evaluate import fashion_config
            from sitegen.pipeline.build import build_site

            if not (Path(dataset) / "catalog.csv").is_file():
                raise click.ClickException(f"--dataset: {dataset}/catalog.csv not found")
            cfg, _truth, _usages = fashion_config(Path(dataset), n_items=n_items, seed=seed, cfg=cfg, work_dir=work)
            site_dir = work / f"site-{n_items}-seed{seed}"  # beside its store: one site per subset
            cfg = replace(cfg, build=replace(cfg.build, output=str(site_dir)))
            items = build_site(cfg, check=False, progress=factory).site.items
        else:
            from sitegen.pipeline.gather import gather_site

            if not cfg.output_dir.is_dir():
                raise click.ClickException(f"{cfg.output_dir} does not exist: run `sitegen build` first")
            with Store(cfg.store_path) as store:
                items = gather_site(cfg, store).site.items
        cache_path = work / "geo" / "embeddings.duckdb"
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        with Store(cache_path) as cache:
            embedder = Embedder.from_config(cfg.embed, store=cache)
            report = evaluate_geo(cfg.output_dir, items, embedder.encode, queries=queries, seed=seed,
                                  min_support=min_support, progress=factory)
    report["settings"] = {"site": str(cfg.output_dir), "dataset": str(Path(dataset).resolve()) if dataset else "",
                          "items": len(items), "seed": seed, "queries": queries, "min_support": min_support}
    click.echo(json.dumps(report, indent=2, ensure_ascii=False) if fmt == "json" else format_geo(report))
