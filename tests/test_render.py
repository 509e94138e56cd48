"""render.py, jsonld.py, textpages.py: structural checks on a small site built from code."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from sitegen.core import urls
from sitegen.core.config import Config, SiteSection
from sitegen.publish.media import make_thumbnails, rendition_widths, with_originals
from sitegen.core.models import Collection, Hub, Item, Site
from sitegen.distribute.plan import link_graph, plan_site
from sitegen.publish.render import clip, render_site, title_tag
from sitegen.ingest.textpages import load_text_pages

HOSTILE = "<script>alert(1)</script> \"quotes\" & 'apostrophes'"
CATEGORIES = ("Shoes", "Bags", "Dresses")
COLOURS = ("red", "green", "blue", "black")


# -- a small site, built from code --------------------------------------------------------------------
def make_image(path: Path, size: tuple[int, int], colour: tuple[int, ...], mode: str = "RGB") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new(mode, size, colour)
    for x in range(0, size[0], 7):  # some structure, so encoders have work to do
        img.putpixel((x, (x * 3) % size[1]), (255, 255, 255, 255)[: len(mode)])
    img.save(path, "PNG")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_site(root: Path, n_items: int = 12, *, hostile: bool = False, pages: bool = True,
              titles: dict[int, str] | None = None) -> tuple[Site, Config]:
    """``n_items`` items over three categories with generated PNGs, two collections (one question-phrased)
    with annotations, and two markdown text pages. Deterministic."""
    root = Path(root)
    items = []
    for n in range(n_items):
        category = CATEGORIES[n % len(CATEGORIES)]
        colour = COLOURS[n % len(COLOURS)]
        size = [(400, 500), (200, 260), (700, 420)][n % 3]
        mode = "RGBA" if n == 4 else "RGB"
        fill = (40 + 15 * n % 200, 90, 140, 128) if mode == "RGBA" else (40 + 15 * n % 200, 90, 140)
        image = root / "images" / f"{n}.png"
        sha = make_image(image, size, fill, mode)
        title = (titles or {}).get(n) or f"{colour.capitalize()} {category.lower()[:-1]} number {n}"
        if hostile and n == 1:
            title = HOSTILE
        item_id = f"i{n:03d}"
        slug = f"{urls.slugify(title) or 'item'}-{item_id}"
        items.append(Item(id=item_id, title=title, image=str(image), image_sha=sha, width=size[0], height=size[1],
                          description=f"A {colour} {category.lower()} photographed in the studio." if n % 2 else "",
                          category=category, keywords=(colour, category.lower()), date="2023-05-0%d" % (1 + n % 9),
                          attributes=(("colour", colour),), source=f"catalog.csv:{n + 2}", slug=slug))
    by_cat: dict[str, list[str]] = {}
    for item in items:
        by_cat.setdefault(item.category, []).append(item.id)
    red = tuple(i.id for i in items if i.attr("colour") in ("red", "black"))
    how = tuple(i.id for i in items if i.category in ("Shoes", "Bags"))[:6]
    collections = [
        Collection("red-and-black-looks", "red and black looks", "style", "Shoes", red, related=("how-to-style-bags",),
                   summary="" if not hostile else HOSTILE),
        Collection("how-to-style-bags", "how to style bags", "use_case", "Bags", how, related=("red-and-black-looks",),
                   summary="Six images of shoes and bags from the catalog, photographed in the studio."),
    ]
    hubs = [Hub(urls.slugify(cat), cat, tuple(ids),
                tuple(c.slug for c in collections if c.hub == cat)) for cat, ids in sorted(by_cat.items())]
    annotations: dict[str, tuple[str, ...]] = {}
    for c in collections:
        for i in c.item_ids:
            annotations[i] = annotations.get(i, ()) + (c.slug,)
    text_pages = []
    if pages:
        folder = root / "content" / "pages"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "about.md").write_text('+++\ntitle = "About us"\ndescription = "Who makes this gallery and how '
                                         'the images are chosen, grouped and described."\n+++\n# About us\n\n'
                                         'We **curate** images. <b>raw html</b>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n'
                                         '\n## Contact\n\nWrite to us.\n', encoding="utf-8")
        (folder / "privacy-policy.md").write_text("# Privacy\n\nWe store no cookies at all on this static site.\n",
                                                  encoding="utf-8")
        text_pages, _ = load_text_pages(folder)
    site = Site(items=items, hubs=hubs, pages=text_pages, collections=collections, annotations=annotations,
                featured=("red-and-black-looks", "how-to-style-bags"))
    cfg = Config(site=SiteSection(title="Test Gallery", base_url="https://example.org/shop",
                                  description="A small gallery of shoes, bags and dresses, built for tests.",
                                  language="en"), root=root)
    cfg.build.hub_page_size = 4
    return site, cfg


def build(root: Path, out: str = "out", site_cfg=None, previous=None, previous_dir=None, **kw):
    site, cfg = site_cfg or make_site(root, **kw)
    images = make_thumbnails(site.items, rendition_widths(cfg.build.thumbnail_widths, cfg.build.large_width),
                             root / "cache")
    if cfg.build.originals:
        images = with_originals(site.items, images)
    plan = plan_site(site, hub_page_size=cfg.build.hub_page_size)
    records = render_site(plan, site, cfg, images, root / out, previous=previous or {}, previous_dir=previous_dir)
    return site, cfg, plan, records


# -- a tiny HTML reader -------------------------------------------------------------------------------
class Page(HTMLParser):
    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: dict[int, str] = {}
        self.scripts: list[tuple[dict, str]] = []
        self._open: list[int] = []
        self._script: dict | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag in ("title", "h1", "h2", "a"):
            self._open.append(len(self.tags) - 1)
            self.text[len(self.tags) - 1] = ""
        if tag == "script":
            self._script = attrs
            self.scripts.append((attrs, ""))

    def handle_endtag(self, tag):
        if tag in ("title", "h1", "h2", "a") and self._open:
            self._open.pop()
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)
        for i in self._open:
            self.text[i] += data

    def find(self, tag, **attrs) -> list[dict]:
        def match(a: dict, key: str, value: str) -> bool:
            key = key.rstrip("_").replace("_", "-")
            return value in (a.get(key) or "").split() if key == "class" else a.get(key) == value

        return [a for t, a in self.tags if t == tag and all(match(a, k, v) for k, v in attrs.items())]

    def texts(self, tag) -> list[str]:
        return [self.text[i] for i, (t, _) in enumerate(self.tags) if t == tag]


def read(out: Path, path: str) -> tuple[str, Page]:
    text = (out / urls.output_file(path)).read_text(encoding="utf-8")
    return text, Page(text)


def graph_of(page: Page) -> dict:
    (attrs, text), = [s for s in page.scripts if s[0].get("type") == "application/ld+json"]
    return json.loads(text)


def _in_card(page: Page, index: int) -> bool:
    """Is the tag at ``index`` the first <a> after an <li class="card">?"""
    for j in range(index - 1, -1, -1):
        tag, attrs = page.tags[j]
        if tag == "li":
            return "card" in (attrs.get("class") or "").split()
        if tag == "a":
            return False
    return False


def strings(data) -> list[str]:
    if isinstance(data, dict):
        return [s for v in data.values() for s in strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in strings(v)]
    return [data] if isinstance(data, str) else []


def nodes(graph: dict, kind: str) -> list[dict]:
    return [n for n in graph["@graph"] if n["@type"] == kind]


# -- tests --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    site, cfg, plan, records = build(root)
    return root, site, cfg, plan, records


def test_every_page_is_written_once_with_a_record(built):
    root, site, cfg, plan, records = built
    assert [r.path for r in records] == [p.path for p in plan.pages]
    kinds = Counter(r.kind for r in records)
    assert kinds["home"] == 1 and kinds["page"] == 2 and kinds["collection"] == 2 and kinds["item"] == 12
    assert kinds["hub"] == 3 + 0  # 4 items per hub, page size 4
    for r in records:
        data = (root / "out" / urls.output_file(r.path)).read_bytes()
        assert hashlib.sha256(data).hexdigest() == r.content_hash
        assert b"\r\n" not in data and data.startswith(b"<!doctype html>\n")
        assert r.lastmod == "" and r.in_sitemap and len(r.render_key) == 64
    assert (root / "out" / "assets" / "site.css").is_file()
    assert (root / "out" / "assets" / "favicon.svg").is_file()


def test_head_and_structure_of_every_page(built):
    root, site, cfg, plan, records = built
    titles, descriptions = set(), set()
    for record in records:
        text, page = read(root / "out", record.path)
        assert page.find("html")[0]["lang"] == "en"
        assert len(page.texts("title")) == 1 and page.texts("title")[0] == record.title
        assert len(page.texts("h1")) == 1
        assert [m["content"] for m in page.find("meta", name="description")] == [record.description]
        assert 40 <= len(record.description) <= 155, record.description
        canon = page.find("link", rel="canonical")
        assert [c["href"] for c in canon] == ["https://example.org/shop" + record.path]
        assert page.find("meta", property="og:url")[0]["content"] == canon[0]["href"]
        assert page.find("meta", name="viewport") and page.find("meta", charset="utf-8")
        assert page.find("link", rel="icon")[0]["href"] == "/assets/favicon.svg"
        assert len(page.find("nav", aria_label="breadcrumb")) == 1
        assert not [s for s in page.scripts if s[0].get("type") != "application/ld+json"], "no JavaScript"
        ids = [a["id"] for _, a in page.tags if "id" in a]
        assert len(ids) == len(set(ids)), "duplicate ids"
        imgs = page.find("img")
        for n, img in enumerate(imgs):
            assert img.get("alt") and img.get("width") and img.get("height")
            assert img["srcset"].endswith("w") and img.get("sizes")
            if img.get("fetchpriority") == "high":
                assert "loading" not in img
            else:
                assert img["loading"] == "lazy"
        if imgs:
            assert imgs[0].get("fetchpriority") == "high"
            assert len([i for i in imgs if i.get("fetchpriority")]) == 1
            assert page.find("meta", property="og:image")[0]["content"].startswith("https://example.org/shop/media/")
            large = int(page.find("meta", property="og:image:width")[0]["content"]) >= 1200
            assert page.find("meta", name="twitter:card")[0]["content"] == ("summary_large_image" if large else "summary")
        titles.add(record.title)
        descriptions.add(record.description)
    assert len(titles) == len(records) and len(descriptions) == len(records)


def test_links_are_exactly_the_plan(built):
    root, site, cfg, plan, records = built
    for pp in plan.pages:
        _, page = read(root / "out", pp.path)
        hrefs = [a["href"] for a in page.find("a") if not a["href"].startswith("/media/")]  # files, not pages
        for href in hrefs:
            assert href.startswith("/") and not href.startswith("//"), href
        expected = [target for target, _ in plan.links(pp)]
        assert set(hrefs) == set(expected), pp.path
        assert Counter(hrefs) == Counter(expected), pp.path  # the same multiset: PageRank sees what is drawn
        for i, (tag, attrs) in enumerate(page.tags):
            if tag == "a":
                assert page.text[i].strip().lower() not in ("", "click here", "more", "here", "read more")


def test_json_ld_graph(built):
    root, site, cfg, plan, records = built
    base = "https://example.org/shop"
    for pp in plan.pages:
        _, page = read(root / "out", pp.path)
        graph = graph_of(page)
        assert graph["@context"] == "https://schema.org"
        types = Counter(n["@type"] for n in graph["@graph"])
        assert types["WebSite"] == 1 and types["Organization"] == 1 and types["BreadcrumbList"] == 1
        page_type = "CollectionPage" if pp.kind in ("hub", "collection") else "WebPage"
        (web_page,) = nodes(graph, page_type)
        assert web_page["url"] == base + pp.path and web_page["isPartOf"] == {"@id": base + "/#website"}
        (crumbs,) = nodes(graph, "BreadcrumbList")
        positions = [e["position"] for e in crumbs["itemListElement"]]
        assert positions == list(range(1, len(positions) + 1))
        assert crumbs["itemListElement"][-1]["item"] == base + pp.path
        assert [e["item"] for e in crumbs["itemListElement"][:-1]] == [base + p for _, p in pp.breadcrumbs]
        cards = page.find("li", class_="card")
        if pp.kind in ("home", "hub", "collection"):
            (item_list,) = nodes(graph, "ItemList")
            elements = item_list["itemListElement"]
            assert item_list["numberOfItems"] == len(elements) == len(cards) == len(page.find("img"))
            assert [e["position"] for e in elements] == list(range(1, len(elements) + 1))
            card_links = [a["href"] for i, (t, a) in enumerate(page.tags) if t == "a" and _in_card(page, i)]
            assert [e["url"] for e in elements] == [base + href for href in card_links]
            for e in elements:
                if pp.kind == "home":  # the hubs and collections themselves, by their own nodes' @id
                    assert e["item"]["@type"] == "CollectionPage" and e["item"]["@id"] == e["url"]
                    assert e["url"].startswith((base + "/category/", base + "/topic/"))
                    assert e["item"]["thumbnailUrl"].startswith(base + "/media/")
                    continue
                assert e["item"]["@type"] == "ImageObject" and e["item"]["encodingFormat"] == "image/webp"
                assert e["item"]["contentUrl"].startswith(base + "/media/") and e["item"]["width"] > 0
                assert e["item"]["url"].startswith(base + "/item/")
            if pp.kind == "collection":  # keywords = the item's annotation topics
                assert all(plan.collections[pp.key].topic in e["item"]["keywords"] for e in elements)
        if pp.kind == "item":
            (image,) = nodes(graph, "ImageObject")
            assert web_page["primaryImageOfPage"] == {"@id": image["@id"]} == web_page["mainEntity"]
            item = plan.items[pp.key]
            topics = [plan.collections[s].topic for s in site.annotations.get(item.id, ())]
            assert image["keywords"].split(", ") == list(dict.fromkeys(topics + list(item.keywords)))
            assert str(image["width"]) == page.find("img")[0]["width"]


def test_page_content(built):
    root, site, cfg, plan, records = built
    _, home = read(root / "out", "/")
    assert home.texts("h1") == ["Test Gallery"]
    assert {"Browse by category", "Popular collections"} <= set(home.texts("h2"))
    _, coll = read(root / "out", "/topic/how-to-style-bags/")
    assert coll.texts("h1") == ["How to style bags"]
    assert "How to style bags?" in coll.texts("h2")
    _, coll = read(root / "out", "/topic/red-and-black-looks/")
    text = (root / "out" / "topic/red-and-black-looks/index.html").read_text()
    coll = plan.collections["red-and-black-looks"]
    lead = f"{len(coll.item_ids)} images for \u201cred and black looks\u201d: 2 Bags, 2 Dresses and 2 Shoes."
    assert f'<p class="lead">{lead}</p>' in text  # the answer-first lead, from catalog facts
    assert "Six images of shoes and bags" in (root / "out" / "topic/how-to-style-bags/index.html").read_text()
    item = plan.items["i001"]
    text, page = read(root / "out", urls.item_url(item.slug))
    assert page.texts("h1") == [item.title]
    assert "Found in these collections" in page.texts("h2")
    assert "More in Bags" in page.texts("h2")
    assert "photographed in the studio" in text and "200 × 260 px" in text
    _, about = read(root / "out", "/about/")
    assert about.texts("h1") == ["About us"] and "Contact" in about.texts("h2")
    assert "&lt;b&gt;raw html&lt;/b&gt;" in (root / "out" / "about/index.html").read_text()


def test_pagination(tmp_path):
    site, cfg = make_site(tmp_path, n_items=30, pages=False)
    _, _, plan, records = build(tmp_path, site_cfg=(site, cfg))
    hub_pages = [p for p in plan.pages if p.kind == "hub" and p.key == "shoes"]
    assert len(hub_pages) == 3
    by_path = {r.path: r for r in records}
    _, p2 = read(tmp_path / "out", "/category/shoes/page/2/")
    assert p2.find("link", rel="prev")[0]["href"] == "https://example.org/shop/category/shoes/"
    assert p2.find("link", rel="next")[0]["href"] == "https://example.org/shop/category/shoes/page/3/"
    assert "page 2" in by_path["/category/shoes/page/2/"].title
    assert "page 2 of 3" in by_path["/category/shoes/page/2/"].description
    _, p1 = read(tmp_path / "out", "/category/shoes/")
    assert not p1.find("link", rel="prev") and p1.find("link", rel="next")


def test_hostile_text_is_text_everywhere(tmp_path):
    site, cfg, plan, records = build(tmp_path, hostile=True)
    item = [i for i in site.items if i.title == HOSTILE][0]
    for path in ("/", urls.item_url(item.slug), "/topic/red-and-black-looks/", "/category/bags/"):
        text, page = read(tmp_path / "out", path)
        assert "<script>alert" not in text
        assert any(HOSTILE in s for s in strings(graph_of(page))), path
    text, page = read(tmp_path / "out", urls.item_url(item.slug))
    assert page.texts("h1") == [HOSTILE]
    assert page.find("meta", property="og:image:alt")[0]["content"] == HOSTILE
    assert page.find("img")[0]["alt"] == HOSTILE
    assert page.texts("title")[0].startswith("<script>alert(1)</script>")


def test_duplicate_titles_are_made_unique(tmp_path):
    site, cfg, plan, records = build(tmp_path, titles={0: "Same shoe", 3: "Same shoe", 6: "Same shoe"})
    same = [r for r in records if r.kind == "item" and r.title.startswith("Same shoe")]
    assert len(same) == 3 and len({r.title for r in same}) == 3 and len({r.description for r in same}) == 3


def test_output_is_deterministic(tmp_path):
    build(tmp_path / "a")
    build(tmp_path / "b")
    files_a = sorted(p.relative_to(tmp_path / "a" / "out") for p in (tmp_path / "a" / "out").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b" / "out") for p in (tmp_path / "b" / "out").rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (tmp_path / "a" / "out" / rel).read_bytes() == (tmp_path / "b" / "out" / rel).read_bytes(), rel


def test_incremental_render_reuses_unchanged_pages(tmp_path, monkeypatch):
    site, cfg = make_site(tmp_path)
    _, _, plan, first = build(tmp_path, "one", site_cfg=(site, cfg))
    previous = {r.path: r for r in first}

    from sitegen.publish import render as render_mod
    calls = []
    original = render_mod.jsonld.script_json
    monkeypatch.setattr(render_mod.jsonld, "script_json", lambda *a: calls.append(1) or original(*a))
    _, _, _, second = build(tmp_path, "two", site_cfg=(site, cfg), previous=previous, previous_dir=tmp_path / "one")
    assert calls == [], "nothing re-rendered"
    assert second == first
    for r in second:
        a, b = (tmp_path / d / urls.output_file(r.path) for d in ("one", "two"))
        assert os.stat(a).st_ino == os.stat(b).st_ino

    # change one item's title: only the pages that show it change
    target = site.items[5]
    items = [i if i.id != target.id else type(i)(**{**{f: getattr(i, f) for f in i.__slots__}, "title": "Renamed"})
             for i in site.items]
    site2 = Site(items=items, hubs=site.hubs, pages=site.pages, collections=site.collections,
                 annotations=site.annotations, featured=site.featured)
    _, _, plan2, third = build(tmp_path, "three", site_cfg=(site2, cfg), previous=previous,
                               previous_dir=tmp_path / "one")
    changed = {r.path for r in third if r.render_key != previous[r.path].render_key}
    shows = {p.path for p in plan2.pages if target.id in p.items + p.siblings or p.key == target.id
             or (p.kind == "home" and any(plan2.hubs[h].item_ids[0] == target.id for h in p.hubs))
             or (p.kind == "home" and any(plan2.collections[c].item_ids[0] == target.id for c in p.collections))}
    assert changed == shows and len(changed) < len(third)
    for r in third:
        same_inode = os.stat(tmp_path / "one" / urls.output_file(r.path)).st_ino == \
            os.stat(tmp_path / "three" / urls.output_file(r.path)).st_ino
        assert same_inode == (r.path not in changed)


def test_site_templates_override_packaged_ones(tmp_path):
    site, cfg = make_site(tmp_path)
    (tmp_path / "templates" / "assets").mkdir(parents=True)
    (tmp_path / "templates" / "page.html").write_text(
        '{% extends "base.html" %}{% block main %}<h1>{{ p.h1 }}</h1><p class="custom">custom</p>{% endblock %}')
    (tmp_path / "templates" / "assets" / "site.css").write_text("body{color:red}")
    build(tmp_path, site_cfg=(site, cfg))
    assert 'class="custom"' in (tmp_path / "out" / "about" / "index.html").read_text()
    assert (tmp_path / "out" / "assets" / "site.css").read_text() == "body{color:red}"
    assert (tmp_path / "out" / "assets" / "favicon.svg").is_file()


def test_text_pages(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "Contact Us.md").write_text("Intro without heading. Say hello any time.\n\n<script>x</script>\n")
    (folder / "item.md").write_text("# Reserved\n")
    (folder / "faq.md").write_text('+++\ntitle = "FAQ"\nlayout = "x"\n+++\n# Questions\n\n## Why?\n\nBecause.\n')
    pages, warnings = load_text_pages(folder)
    assert [p.slug for p in pages] == ["contact-us", "faq"]
    contact, faq = pages
    assert contact.title == "Contact us" and contact.description.startswith("Intro without heading")
    assert "&lt;script&gt;" in contact.html and "<script>" not in contact.html
    assert "<h2>Questions</h2>" in faq.html and "<h3>Why?</h3>" in faq.html and "<h1>" not in faq.html
    assert any("no title" in w for w in warnings) and any("reserved" in w for w in warnings)
    assert any("layout" in w for w in warnings)


def test_title_helpers():
    assert clip("a b c", 10) == "a b c"
    assert clip("one two three four", 12) == "one two…"
    t = title_tag("A very long product title that goes on and on about its fabric and cut", "Shop")
    assert len(t) <= 60 and t.endswith("… | Shop")


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Nesting(HTMLParser):
    """Every element closed in order (no stray or missing end tags); the path of open elements at each tag."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict]] = []
        self.errors: list[str] = []
        self.paths: list[tuple[str, dict, tuple]] = []
        self.feed(text)
        self.errors += [f"unclosed <{t}>" for t, _ in self.stack]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.paths.append((tag, attrs, tuple(self.stack)))
        if tag not in VOID:
            self.stack.append((tag, attrs))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1][0] if self.stack else 'nothing'}")
        else:
            self.stack.pop()


def test_alias_lines_on_the_collection_page(tmp_path):
    from dataclasses import replace

    from sitegen.core.models import Alias

    site, cfg = make_site(tmp_path, pages=False)
    aliases = (Alias("bags for travel", "bags-for-travel", "bags-for-travel", "use_case", "same_as_base", 0.81),
               Alias("related <b>", "related-b", "related-b", "description", "duplicate", 0.6),
               Alias("images", "images", "topic-images", "description", "duplicate", 0.55))
    site.collections[1] = replace(site.collections[1], aliases=aliases)
    bag = next(i for i in site.items if i.id in site.collections[1].item_ids and i.category == "Bags")
    site.annotations[bag.id] = ("how-to-style-bags#bags-for-travel", "red-and-black-looks")
    _, _, plan, records = build(tmp_path, site_cfg=(site, cfg))
    text, page = read(tmp_path / "out", "/topic/how-to-style-bags/")
    nesting = Nesting(text)
    assert not nesting.errors
    lines = [(a["id"], stack) for tag, a, stack in nesting.paths if tag == "li" and a.get("id")]
    assert [i for i, _ in lines] == ["bags-for-travel", "related-b", "topic-images"]
    for _, stack in lines:  # a line in the page head, under its own heading
        assert [t for t, _ in stack[-3:]] == ["header", "div", "ul"]
        assert stack[-2][1].get("class") == "aliases" and stack[-3][1].get("class") == "page-head"
    assert '<li id="bags-for-travel">Bags for travel</li>' in text
    assert '<li id="related-b">Related &lt;b&gt;</li>' in text
    assert "Also covers" in page.texts("h2")
    ids = [a["id"] for _, a in page.tags if "id" in a]
    assert len(ids) == len(set(ids)) and "images" in ids  # the theme's own id and the alias anchor differ
    about = nodes(graph_of(page), "CollectionPage")[0]["about"]
    assert about["alternateName"] == ["Bags for travel", "Related <b>", "Images"]
    # an alias is a line, not a page: no record, no link to a page of its own
    assert not [r for r in records if r.path.startswith("/topic/bags-for-travel")]
    for r in records:
        assert "/topic/bags-for-travel/" not in (tmp_path / "out" / urls.output_file(r.path)).read_text()
    _, other = read(tmp_path / "out", "/topic/red-and-black-looks/")
    assert "Also covers" not in other.texts("h2")
    # an annotation may be an alias line: the item page links the page at the line's anchor, named by its topic
    text, item_page = read(tmp_path / "out", urls.item_url(bag.slug))
    assert '<a href="/topic/how-to-style-bags/#bags-for-travel">Bags for travel <span class="count">6</span></a>' \
        in text
    item_plan = plan.by_path()[urls.item_url(bag.slug)]
    assert ("/topic/how-to-style-bags/#bags-for-travel", "collection") in plan.links(item_plan)
    graph = link_graph(plan)
    assert graph.has_edge(urls.item_url(bag.slug), "/topic/how-to-style-bags/")  # the link graph is of pages
    assert not [n for n in graph if "#" in n]
    keywords = graph_of(item_page)["@graph"][-1]["keywords"]
    assert keywords.startswith("bags for travel, red and black looks")
