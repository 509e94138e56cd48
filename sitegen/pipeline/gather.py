"""Gather the site before anything is written (Pelican's rule): load and validate the catalog, add pixel
colours, give every item its slug and every category its hub, read the text pages. ``sitegen build`` and
``sitegen eval`` gather the same way, so what eval measures is what a build publishes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, ContextManager

from sitegen.core.errors import BuildError, StrictError
from sitegen.core.models import Rejection, Site
from sitegen.distribute.slugs import assign_slugs, make_hubs
from sitegen.ingest.colours import with_pixel_colours


@dataclass
class Gathered:
    site: Site  # items (with pixel colours and slugs), hubs, text pages
    rows_read: int
    rejections: list[Rejection]
    new_pins: dict[str, str]  # item id -> slug, to pin once the build is published
    warnings: list[str] = field(default_factory=list)


def gather_site(cfg, store, *, run_id: int | None = None, strict: bool = False,
                progress: Callable[[str], Callable[[int, int], None] | None] | None = None,
                timer: Callable[[str], ContextManager] | None = None) -> Gathered:
    from contextlib import nullcontext

    from sitegen.ingest.load import load_catalog
    from sitegen.ingest.textpages import load_text_pages

    progress = progress or (lambda _name: None)
    timer = timer or (lambda _name: nullcontext())
    with timer("load"):
        loaded = load_catalog(cfg.catalog, cfg.root, image_cache_dir=cfg.store_path.parent / "images",
                              image_meta=store.media.image_meta(), progress=progress("load"))
        store.media.put_image_meta(loaded.image_meta)
        if run_id is not None:
            store.runs.record_rejections(run_id, loaded.rejections)
        if strict and loaded.rejections:
            first = loaded.rejections[0]
            raise StrictError(f"{len(loaded.rejections)} catalog row(s) rejected (--strict); first: "
                              f"{first.source}: {first.reason}: {first.detail}")
        if not loaded.items:
            raise BuildError(f"no items to publish: all {loaded.rows_read} catalog row(s) were rejected")

    with timer("colours"):
        items = with_pixel_colours(loaded.items, store)

    with timer("slugs"):
        warnings: list[str] = []
        items, new_pins = assign_slugs(items, store.slugs.pinned("item"), cfg.catalog.slug, warnings=warnings,
                                       strict=strict)
        hubs = make_hubs(items, warnings=warnings, strict=strict)
        text_pages, page_warnings = load_text_pages(cfg.path(cfg.build.pages))
    return Gathered(Site(items=items, hubs=hubs, pages=text_pages), loaded.rows_read, list(loaded.rejections),
                    new_pins, [*warnings, *page_warnings])
