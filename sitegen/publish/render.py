"""Render the site plan to HTML with Jinja2.

Each page gets a *context* of plain data (strings, numbers, lists, dicts) built from the plan; the same
context feeds the templates and the JSON-LD graph, and its canonical JSON (with the templates' fingerprint
and the site settings) is the page's ``render_key``. A page whose key did not change since the previous
build is hard-linked from the previous output instead of being rendered again.

Links: a page draws exactly the links of ``SitePlan.links(page)`` (header, breadcrumbs, body, pagination,
footer); a link to the page itself is shown as text with ``aria-current="page"``, as the plan leaves it out.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from importlib import resources
from pathlib import Path
from typing import Callable

from sitegen.aggregate import pagecopy
from sitegen.aggregate.pagecopy import QUESTION_WORDS, CollectionCopy, is_question  # noqa: F401 (re-exported)
from sitegen.aggregate.summary import summarise
from sitegen.publish import jsonld
from sitegen.publish.meta import (DESCRIPTION_MAX, DESCRIPTION_MIN, TITLE_MAX, capitalise, clean, clip,  # noqa: F401
                                   compose, duplicates, file_size, fit, join_words, og_locale, sentence,
                                   sentences_of, title_tag, unique_descriptions)
from sitegen.core import urls
from sitegen.core.config import CatalogSection, Config
from sitegen.publish.media import ImageSet
from sitegen.core.models import ImageEntry, Item, PageRecord, Site
from sitegen.core.lexicon import site_lexicon
from sitegen.core.text import colour_values, item_text
from sitegen.distribute.plan import PagePlan, SitePlan

PACKAGED_TEMPLATES = Path(str(resources.files("sitegen") / "theme"))  # the default theme, inside the package
TEMPLATES = {"home": "home.html", "hub": "hub.html", "collection": "collection.html", "item": "item.html",
             "page": "page.html"}
CARD_SIZES = "(min-width: 1240px) 230px, (min-width: 900px) 22vw, (min-width: 600px) 30vw, 46vw"
MAIN_SLOT = 560  # px: the item page's image column on a wide screen
OG_LARGE = 1200  # px: the width of a large link-preview image (og:image, twitter summary_large_image)
PROGRESS_EVERY = 500

Progress = Callable[[int, int], None]


# -- templates ----------------------------------------------------------------------------------------
def packaged_templates() -> Path:
    """The default theme shipped in the package (``sitegen/theme/``: templates, assets, report.html)."""
    return PACKAGED_TEMPLATES


def template_dirs(cfg: Config) -> list[Path]:
    """The site's own template folder (when it exists) first, then the packaged templates."""
    packaged = packaged_templates()
    own = cfg.path(cfg.build.templates)
    dirs = [packaged]
    if own.is_dir() and own.resolve() != packaged.resolve():
        dirs.insert(0, own)
    return dirs


def make_environment(dirs: list[Path]):
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    class PlainDataEnvironment(Environment):
        """Contexts are plain dicts: look ``p.title`` up as a key first (a failed attribute lookup per
        access is a large part of render time)."""

        def getattr(self, obj, attribute):
            if type(obj) is dict:
                try:
                    return obj[attribute]
                except KeyError:
                    pass
            return Environment.getattr(self, obj, attribute)

    env = PlainDataEnvironment(loader=FileSystemLoader([str(d) for d in dirs]), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, auto_reload=False,
                      keep_trailing_newline=True, cache_size=-1)
    env.filters["plural"] = plural
    return env


def plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def install_card_cache(env) -> None:
    """A ``card(c, eager)`` global: the ``card`` macro of macros.html, rendered once per item and variant
    (a macro call costs more than the rest of a card's page, and an item shows on many pages)."""
    macro = env.get_template("macros.html").module.card
    cache: dict[tuple[str, bool], object] = {}

    def card(c: dict, eager: bool = False):
        key = (c["path"], bool(eager))
        html = cache.get(key)
        if html is None:
            html = cache[key] = macro(c, bool(eager))
        return html

    env.globals["card"] = card


def templates_fingerprint(dirs: list[Path]) -> str:
    """Hash of every template (not the static assets, nor the review app's ``review/``) in search order, and of
    the code that builds pages."""
    h = hashlib.sha256()
    for n, d in enumerate(dirs):
        h.update(f"dir:{n}:{len(dirs)}\0".encode())
        for f in sorted(p for p in d.rglob("*") if p.is_file() and p.suffix != ".md"
                        and not {"assets", "review"} & set(p.relative_to(d).parts)):  # review: the review app
            h.update(f.relative_to(d).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(f.read_bytes()).digest())
    for module in (__file__, jsonld.__file__):
        h.update(Path(module).read_bytes())
    return h.hexdigest()


def copy_assets(dirs: list[Path], out_dir: Path) -> int:
    """``templates/assets/*`` (packaged first, then the site's own, which wins) -> ``out_dir/assets/``."""
    placed = 0
    for d in reversed(dirs):
        src = d / "assets"
        if not src.is_dir():
            continue
        for f in sorted(src.rglob("*")):
            if f.is_file():
                dest = out_dir / "assets" / f.relative_to(src)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, dest)
                placed += 1
    return placed


def colours_of(item: Item) -> list[str]:
    """The colours an item page names (``core.text.colour_values`` of its first colour attribute: the
    catalog's colour column, or the dominant pixel colour), cleaned for the page."""
    return [c for c in (clean(v) for v in colour_values(item, first_attribute=True)) if c]


class Card:
    """An item as a card on listing pages (shared by every page that shows it). It enters a page's
    render key as its own digest, so a hub page does not re-serialise 120 cards to hash itself."""

    __slots__ = ("path", "title", "img", "ld", "digest")

    def __init__(self, path: str, title: str, img: dict | None, ld: dict):
        self.path, self.title, self.img, self.ld = path, title, img, ld
        data = _digest({"path": path, "title": title, "img": img, "ld": ld})
        self.digest = "card:" + hashlib.sha256(data).hexdigest()

    def __getitem__(self, key: str):
        return getattr(self, key)


def _card_digest(obj):
    if isinstance(obj, Card):
        return obj.digest
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _digest(data) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=_card_digest).encode("utf-8")


# -- contexts -----------------------------------------------------------------------------------------
class Contexts:
    """Builds every page's template context; per-item data is computed once and shared between pages."""

    def __init__(self, plan: SitePlan, site: Site, cfg: Config, images: dict[str, ImageSet],
                 logo: tuple[str, int, int] = ("", 0, 0)):
        self.plan, self.site, self.cfg, self.images = plan, site, cfg, images
        self.base = cfg.site.base_url.rstrip("/")
        self.site_title = clean(cfg.site.title)
        self.hub_of: dict[str, str] = {}
        for hub in plan.hubs.values():
            for item_id in hub.item_ids:
                self.hub_of.setdefault(item_id, hub.slug)
        self.topics: dict[str, list[str]] = {
            item_id: [clean(plan.topic(s)) for s in slugs if s in plan.collections or s in plan.aliases]
            for item_id, slugs in site.annotations.items()}
        self._cards: dict[str, Card] = {}
        self._copies: dict[str, CollectionCopy] = {}
        self.words = site_lexicon(cfg, [item_text(i) for i in plan.items.values()])
        self.profile = pagecopy.profile_catalog(plan.items.values(), self.words.audiences)
        self.globals = {
            "site": {"title": self.site_title, "description": clean(cfg.site.description),
                     "language": cfg.site.language, "base_url": self.base + "/",
                     "organization": clean(cfg.site.organization), "logo": logo[0], "logo_width": logo[1],
                     "logo_height": logo[2], "locale": og_locale(cfg.site.locale, cfg.site.language),
                     "twitter_site": cfg.site.twitter_site},
            "nav": [{"name": plan.hubs[s].name, "path": urls.hub_url(s)} for s in plan.nav_hubs],
            "nav_more": [{"name": plan.hubs[s].name, "path": urls.hub_url(s)} for s in plan.nav_more],
            "footer": [{"name": plan.text_pages[s].title, "path": urls.text_page_url(s)} for s in plan.footer],
        }
        self.rights = self._site_rights()
        self.globals["site"]["rights"] = self._absolute_rights(self.rights)  # the logo's (jsonld)
        self.meta = self._titles_and_descriptions()

    def url(self, path: str) -> str:
        return self.base + path

    # per-item data -------------------------------------------------------------------------------
    def _site_rights(self) -> dict[str, str]:
        return {name: clean(getattr(self.cfg.site, name)) for name in CatalogSection.RIGHTS}

    def item_rights(self, item: Item) -> dict[str, str]:
        """The item's license, license_page, credit and copyright: its catalog values, else the [site]
        defaults; URLs absolute (a site path such as "/licence/" resolved against the base URL)."""
        return self._absolute_rights({name: clean(getattr(item, name, "")) or self.rights[name]
                                      for name in CatalogSection.RIGHTS})

    def _absolute_rights(self, rights: dict[str, str]) -> dict[str, str]:
        """``rights`` with a site path ("/licence/") as the license or license page made an absolute URL."""
        return {name: self.url(value) if value and name in ("license", "license_page") and value.startswith("/")
                else value for name, value in rights.items()}

    def img(self, item_id: str, sizes: str = CARD_SIZES) -> dict | None:
        image_set = self.images.get(item_id)
        if not image_set or not image_set.renditions:
            return None
        rs = image_set.renditions
        src = next((r for r in rs if r.width >= 320), rs[-1])
        return {"src": src.url, "srcset": ", ".join(f"{r.url} {r.width}w" for r in rs), "sizes": sizes,
                "width": src.width, "height": src.height}

    def image_ld(self, item: Item, keywords: list[str]) -> dict | None:
        """The item image's ImageObject, or None when the item has no published image."""
        image_set = self.images.get(item.id)
        if not image_set or not image_set.renditions:
            return None
        largest = image_set.renditions[-1]
        return jsonld.image_object(
            page_url=self.url(urls.item_url(item.slug)), name=clean(item.title),
            caption=clean(item.description) or clean(item.title), content_url=self.url(largest.url),
            thumbnail_url=self.url(image_set.renditions[0].url), width=largest.width, height=largest.height,
            keywords=keywords, date=item.date, rights=self.item_rights(item))

    def card(self, item_id: str) -> Card:
        card = self._cards.get(item_id)
        if card is None:
            item = self.plan.items[item_id]
            card = Card(urls.item_url(item.slug), clean(item.title), self.img(item_id),
                        self.image_ld(item, self.topics.get(item_id, [])))
            self._cards[item_id] = card
        return card

    def og_image(self, item_id: str | None) -> dict | None:
        """The link-preview image: the narrowest rendition at least ``OG_LARGE`` px wide (``large``: a
        summary_large_image card), else the largest there is (a summary card)."""
        image_set = self.images.get(item_id) if item_id else None
        if not image_set or not image_set.renditions:
            return None
        r = next((r for r in image_set.renditions if r.width >= OG_LARGE), image_set.renditions[-1])
        return {"url": self.url(r.url), "width": r.width, "height": r.height, "large": r.width >= OG_LARGE,
                "alt": clean(self.plan.items[item_id].title)}

    # titles and descriptions ---------------------------------------------------------------------
    def _raw_meta(self, page: PagePlan) -> tuple[str, str, list[str], list[str], list[str]]:
        """(display name, title suffix, description sentences, pad sentences, extras) before de-duplication;
        ``extras``: grounded facts, best first, that tell the page apart from one whose description reads the
        same."""
        plan, site_title = self.plan, self.site_title
        if page.kind == "home":
            n_items = len(plan.items)
            facts = f"{n_items:,} images in {len(plan.hubs)} categories"
            if plan.collections:
                facts += f" and {len(plan.collections):,} collections"
            return site_title, "", [sentence(self.cfg.site.description), sentence(facts + f" on {site_title}")], [], []
        if page.kind == "hub":
            hub = plan.hubs[page.key]
            n = len(hub.item_ids)
            pad = [f"Browse all {hub.name} images on {site_title}."]
            if page.page_number > 1:
                first = (page.page_number - 1) * self.cfg.build.hub_page_size + 1
                last = first + len(page.items) - 1
                return (hub.name, f" \u2013 page {page.page_number}",
                        [f"{hub.name}, page {page.page_number} of {len(page.pagination)}: images {first:,}\u2013"
                         f"{last:,} of {n:,}."], pad, [])
            topics = [clean(plan.collections[s].topic) for s in hub.collection_slugs[:3] if s in plan.collections]
            first = f"{n:,} images in {hub.name}"
            if topics:
                first += (f", in {len(hub.collection_slugs)} collections such as " if len(hub.collection_slugs) > 1
                          else ", in the collection ") + join_words(topics)
            return hub.name, "", [sentence(first)], pad, [f"{n:,} images."]
        if page.kind == "collection":
            coll = plan.collections[page.key]
            copy = self.copy(page.key)
            return (capitalise(clean(coll.topic)), "", list(copy.sentences),
                    [f"{len(coll.item_ids)} images in {clean(coll.hub)} on {site_title}."], list(copy.extras))
        if page.kind == "item":
            item = plan.items[page.key]
            hub_name = plan.hubs[self.hub_of[item.id]].name if item.id in self.hub_of else (item.category or "")
            colours = colours_of(item)
            fact = f"In {hub_name}" if hub_name else ""
            if colours:
                fact += (", colour " if len(colours) == 1 else ", colours ") + join_words(colours)
            topics = self.topics.get(item.id, [])
            parts = [sentence(item.description or item.title), sentence(fact),
                     sentence("Featured in " + join_words(topics[:3])) if topics else "",
                     sentence("Keywords: " + ", ".join(item.keywords[:6])) if item.keywords else ""]
            extras = [f"Dated {item.date[:10]}." if item.date else "", f"Item {clean(item.id)}."]
            return clean(item.title), "", parts, [f"More {hub_name} images on {site_title}."], [e for e in extras if e]
        text = plan.text_pages[page.key]
        if clean(text.description):
            return clean(text.title), "", [clean(text.description)], [], [sentence(f"{clean(text.title)} on {site_title}")]
        return clean(text.title), "", [], [f"{clean(text.title)} \u2013 {site_title}."], []

    def _titles_and_descriptions(self) -> dict[str, tuple[str, str, str]]:
        """path -> (title tag, description, og title); titles and descriptions made unique site-wide."""
        raw = {p.path: (p, *self._raw_meta(p)) for p in self.plan.pages}
        titles = {path: title_tag(r[1], self.site_title, r[2]) for path, r in raw.items()}
        descs = {path: compose(r[3], r[4]) for path, r in raw.items()}
        for path, (is_id, label) in duplicates(titles, raw).items():
            name, suffix = raw[path][1], raw[path][2]
            titles[path] = title_tag(name, self.site_title, f"{suffix} ({label})" if is_id else f"{suffix} #{label}")
        unique_descriptions(descs, {path: (r[3], r[4], r[5]) for path, r in raw.items()})
        return {path: (titles[path], descs[path], r[1] + r[2]) for path, r in raw.items()}

    def copy(self, slug: str) -> CollectionCopy:
        """The collection page's copy (``aggregate.pagecopy``), built once per collection."""
        copy = self._copies.get(slug)
        if copy is None:
            coll = self.plan.collections[slug]
            members = [self.plan.items[i] for i in coll.item_ids if i in self.plan.items]
            copy = pagecopy.collection_copy(coll, members, self.profile, self.words.implies,
                                            summary=self._authored_summary(coll, members))
            self._copies[slug] = copy
        return copy

    @staticmethod
    def _authored_summary(coll, members: list[Item]) -> str:
        """The collection's own summary when it is not the catalog-facts one collect writes (a topic source's or
        a plugin's text), else ""."""
        own = clean(coll.summary)
        return "" if not own or own == clean(summarise(coll.topic, members)) else own

    def summary(self, slug: str) -> str:
        """The collection's lead sentence (answer-first, from catalog facts)."""
        return self.copy(slug).lead

    # page contexts -------------------------------------------------------------------------------
    def context(self, page: PagePlan) -> dict:
        title, description, og_title = self.meta[page.path]
        ctx = {"kind": page.kind, "path": page.path, "url": self.url(page.path), "title": title,
               "description": description, "og_title": og_title, "h1": page.title, "crumb": page.title,
               "crumbs": [{"name": n, "path": p} for n, p in page.breadcrumbs],
               "rel_prev": "", "rel_next": "", "og_image": None,
               "alternates": [{"lang": lang, "href": href} for lang, href in urls.alternates(
                   self.base + "/", self.cfg.site.language, self.cfg.site.translations, page.path)]}
        getattr(self, f"_ctx_{page.kind}")(page, ctx)
        return ctx

    def _collection_link(self, slug: str) -> dict:
        """A link to a collection page, or (an alias key) to an alias line on one, named by the alias's topic."""
        coll = self.plan.aliases[slug][0] if slug in self.plan.aliases else self.plan.collections[slug]
        return {"name": capitalise(clean(self.plan.topic(slug))), "path": urls.collection_url(slug),
                "count": len(coll.item_ids)}

    def _ctx_home(self, page: PagePlan, ctx: dict) -> None:
        ctx["h1"] = ctx["crumb"] = self.site_title
        ctx["intro"] = clean(self.cfg.site.description)
        hubs = []
        for slug in page.hubs:
            hub = self.plan.hubs[slug]
            hubs.append({"name": hub.name, "path": urls.hub_url(slug), "count": len(hub.item_ids),
                         "description": self.meta[urls.hub_url(slug)][1] if urls.hub_url(slug) in self.meta else "",
                         "collections": len(hub.collection_slugs),
                         "card": self.card(hub.item_ids[0]) if hub.item_ids else None})
        colls = []
        for slug in page.collections:
            link = self._collection_link(slug)
            ids = self.plan.collections[slug].item_ids
            link["card"] = self.card(ids[0]) if ids else None
            link["description"] = self.meta[link["path"]][1] if link["path"] in self.meta else ""
            colls.append(link)
        ctx["hubs"], ctx["collections"] = hubs, colls
        ctx["pages"] = [{"name": self.plan.text_pages[s].title, "path": urls.text_page_url(s),
                         "description": self.plan.text_pages[s].description} for s in page.text_pages]
        firsts = [self.plan.hubs[s].item_ids[:1] for s in page.hubs]
        firsts += [self.plan.collections[s].item_ids[:1] for s in page.collections]
        first = next((ids[0] for ids in firsts if ids and ids[0] in self.images), None)
        ctx["og_image"] = self.og_image(first)

    def _ctx_hub(self, page: PagePlan, ctx: dict) -> None:
        hub = self.plan.hubs[page.key]
        n, pages = len(hub.item_ids), max(1, len(page.pagination))
        ctx["h1"] = ctx["crumb"] = hub.name if page.page_number == 1 else f"{hub.name} – page {page.page_number}"
        ctx["name"] = hub.name
        if page.page_number == 1:
            intro = f"{n:,} images in {hub.name}"
            if hub.collection_slugs:
                intro += f", grouped into {len(hub.collection_slugs):,} " + (
                    "collection" if len(hub.collection_slugs) == 1 else "collections")
            ctx["intro"] = intro + "."
        else:
            first = (page.page_number - 1) * self.cfg.build.hub_page_size + 1
            ctx["intro"] = f"Images {first:,}–{first + len(page.items) - 1:,} of {n:,} in {hub.name} (page " \
                           f"{page.page_number} of {pages})."
        ctx["collections"] = [self._collection_link(s) for s in page.collections]
        ctx["cards"] = [self.card(i) for i in page.items]
        ctx["pagination"] = [{"n": num, "path": path} for num, path in page.pagination]
        ctx["page_number"] = page.page_number
        by_number = dict(page.pagination)
        ctx["rel_prev"] = self.url(by_number[page.page_number - 1]) if page.page_number - 1 in by_number else ""
        ctx["rel_next"] = self.url(by_number[page.page_number + 1]) if page.page_number + 1 in by_number else ""
        ctx["og_image"] = self.og_image(page.items[0]) if page.items else None

    def _ctx_collection(self, page: PagePlan, ctx: dict) -> None:
        coll = self.plan.collections[page.key]
        topic = capitalise(clean(coll.topic))
        copy = self.copy(page.key)
        ctx["h1"] = ctx["crumb"] = topic
        ctx["summary"] = copy.lead
        ctx["question"] = pagecopy.as_question(topic) if is_question(topic) else ""
        ctx["hub"] = clean(coll.hub)
        answered = {s.anchor for s in copy.sections if s.anchor}
        ctx["aliases"] = [{"name": capitalise(clean(a.topic)), "id": a.anchor} for a in coll.aliases
                          if a.anchor not in answered]
        ctx["copy"] = copy_context(copy)
        ctx["cards"] = [self.card(i) for i in page.items]
        members = [self.plan.items[i] for i in coll.item_ids if i in self.plan.items]
        related = []
        for slug in page.collections:
            link = self._collection_link(slug)
            other = self.plan.aliases[slug][0] if slug in self.plan.aliases else self.plan.collections[slug]
            ids = (self.plan.aliases[slug][1].item_ids if slug in self.plan.aliases else ()) or other.item_ids
            link["reason"] = pagecopy.related_reason(members, [self.plan.items[i] for i in ids if i in self.plan.items],
                                                     self.profile, clean(coll.hub), clean(other.hub))
            related.append(link)
        ctx["related"] = related
        ctx["og_image"] = self.og_image(page.items[0]) if page.items else None

    def _ctx_item(self, page: PagePlan, ctx: dict) -> None:
        item = self.plan.items[page.key]
        hub = self.plan.hubs.get(self.hub_of.get(item.id, ""))
        topics = self.topics.get(item.id, [])
        keywords = [clean(k) for k in item.keywords if clean(k)]
        ld_keywords = list(dict.fromkeys(topics + keywords))
        ctx["h1"] = ctx["crumb"] = clean(item.title)
        ctx["item"] = {
            "title": clean(item.title), "description": clean(item.description), "keywords": keywords,
            "colours": colours_of(item), "date": item.date, "width": item.width, "height": item.height,
            "img": None, "ld": self.image_ld(item, ld_keywords), "original": None, "download": None}
        big = self.images.get(item.id)
        if big and big.renditions:  # the main image: the largest rendition, never shown wider than it is
            r = big.renditions[-1]
            ctx["item"]["img"] = dict(self.img(item.id, main_sizes(r.width)), src=r.url, width=r.width,
                                      height=r.height)
            o = big.original
            if o is not None:
                ctx["item"]["original"] = {"url": o.url, "format": o.format, "width": o.width, "height": o.height,
                                           "size": file_size(o.bytes)}
            ctx["item"]["download"] = ({"url": o.url, "name": o.name} if o is not None else
                                       {"url": r.url, "name": r.url.rsplit("/", 1)[1]})
        ctx["hub"] = {"name": hub.name if hub else clean(item.category), "path": urls.hub_url(hub.slug) if hub else "",
                      "linked": bool(hub and hub.slug in page.hubs)}
        ctx["collections"] = [self._collection_link(s) for s in page.collections]
        ctx["siblings"] = [self.card(i) for i in page.siblings]
        ctx["og_image"] = self.og_image(item.id)

    def _ctx_page(self, page: PagePlan, ctx: dict) -> None:
        text = self.plan.text_pages[page.key]
        ctx["h1"] = ctx["crumb"] = clean(text.title)
        ctx["html"] = text.html


def main_sizes(width: int) -> str:
    """``sizes`` of the item page's image: the column on a wide screen, the viewport below, never more than
    the largest rendition's own width (a smaller image is shown at its size, not blown up)."""
    if width <= MAIN_SLOT:
        return f"(min-width: {width + 40}px) {width}px, calc(100vw - 40px)"
    return f"(min-width: 960px) {MAIN_SLOT}px, (min-width: {width + 40}px) {width}px, calc(100vw - 40px)"


# -- render -------------------------------------------------------------------------------------------
def copy_context(copy: CollectionCopy) -> dict:
    """A collection's copy as the plain data templates and the render key read."""
    facts = []
    for f in copy.facts:
        facts.append({"role": f.role, "label": f.label, "counts": [{"value": v, "n": n} for v, n in f.counts],
                      "more": f.more, "items": f.items, "low": f.low, "high": f.high})
    guide = None
    if copy.guide:
        g = copy.guide
        guide = {"purpose": g.purpose, "usage": list(g.usage), "text": g.text,
                 "parts": [{"kind": p.kind, "n": p.count, "colours": list(p.colours), "every": p.every}
                           for p in g.parts]}
    return {"lead": copy.lead, "summary": copy.summary, "facts": facts, "guide": guide,
            "sections": [{"question": s.question, "answer": s.answer, "anchor": s.anchor} for s in copy.sections]}


def page_images(g: dict, ctx: dict) -> tuple[ImageEntry, ...]:
    """Images in the page's main content, for the image sitemap (largest rendition, absolute URL)."""
    lds = [ctx["item"]["ld"]] if ctx["kind"] == "item" else [e["image"] for e in jsonld.list_entries(g["site"], ctx)]
    seen: set[str] = set()
    out = []
    for ld in lds:
        if ld and ld["contentUrl"] not in seen:
            seen.add(ld["contentUrl"])
            out.append(ImageEntry(ld["contentUrl"], ld["name"], ld.get("caption", "")))
    return tuple(out)


def _publish_logo(cfg: Config, out_dir: Path) -> tuple[str, int, int]:
    """Copy ``site.logo`` to ``assets/logo.<ext>``: (absolute URL, width, height); the size is 0 × 0 for an
    image Pillow cannot read (an SVG). ("", 0, 0) without a logo."""
    if not cfg.site.logo:
        return "", 0, 0
    for candidate in (cfg.path(cfg.site.logo), cfg.path("content") / cfg.site.logo):
        if candidate.is_file():
            dest = out_dir / "assets" / ("logo" + candidate.suffix.lower())
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(candidate, dest)
            width = height = 0
            try:
                from PIL import Image

                with Image.open(candidate) as im:
                    width, height = im.size
            except Exception:  # not a raster image Pillow reads (an SVG): no size in JSON-LD
                pass
            return urls.absolute(cfg.site.base_url, f"/assets/{dest.name}"), width, height
    return "", 0, 0


def _place(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except FileExistsError:
        dest.unlink()
        _place(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def _write(dest: Path, data: bytes) -> None:
    """Write a new file: an existing one is unlinked first, never truncated, as it may be a hard link
    shared with the previous build."""
    try:
        fh = open(dest, "xb")
    except FileExistsError:
        dest.unlink()
        fh = open(dest, "xb")
    with fh:
        fh.write(data)


def render_site(plan: SitePlan, site: Site, cfg: Config, images: dict[str, ImageSet], out_dir: Path, *,
                previous: dict[str, PageRecord], previous_dir: Path | None,
                progress: Progress | None = None) -> list[PageRecord]:
    """Write every page of ``plan`` under ``out_dir`` (and the static assets); one PageRecord per page."""
    from markupsafe import Markup

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dirs = template_dirs(cfg)
    env = make_environment(dirs)
    install_card_cache(env)
    copy_assets(dirs, out_dir)
    logo = _publish_logo(cfg, out_dir)
    contexts = Contexts(plan, site, cfg, images, logo)
    g = contexts.globals
    site_key = hashlib.sha256(templates_fingerprint(dirs).encode() + b"\0" + _digest(g)).digest()
    templates = {kind: env.get_template(name) for kind, name in TEMPLATES.items()}
    in_place = previous_dir is not None and Path(previous_dir).resolve() == out_dir.resolve()
    made_dirs: set[Path] = set()
    records: list[PageRecord] = []
    total = len(plan.pages)
    for n, page in enumerate(plan.pages, start=1):
        ctx = contexts.context(page)
        key = hashlib.sha256(site_key + _digest(ctx)).hexdigest()
        rel = urls.output_file(page.path)
        dest = out_dir / rel
        if dest.parent not in made_dirs:
            dest.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.add(dest.parent)
        prev = previous.get(page.path)
        src = previous_dir / rel if previous_dir is not None else None
        if prev is not None and prev.render_key == key and src is not None and src.is_file():
            if not in_place:
                _place(src, dest)
            records.append(PageRecord(page.path, page.kind, prev.title, prev.description, prev.content_hash,
                                      prev.images, "", True, key))
        else:
            ld = Markup(jsonld.script_json(g["site"], ctx))
            data = templates[page.kind].render(g=g, p=ctx, ld=ld).encode("utf-8")
            _write(dest, data)
            records.append(PageRecord(page.path, page.kind, ctx["title"], ctx["description"],
                                      hashlib.sha256(data).hexdigest(), page_images(g, ctx), "",
                                      True, key))
        if progress and (n % PROGRESS_EVERY == 0 or n == total):
            progress(n, total)
    return records
