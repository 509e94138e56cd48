"""``sitegen build``: the pipeline, in order. Each stage is a module; this file only wires them.

Gather everything, then write: the site is rendered into a temporary folder beside ``build/`` and swapped in
only when every stage (and, with --strict, the audit) succeeded; a failed or killed build leaves the last good
site untouched. State (pinned slugs, page hashes and lastmod, embeddings, caches) lives in the DuckDB store.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from sitegen.pipeline import cache as geocache
from sitegen.core import urls
from sitegen.core.config import Config
from sitegen.core.errors import BuildError, SlugCollisionError, StrictError
from sitegen.core.models import BuildSummary, Hub, Item, PageRecord, Site, StageTiming
from sitegen.distribute.plan import OTHER, plan_site
from sitegen.store.db import Store

ProgressFactory = Callable[[str], Callable[[int, int], None] | None]


@dataclass
class BuildResult:
    summary: BuildSummary
    output_dir: Path
    run_id: int
    findings: list = field(default_factory=list)
    link_report: dict = field(default_factory=dict)


def build_time() -> str:
    """The build's timestamp: SOURCE_DATE_EPOCH when set (reproducible builds), else now (UTC, seconds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def config_hash(cfg: Config) -> str:
    data = {k: v for k, v in asdict(cfg).items() if k not in ("root", "warnings")}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def item_text(item: Item) -> str:
    """The text that represents an item for embeddings and lexical relevance."""
    parts = [item.title, item.category, " ".join(item.keywords), " ".join(v for _, v in item.attributes),
             item.description[:300]]
    return " . ".join(p for p in parts if p)


def build_site(cfg: Config, *, strict: bool = False, progress: ProgressFactory | None = None,
               check: bool | None = None, force: bool = False) -> BuildResult:
    """Run the whole pipeline and publish ``cfg.output_dir`` atomically."""
    progress = progress or (lambda _name: None)
    summary = BuildSummary(warnings=list(cfg.warnings))
    started = build_time()
    out_dir = cfg.output_dir
    tmp_dir = out_dir.parent / f".build-tmp-{os.getpid()}"
    _remove_stale_tmp(out_dir.parent)
    store = Store(cfg.store_path)
    run_id = store.begin_run(started, config_hash(cfg))
    try:
        result = _run(cfg, store, run_id, started, out_dir, tmp_dir, summary, progress, strict,
                      cfg.build.check if check is None else check, force)
        store.finish_run(run_id, "ok", build_time(), _summary_json(summary))
        return result
    except BaseException as exc:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        try:
            store.finish_run(run_id, "failed", build_time(), {"error": str(exc)})
        except Exception:  # the store itself may be the problem; the original error matters more
            pass
        raise
    finally:
        store.close()


def _run(cfg, store, run_id, started, out_dir, tmp_dir, summary, progress, strict, check, force) -> BuildResult:
    timer = _StageTimer(summary)

    with timer("load"):
        from sitegen.ingest.load import load_catalog

        loaded = load_catalog(cfg.catalog, cfg.root, image_cache_dir=cfg.store_path.parent / "images",
                              image_meta=store.image_meta(), progress=progress("load"))
        store.put_image_meta(loaded.image_meta)
        summary.items_read = loaded.rows_read
        summary.items_accepted = len(loaded.items)
        for r in loaded.rejections:
            summary.rejected_by_reason[r.reason] = summary.rejected_by_reason.get(r.reason, 0) + 1
        store.record_rejections(run_id, loaded.rejections)
        if strict and loaded.rejections:
            first = loaded.rejections[0]
            raise StrictError(f"{len(loaded.rejections)} catalog row(s) rejected (--strict); first: "
                              f"{first.source}: {first.reason}: {first.detail}")
        if not loaded.items:
            raise BuildError(f"no items to publish: all {loaded.rows_read} catalog row(s) were rejected")

    with timer("colours"):
        items = with_pixel_colours(loaded.items, store)

    with timer("slugs"):
        items, new_pins = assign_slugs(items, store.pinned_slugs("item"), cfg.catalog.slug)
        hubs = make_hubs(items)
        from sitegen.ingest.textpages import load_text_pages

        text_pages, page_warnings = load_text_pages(cfg.path(cfg.build.pages))
        summary.warnings.extend(page_warnings)
        site = Site(items=items, hubs=hubs, pages=text_pages)

    with timer("fingerprint"):
        geo_key = geocache.fingerprint(cfg, site)
        reused = geocache.load(store, geo_key, site)
    plan = None
    if reused is not None:  # nothing the GEO stages read has changed: their result is in the store
        site, link_report, counters = reused
        summary.counters.update(counters)
        summary.counters.update(geo_reused=1, texts_embedded=0, texts_cached=0, index_rebuilt=0,
                                generator_generated=0)  # no model work this time
    else:
        before = set(summary.counters)
        site, topic_vectors, queries = _geo_stages(cfg, store, run_id, site, timer, summary, progress)

        with timer("link"):
            from sitegen.distribute.link import shape_links

            site, link_report = shape_links(site, topic_vectors, cfg.link, hub_page_size=cfg.build.hub_page_size)
            plan = plan_site(site, hub_page_size=cfg.build.hub_page_size)
            _store_geo(store, plan, site, queries)
            geocache.save(store, geo_key, site, link_report,
                          {k: v for k, v in summary.counters.items() if k not in before and not k.startswith("texts_")})

    with timer("previous"):
        previous = store.published_pages()
        out_key = _output_key(cfg, geo_key, site)
    if not force and previous and _intact(out_dir) and store.cache_get("output", ["last"]).get("last") == out_key:
        # the same input, settings, templates and code as the published site: it is already this build's output
        records = sorted(previous.values(), key=lambda r: r.path)
        for r in records:
            summary.pages_by_kind[r.kind] = summary.pages_by_kind.get(r.kind, 0) + 1
        summary.pages_unchanged, summary.counters["output_unchanged"] = len(records), 1
        findings = _check(cfg, store, run_id, out_dir, records, started, summary, link_report, strict, check,
                          timer, progress)
        return BuildResult(summary, out_dir, run_id, findings, link_report)

    if plan is None:
        with timer("link"):
            plan = plan_site(site, hub_page_size=cfg.build.hub_page_size)

    with timer("thumbnails"):
        from sitegen.publish.media import make_thumbnails, publish_media

        thumbs_dir = cfg.store_path.parent / "thumbs"
        images = make_thumbnails(items, cfg.build.thumbnail_widths, thumbs_dir, progress=progress("thumbnails"))

    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    with timer("render"):
        from sitegen.publish.render import render_site

        publish_media(images, thumbs_dir, tmp_dir)
        reusable = {} if force else previous  # --force: render every page again
        records = render_site(plan, site, cfg, images, tmp_dir, previous=reusable,
                              previous_dir=out_dir if out_dir.is_dir() else None, progress=progress("render"))
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

    with store.transaction():
        with timer("store"):
            store.replace_pages(run_id, records, changes)
            store.pin_slugs("item", new_pins)
        findings = _check(cfg, store, run_id, tmp_dir, records, started, summary, link_report, strict, check,
                          timer, progress)
        with timer("swap"):
            swap_in(tmp_dir, out_dir)
        store.cache_put("output", {"last": out_key})
    return BuildResult(summary, out_dir, run_id, findings, link_report)


def _check(cfg, store, run_id, site_dir: Path, records, started, summary, link_report, strict, check, timer,
           progress) -> list:
    """The audit and the review report (in ``site_dir``); --strict turns audit errors into a failure."""
    if not check:
        return []
    with timer("check"):
        from sitegen.audit.report import write_report

        findings = _audit(store, site_dir, cfg, records, started, progress("check"))
        errors = [f for f in findings if f.severity == "error"]
        summary.counters["audit_errors"] = len(errors)
        summary.counters["audit_warnings"] = sum(1 for f in findings if f.severity == "warning")
        write_report(site_dir, cfg, store, run_id, findings, summary=_summary_json(summary), link_report=link_report)
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


def _geo_stages(cfg, store, run_id, site: Site, timer, summary, progress):
    """represent -> embed -> index -> collect -> annotate. Returns the site with collections and
    annotations, the topic vectors of the published collections, and the queries."""
    from sitegen.distribute.annotate import annotate
    from sitegen.aggregate.collect import collect, make_topics
    from sitegen.engines.embed import Embedder
    from sitegen.engines.index import load_or_build
    from sitegen.represent.postprocess import PostProcessor
    from sitegen.represent.run import make_generator, represent

    items = site.items
    embedder = Embedder(cfg.embed.model, batch_size=cfg.embed.batch_size, device=cfg.embed.device, store=store)
    hub_names = {i.id: (i.category or OTHER) for i in items}

    def hub_of(item: Item) -> str:
        return hub_names[item.id]

    with timer("embed"):
        item_vectors = embedder.encode([item_text(i) for i in items], progress=progress("embed"))

    with timer("represent"):
        generator = make_generator(cfg, embedder, items, store, item_text=item_text)
        try:
            post = PostProcessor(cfg.represent, embedder)
            queries, dropped, qstats = represent(items, generator, post, progress=progress("represent"))
        finally:
            generator.close()
        summary.counters["generator"] = generator.name
        summary.counters.update({f"generator_{k}": v for k, v in getattr(generator, "stats", {}).items()
                                 if isinstance(v, (int, float))})
        summary.counters.update({f"queries_{k}": v for k, v in qstats.items()})
        store.record_dropped(run_id, "query", ((d.text, d.reason, "", d.item_id) for d in dropped))

    with timer("index"):
        fingerprint = hashlib.sha256(item_vectors.tobytes() + repr(asdict(cfg.index)).encode()).hexdigest()[:24]
        index, rebuilt = load_or_build(item_vectors, cfg.index, cfg.store_path.parent / "index", fingerprint)
        summary.counters["index_rebuilt"] = int(rebuilt)
        summary.counters["index_backend"] = index.backend

    with timer("collect"):
        topics = make_topics(items, queries, hub_of)
        topic_vecs = embedder.encode([t.text for t in topics], progress=progress("topics"))
        collections, dropped_topics, cstats = collect(topics, topic_vecs, items, item_vectors, index, cfg.collect,
                                                      hub_of=hub_of, item_text=item_text,
                                                      progress=progress("collect"))
        summary.counters.update({f"collect_{k}": v for k, v in cstats.items() if isinstance(v, (int, float))})
        store.record_dropped(run_id, "topic", ((d.topic, d.reason, d.detail, "") for d in dropped_topics))
        by_text = {t.text: v for t, v in zip(topics, topic_vecs)}
        topic_vectors = {c.slug: by_text[c.topic] if c.topic in by_text else embedder.encode([c.topic])[0]
                         for c in collections}

    with timer("annotate"):
        annotations = annotate(items, collections, item_vectors, topic_vectors, cfg.link, cfg.represent.mix)

    summary.counters["texts_embedded"] = embedder.stats.get("embedded", 0)
    summary.counters["texts_cached"] = embedder.stats.get("cached", 0)
    summary.counters["collections"] = len(collections)
    return replace(site, collections=list(collections), annotations=annotations), topic_vectors, queries


def with_pixel_colours(items: list[Item], store: Store) -> list[Item]:
    """Items whose catalog names no colour get the colour words computed from their pixels as ``colour``
    attributes (one per colour), so relevance, summaries, embeddings and item facts all see them."""
    from sitegen.ingest.colours import pixel_colours

    def has_colour(item: Item) -> bool:
        return any("colour" in k.lower() or "color" in k.lower() for k, _ in item.attributes)

    todo = [i for i in items if not has_colour(i)]
    if not todo:
        return items
    names = pixel_colours(todo, store)
    return [replace(i, attributes=i.attributes + tuple(("colour", c) for c in names.get(i.id, ())))
            if i.id in names and not has_colour(i) else i for i in items]


def assign_slugs(items: list[Item], pinned: dict[str, str], mode: str) -> tuple[list[Item], dict[str, str]]:
    """Give every item a URL slug. A slug, once published, is pinned in the store and never changes (a retitled
    item keeps its URL). Returns the items and the new pins to store after a successful build."""
    out: list[Item] = []
    owner: dict[str, Item] = {}
    new: dict[str, str] = {}
    for item in items:
        slug = pinned.get(item.id)
        if not slug:
            slug = _new_slug(item, mode)
            slug = slug or "item-" + hashlib.sha1(item.id.encode()).hexdigest()[:10]
            new[item.id] = slug
        if slug in owner:
            raise SlugCollisionError(urls.item_url(slug), f"item {owner[slug].id!r} ({owner[slug].source})",
                                     f"item {item.id!r} ({item.source})")
        owner[slug] = item
        out.append(replace(item, slug=slug))
    return out, new


def _new_slug(item: Item, mode: str) -> str:
    title, ident = urls.slugify(item.title, 60), urls.slugify(item.id, 40)
    if mode == "title":
        return title
    if mode == "id":
        return ident
    if title and ident and f"-{title}-" in f"-{ident}-":  # the id already says it: "food-red-apple"
        return ident
    return "-".join(p for p in (title, ident) if p)


def make_hubs(items: list[Item]) -> list[Hub]:
    """One hub per category (items without one go to "Other"), items sorted by title then id."""
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(item.category or OTHER, []).append(item)
    hubs, seen = [], {}
    for name in sorted(groups):
        slug = urls.slugify(name) or "category-" + hashlib.sha1(name.encode()).hexdigest()[:8]
        if slug in seen:
            raise SlugCollisionError(urls.hub_url(slug), f"category {seen[slug]!r}", f"category {name!r}")
        seen[slug] = name
        members = sorted(groups[name], key=lambda i: (i.title.lower(), i.id))
        hubs.append(Hub(slug=slug, name=name, item_ids=tuple(i.id for i in members)))
    return hubs


def assign_lastmod(records: list[PageRecord], previous: dict[str, PageRecord], now: str
                   ) -> tuple[list[PageRecord], list[tuple[str, str, str, str]]]:
    """lastmod moves only when a page's content changes. Returns the records and the change list
    (path, change, old title, new title) with change in added / removed / retitled / modified."""
    out, changes = [], []
    for r in records:
        prev = previous.get(r.path)
        if prev is None:
            changes.append((r.path, "added", "", r.title))
            out.append(replace(r, lastmod=now))
        elif prev.content_hash == r.content_hash and prev.lastmod:
            out.append(replace(r, lastmod=prev.lastmod))
        else:
            changes.append((r.path, "retitled" if prev.title != r.title else "modified", prev.title, r.title))
            out.append(replace(r, lastmod=now))
    current = {r.path for r in records}
    changes += [(p, "removed", prev.title, "") for p, prev in sorted(previous.items()) if p not in current]
    return out, changes


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
    cached = store.cache_get("audit", [key]).get(key)
    if cached is not None:
        return [Finding(**f) for f in cached]
    findings = audit(out_dir, cfg, min_items=cfg.collect.min_items, now=now, progress=progress)
    store.con.execute("DELETE FROM cache WHERE namespace = 'audit'")
    store.cache_put("audit", {key: [asdict(f) for f in findings]})
    return findings


# -- the atomic swap ---------------------------------------------------------------------------------------

def swap_in(new_dir: Path, out_dir: Path) -> None:
    """Make ``new_dir`` the published ``out_dir`` in one step. On Linux the two folders are exchanged with
    renameat2(RENAME_EXCHANGE), so ``out_dir`` always exists and is always a complete site."""
    if out_dir.is_dir() and not out_dir.is_symlink():
        if _exchange(new_dir, out_dir):
            _discard(new_dir)  # now holds the previous site
            return
        old = out_dir.parent / f".build-old-{os.getpid()}"
        os.rename(out_dir, old)
        os.rename(new_dir, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        if out_dir.is_symlink() or out_dir.exists():
            out_dir.unlink()
        os.rename(new_dir, out_dir)


def _discard(folder: Path) -> None:
    """Remove a replaced site. A big tree (100,000+ files) takes seconds to delete, so it is renamed and
    deleted by a detached ``rm``; if that is interrupted, the next build removes what is left."""
    trash = folder.parent / f".build-trash{time.time_ns()}-{os.getpid()}"  # the pid last: _remove_stale_tmp
    try:
        os.rename(folder, trash)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return
    try:
        import subprocess

        subprocess.Popen(["rm", "-rf", "--", str(trash)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:  # no rm (Windows): delete here
        shutil.rmtree(trash, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), rename_exchange) == 0


def _remove_stale_tmp(parent: Path) -> None:
    """Temporary folders left by builds that were killed (their process is gone)."""
    for path in parent.glob(".build-*"):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- small helpers -----------------------------------------------------------------------------------------

class _StageTimer:
    def __init__(self, summary: BuildSummary):
        self.summary = summary

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        self.summary.stages.append(StageTiming(name, time.perf_counter() - t0))


def _summary_json(summary: BuildSummary) -> dict:
    return json.loads(json.dumps(asdict(summary), default=str))


def _store_geo(store: Store, plan, site: Site, queries) -> None:
    """Queries, collections, links and PageRank of this build, for the report and later stages."""
    _store_collections(store, site.collections, queries)
    rows = [(p.path, target, role) for p in plan.pages for target, role in plan.links(p)]
    with store.transaction():
        store.con.execute("DELETE FROM links")
        store.con.execute("DELETE FROM pagerank")
        if rows:
            store._bulk_insert("links", ["src", "dst", "kind"], [list(c) for c in zip(*rows)])
        if site.pagerank:
            paths = sorted(site.pagerank)
            store._bulk_insert("pagerank", ["path", "phase", "score"],
                               [paths, ["final"] * len(paths), [float(site.pagerank[p]) for p in paths]])


def _store_collections(store: Store, collections, queries) -> None:
    with store.transaction():
        store.con.execute("DELETE FROM collections")
        store.con.execute("DELETE FROM queries")
        if collections:
            cols = [[c.slug for c in collections], [c.topic for c in collections], [c.category for c in collections],
                    [c.hub for c in collections], [json.dumps(c.item_ids) for c in collections],
                    [json.dumps([round(s, 4) for s in c.scores]) for c in collections],
                    [json.dumps(c.related) for c in collections], [c.summary for c in collections]]
            store._bulk_insert("collections", ["slug", "topic", "category", "hub", "item_ids", "scores", "related",
                                               "summary"], cols)
        if queries:
            store._bulk_insert("queries", ["item_id", "text", "category", "source", "score", "lang"],
                               [[q.item_id for q in queries], [q.text for q in queries], [q.category for q in queries],
                                [q.source for q in queries], [float(q.score) for q in queries],
                                [q.lang for q in queries]])
