"""The audit (sitegen.audit.check): a clean hand-written site has no errors, and each planted defect is reported with
its code and the page it is on. Sites are written by hand (``TinySite``), independent of the renderer."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from sitegen.audit.check import Finding, audit, format_table, parse_robots, robots_allows, to_json
from sitegen.core.config import Config

BASE = "https://example.org/"
NOW = "2026-01-01T00:00:00Z"


@dataclass
class Page:
    path: str
    title: str
    kind: str = "page"  # home, hub, collection, item, page
    cards: list[str] = field(default_factory=list)  # paths shown as cards (and in the ItemList)
    links: list[str] = field(default_factory=list)  # other body links
    crumbs: list[tuple[str, str]] = field(default_factory=list)
    description: str = ""
    jsonld: str | None = None  # raw override
    img_alt: str | None = "A photo"
    extra_head: str = ""
    lastmod: str = "2025-06-01"

    def desc(self) -> str:
        return self.description or f"{self.title}: a hand-written page used to test the sitegen audit checks."


def _html(site: "TinySite", p: Page) -> str:
    url = BASE.rstrip("/") + p.path
    crumbs = [("Home", "/")] + p.crumbs if p.kind != "home" else []
    ld_type = "CollectionPage" if p.kind in ("hub", "collection") else "WebPage"
    graph = [
        {"@type": "WebSite", "@id": BASE + "#website", "url": BASE, "name": "Tiny"},
        {"@type": "Organization", "@id": BASE + "#organization", "name": "Tiny", "url": BASE},
        {"@type": ld_type, "@id": url, "url": url, "name": p.title},
        {"@type": "BreadcrumbList", "itemListElement": [
            {"@type": "ListItem", "position": n, "name": name, "item": BASE.rstrip("/") + path}
            for n, (name, path) in enumerate(crumbs + [(p.title, p.path)], 1)]},
    ]
    if p.kind in ("home", "hub", "collection"):
        graph.append({"@type": "ItemList", "numberOfItems": len(p.cards), "itemListElement": [
            {"@type": "ListItem", "position": n, "item": {
                "@type": "ImageObject", "url": BASE.rstrip("/") + c, "contentUrl": BASE + "img/a.jpg"}}
            for n, c in enumerate(p.cards, 1)]})
    ld = p.jsonld if p.jsonld is not None else json.dumps({"@context": "https://schema.org", "@graph": graph})
    alt = "" if p.img_alt is None else f' alt="{escape(p.img_alt)}"'
    cards = "".join(f'<li><a href="{c}"><img src="/img/a.jpg"{alt}>{escape(site.titles.get(c, c))}</a></li>'
                    for c in p.cards)
    links = "".join(f'<li><a href="{x}">{escape(site.titles.get(x, x))}</a></li>' for x in p.links)
    hero = f'<figure><img src="/img/a.jpg"{alt}></figure>' if p.kind == "item" else ""
    trail = "".join(f'<li><a href="{path}">{escape(name)}</a></li>' for name, path in crumbs)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(p.title)}</title>
<meta name="description" content="{escape(p.desc())}">
<link rel="canonical" href="{url}">
<meta property="og:title" content="{escape(p.title)}"><meta property="og:description" content="{escape(p.desc())}">
<meta property="og:url" content="{url}"><meta property="og:image" content="{BASE}img/a.jpg">
<meta name="twitter:card" content="summary_large_image">
<link rel="stylesheet" href="/style.css">{p.extra_head}
<script type="application/ld+json">{ld}</script>
</head><body>
<header><nav><a href="/">Tiny</a> <a href="/category/dresses/">Dresses</a></nav></header>
<nav aria-label="Breadcrumb"><ol>{trail}</ol></nav>
<main><h1>{escape(p.title)}</h1>{hero}
<ul class="items">{cards}</ul>
<ul class="related">{links}</ul>
</main><footer><a href="/about/">About</a></footer></body></html>
"""


class TinySite:
    """A small clean site: home, one hub, two collections of 6 items, 12 items, an about page."""

    def __init__(self):
        self.pages: dict[str, Page] = {}
        self.extra_sitemap: list[str] = []
        self.robots = f"User-agent: *\nDisallow: /_report/\n\nSitemap: {BASE}sitemap.xml\n"
        self.llms_extra = ""
        items = [f"/item/dress-{n}/" for n in range(1, 13)]
        self.add(Page("/", "Tiny fashion: dresses, colours and outfit ideas", "home",
                      cards=["/category/dresses/", "/topic/green-dresses/", "/topic/red-dresses/"]))
        self.add(Page("/category/dresses/", "Dresses: every dress in the catalog", "hub", cards=items,
                      links=["/topic/green-dresses/", "/topic/red-dresses/"]))
        for slug, chunk in (("green-dresses", items[:6]), ("red-dresses", items[6:])):
            self.add(Page(f"/topic/{slug}/", f"{slug.replace('-', ' ').title()} for summer", "collection",
                          cards=chunk, crumbs=[("Dresses", "/category/dresses/")]))
        for n, path in enumerate(items):
            topic = "/topic/green-dresses/" if n < 6 else "/topic/red-dresses/"
            self.add(Page(path, f"Dress number {n + 1}", "item", crumbs=[("Dresses", "/category/dresses/")],
                          links=[topic, items[(n + 1) % 12]]))
        self.add(Page("/about/", "About this tiny site and its catalog", "page"))

    @property
    def titles(self) -> dict[str, str]:
        return {p.path: p.title for p in self.pages.values()}

    def add(self, page: Page) -> Page:
        self.pages[page.path] = page
        return page

    def write(self, root: Path) -> Path:
        root.mkdir(parents=True, exist_ok=True)
        for p in self.pages.values():
            f = root / p.path.lstrip("/") / "index.html"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(_html(self, p), encoding="utf-8")
        (root / "img").mkdir(exist_ok=True)
        (root / "img" / "a.jpg").write_bytes(b"\xff\xd8\xff\xd9")
        (root / "style.css").write_text("body{}")
        (root / "sitemap.xsl").write_text("<xsl/>")
        pi = '<?xml version="1.0" encoding="UTF-8"?>\n<?xml-stylesheet type="text/xsl" href="/sitemap.xsl"?>\n'
        urls = "".join(
            f"<url><loc>{BASE.rstrip('/')}{p.path}</loc><lastmod>{p.lastmod}</lastmod>"
            + (f"<image:image><image:loc>{BASE}img/a.jpg</image:loc></image:image>" if p.kind == "item" else "")
            + "</url>" for p in self.pages.values())
        urls += "".join(f"<url><loc>{BASE.rstrip('/')}{x}</loc></url>" for x in self.extra_sitemap)
        (root / "sitemap-pages.xml").write_text(
            pi + '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">' + urls + "</urlset>")
        (root / "sitemap.xml").write_text(
            pi + '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{BASE}sitemap-pages.xml</loc><lastmod>2025-06-01</lastmod></sitemap></sitemapindex>")
        (root / "robots.txt").write_text(self.robots)
        topics = [p for p in self.pages.values() if p.kind in ("hub", "collection")]
        (root / "llms.txt").write_text("# Tiny\n\n> A tiny site.\n\n## Collections\n\n" + "".join(
            f"- [{p.title}]({BASE.rstrip('/')}{p.path}): {p.desc()}\n" for p in topics) + self.llms_extra)
        return root


def run(site: TinySite, tmp_path: Path, **kw) -> list[Finding]:
    cfg = Config()
    cfg.site.base_url = BASE
    for key, value in kw.pop("cfg", {}).items():
        section, name = key.split(".")
        setattr(getattr(cfg, section), name, value)
    return audit(site.write(tmp_path / "build"), cfg, now=NOW, **kw)


def codes(findings, severity=None) -> set[tuple[str, str]]:
    return {(f.code, f.page) for f in findings if severity is None or f.severity == severity}


def test_clean_site_has_no_findings(tmp_path):
    findings = run(TinySite(), tmp_path)
    assert [f for f in findings if f.severity != "info"] == [], format_table(findings)
    assert "0 error(s), 0 warning(s)" in format_table(findings)


def test_deleted_page_that_is_still_linked(tmp_path):
    site = TinySite()
    root = site.write(tmp_path / "build")
    (root / "item" / "dress-3" / "index.html").unlink()
    findings = audit(root, _cfg(), now=NOW)
    broken = {f.page for f in findings if f.code == "broken_link" and "/item/dress-3/" in f.message}
    assert broken == {"/item/dress-2/", "/category/dresses/", "/topic/green-dresses/"}
    assert ("sitemap_missing_page", "/item/dress-3/") in codes(findings, "error")


def _cfg() -> Config:
    cfg = Config()
    cfg.site.base_url = BASE
    return cfg


def test_image_without_alt(tmp_path):
    site = TinySite()
    site.pages["/topic/red-dresses/"].img_alt = None
    findings = run(site, tmp_path)
    assert codes(findings, "error") == {("img_missing_alt", "/topic/red-dresses/")}


def test_two_pages_with_the_same_title(tmp_path):
    site = TinySite()
    site.pages["/item/dress-4/"].title = "Dress number 5"
    findings = run(site, tmp_path)
    dup = [f for f in findings if f.code == "title_duplicate"]
    assert {f.page for f in dup} == {"/item/dress-4/", "/item/dress-5/"}
    assert all(f.severity == "error" for f in dup)
    assert "/item/dress-5/" in next(f.message for f in dup if f.page == "/item/dress-4/")


def test_collection_with_two_items_is_thin(tmp_path):
    site = TinySite()
    site.add(Page("/topic/blue-dresses/", "Blue dresses for the evening", "collection",
                  cards=["/item/dress-1/", "/item/dress-2/"], crumbs=[("Dresses", "/category/dresses/")]))
    site.pages["/category/dresses/"].links.append("/topic/blue-dresses/")
    findings = run(site, tmp_path)
    thin = [f for f in findings if f.code == "thin_collection"]
    assert [(f.page, f.severity) for f in thin] == [("/topic/blue-dresses/", "warning")]
    assert "2 items" in thin[0].message
    assert not [f for f in findings if f.severity == "error"]
    assert codes(run(site, tmp_path / "b", min_items=2), "warning") == set()


def test_sitemap_entry_for_a_missing_page(tmp_path):
    site = TinySite()
    site.extra_sitemap.append("/item/ghost/")
    findings = run(site, tmp_path)
    assert codes(findings, "error") == {("sitemap_missing_page", "/item/ghost/")}


def test_jsonld_syntax_error(tmp_path):
    site = TinySite()
    site.pages["/item/dress-7/"].jsonld = '{"@context": "https://schema.org", "@graph": [}'
    findings = run(site, tmp_path)
    assert codes(findings, "error") == {("jsonld_invalid", "/item/dress-7/")}


def test_page_four_clicks_deep(tmp_path):
    site = TinySite()
    site.pages["/about/"].links = ["/guide/"]  # home -> about (footer) 1 -> guide 2 -> part 3 -> deep 4
    site.add(Page("/guide/", "A guide to dresses in three parts", links=["/guide/part/"]))
    site.add(Page("/guide/part/", "A guide to dresses: part one", links=["/guide/part/deep/"]))
    site.add(Page("/guide/part/deep/", "A guide to dresses: the deep end"))
    findings = run(site, tmp_path)
    assert codes(findings, "warning") == {("deep_page", "/guide/part/deep/")}
    assert "4 clicks" in next(f.message for f in findings if f.code == "deep_page")
    assert not [f for f in findings if f.severity == "error"]


def test_orphan_page_in_sitemap(tmp_path):
    site = TinySite()
    site.add(Page("/lonely/", "A page nobody links to at all"))
    findings = run(site, tmp_path)
    assert codes(findings, "error") == {("orphan_page", "/lonely/")}


def test_robots_disallowing_a_sitemap_url(tmp_path):
    site = TinySite()
    site.robots = f"User-agent: Googlebot\nDisallow: /\n\nUser-agent: *\nDisallow: /topic/\nAllow: /topic/red-\n" \
                  f"Sitemap: {BASE}sitemap.xml\n"
    findings = run(site, tmp_path)
    assert codes(findings, "error") == {("robots_blocks_sitemap_url", "/topic/green-dresses/")}


def test_robots_missing_sitemap_line(tmp_path):
    site = TinySite()
    site.robots = "User-agent: *\nDisallow:\n"
    assert codes(run(site, tmp_path), "warning") == {("robots_no_sitemap", "robots.txt")}


def test_robots_longest_match():
    rules, sitemaps = parse_robots("# c\nUser-agent: a\nUser-agent: *\nDisallow: /x/\nAllow: /x/ok$\n"
                                   "Disallow: /*.pdf$\nSitemap: https://e.org/s.xml\n")
    assert sitemaps == ["https://e.org/s.xml"]
    assert not robots_allows(rules, "/x/a")
    assert robots_allows(rules, "/x/ok") and not robots_allows(rules, "/x/ok/more")
    assert not robots_allows(rules, "/a/b.pdf") and robots_allows(rules, "/a/b.pdfx")
    assert robots_allows(rules, "/y/")


def test_lastmod_in_the_future(tmp_path):
    site = TinySite()
    site.pages["/topic/green-dresses/"].lastmod = "2099-01-01T00:00:00+00:00"
    site.pages["/about/"].lastmod = "01/02/2024"
    findings = run(site, tmp_path)
    assert codes(findings, "warning") == {("sitemap_lastmod_future", "/topic/green-dresses/")}
    assert codes(findings, "error") == {("sitemap_lastmod_invalid", "/about/")}


def test_lastmod_uses_source_date_epoch(tmp_path, monkeypatch):
    site = TinySite()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1577836800")  # 2020-01-01: every lastmod is in the future
    findings = audit(site.write(tmp_path / "b"), _cfg())
    future = {f.page for f in findings if f.code == "sitemap_lastmod_future"}
    assert future == set(site.pages) | {"/sitemap-pages.xml"}  # the index's lastmod of its child too


def test_llms_txt_listing_a_missing_page(tmp_path):
    site = TinySite()
    site.llms_extra = f"- [Gone]({BASE}topic/gone/): removed\n- [About](/about/)\n"
    findings = run(site, tmp_path)
    assert codes(findings, "error") == {("llms_broken_link", "/topic/gone/")}
    assert codes(findings, "warning") == {("llms_relative_link", "llms.txt")}


def test_itemlist_disagreeing_with_the_cards(tmp_path):
    site = TinySite()
    p = site.pages["/topic/green-dresses/"]
    graph = json.loads(_html(site, p).split('ld+json">')[1].split("</script>")[0])
    graph["@graph"][-1]["numberOfItems"] = 7
    p.jsonld = json.dumps(graph)
    findings = run(site, tmp_path)
    assert codes(findings, "error") == {("itemlist_count", "/topic/green-dresses/")}
    # the list claims an item the page does not show
    graph["@graph"][-1]["numberOfItems"] = 6
    graph["@graph"][-1]["itemListElement"][0]["item"]["url"] = BASE + "item/dress-12/"
    p.jsonld = json.dumps(graph)
    findings = run(site, tmp_path / "b")
    assert ("itemlist_not_shown", "/topic/green-dresses/") in codes(findings, "error")


def test_missing_graph_and_required_properties(tmp_path):
    site = TinySite()
    site.pages["/item/dress-1/"].jsonld = json.dumps({"@context": "https://schema.org", "@type": "WebPage",
                                                       "name": "x"})
    findings = run(site, tmp_path)
    errs = codes(findings, "error")
    assert ("jsonld_no_graph", "/item/dress-1/") in errs
    assert ("jsonld_missing_property", "/item/dress-1/") in errs  # WebPage without url
    assert ("jsonld_missing_type", "/item/dress-1/") in errs  # no BreadcrumbList


def test_near_duplicate_collections(tmp_path):
    site = TinySite()
    green = site.pages["/topic/green-dresses/"]
    site.add(Page("/topic/sage-dresses/", "Sage dresses for the garden", "collection", cards=green.cards[:5],
                  crumbs=[("Dresses", "/category/dresses/")]))
    site.pages["/category/dresses/"].links.append("/topic/sage-dresses/")
    findings = run(site, tmp_path, cfg={"collect.min_items": 5})
    assert codes(findings, "warning") == {("duplicate_collection", "/topic/sage-dresses/")}
    assert "/topic/green-dresses/" in next(f.message for f in findings if f.code == "duplicate_collection")


def test_canonical_problems(tmp_path):
    site = TinySite()
    site.pages["/item/dress-2/"].extra_head = f'<link rel="canonical" href="{BASE}item/dress-3/">'
    findings = run(site, tmp_path)
    assert ("canonical_multiple", "/item/dress-2/") in codes(findings, "warning")
    site = TinySite()
    root = site.write(tmp_path / "c")
    f = root / "item/dress-2/index.html"
    f.write_text(f.read_text().replace(f'href="{BASE}item/dress-2/"', f'href="{BASE}item/nowhere/"'))
    findings = audit(root, _cfg(), now=NOW)
    assert ("canonical_broken", "/item/dress-2/") in codes(findings, "error")
    assert ("sitemap_non_canonical", "/item/dress-2/") in codes(findings, "warning")


def test_hreflang_when_locales_are_configured(tmp_path):
    site = TinySite()
    site.pages["/about/"].extra_head = (f'<link rel="alternate" hreflang="en" href="{BASE}about/">'
                                        f'<link rel="alternate" hreflang="fr" href="{BASE}fr/about/">'
                                        f'<link rel="alternate" hreflang="english" href="{BASE}about/">')
    site.add(Page("/fr/about/", "A propos de ce petit site et de son catalogue", links=["/about/"]))
    findings = run(site, tmp_path, cfg={"site.locales": ["fr"]})
    errs = codes(findings, "error")
    assert ("hreflang_invalid", "/about/") in errs
    assert ("hreflang_no_return", "/about/") in errs


def test_missing_files_and_sitemap_protocol(tmp_path):
    site = TinySite()
    root = site.write(tmp_path / "b")
    (root / "robots.txt").unlink()
    (root / "llms.txt").unlink()
    (root / "sitemap-pages.xml").write_text('<urlset xmlns="http://example.com/wrong"><url><loc>/x/</loc></url></urlset>')
    findings = audit(root, _cfg(), now=NOW)
    got = codes(findings)
    assert {("robots_missing", "robots.txt"), ("llms_missing", "llms.txt"),
            ("sitemap_invalid", "sitemap-pages.xml")} <= got


def test_noindex_page_is_held_only_to_link_rules_and_json_output(tmp_path):
    site = TinySite()
    root = site.write(tmp_path / "b")
    (root / "drafts").mkdir()
    (root / "drafts" / "index.html").write_text('<html><head><meta name="robots" content="noindex"></head>'
                                                '<body><a href="/lonely/">x</a></body></html>')
    findings = audit(root, _cfg(), now=NOW)
    assert {(f.code, f.page) for f in findings if f.severity == "error"} == {("broken_link", "/drafts/")}
    assert not [f for f in findings if f.page == "/drafts/" and f.code.startswith(("title", "h1", "canonical"))]
    data = json.loads(to_json(findings))
    assert data["counts"]["error"] == 1 and isinstance(data["findings"], list)


def test_big_site_uses_workers_and_progress(tmp_path):
    """Enough pages to take the multiprocessing path; every page is still checked."""
    site = TinySite()
    hub = site.pages["/category/dresses/"]
    for n in range(13, 460):
        path = f"/item/dress-{n}/"
        hub.cards.append(path)
        site.add(Page(path, f"Dress number {n}", "item", crumbs=[("Dresses", "/category/dresses/")],
                      img_alt=None if n == 300 else "A photo"))
    calls = []
    t0 = time.perf_counter()
    findings = run(site, tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert time.perf_counter() - t0 < 60
    assert calls[-1] == (len(site.pages), len(site.pages))
    assert codes(findings, "error") == {("img_missing_alt", "/item/dress-300/")}


def test_cards_shown_disagree_with_the_itemlist(tmp_path):
    site = TinySite()
    root = site.write(tmp_path / "build")
    f = root / "topic/red-dresses/index.html"
    html = f.read_text()
    first_card = html.index('<li><a href="/item/dress-7/">')
    f.write_text(html[:first_card] + html[html.index("</li>", first_card) + 5:])
    findings = audit(root, _cfg(), now=NOW)
    errs = codes(findings, "error")
    assert ("itemlist_visible_mismatch", "/topic/red-dresses/") in errs
    assert ("itemlist_not_shown", "/topic/red-dresses/") in errs
    assert "6 entries but the page shows 5 cards" in next(f.message for f in findings
                                                          if f.code == "itemlist_visible_mismatch")


# -- the real build -------------------------------------------------------------------------------------------
def test_example_build_passes_the_audit(example_build):
    from sitegen.core.config import load_config

    site, result = example_build
    cfg = load_config(site / "site.toml")
    findings = audit(site / "build", cfg)
    assert [f for f in findings if f.severity == "error"] == [], format_table(findings)
    assert [f for f in result.findings if f.severity == "error"] == []


def test_defects_planted_in_the_example_build(example_build, tmp_path):
    import shutil

    from sitegen.core.config import load_config

    site, _ = example_build
    cfg = load_config(site / "site.toml")
    root = Path(shutil.copytree(site / "build", tmp_path / "build"))
    topic = sorted(p for p in (root / "topic").iterdir())[0]
    html = (topic / "index.html").read_text()
    victim = html.split('<li class="card"><a href="')[1].split('"')[0]  # the first item card
    shutil.rmtree(root / victim.strip("/"))
    (topic / "index.html").write_text(html.replace(' alt="', ' data-alt="', 1))
    findings = audit(root, cfg)
    errs = codes(findings, "error")
    topic_path = f"/topic/{topic.name}/"
    assert ("broken_link", topic_path) in errs and ("sitemap_missing_page", victim) in errs
    assert ("img_missing_alt", topic_path) in errs


def test_tokenizer_skips_comments_and_scripts_and_reads_regions(tmp_path):
    from sitegen.audit.check import parse_page

    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "index.html").write_text(
        '<!DOCTYPE html><HTML LANG="en"><head><TITLE>A &amp; B</TITLE>'
        '<!-- <a href="/in-comment/">x</a> --><script>var s = "<a href=\'/in-script/\'>";</script></head>'
        '<body><nav class="crumbs" aria-label="Breadcrumb"><a href="/">Home</a></nav>'
        '<MAIN><H1>Big <em>title</em></H1><ul class="grid"><li><a href="/item/a/?q=1#top">a</a></li>'
        '<li><a href=/item/b/>b</a></li></ul><a href="https://example.org/item/c/">c</a>'
        '<a href="https://elsewhere.org/item/d/">d</a><a href="mailto:x@y.z">m</a></MAIN></body></HTML>')
    p = parse_page(str(tmp_path), "x/index.html", BASE)
    assert p.title == "A & B" and p.h1s == ["Big title"] and p.lang == "en"
    assert p.links == ["/", "/item/a/", "/item/b/", "/item/c/"]
