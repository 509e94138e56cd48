"""``sitegen build``: the pipeline, in order. Each phase is a package and each stage a module; this file only
wires them.

Gather everything, then write (Pelican's rule): the site is rendered into a temporary folder beside
``build/`` and swapped in only when every stage (and, with --strict, the audit) succeeded; a failed or killed
build leaves the last good site, and the store, consistent. State (pinned slugs, page hashes and lastmod,
embeddings, caches) lives in the DuckDB store, never in ``build/``.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from sitegen.audit.run import audit_and_report
from sitegen.core.config import Config
from sitegen.core.models import BuildSummary, Demand, PageRecord, Site
from sitegen.demand.gather import gather_demand
from sitegen.distribute.plan import plan_site
from sitegen.pipeline.cache import output_key
from sitegen.pipeline.gather import gather_site
from sitegen.pipeline.lifecycle import apply_lifecycle, record_lifecycle, run_geo_keeping_urls
from sitegen.pipeline.output import debug_pause, generation, write_marker
from sitegen.pipeline.persist import store_geo
from sitegen.pipeline.session import BuildSession, StageTimer, summary_json
from sitegen.pipeline.swap import remove_tmp, swap_in
from sitegen.publish.site import warm_thumbnails, write_site

ProgressFactory = Callable[[str], Callable[[int, int], None] | None]


@dataclass
class BuildResult:
    summary: BuildSummary
    output_dir: Path
    run_id: int
    findings: list = field(default_factory=list)
    link_report: dict = field(default_factory=dict)
    site: Site | None = None  # everything that was published: items, hubs, collections, annotations, PageRank
    retired: list = field(default_factory=list)  # RetiredPage: every retired collection URL and its redirect


def build_site(cfg: Config, *, strict: bool = False, progress: ProgressFactory | None = None,
               check: bool | None = None, force: bool = False, demand: Demand | None = None,
               expired: Iterable[str] = (), no_cache: bool = False) -> BuildResult:
    """Run the whole pipeline and publish ``cfg.output_dir`` atomically. ``demand`` (rewards, demanded topics)
    and ``expired`` (topics whose trend expired) are the demand loop's input; without ``demand`` the build
    gathers its own (``sitegen.demand.gather``: signals, rewards, console topics, the trend agent).
    ``no_cache``: every stage computes its result again instead of reading a cached one (embeddings, GEO
    results, colours, thumbnails, pages); pinned slugs and lastmod are kept, so the output equals the
    incremental build's."""
    summary = BuildSummary(warnings=list(cfg.warnings))
    with BuildSession(cfg, summary) as session, ExitStack() as background:
        if no_cache:
            session.store.ignore_cached_results()
        return _pipeline(cfg, session, summary, progress or (lambda _name: None), strict,
                         cfg.build.check if check is None else check, force or no_cache, demand,
                         frozenset(expired), no_cache, background)


def _pipeline(cfg: Config, session: BuildSession, summary: BuildSummary, progress: ProgressFactory,
              strict: bool, check: bool, force: bool, demand: Demand | None, expired: frozenset[str],
              no_cache: bool, background: ExitStack) -> BuildResult:
    store, run_id, timer = session.store, session.run_id, StageTimer(summary)

    gathered = gather_site(cfg, store, run_id=run_id, strict=strict, progress=progress, timer=timer)
    # thumbnails need only the items: a background thread encodes the missing ones while the GEO stages run
    # (their Python leaves a core idle), and the thumbnails stage does what is left
    warmer = None if no_cache else background.enter_context(warm_thumbnails(cfg, gathered.site.items))
    summary.items_read, summary.items_accepted = gathered.rows_read, len(gathered.site.items)
    for r in gathered.rejections:
        summary.rejected_by_reason[r.reason] = summary.rejected_by_reason.get(r.reason, 0) + 1
    summary.warnings.extend(gathered.warnings)

    if demand is None:  # signals -> rewards -> console and trend topics (the trend agent, when configured)
        with timer("demand"):
            gathered_demand = gather_demand(cfg, store, gathered.site, progress=progress)
            demand, expired = gathered_demand.demand, expired | gathered_demand.expired
            summary.counters.update(gathered_demand.counters)

    geo = run_geo_keeping_urls(cfg, store, gathered.site, run_id=run_id, progress=progress, timer=timer,
                               demand=demand)
    summary.counters.update(geo.counters)
    with timer("lifecycle"):  # created / refreshed / retired pages; retired ones leave this build's site
        life = apply_lifecycle(cfg, store, geo, run_id=run_id, now=session.started, demand=demand, expired=expired)
        site = life.site
        summary.counters.update(life.decisions.counts())
    plan = None
    if geo.reused:  # nothing the GEO stages read has changed: their result is in the store
        summary.counters.update(geo_reused=1, texts_embedded=0, texts_cached=0, index_rebuilt=0,
                                generator_generated=0)  # no model work this time
    if not geo.reused or life.changed:
        with timer("plan"):
            plan = plan_site(site, hub_page_size=cfg.build.hub_page_size)
            store_geo(store, plan, site, geo.queries)

    def audit(site_dir: Path, records: list[PageRecord]) -> list:
        if not check:
            return []
        with timer("check"):
            return audit_and_report(cfg, store, run_id, site_dir, records, session.started,
                                    summary=lambda: summary_json(summary), counters=summary.counters,
                                    link_report=life.link_report, strict=strict, progress=progress("check"))

    with timer("previous"):
        previous = store.pages.published()
        out_key = output_key(cfg, geo.key + life.key, site)
    if (not force and session.trusted and previous and _intact(session.out_dir)
            and store.cache.get("output", ["last"]).get("last") == out_key):
        # the same input, settings, templates and code as the published site: it is already this build's output
        remove_tmp(session.tmp_dir)
        records = sorted(previous.values(), key=lambda r: r.path)
        for r in records:
            summary.pages_by_kind[r.kind] = summary.pages_by_kind.get(r.kind, 0) + 1
        summary.pages_unchanged, summary.counters["output_unchanged"] = len(records), 1
        record_lifecycle(store, run_id, life, stash=False)  # the counts of builds below the reward floor
        return BuildResult(summary, session.out_dir, run_id, audit(session.out_dir, records), life.link_report,
                           site, life.decisions.retired)

    if plan is None:
        with timer("plan"):
            plan = plan_site(site, hub_page_size=cfg.build.hub_page_size)

    # thumbnails -> render -> sitemaps, robots.txt, llms.txt, all into the temporary folder
    if warmer is not None:
        warmer.stop()
    reusable = previous if session.trusted and not force else {}  # else every page is rendered again
    records, changes = write_site(plan, site, cfg, session.tmp_dir, previous=previous, reusable=reusable,
                                  previous_dir=session.out_dir if session.trusted else None,
                                  now=session.started, summary=summary, timer=timer, progress=progress,
                                  retired=life.decisions.retired, fresh_media=no_cache)

    # Crash consistency: the new pages and slug pins are committed (as a pending generation, the previous
    # pages kept) BEFORE the swap, and the generation is recorded as live after it; the next build settles a
    # kill in between (pipeline.output.reconcile), so URLs never drift and nothing is reused from a stale site.
    gen = generation(records, session.tmp_dir, life.key)
    write_marker(session.tmp_dir, gen)
    with store.transaction():
        with timer("store"):
            store.pages.stash()
            store.pages.replace(run_id, records, changes)
            record_lifecycle(store, run_id, life)
            store.slugs.pin("item", gathered.new_pins)
            store.items.replace(site.items)
        findings = audit(session.tmp_dir, records)
        store.cache.put("output", {"pending": {"generation": gen, "key": out_key}})
    with timer("swap"):
        swap_in(session.tmp_dir, session.out_dir)
    debug_pause("swapped")
    store.cache.put("output", {"generation": gen, "last": out_key, "pending": None})
    debug_pause("recorded")
    return BuildResult(summary, session.out_dir, run_id, findings, life.link_report, site, life.decisions.retired)


def _intact(out_dir: Path) -> bool:
    return (out_dir / "index.html").is_file() and (out_dir / "sitemap.xml").is_file()
