"""``sitegen build``: the pipeline, in order. Each stage is a module; this file only wires them.

Gather everything, then write: the site is rendered into a temporary folder beside ``build/`` and swapped in
only when every stage (and, with --strict, the audit) succeeded; a failed or killed build leaves the last good
site untouched. State (pinned slugs, page hashes and lastmod, embeddings, caches) lives in the DuckDB store.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from sitegen.core.config import Config
from sitegen.core.errors import StrictError
from sitegen.core.models import BuildSummary, PageRecord, Site, StageTiming
from sitegen.distribute.plan import plan_site
from sitegen.store.db import Store
from sitegen.pipeline.gather import gather_site
from sitegen.pipeline.geo import run_geo
from sitegen.pipeline.output import (WRITE_ERRNOS, check_output, debug_pause, generation, reconcile,
                                     write_error, write_marker)
from sitegen.pipeline.persist import store_geo
from sitegen.pipeline.swap import make_tmp, remove_stale_tmp, remove_tmp, swap_in
from sitegen.publish.lastmod import assign_lastmod

ProgressFactory = Callable[[str], Callable[[int, int], None] | None]


@dataclass
class BuildResult:
    summary: BuildSummary
    output_dir: Path
    run_id: int
    findings: list = field(default_factory=list)
    link_report: dict = field(default_factory=dict)
    site: Site | None = None  # everything that was published: items, hubs, collections, annotations, PageRank


def build_time() -> str:
    """The build's timestamp: SOURCE_DATE_EPOCH when set (reproducible builds), else now (UTC, seconds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def config_hash(cfg: Config) -> str:
    data = {k: v for k, v in asdict(cfg).items() if k not in ("root", "warnings")}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def build_site(cfg: Config, *, strict: bool = False, progress: ProgressFactory | None = None,
               check: bool | None = None, force: bool = False) -> BuildResult:
    """Run the whole pipeline and publish ``cfg.output_dir`` atomically."""
    progress = progress or (lambda _name: None)
    summary = BuildSummary(warnings=list(cfg.warnings))
    started = build_time()
    out_dir = cfg.output_dir
    check_output(cfg)  # before any work: never publish over what sitegen did not create
    try:
        if out_dir.parent.is_dir():
            remove_stale_tmp(out_dir.parent)
        tmp_dir = make_tmp(out_dir.parent)
    except OSError as exc:
        raise write_error(exc, out_dir, cfg.store_path.parent) from exc
    try:
        store = Store(cfg.store_path)
    except BaseException:
        remove_tmp(tmp_dir)
        raise
    try:
        trusted = reconcile(store, out_dir)
        run_id = store.runs.begin(started, config_hash(cfg))
    except BaseException:
        remove_tmp(tmp_dir)
        store.close()
        raise
    try:
        result = _run(cfg, store, run_id, started, out_dir, tmp_dir, summary, progress, strict,
                      cfg.build.check if check is None else check, force, trusted)
        store.runs.finish(run_id, "ok", build_time(), _summary_json(summary))
        _backup(store, result)
        return result
    except BaseException as exc:
        remove_tmp(tmp_dir)
        try:
            reconcile(store, out_dir)  # a failed swap: the pages committed for it go back at once
            store.runs.finish(run_id, "failed", build_time(), {"error": str(exc)})
        except Exception:  # the store itself may be the problem; the original error matters more
            pass
        if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
            raise write_error(exc, out_dir, cfg.store_path.parent) from exc
        raise
    finally:
        store.close()


def _run(cfg, store, run_id, started, out_dir, tmp_dir, summary, progress, strict, check, force,
         trusted) -> BuildResult:
    timer = _StageTimer(summary)

    gathered = gather_site(cfg, store, run_id=run_id, strict=strict, progress=progress, timer=timer)
    site, new_pins = gathered.site, gathered.new_pins
    summary.items_read, summary.items_accepted = gathered.rows_read, len(site.items)
    for r in gathered.rejections:
        summary.rejected_by_reason[r.reason] = summary.rejected_by_reason.get(r.reason, 0) + 1
    summary.warnings.extend(gathered.warnings)

    geo = run_geo(cfg, store, site, run_id=run_id, progress=progress, timer=timer)
    site, link_report, geo_key = geo.site, geo.link_report, geo.key
    summary.counters.update(geo.counters)
    plan = None
    if geo.reused:  # nothing the GEO stages read has changed: their result is in the store
        summary.counters.update(geo_reused=1, texts_embedded=0, texts_cached=0, index_rebuilt=0,
                                generator_generated=0)  # no model work this time
    else:
        with timer("plan"):
            plan = plan_site(site, hub_page_size=cfg.build.hub_page_size)
            store_geo(store, plan, site, geo.queries)

    with timer("previous"):
        previous = store.pages.published()
        out_key = _output_key(cfg, geo_key, site)
    if (not force and trusted and previous and _intact(out_dir)
            and store.cache.get("output", ["last"]).get("last") == out_key):
        # the same input, settings, templates and code as the published site: it is already this build's output
        remove_tmp(tmp_dir)
        records = sorted(previous.values(), key=lambda r: r.path)
        for r in records:
            summary.pages_by_kind[r.kind] = summary.pages_by_kind.get(r.kind, 0) + 1
        summary.pages_unchanged, summary.counters["output_unchanged"] = len(records), 1
        findings = _check(cfg, store, run_id, out_dir, records, started, summary, link_report, strict, check,
                          timer, progress)
        return BuildResult(summary, out_dir, run_id, findings, link_report, site)

    if plan is None:
        with timer("plan"):
            plan = plan_site(site, hub_page_size=cfg.build.hub_page_size)

    with timer("thumbnails"):
        from sitegen.publish.media import make_thumbnails, publish_media

        thumbs_dir = cfg.store_path.parent / "thumbs"
        images = make_thumbnails(site.items, cfg.build.thumbnail_widths, thumbs_dir, progress=progress("thumbnails"))

    with timer("render"):
        from sitegen.publish.render import render_site

        publish_media(images, thumbs_dir, tmp_dir)
        # --force renders every page again; so does an output that does not hold the store's live pages
        reusable = previous if trusted and not force else {}
        records = render_site(plan, site, cfg, images, tmp_dir, previous=reusable,
                              previous_dir=out_dir if trusted else None, progress=progress("render"))
        for r in records:
            summary.pages_by_kind[r.kind] = summary.pages_by_kind.get(r.kind, 0) + 1
        unchanged = sum(1 for r in records if r.path in reusable and reusable[r.path].render_key == r.render_key)
        summary.pages_unchanged = unchanged
        summary.pages_written = len(records) - unchanged

    with timer("publish"):
        from sitegen.publish.feeds import write_llms_txt, write_robots, write_sitemaps

        records, changes = assign_lastmod(records, previous, started)
        summary.pages_removed = sorted(p for p, change, _, _ in changes if change == "removed")
        write_sitemaps(records, cfg, tmp_dir)
        write_robots(cfg, tmp_dir)
        write_llms_txt(plan, site, {r.path: r for r in records}, cfg, tmp_dir)

    # Crash consistency: the new pages and slug pins are committed (as a pending generation, the previous
    # pages kept) BEFORE the swap, and the generation is recorded as live after it; the next build settles a
    # kill in between (pipeline.output.reconcile), so URLs never drift and nothing is reused from a stale site.
    gen = generation(records, tmp_dir)
    write_marker(tmp_dir, gen)
    with store.transaction():
        with timer("store"):
            store.pages.stash()
            store.pages.replace(run_id, records, changes)
            store.slugs.pin("item", new_pins)
            store.items.replace(site.items)
        findings = _check(cfg, store, run_id, tmp_dir, records, started, summary, link_report, strict, check,
                          timer, progress)
        store.cache.put("output", {"pending": {"generation": gen, "key": out_key}})
    with timer("swap"):
        swap_in(tmp_dir, out_dir)
    debug_pause("swapped")
    store.cache.put("output", {"generation": gen, "last": out_key, "pending": None})
    debug_pause("recorded")
    return BuildResult(summary, out_dir, run_id, findings, link_report, site)


def _check(cfg, store, run_id, site_dir: Path, records, started, summary, link_report, strict, check, timer,
           progress) -> list:
    """The audit (of ``site_dir``) and the review report (beside the store, not in the published site);
    --strict turns audit errors into a failure."""
    if not check:
        return []
    with timer("check"):
        from sitegen.audit.report import report_dir, write_report

        findings = _audit(store, site_dir, cfg, records, started, progress("check"))
        errors = [f for f in findings if f.severity == "error"]
        summary.counters["audit_errors"] = len(errors)
        summary.counters["audit_warnings"] = sum(1 for f in findings if f.severity == "warning")
        write_report(report_dir(cfg), cfg, store, run_id, findings, summary=_summary_json(summary), link_report=link_report)
        if strict and errors:
            raise StrictError(f"the audit found {len(errors)} error(s) (--strict); first: "
                              f"{errors[0].page}: {errors[0].message}")
    return findings


def _output_key(cfg: Config, geo_key: str, site: Site) -> str:
    """Everything the written site depends on beyond the GEO stages: every setting, the text pages, every
    template and asset, and sitegen's own code."""
    from sitegen.publish.render import template_dirs

    h = hashlib.sha256(f"{geo_key}\0{config_hash(cfg)}".encode())
    for page in site.pages:
        h.update(json.dumps([page.slug, page.title, page.description, page.html]).encode())
    if cfg.site.logo and cfg.path(cfg.site.logo).is_file():
        h.update(cfg.path(cfg.site.logo).read_bytes())
    for folder in [*template_dirs(cfg), Path(__file__).resolve().parents[1]]:
        for f in sorted(folder.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                h.update(f.relative_to(folder).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:32]


def _intact(out_dir: Path) -> bool:
    return (out_dir / "index.html").is_file() and (out_dir / "sitemap.xml").is_file()


def _audit(store: Store, out_dir: Path, cfg: Config, records: list[PageRecord], now: str, progress) -> list:
    """The audit of the written site; reused from the store when the output is the same as last time (the
    audit reads only the output, so the same pages, sitemaps, robots.txt and llms.txt give the same findings)."""
    from sitegen.audit.check import Finding, audit

    h = hashlib.sha256(config_hash(cfg).encode())
    for r in sorted(records, key=lambda r: r.path):
        h.update(f"{r.path}\0{r.content_hash}\0{r.lastmod}\0{r.in_sitemap}\n".encode())
    for name in ("robots.txt", "llms.txt"):
        if (out_dir / name).is_file():
            h.update((out_dir / name).read_bytes())
    key = h.hexdigest()[:32]
    cached = store.cache.get("audit", [key]).get(key)
    if cached is not None:
        return [Finding(**f) for f in cached]
    findings = audit(out_dir, cfg, min_items=cfg.collect.min_items, now=now, progress=progress)
    store.cache.replace("audit", {key: [asdict(f) for f in findings]})
    return findings


def _backup(store: Store, result: BuildResult) -> None:
    """Keep the durable state of this good build beside the store. The site is already published, so a
    failed backup is a warning, not a failed build."""
    from sitegen.core.errors import StoreError

    try:
        store.backup()
    except (OSError, StoreError) as exc:
        result.summary.warnings.append(f"store backup failed (the previous backup is kept): {exc}")


# -- small helpers -----------------------------------------------------------------------------------------

class _StageTimer:
    def __init__(self, summary: BuildSummary):
        self.summary = summary

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        debug_pause(name)
        t0 = time.perf_counter()
        yield
        self.summary.stages.append(StageTiming(name, time.perf_counter() - t0))


def _summary_json(summary: BuildSummary) -> dict:
    return json.loads(json.dumps(asdict(summary), default=str))


