"""The ``sitegen`` command line. The only place that prints and exits; everything heavy is imported lazily
so ``sitegen --help`` is instant."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click

from .config import Config, load_config, parse_override

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
@click.option("-q", "--quiet", is_flag=True, help="No progress bars; print only the summary.")
def build(config_path, overrides, strict, output, base_url, no_check, quiet) -> None:
    """Build the site into build/ (atomically: a failed build leaves the previous site untouched)."""
    cfg = _load(config_path, overrides, {"build.output": output, "site.base_url": base_url}, strict=strict)
    result = _build(cfg, strict=strict, check=False if no_check else None, quiet=quiet)
    _print_summary(result)


def _build(cfg: Config, *, strict: bool, check: bool | None, quiet: bool):
    from .build import build_site

    with _progress(enabled=cfg.build.progress and not quiet) as factory:
        return build_site(cfg, strict=strict, progress=factory, check=check)


@contextmanager
def _progress(enabled: bool) -> Iterator:
    if not enabled or not sys.stderr.isatty():
        yield lambda name: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description:<11}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True) as bar:
        tasks: dict[str, int] = {}

        def factory(name: str):
            def update(done: int, total: int) -> None:
                if name not in tasks:
                    tasks[name] = bar.add_task(name, total=total or None)
                bar.update(tasks[name], completed=done, total=total or None)
            return update

        yield factory


def _print_summary(result) -> None:
    from rich.console import Console
    from rich.table import Table

    s = result.summary
    console = Console(stderr=False, highlight=False)
    rejected = sum(s.rejected_by_reason.values())
    console.print(f"[bold]Built[/bold] {result.output_dir}  (build #{result.run_id})")
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(s.rejected_by_reason.items()))
    console.print(f"items: {s.items_read} read, {s.items_accepted} published, {rejected} rejected"
                  + (f" ({reasons})" if reasons else ""))
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(s.pages_by_kind.items()))
    console.print(f"pages: {sum(s.pages_by_kind.values())} ({kinds}); written {s.pages_written}, "
                  f"unchanged {s.pages_unchanged}, removed {len(s.pages_removed)}")
    c = s.counters
    if "collections" in c:
        console.print(f"collections: {c['collections']}; texts embedded {c.get('texts_embedded', 0)}, "
                      f"cached {c.get('texts_cached', 0)}; index {c.get('index_backend')} "
                      f"{'rebuilt' if c.get('index_rebuilt') else 'reused'}")
    if "audit_errors" in c:
        console.print(f"audit: {c['audit_errors']} error(s), {c['audit_warnings']} warning(s); "
                      f"report: {result.output_dir / '_report' / 'index.html'}")
    for removed in s.pages_removed[:20]:
        console.print(f"[yellow]removed page:[/yellow] {removed}")
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
def serve(config_path, overrides, host, port, build_first) -> None:
    """Preview the built site in a browser (local only by default)."""
    from .serve import make_server

    cfg = _load(config_path, overrides, {"serve.host": host, "serve.port": port})
    if build_first:
        _print_summary(_build(cfg, strict=False, check=None, quiet=False))
    root = cfg.output_dir
    if not (root / "index.html").is_file():
        raise click.ClickException(f"{root} has no index.html: run `sitegen build` first (or use --build)")
    try:
        server = make_server(root, cfg.serve.host, cfg.serve.port, quiet=False)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {cfg.serve.host}:{cfg.serve.port}: {exc.strerror}") from exc
    click.echo(f"Serving {root} at http://{cfg.serve.host}:{server.server_address[1]}/  (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.server_close()


# -- check -------------------------------------------------------------------------------------------------

@main.command()
@CONFIG_OPTION
@SET_OPTION
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--strict", is_flag=True, help="Exit with status 1 when there is any error.")
@click.option("-o", "--output", default=None, help="The built site to audit (build.output).")
def check(config_path, overrides, fmt, strict, output) -> None:
    """Audit a built site: links, sitemaps, titles, canonicals, JSON-LD, thin or duplicate collections."""
    from .check import audit, format_table, to_json

    cfg = _load(config_path, overrides, {"build.output": output})
    if not cfg.output_dir.is_dir():
        raise click.ClickException(f"{cfg.output_dir} does not exist: run `sitegen build` first")
    findings = audit(cfg.output_dir, cfg, min_items=cfg.collect.min_items)
    click.echo(to_json(findings) if fmt == "json" else format_table(findings))
    errors = sum(1 for f in findings if f.severity == "error")
    if strict and errors:
        raise click.ClickException(f"{errors} error(s) found")


if __name__ == "__main__":  # pragma: no cover
    main()
