"""``sitegen train image`` (the catalog image encoder, saved beside the store) and ``sitegen eval images``
(collections of items whose text is hidden, text only vs the image encoder)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import click

from sitegen.cli.main import CONFIG_OPTION, SET_OPTION, _default_dataset, _load, _progress, eval_, train


def _settings(epochs, batch_size, lr, seed, item_weight, patience):
    """The encoder's settings: the defaults, with the options given."""
    from sitegen.engines.image import EncoderSettings

    given = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "patience": patience}
    for key, value in given.items():
        if value is not None and value <= 0:
            raise click.BadParameter(f"must be > 0 (got {value})", param_hint=f"--{key.replace('_', '-')}")
    given.update(seed=seed, item_weight=item_weight)
    return replace(EncoderSettings(), **{k: v for k, v in given.items() if v is not None})


def training_options(fn):
    for opt in reversed([
        click.option("--epochs", type=int, default=None, help="At most this many passes (default 30; early "
                     "stopping on the held-out pairs usually ends sooner)."),
        click.option("--batch-size", type=int, default=None, help="Images per step (default 128)."),
        click.option("--lr", type=float, default=None, help="Peak learning rate (default 3e-3, one-cycle)."),
        click.option("--item-weight", type=click.FloatRange(0.0), default=None,
                     help="Weight of the item-item loss (default 0.5; 0 = image-text loss only)."),
        click.option("--patience", type=int, default=None, help="Epochs without a better held-out loss before "
                     "stopping (default 3)."),
        click.option("--seed", type=int, default=None, help="Seed of the split and the training (default 0)."),
    ]):
        fn = opt(fn)
    return fn


@train.command(name="image")
@CONFIG_OPTION
@SET_OPTION
@training_options
@click.option("--force", is_flag=True, help="Train again even when the saved encoder is current.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def train_image(config_path, overrides, epochs, batch_size, lr, item_weight, patience, seed, force, quiet) -> None:
    """Train the catalog image encoder (embed.image_encoder = "catalog"): a small CNN from scratch on the
    catalog's own image-text pairs, aligned with the frozen text embeddings; saved beside the store."""
    from sitegen.core.text import item_text
    from sitegen.engines.embed import Embedder
    from sitegen.engines.image import catalog_model_dir
    from sitegen.learn.image_train import fingerprint, saved_fingerprint, train_catalog_encoder, training_items
    from sitegen.pipeline.gather import gather_site
    from sitegen.store.db import Store

    cfg = _load(config_path, overrides)
    settings = _settings(epochs, batch_size, lr, seed, item_weight, patience)
    out = catalog_model_dir(cfg)
    started = time.perf_counter()
    with Store(cfg.store_path) as store, _progress(enabled=not quiet) as factory:
        items = gather_site(cfg, store, progress=factory).site.items
        e = cfg.embed
        embedder = Embedder.from_config(e, store=store)
        chosen = training_items(items)
        if len(chosen) < 4:
            raise click.ClickException(f"the image encoder needs at least 4 items with text and an image "
                                       f"(the catalog has {len(chosen)})")
        want = fingerprint(chosen, [item_text(i) for i in chosen], embedder.model_id, settings)
        if not force and saved_fingerprint(out) == want:
            click.echo(f"{out}: the saved encoder is current ({want}); --force trains it again")
            return
        result = train_catalog_encoder(items, embedder.encode, out, text_model_id=embedder.model_id,
                                       settings=settings, progress=factory)
    click.echo(f"trained on {result.pairs} image-text pairs ({result.held_out} held out), "
               f"{len(items) - len(chosen)} items without text or with a repeated image left out")
    click.echo(f"held-out image->text loss {result.initial_loss:.4f} -> {result.best_loss:.4f} "
               f"(best epoch {result.best_epoch} of {result.epochs}{', stopped early' if result.stopped_early else ''}"
               f"); held-out top-1 {result.held_out_top1:.3f}; temperature {result.temperature:.4f}")
    click.echo(f"{result.steps} steps, {time.perf_counter() - started:.0f}s; saved: {out} ({result.fingerprint})")
    if cfg.embed.image_encoder != "catalog":
        click.echo('use it with: embed.image_encoder = "catalog"')


@eval_.command(name="images")
@CONFIG_OPTION
@SET_OPTION
@click.option("--dataset", default=None, type=click.Path(file_okay=False),
              help="Folder with catalog.csv and images/ (default ../shared/datasets/fashion-44k).")
@click.option("-n", "--items", "n_items", type=click.IntRange(min=10), default=10_000, show_default=True,
              help="Size of the seeded subset of the catalog.")
@click.option("--hidden", "share", type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True), default=0.2,
              show_default=True, help="Share of the items whose text is hidden.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--work-dir", default=None, type=click.Path(file_okay=False),
              help="Where the evaluation keeps its stores and the encoder (default .sitegen/eval).")
@click.option("--retrain", is_flag=True, help="Train the encoder again even when the saved one is current.")
@click.option("--epochs", type=int, default=None, help="The encoder's epochs at most (default 30).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def eval_images(config_path, overrides, dataset, n_items, share, seed, work_dir, retrain, epochs, fmt) -> None:
    """Hide the text of a share of the fashion catalog's items (title IMG_<id>, attributes empty, image kept),
    build text only and with the catalog image encoder, and report the hidden items' collection precision
    (against their true attributes) and coverage."""
    from sitegen.learn.image_eval import evaluate_images, format_report

    cfg = _load(config_path, overrides) if Path(config_path).exists() or overrides else None
    dataset_dir = Path(dataset or _default_dataset())
    if not (dataset_dir / "catalog.csv").is_file():
        raise click.ClickException(f"{dataset_dir}/catalog.csv not found: pass --dataset FOLDER")
    settings = _settings(epochs, None, None, None, None, None)
    work = Path(work_dir) if work_dir else Path(".sitegen") / "eval"
    with _progress(enabled=True) as factory:
        report = evaluate_images(dataset_dir, n_items=n_items, seed=seed, share=share, cfg=cfg, work_dir=work,
                                 settings=settings, retrain=retrain, progress=factory)
    click.echo(json.dumps(report, indent=2, default=str) if fmt == "json" else format_report(report))
