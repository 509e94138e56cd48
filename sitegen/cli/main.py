"""The ``sitegen`` command line. The only place that prints and exits; everything heavy is imported lazily
so ``sitegen --help`` is instant."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click

from sitegen.core.config import Config, load_config, parse_override

CONFIG_OPTION = click.option("-c", "--config", "config_path", default="site.toml", show_default=True,
                             type=click.Path(dir_okay=False), help="The site's configuration file.")
SET_OPTION = click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                          help="Override a site.toml setting, e.g. --set index.backend=annoy (repeatable).")


def _load(config_path: str, overrides: tuple[str, ...], extra: dict | None = None, strict: bool = False) -> Config:
    values = dict(parse_override(o) for o in overrides)
    values.update({k: v for k, v in (extra or {}).items() if v is not None})
    cfg = load_config(config_path, values, strict=strict)
    for warning in cfg.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    return cfg


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sitegen")
def main() -> None:
    """sitegen: publish search landing pages (collections of images for what people search for) from an
    image catalog, as a static site that search engines and generative engines can find, read and cite."""


# -- build -------------------------------------------------------------------------------------------------

@main.command()
@CONFIG_OPTION
@SET_OPTION
@click.option("--strict", is_flag=True, help="Fail on any rejected row, config warning or audit error.")
@click.option("-o", "--output", default=None, help="Output folder (build.output).")
@click.option("--base-url", default=None, help="Absolute URL the site is published at (site.base_url).")
@click.option("--no-check", is_flag=True, help="Skip the audit and review report at the end.")
@click.option("--force", is_flag=True, help="Write every page again even when nothing changed.")
@click.option("--no-cache", is_flag=True,
              help="Compute every stage again, reading no cached result (embeddings, GEO results, colours, "
                   "thumbnails, pages); pinned slugs and lastmod are kept. Implies --force.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars; print only the summary.")
def build(config_path, overrides, strict, output, base_url, no_check, force, no_cache, quiet) -> None:
    """Build the site into build/ (atomically: a failed build leaves the previous site untouched)."""
    cfg = _load(config_path, overrides, {"build.output": output, "site.base_url": base_url}, strict=strict)
    result = _build(cfg, strict=strict, check=False if no_check else None, quiet=quiet, force=force,
                    no_cache=no_cache)
    _print_summary(result, cfg)


def _build(cfg: Config, *, strict: bool, check: bool | None, quiet: bool, force: bool = False,
           no_cache: bool = False):
    from sitegen.pipeline.build import build_site

    with _progress(enabled=cfg.build.progress and not quiet) as factory:
        return build_site(cfg, strict=strict, progress=factory, check=check, force=force, no_cache=no_cache)


@contextmanager
def _progress(enabled: bool) -> Iterator:
    """Progress bars on standard error (standard output stays a command's table or JSON)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda name: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description:<11}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, int] = {}

        def factory(name: str):
            def update(done: int, total: int) -> None:
                if name not in tasks:
                    tasks[name] = bar.add_task(name, total=total or None)
                bar.update(tasks[name], completed=done, total=total or None)
            return update

        yield factory


def _print_summary(result, cfg: Config) -> None:
    from rich.console import Console
    from rich.table import Table

    from sitegen.audit.report import report_dir
    from sitegen.core import urls

    s = result.summary
    console = Console(stderr=False, highlight=False)
    rejected = sum(s.rejected_by_reason.values())
    console.print(f"[bold]Built[/bold] {result.output_dir}  (build #{result.run_id})")
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(s.rejected_by_reason.items()))
    console.print(f"items: {s.items_read} read, {s.items_accepted} published, {rejected} rejected"
                  + (f" ({reasons})" if reasons else ""))
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(s.pages_by_kind.items()))
    if s.counters.get("output_unchanged"):
        console.print("output: nothing changed since the last build; build/ left as it is (--force rewrites it)")
    console.print(f"pages: {sum(s.pages_by_kind.values())} ({kinds}); written {s.pages_written}, "
                  f"unchanged {s.pages_unchanged}, removed {len(s.pages_removed)}")
    c = s.counters
    if c.get("geo_reused"):
        console.print(f"collections: {c.get('collections', 0)}; items, settings and models unchanged: queries, "
                      "collections and links reused from the store (texts embedded 0, index not rebuilt)")
    elif "collections" in c:
        console.print(f"collections: {c['collections']}; texts embedded {c.get('texts_embedded', 0)}, "
                      f"cached {c.get('texts_cached', 0)}; index {c.get('index_backend')} "
                      f"{'rebuilt' if c.get('index_rebuilt') else 'reused'}")
    if "images_encoded" in c and not c.get("geo_reused"):
        trained = f"encoder trained ({c['image_encoder_trained']} steps); " if c.get("image_encoder_trained") else ""
        console.print(f"images ({cfg.embed.image_encoder}): {trained}encoded {c['images_encoded']}, cached "
                      f"{c.get('images_cached', 0)}; {c.get('items_weak_text', 0)} items with weak text placed by "
                      "their images")
    lr = result.link_report or {}
    if lr.get("pagerank_after"):
        def dist(d: dict) -> str:
            return f"min {d['min']:.2e} median {d['median']:.2e} max {d['max']:.2e} gini {d['gini']:.3f}"

        console.print(f"pagerank before shaping: {dist(lr['pagerank_before'])}")
        added = lr.get("links_added") or {}
        added_text = ", ".join(f"{v} {k}" for k, v in sorted(added.items())) if isinstance(added, dict) else added
        console.print(f"pagerank after shaping:  {dist(lr['pagerank_after'])}; links added: {added_text or 0}; "
                      f"{len(lr.get('orphans', []))} orphans, max depth {lr.get('max_depth')}")
    if c.get("generator") == "vlm" and not c.get("geo_reused"):
        console.print(f"vlm: {c.get('generator_generated', 0)} generated, {c.get('generator_cached', 0)} cached, "
                      f"{c.get('generator_fallback', 0)} fell back to retrieval")
    if "audit_errors" in c:
        console.print(f"audit: {c['audit_errors']} error(s), {c['audit_warnings']} warning(s); "
                      f"report: {report_dir(cfg) / 'index.html'} (sitegen report opens it)")
    if c.get("collect_aliases") or c.get("collect_refiled"):
        console.print(f"quality gates: {c.get('collect_aliases', 0)} topics are alias lines on another collection's "
                      f"page, {c.get('collect_refiled', 0)} collections filed under their items' majority category")
    if c.get("reward_pages") or c.get("reward_queries") or c.get("signals_rows"):
        imported = f"{c['signals_used']} of {c['signals_rows']} signal rows imported; " if "signals_rows" in c else ""
        console.print(f"demand: {imported}rewards for {c.get('reward_pages', 0)} pages and "
                      f"{c.get('reward_queries', 0)} queries (average {c.get('reward_average', 0):.4f}); "
                      f"{c.get('console_topics', 0)} console topics")
    if "trends_read" in c:
        console.print(f"trends: {c['trends_read']} read, {c.get('trends_proposed', 0)} proposed "
                      f"({c.get('trends_pending', 0)} waiting for approval in /_review/trends), "
                      f"{c.get('trends_rejected', 0)} rejected, {c.get('trend_topics', 0)} approved topics, "
                      f"{c.get('trends_expired', 0)} expired")
    if any(c.get(f"lifecycle_{k}") for k in ("created", "refreshed", "retired", "reaimed", "retired_total")):
        console.print(f"lifecycle: {c.get('lifecycle_created', 0)} pages created, {c.get('lifecycle_refreshed', 0)} "
                      f"refreshed, {c.get('lifecycle_retired', 0)} retired ({c.get('lifecycle_retired_total', 0)} "
                      f"retired URLs redirected or gone: {', '.join(cfg.lifecycle.redirects) or 'no redirect files'})")
    now_alias = {urls.collection_url(a.slug): f"{urls.collection_url(col.slug)}#{a.anchor}"
                 for col in (result.site.collections if result.site else ()) for a in col.aliases}
    retired = {r.path: r for r in getattr(result, "retired", ())}
    for removed in s.pages_removed[:20]:
        line = f" (now a line on {now_alias[removed]})" if removed in now_alias else ""
        if removed in retired:
            r = retired[removed]
            line += f" (retired, {r.reason}: {f'301 to {r.target}' if r.status == 301 else '410 gone'})"
        console.print(f"[yellow]removed page:[/yellow] {removed}{line}")
    table = Table(title="time per stage", show_edge=False, pad_edge=False)
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    for st in s.stages:
        table.add_row(st.name, f"{st.seconds:.2f}")
    table.add_row("[bold]total[/bold]", f"[bold]{sum(st.seconds for st in s.stages):.2f}[/bold]")
    console.print(table)
    for w in s.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")


# -- serve -------------------------------------------------------------------------------------------------

@main.command()
@CONFIG_OPTION
@SET_OPTION
@click.option("--host", default=None, help="Interface to listen on (serve.host; default 127.0.0.1).")
@click.option("-p", "--port", type=int, default=None, help="Port (serve.port; default 8000; 0 picks a free one).")
@click.option("--build", "build_first", is_flag=True, help="Build the site first.")
@click.option("--watch", is_flag=True,
              help="Build first, then rebuild when content, the catalog, templates or site.toml change, and reload "
                   "the open pages (the reload script is added by the preview server only, never to build/).")
def serve(config_path, overrides, host, port, build_first, watch) -> None:
    """Preview the built site in a browser (local only by default), with the review report at /_report/ and
    the review app (grade topic-item pairs) at /_review/."""
    from sitegen.audit.report import report_dir
    from sitegen.cli.serve import make_server

    extra = {"serve.host": host, "serve.port": port}
    cfg = _load(config_path, overrides, extra)
    root = cfg.output_dir
    if build_first or watch:
        try:
            _print_summary(_build(cfg, strict=False, check=None, quiet=False), cfg)
        except click.ClickException as exc:
            if not (watch and (root / "index.html").is_file()):
                raise
            click.secho(f"build failed: {_one_line(exc.format_message())}; serving the last good build", fg="red")
    if not (root / "index.html").is_file():
        raise click.ClickException(f"{root} has no index.html: run `sitegen build` first (or use --build)")
    live = None
    if watch:
        from sitegen.cli.live import LiveReload

        live = LiveReload(root)
    try:
        server = make_server(root, cfg.serve.host, cfg.serve.port, quiet=False, report_dir=report_dir(cfg),
                             cfg=cfg, live=live)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {cfg.serve.host}:{cfg.serve.port}: {exc.strerror}") from exc
    base = f"http://{cfg.serve.host}:{server.server_address[1]}"
    click.echo(f"Serving {root} at {base}/  (Ctrl+C to stop)\nreview report: {base}/_report/  "
               f"relevance review: {base}/_review/")
    try:
        if live is None:
            server.serve_forever()
        else:
            import threading

            threading.Thread(target=server.serve_forever, daemon=True).start()
            _watch(cfg, Path(config_path), overrides, extra, live)
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        if live is not None:
            server.shutdown()
        server.server_close()


def _one_line(message: str) -> str:
    """A message of several lines (a config error lists each problem) as one line."""
    out = ""
    for part in (p.strip(" -") for p in message.splitlines()):
        if part:
            out += (part if not out else (" " if out.endswith(":") else "; ") + part)
    return out


def _watch(cfg: Config, config_file: Path, overrides: tuple[str, ...], extra: dict, live) -> None:
    """Rebuild on every (debounced) change of the sources, one line each; a failed rebuild keeps the last
    good build served and its error shown on the open pages."""
    from sitegen.cli.watch import Watcher, describe, excluded_dirs, watched_roots

    root = cfg.output_dir
    watcher = Watcher(watched_roots(cfg, config_file), excluded_dirs(cfg))
    shown = ", ".join(_rel(p, cfg.root) for p in watcher.roots if p.exists())
    click.echo(f"watching {shown} for changes")
    while True:
        paths = watcher.wait()
        what = describe(paths, cfg.root)
        start = time.monotonic()
        error, result, new = None, None, cfg
        try:
            values = dict(parse_override(o) for o in overrides)
            values.update({k: v for k, v in extra.items() if v is not None})
            new = load_config(config_file, values)
            if new.output_dir != root:
                raise click.ClickException(f"build.output changed to {new.output_dir}: restart `sitegen serve` "
                                           "to serve it")
            result = _build(new, strict=False, check=None, quiet=True)
        except click.ClickException as exc:
            error = _one_line(exc.format_message())
        except Exception as exc:  # noqa: BLE001 - a preview keeps serving whatever a rebuild raised
            error = _one_line(f"{type(exc).__name__}: {exc}")
        took = f"{time.monotonic() - start:.1f} s"
        if error is not None:
            click.secho(f"rebuild failed after {took} ({what}): {error}; still serving the last good build",
                        fg="red")
            live.publish(error)
            continue
        s, c = result.summary, result.summary.counters
        audit = f", {c['audit_errors']} audit error(s)" if "audit_errors" in c else ""
        warned = f", {len(new.warnings)} config warning(s)" if new.warnings else ""
        click.echo(f"rebuilt in {took} ({what}): {sum(s.pages_by_kind.values())} pages, {s.pages_written} written"
                   f"{audit}{warned}")
        live.publish()
        watcher.roots, watcher.excluded = watched_roots(new, config_file), excluded_dirs(new)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root.resolve()).as_posix() or "."
    except ValueError:
        return str(path)


# -- report ------------------------------------------------------------------------------------------------

@main.command()
@CONFIG_OPTION
@SET_OPTION
@click.option("--print-path", is_flag=True, help="Print the report's path instead of opening it.")
def report(config_path, overrides, print_path) -> None:
    """Open the review report of the last build (kept beside the store, not in build/) in a browser."""
    from sitegen.audit.report import report_dir

    cfg = _load(config_path, overrides)
    page = report_dir(cfg) / "index.html"
    if not page.is_file():
        raise click.ClickException(f"no review report at {page}: run `sitegen build` first (without --no-check)")
    if print_path:
        click.echo(str(page))
        return
    import webbrowser

    if not webbrowser.open(page.resolve().as_uri()):
        raise click.ClickException(f"no browser could be started; the report is at {page}")
    click.echo(f"opened {page}")


# -- check -------------------------------------------------------------------------------------------------

@main.command()
@CONFIG_OPTION
@SET_OPTION
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--strict", is_flag=True, help="Exit with status 1 when there is any error.")
@click.option("-o", "--output", default=None, help="The built site to audit (build.output).")
def check(config_path, overrides, fmt, strict, output) -> None:
    """Audit a built site: links, sitemaps, titles, canonicals, JSON-LD, thin or duplicate collections."""
    from sitegen.audit.check import audit, format_table, to_json

    cfg = _load(config_path, overrides, {"build.output": output})
    if not cfg.output_dir.is_dir():
        raise click.ClickException(f"{cfg.output_dir} does not exist: run `sitegen build` first")
    findings = audit(cfg.output_dir, cfg, min_items=cfg.collect.min_items)
    click.echo(to_json(findings) if fmt == "json" else format_table(findings))
    errors = sum(1 for f in findings if f.severity == "error")
    if strict and errors:
        raise click.ClickException(f"{errors} error(s) found")


# -- evaluation --------------------------------------------------------------------------------------------

def _default_dataset() -> str:
    return str(Path.cwd().parent / "shared" / "datasets" / "fashion-44k")


@main.group(name="eval", invoke_without_command=True)
@CONFIG_OPTION
@SET_OPTION
@click.option("--dataset", default=None, type=click.Path(file_okay=False),
              help="Folder with catalog.csv and images/ (default ../shared/datasets/fashion-44k).")
@click.option("-n", "--items", "n_items", type=int, default=10_000, show_default=True,
              help="Size of the seeded subset of the catalog.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--work-dir", default=None, type=click.Path(file_okay=False),
              help="Where the evaluation keeps its store and caches (default .sitegen/eval).")
@click.pass_context
def eval_(ctx, config_path, overrides, dataset, n_items, seed, work_dir) -> None:
    """Collection precision, coverage and ANN recall@10 on a catalog whose attribute columns are ground truth
    (the fashion catalog). `sitegen eval queries` scores generated queries instead."""
    if ctx.invoked_subcommand is not None:
        return
    from sitegen.learn.evaluate import evaluate_fashion, format_eval

    cfg = _load(config_path, overrides) if Path(config_path).exists() or overrides else None
    dataset_dir = Path(dataset or _default_dataset())
    if not (dataset_dir / "catalog.csv").is_file():
        raise click.ClickException(f"{dataset_dir}/catalog.csv not found: pass --dataset FOLDER")
    work = Path(work_dir) if work_dir else Path(".sitegen") / "eval"
    with _progress(enabled=True) as factory:
        report = evaluate_fashion(dataset_dir, n_items=n_items, seed=seed, cfg=cfg, work_dir=work, progress=factory)
    click.echo(format_eval(report))


@eval_.command(name="queries")
@CONFIG_OPTION
@SET_OPTION
@click.argument("heldout", type=click.Path(exists=True, dir_okay=False))
@click.option("--generated", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A JSONL of generated queries per image (otherwise the configured [vlm] backend generates).")
@click.option("--store", "from_store", is_flag=True, help="Use the queries of the last build (the store).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Also write the report with a side-by-side list of generated vs reference queries.")
def eval_queries(config_path, overrides, heldout, generated, from_store, json_out) -> None:
    """ROUGE-1 F1 per query category (description, style, use case) of generated vs held-out queries."""
    from sitegen.learn.evalq import evaluate_queries, format_table, generate_for_records, generated_from_store, \
        load_query_file, write_report
    from sitegen.learn.vlm_train import read_jsonl

    cfg = _load(config_path, overrides)
    refs = load_query_file(heldout)
    if generated:
        gen = load_query_file(generated)
    elif from_store:
        from sitegen.store.db import Store

        with Store(cfg.store_path) as store:
            gen = generated_from_store(store, refs)
    else:
        from sitegen.engines.vlm import make_backend

        if not cfg.vlm.model:
            raise click.ClickException("vlm.model is not set: configure [vlm] or pass --generated / --store")
        gen = generate_for_records(read_jsonl(heldout), make_backend(cfg))
    report = evaluate_queries(gen, refs)
    click.echo(format_table(report))
    if json_out:
        write_report(report, json_out)
        click.echo(f"report: {json_out}")


# -- the store ---------------------------------------------------------------------------------------------

@main.group(name="store")
def store_group() -> None:
    """The state database (.sitegen/site.duckdb): `sitegen store info`, `sitegen store restore`."""


@store_group.command(name="info")
@CONFIG_OPTION
@SET_OPTION
def store_info(config_path, overrides) -> None:
    """Path, size, schema version of each owner's tables, the last build and the backup."""
    from sitegen.store.db import Store

    cfg = _load(config_path, overrides)
    if not cfg.store_path.is_file():
        raise click.ClickException(f"no store at {cfg.store_path} (a build creates it)")
    with Store(cfg.store_path) as store:
        versions = store.schema_versions()
        last = store.runs.last()
        manifest = store.backup_manifest()
    click.echo(f"store: {cfg.store_path} ({cfg.store_path.stat().st_size / 1e6:.1f} MB)")
    click.echo("schema: " + ", ".join(f"{owner} {v}" for owner, v in versions.items()))
    click.echo(f"last build: #{last.id} {last.status}, started {last.started}, finished {last.finished or '-'}"
               if last else "last build: none")
    click.echo(f"backup: {manifest['folder']}, written {manifest['written']} ("
               + ", ".join(f"{t} {n}" for t, n in sorted(manifest["tables"].items())) + " rows)"
               if manifest else "backup: none yet (one is written after each successful build)")


@store_group.command(name="restore")
@CONFIG_OPTION
@SET_OPTION
def store_restore(config_path, overrides) -> None:
    """Move the store file aside and load the last good backup (pinned slugs, pages and lastmod, removed-page
    history, builds, items) into a fresh store; the next build recomputes the rest."""
    from sitegen.store.backup import restore

    cfg = _load(config_path, overrides)
    done = restore(cfg.store_path)
    if done.moved_to:
        click.echo(f"moved {done.store} aside to {done.moved_to}")
    click.echo(f"restored {done.store} from the backup written {done.backup_written}: "
               + ", ".join(f"{t} {n}" for t, n in sorted(done.rows.items())) + " rows")


# -- fine-tuning -------------------------------------------------------------------------------------------

@main.command(name="train-data")
@CONFIG_OPTION
@SET_OPTION
@click.argument("exports", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for train.jsonl, heldout.jsonl and stats.json.")
@click.option("--top-n", type=int, default=30, show_default=True, help="Queries kept per image.")
@click.option("--holdout", type=float, default=0.1, show_default=True, help="Share of images held out.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--synthetic", is_flag=True,
              help="Also label items without search data through the configured [vlm] backend (an oracle).")
def train_data(config_path, overrides, exports, out_dir, top_n, holdout, seed, synthetic) -> None:
    """Fine-tuning data from search-console exports (query, page, clicks, impressions, ctr, position) joined
    to the catalog's items: the retain rule, top-N per image, stratified 30/30/40 sample, chat-format JSONL."""
    from sitegen.distribute.slugs import assign_slugs
    from sitegen.ingest.load import load_catalog
    from sitegen.store.db import Store
    from sitegen.learn.traindata import write_training_files

    cfg = _load(config_path, overrides)
    with Store(cfg.store_path) as store:
        loaded = load_catalog(cfg.catalog, cfg.root, image_cache_dir=cfg.store_path.parent / "images",
                              image_meta=store.media.image_meta())
        items, _ = assign_slugs(loaded.items, store.slugs.pinned("item"), cfg.catalog.slug)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    stats = write_training_files(exports, items, out_dir, top_n=top_n, holdout=holdout, seed=seed,
                                 mix=tuple(cfg.represent.mix[c] for c in ("description", "style", "use_case")),
                                 context=cfg.vlm.context)
    if stats.get("rows") and stats.get("rows_unmatched") == stats.get("rows"):
        raise click.ClickException("no row joined an item page: the export needs a page (URL) or image id column "
                                   f"matching the catalog (e.g. {', '.join(stats.get('unmatched_examples', [])[:2])})")
    for key in ("rows", "rows_retained", "rows_dropped_by_rule", "rows_unmatched", "images",
                "images_too_few_queries", "train", "heldout", "target_mix"):
        if key in stats:
            click.echo(f"{key}: {stats[key]}")
    if synthetic:
        from sitegen.engines.vlm import make_backend
        from sitegen.learn.traindata import synthesize_training_data, write_jsonl

        from sitegen.learn.vlm_train import read_jsonl

        covered = {r.get("item_id") for name in ("train", "heldout") for r in read_jsonl(stats["files"][name])}
        records, sstats = synthesize_training_data([i for i in items if i.id not in covered], make_backend(cfg))
        write_jsonl(records, Path(out_dir) / "synthetic.jsonl")
        click.echo(f"synthetic: labelled {sstats['labelled']}, failed {sstats['failed']}, "
                   f"too few queries {sstats['too_few_queries']}")
    for name, path in stats["files"].items():
        click.echo(f"{name}: {path}")


@main.group()
def train() -> None:
    """Train models: `sitegen train vlm` fine-tunes a Qwen2-VL model with LoRA; `sitegen train teacher` the
    cross-encoder relevance teacher; `sitegen train image` the catalog image encoder; `sitegen train two-tower`
    the annotation ranker."""


@train.command(name="vlm")
@CONFIG_OPTION
@SET_OPTION
@click.argument("train_jsonl", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Adapter folder.")
@click.option("--model", default=None, help="Qwen2-VL model folder (vlm.model).")
@click.option("--epochs", type=int, default=2, show_default=True, help="1-3 in the paper.")
@click.option("--lr", type=float, default=2e-5, show_default=True, help="Peak learning rate (cosine schedule).")
@click.option("--batch-size", type=int, default=2, show_default=True, help="Per device.")
@click.option("--grad-accum", type=int, default=8, show_default=True, help="Gradient accumulation steps.")
@click.option("--max-length", type=int, default=1024, show_default=True, help="Tokens per example.")
@click.option("--lora-r", type=int, default=16, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def train_vlm(config_path, overrides, train_jsonl, out_dir, model, epochs, lr, batch_size, grad_accum, max_length,
              lora_r, seed) -> None:
    """LoRA supervised fine-tuning (loss on the assistant reply only); saves an adapter that the transformers
    backend loads with `vlm.adapter`."""
    from sitegen.learn.vlm_train import train_lora

    cfg = _load(config_path, overrides, {"vlm.model": model})
    if not cfg.vlm.model:
        raise click.ClickException("no model: pass --model FOLDER or set vlm.model")
    started = time.perf_counter()

    def report(step: int, total: int, loss: float) -> None:
        click.echo(f"step {step}/{total}  loss {loss:.4f}  ({time.perf_counter() - started:.0f}s)", err=True)

    result = train_lora(cfg.path(cfg.vlm.model), train_jsonl, out_dir, epochs=epochs, lr=lr, batch_size=batch_size,
                        grad_accum=grad_accum, max_length=max_length, lora_r=lora_r, seed=seed,
                        min_pixels=cfg.vlm.min_pixels, max_pixels=cfg.vlm.max_pixels, device=cfg.vlm.device,
                        progress=report)
    click.echo(f"loss {result.initial_loss:.4f} -> {result.final_loss:.4f} "
               f"({result.final_loss / max(result.initial_loss, 1e-9):.1%} of initial); {result.steps} steps, "
               f"{result.examples} examples, {result.skipped} skipped, {result.seconds:.0f}s")
    click.echo(f"adapter: {result.adapter_dir}\nuse it with: vlm.adapter = \"{result.adapter_dir}\"")


# -- command groups in their own modules (they add themselves to ``main``) ------------------------------------
if __name__ == "__main__":  # run as `python -m sitegen.cli.main`: the modules below import this one by name
    sys.modules.setdefault("sitegen.cli.main", sys.modules[__name__])

from sitegen.cli import images as _images  # noqa: E402,F401  (sitegen train image, sitegen eval images)
from sitegen.cli import judge as _judge  # noqa: E402,F401  (sitegen judge)
from sitegen.cli import judgments as _judgments  # noqa: E402,F401  (sitegen judgments ...)
from sitegen.cli import new as _new  # noqa: E402,F401  (sitegen new)
from sitegen.cli import signals as _signals  # noqa: E402,F401  (sitegen signals import / show)
from sitegen.cli import teacher as _teacher  # noqa: E402,F401  (attaches `sitegen train teacher`)
from sitegen.cli import simulate as _simulate  # noqa: E402,F401  (sitegen simulate)
from sitegen.cli import trends as _trends  # noqa: E402,F401  (sitegen trends ...)
from sitegen.cli import twotower as _twotower  # noqa: E402,F401  (attaches `sitegen train two-tower`)

from sitegen.cli.geo import eval_geo  # noqa: E402  (sitegen eval geo)
from sitegen.cli.relevance import eval_relevance  # noqa: E402  (sitegen eval relevance)

eval_.add_command(eval_geo)
eval_.add_command(eval_relevance)
eval_.add_command(_twotower.eval_annotations)

if __name__ == "__main__":  # pragma: no cover
    # run as a script (python -m sitegen.cli.main): the command modules above attach to the imported module
    from sitegen.cli.main import main as _main

    _main()
