"""``sitegen train two-tower`` and ``sitegen eval annotations`` (attached by ``sitegen/cli/main.py``)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from sitegen.cli.main import CONFIG_OPTION, SET_OPTION, _load, _progress, train


def _steps(quiet: bool):
    """A line on standard error every tenth of the training steps."""
    if quiet:
        return None
    started: list[float] = []

    def report(step: int, total: int, loss: float) -> None:
        if not started:
            started.append(time.perf_counter())
        if step == 1 or step == total or step % max(total // 10, 1) == 0:
            click.echo(f"step {step}/{total}  loss {loss:.4f}  ({time.perf_counter() - started[0]:.0f}s)", err=True)
    return report


@train.command(name="two-tower")
@CONFIG_OPTION
@SET_OPTION
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Folder of the trained model (two_tower.model).")
@click.option("-q", "--quiet", is_flag=True, help="No progress.")
def train_two_tower(config_path, overrides, out_dir, quiet) -> None:
    """Train the VASE two-tower annotation ranker on the site's pairs (collection memberships, human grades,
    Search Console clicks; hard and random negatives) and save it; the `two_tower` annotator
    (link.annotator = "two_tower") uses it from the next build."""
    from sitegen.learn.twotower.evaluate import train_site
    from sitegen.store.db import Store

    cfg = _load(config_path, overrides, {"two_tower.model": out_dir})
    with Store(cfg.store_path) as store, _progress(enabled=cfg.build.progress and not quiet) as factory:
        result, metrics, folder, pairs = train_site(cfg, store, progress=factory, step_progress=_steps(quiet))
    if not result.examples:
        raise click.ClickException("no training pairs: the site has no collections with members")
    losses = result.losses
    click.echo(f"pairs: {result.examples} training positives ({', '.join(f'{k} {v}' for k, v in sorted(pairs.sources.items()))}); "
               f"{len(pairs.corpus.texts)} queries, {pairs.corpus.targets} link targets")
    click.echo(f"loss {losses[0]:.4f} -> {losses[-1]:.4f} over {len(losses)} epochs, {result.steps} steps, "
               f"{result.seconds:.1f}s on {result.device} ({result.threads} threads); threshold "
               f"{result.model.threshold}")
    if metrics.get("correct_rank") is not None:
        click.echo(f"held-out ({metrics['heldout_pairs']} pairs of {int(pairs.heldout_items.sum())} items): "
                   f"correct rank {metrics['correct_rank']:.3f}, recall@5 {metrics['recall@5']}")
    click.echo(f"saved: {folder} ({result.model.fingerprint})")
    if cfg.link.annotator != "two_tower":
        click.echo('use it with: link.annotator = "two_tower"')


@click.command(name="annotations")
@CONFIG_OPTION
@SET_OPTION
@click.option("--dataset", default=None, type=click.Path(file_okay=False),
              help="Evaluate a seeded subset of the fashion catalog in this folder (its columns judge precision) "
              "instead of the site.")
@click.option("-n", "--items", "n_items", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="With --dataset: size of the subset.")
@click.option("--seed", type=int, default=0, show_default=True, help="With --dataset: seed of the subset.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def eval_annotations(config_path, overrides, dataset, n_items, seed, fmt) -> None:
    """`similarity` vs `two_tower` on held-out items (two_tower.holdout): correct rank, recall@5, annotation
    precision (fashion columns with --dataset, else the catalog judge) and the query mix. The two-tower is
    trained on the other items in this run (not saved)."""
    from sitegen.learn.twotower.evaluate import evaluate_annotations, format_report
    from sitegen.store.db import Store

    cfg = _load(config_path, overrides) if Path(config_path).exists() or overrides else None
    truth = None
    if dataset is not None:
        from sitegen.learn.evaluate import fashion_config

        if not (Path(dataset) / "catalog.csv").is_file():
            raise click.ClickException(f"--dataset: {dataset}/catalog.csv not found")
        parent = click.get_current_context().parent
        work = Path((parent.params.get("work_dir") if parent else None) or Path(".sitegen") / "eval").resolve()
        cfg, truth, _usages = fashion_config(Path(dataset), n_items=n_items, seed=seed, cfg=cfg, work_dir=work)
    elif cfg is None:
        raise click.ClickException(f"{config_path}: not found (pass --dataset DIR or -c site.toml)")
    if cfg.two_tower.holdout <= 0:
        raise click.ClickException("two_tower.holdout: must be > 0 to hold items out for the evaluation")
    with Store(cfg.store_path) as store, _progress(enabled=fmt == "table") as factory:
        report = evaluate_annotations(cfg, store, truth=truth, progress=factory,
                                      step_progress=_steps(fmt == "json"))
    click.echo(json.dumps(report, indent=2) if fmt == "json" else format_report(report))
