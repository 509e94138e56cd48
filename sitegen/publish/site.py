"""Write the site into a folder: thumbnails, pages, sitemaps, robots.txt and llms.txt, with lastmod moved
only for pages whose content changed, and the redirects of retired pages (``publish.redirects``)."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Callable, ContextManager, Sequence

from sitegen.core import urls
from sitegen.core.models import BuildSummary, PageRecord, RetiredPage, Site
from sitegen.distribute.plan import SitePlan
from sitegen.publish.lastmod import assign_lastmod


def thumbnail_cache(cfg) -> Path:
    """Where the renditions are cached (beside the store)."""
    return cfg.store_path.parent / "thumbs"


def warm_thumbnails(cfg, items):
    """A ``ThumbnailWarmer`` encoding ``items``' missing renditions in the background (stop it before
    ``write_site``)."""
    from sitegen.publish.media import ThumbnailWarmer, rendition_widths

    return ThumbnailWarmer(items, rendition_widths(cfg.build.thumbnail_widths, cfg.build.large_width),
                           thumbnail_cache(cfg))


def write_site(plan: SitePlan, site: Site, cfg, out: Path, *, previous: dict[str, PageRecord],
               reusable: dict[str, PageRecord], previous_dir: Path | None, now: str, summary: BuildSummary,
               timer: Callable[[str], ContextManager] | None = None,
               progress: Callable[[str], Callable[[int, int], None] | None] | None = None,
               retired: Sequence[RetiredPage] = (), fresh_media: bool = False
               ) -> tuple[list[PageRecord], list[tuple[str, str, str, str]]]:
    """Returns the page records (with lastmod) and the change list against ``previous``. A page whose render
    key is that of its record in ``reusable`` is copied from ``previous_dir`` instead of rendered again.
    ``retired``: the retired collection URLs, whose redirects and stub pages are written beside the pages
    (never page records: no sitemap lists them)."""
    from sitegen.publish.feeds import write_llms_txt, write_robots, write_sitemaps
    from sitegen.publish.redirects import write_redirects
    from sitegen.publish.media import make_thumbnails, publish_media, rendition_widths, with_originals
    from sitegen.publish.render import render_site

    timer = timer or (lambda _name: nullcontext())
    progress = progress or (lambda _name: None)
    with timer("thumbnails"):
        thumbs_dir, widths = thumbnail_cache(cfg), rendition_widths(cfg.build.thumbnail_widths, cfg.build.large_width)
        images = make_thumbnails(site.items, widths, thumbs_dir, progress=progress("thumbnails"), fresh=fresh_media)
        if cfg.build.originals:
            images = with_originals(site.items, images)

    with timer("render"):
        publish_media(images, thumbs_dir, out)
        records = render_site(plan, site, cfg, images, out, previous=reusable, previous_dir=previous_dir,
                              progress=progress("render"))
        for r in records:
            summary.pages_by_kind[r.kind] = summary.pages_by_kind.get(r.kind, 0) + 1
        unchanged = sum(1 for r in records if r.path in reusable and reusable[r.path].render_key == r.render_key)
        summary.pages_unchanged = unchanged
        summary.pages_written = len(records) - unchanged

    with timer("publish"):
        records, changes = assign_lastmod(records, previous, now)
        summary.pages_removed = sorted(p for p, change, _, _ in changes if change == "removed")
        write_sitemaps(records, cfg, out)
        write_robots(cfg, out)
        write_llms_txt(plan, site, {r.path: r for r in records}, cfg, out)
        write_redirects(retired, cfg, out, {urls.collection_url(s): c.topic for s, c in plan.collections.items()})
    return records, changes
