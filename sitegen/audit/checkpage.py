"""One built page, read the way the audit needs it: a small ``re`` tokenizer over the tags the checks use
(links, images, canonical, meta, headings, JSON-LD), the page's own findings, and the helpers shared by the
site-level checks in ``check.py`` (``Finding``, URL resolution, page kinds)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from html import unescape
from typing import Iterable, Literal
from urllib.parse import unquote, urljoin, urlsplit



Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
IMAGE_NS = "http://www.google.com/schemas/sitemap-image/1.1"
SITEMAP_MAX_URLS = 50_000
SITEMAP_MAX_BYTES = 50 * 1024 * 1024
TITLE_MAX, DESC_MAX, DESC_MIN = 60, 160, 50
CARD_CONTAINER_CLASSES = {"items", "cards", "card-grid", "item-grid", "grid", "collections", "hubs"}
EXCLUDED_TAGS = {"nav", "header", "footer", "aside"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
        "param", "keygen"}
W3C_DATETIME = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$")
HREFLANG = re.compile(r"^(x-default|[a-z]{2,3}(-[a-z]{4})?(-([a-z]{2}|\d{3}))?)$", re.I)
MD_LINK = re.compile(r"\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")

FIXES = {
    "broken_link": "Point the link at an existing page or restore the missing page",
    "broken_image": "Fix the image path or copy the missing file into the output",
    "orphan_page": "Link the page from a hub, collection or related page, or drop it from the sitemap",
    "not_in_sitemap": "List the page in a sitemap, or mark it noindex",
    "deep_page": "Link the page from a hub or the home page so it is at most {depth} clicks from home",
    "unreachable_page": "Link the page from a page reachable from home",
    "title_missing": "Add a <title> naming the page's topic",
    "title_duplicate": "Give every page its own title (add the category, a page number or a distinguishing detail)",
    "title_too_long": "Shorten the title to 60 characters or fewer",
    "title_multiple": "Keep one <title> in the <head>",
    "description_missing": "Add a <meta name=\"description\"> summarising the page",
    "description_duplicate": "Write a description specific to this page",
    "description_too_long": "Shorten the meta description to 160 characters or fewer",
    "description_too_short": "Lengthen the meta description to at least 50 characters",
    "img_missing_alt": "Add an alt attribute describing the image",
    "img_empty_alt": "Describe the image in its alt text (empty alt is only for decoration)",
    "canonical_missing": "Add <link rel=\"canonical\"> with the page's absolute URL",
    "canonical_multiple": "Keep exactly one <link rel=\"canonical\">",
    "canonical_relative": "Make the canonical URL absolute (base_url + path)",
    "canonical_other": "Point the canonical at the page itself unless it really duplicates the other page",
    "canonical_broken": "Point the canonical at an existing page",
    "hreflang_invalid": "Use an ISO 639-1 language code, optionally with an ISO 3166 region (en, en-GB, x-default)",
    "hreflang_broken": "Point the alternate link at an existing translated page",
    "hreflang_no_self": "Add an hreflang alternate that points at the page itself",
    "hreflang_no_return": "Add the return hreflang link on the alternate page",
    "jsonld_missing": "Add one <script type=\"application/ld+json\"> with the page's @graph",
    "jsonld_multiple": "Merge the JSON-LD blocks into one @graph",
    "jsonld_invalid": "Fix the JSON syntax of the structured data",
    "jsonld_no_graph": "Wrap the structured data in {\"@context\": \"https://schema.org\", \"@graph\": [...]}",
    "jsonld_missing_type": "Add the missing schema.org node to the @graph",
    "jsonld_missing_property": "Add the required property to the schema.org node",
    "jsonld_url_mismatch": "Make the WebPage url equal to the canonical URL",
    "itemlist_count": "Make numberOfItems equal to the number of itemListElement entries",
    "itemlist_not_shown": "List in the ItemList only the items shown on the page",
    "itemlist_visible_mismatch": "Make the ItemList match the item cards shown on the page",
    "thin_collection": "Add items to the collection (at least {tau}) or drop the topic",
    "duplicate_collection": "Merge the two topics or make their item sets differ",
    "h1_missing": "Add one <h1> naming the page's topic",
    "opengraph_missing": "Add og:title, og:description, og:url, og:image and twitter:card meta tags",
    "breadcrumbs_missing": "Add a breadcrumb trail (nav aria-label=\"Breadcrumb\") linking back to home",
    "lang_missing": "Add a lang attribute to <html>",
    "html_unreadable": "Rebuild the page: the file is not valid UTF-8 HTML",
    "sitemap_missing": "Write sitemap.xml at the site root",
    "sitemap_invalid": "Write the sitemap following the sitemaps.org protocol",
    "sitemap_loc_invalid": "Use absolute URLs under base_url in <loc>",
    "sitemap_missing_page": "Remove the URL from the sitemap or publish the page",
    "sitemap_non_canonical": "List only canonical URLs in the sitemap",
    "sitemap_noindex": "Drop noindex pages from the sitemap",
    "sitemap_duplicate_url": "List each URL once across all sitemaps",
    "sitemap_too_large": "Split the sitemap: at most 50,000 URLs and 50 MB each",
    "sitemap_lastmod_invalid": "Write lastmod as a W3C datetime (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)",
    "sitemap_lastmod_future": "Set lastmod to when the page content last changed, never later than the build",
    "sitemap_child_missing": "Write the child sitemap or drop it from the sitemap index",
    "sitemap_image_missing": "Fix the image URL in the image sitemap or publish the image",
    "sitemap_image_too_many": "List at most 1,000 images per URL",
    "sitemap_stylesheet": "Add <?xml-stylesheet type=\"text/xsl\" href=\"/sitemap.xsl\"?> and publish sitemap.xsl",
    "robots_missing": "Write robots.txt with a Sitemap line",
    "robots_no_sitemap": "Add 'Sitemap: <base_url>sitemap.xml' to robots.txt",
    "robots_sitemap_missing": "Point robots.txt's Sitemap line at the published sitemap index",
    "robots_blocks_sitemap_url": "Allow the URL in robots.txt or drop it from the sitemap",
    "llms_missing": "Write llms.txt listing the hubs and collections with one-line summaries",
    "llms_broken_link": "Drop the link from llms.txt or publish the page",
    "llms_relative_link": "Use absolute URLs in llms.txt",
    "llms_format": "Start llms.txt with '# <site name>' followed by a '> summary' line",
    "link_to_retired": "Link the live page the retired one redirects to (or nothing, for a gone page)",
    "redirect_broken": "Point the redirect at an existing page",
    "redirect_chain": "Point the redirect at the final page, not at another redirect",
}


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    page: str  # URL path ("/item/x/") or file ("sitemap-items.xml")
    message: str
    fix: str  # one line


def _f(severity: Severity, code: str, page: str, message: str, **fmt) -> Finding:
    fix = FIXES.get(code, "")
    return Finding(severity, code, page, message, fix.format(**fmt) if fmt else fix)


def page_kind(path: str, locales: Iterable[str] = ()) -> str:
    """home / hub / collection / item / page, from the URL path (a locale prefix is ignored)."""
    parts = [p for p in path.split("/") if p]
    if parts and parts[0] in set(locales):
        parts = parts[1:]
    if not parts:
        return "home"
    return {"category": "hub", "topic": "collection", "item": "item"}.get(parts[0], "page")


_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_PATH_CACHE: dict[tuple[str, str, str], str | None] = {}


def internal_path(href: str, page_path: str, base_url: str) -> str | None:
    """The site path an href points at, or None for external / non-http links and bare fragments."""
    if href[:1] == "/" and href[:2] != "//" and "/." not in href:  # the common case: root-relative
        path = href.split("#", 1)[0].split("?", 1)[0]
        return unquote(path) if "%" in path else path
    key = (href, page_path if not href.startswith(("http:", "https:")) else "", base_url)
    if key not in _PATH_CACHE:
        if len(_PATH_CACHE) > 200_000:
            _PATH_CACHE.clear()
        _PATH_CACHE[key] = _internal_path(href, page_path, base_url)
    return _PATH_CACHE[key]


def _internal_path(href: str, page_path: str, base_url: str) -> str | None:
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    if href.startswith("//"):
        href = "https:" + href
    scheme = _SCHEME.match(href)
    if scheme:
        if scheme.group(1).lower() not in ("http", "https"):
            return None
        base = urlsplit(base_url)
        parts = urlsplit(href)
        if parts.netloc.lower() != base.netloc.lower():
            return None
        path = parts.path or "/"
        prefix = base.path or "/"
        if not path.startswith(prefix) and path + "/" != prefix:
            return None
        path = "/" + path[len(prefix):] if path.startswith(prefix) else "/"
    else:
        path = urlsplit(urljoin(page_path, href)).path or "/"
    return unquote(path)


def resolve(path: str, files: set[str] | frozenset[str]) -> str | None:
    """'/x/' -> 'x/index.html' when that file exists; '/x' also resolves to x/index.html (server redirect)."""
    rel = path.lstrip("/")
    if rel == "" or rel.endswith("/"):
        cand = rel + "index.html"
        return cand if cand in files else None
    if rel in files:
        return rel
    cand = rel + "/index.html"
    return cand if cand in files else None


# -- one page -----------------------------------------------------------------------------------------------
class PageData:
    __slots__ = ("path", "file", "title", "n_titles", "descs", "robots", "canonicals", "alternates", "links",
                 "resources", "h1s", "noindex", "findings", "itemlists", "members", "jsonld_ok", "lang", "refresh",
                 "retired")

    def __init__(self, path: str, file: str):
        self.path, self.file = path, file
        self.title: str | None = None
        self.n_titles = 0
        self.descs: list[str] = []
        self.robots = ""
        self.canonicals: list[str] = []
        self.alternates: list[tuple[str, str]] = []
        self.links: list[str] = []  # internal <a> targets (paths), deduplicated, in order
        self.resources: list[str] = []  # internal img/srcset/link/script/og:image paths
        self.h1s: list[str] = []
        self.noindex = False
        self.findings: list[Finding] = []
        self.itemlists: list[int] = []  # item count of each ItemList
        self.members: tuple[str, ...] = ()  # member paths of the (first) ItemList, for near-duplicate detection
        self.jsonld_ok = False
        self.lang = ""
        self.refresh: str | None = None  # the URL of a <meta http-equiv="refresh"> (a redirect page)
        self.retired = ""  # <meta name="sitegen:status">: "301" / "410" on the stub of a retired page


_REGION_TAGS = "title|h1|main|nav|header|footer|aside|svg|ul|ol|div|section|article"
_TOKEN = re.compile(  # only the tags the checks read; end tags only of those that open regions or hold text
    r"<!--.*?-->|<(script|style)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>(.*?)</\1\s*>"
    rf"|</({_REGION_TAGS})\s*>"
    rf"|<(a|img|source|link|meta|html|{_REGION_TAGS})(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.S | re.I)
_ATTR = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")
_TAGS = re.compile(r"<[^>]*>")
_HREF = re.compile(r"""(?:^|\s)href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.I)
_INTEREST = {"a", "img", "source", "link", "meta", "title", "h1", "html", "main", "svg"} | EXCLUDED_TAGS
_REFRESH_URL = re.compile(r"url\s*=\s*(.+)$", re.I)


def _attrs(raw: str) -> dict[str, str]:
    out = {}
    for name, v1, v2, v3 in _ATTR.findall(raw):
        name = name.lower()
        if name not in out:
            value = v1 or v2 or v3
            out[name] = unescape(value) if "&" in value else value
    return out


class _Parser:
    """A fast tokenizer over the tags the audit needs (stdlib ``re``; ``html.parser`` is ~10x slower).
    Comments, scripts and styles are skipped as units; regions (main, nav/header/footer/aside, breadcrumbs,
    card containers, svg) are tracked by counting nested tags of the same name."""

    def __init__(self, page: PageData, base_url: str):
        self.p, self.base = page, base_url
        self.jsonld: list[str] = []
        self.links: dict[str, None] = {}
        self.res: dict[str, None] = {}
        self.main_links: dict[str, None] = {}
        self.card_links: dict[str, None] = {}
        self.has_main = self.has_card = self.has_crumbs = False
        self.og: set[str] = set()
        self.alt_missing: list[str] = []
        self.alt_empty: list[str] = []

    def feed(self, text: str) -> None:
        p = self.p
        regions: list[list] = []  # [tag, nesting, flags]: 1 main, 2 excluded, 4 card container, 8 svg
        flags_now = 0
        capture: tuple[str, int] | None = None  # ("title" | "h1", start offset)
        links, main_links, card_links = self.links, self.main_links, self.card_links
        for m in _TOKEN.finditer(text):
            raw_tag, script_attrs, script_body, end_tag, tag, raw = m.groups()
            if raw_tag is not None:  # script / style with its content
                if raw_tag.lower() == "script":
                    a = _attrs(script_attrs)
                    if (a.get("type") or "").lower() == "application/ld+json":
                        self.jsonld.append(script_body)
                    elif a.get("src"):
                        self._res(a["src"])
                continue
            if end_tag is not None:
                tag = end_tag.lower()
                if capture and capture[0] == tag:
                    body = text[capture[1]:m.start()]
                    body = " ".join(unescape(_TAGS.sub("", body) if "<" in body else body).split())
                    if tag == "title":
                        p.n_titles += 1
                        if p.title is None:
                            p.title = body
                    else:
                        p.h1s.append(body)
                    capture = None
                if regions:
                    changed = False
                    for r in regions:
                        if r[0] == tag:
                            r[1] -= 1
                            changed = changed or r[1] == 0
                    if changed:
                        regions = [r for r in regions if r[1] > 0]
                        flags_now = 0
                        for r in regions:
                            flags_now |= r[2]
                continue
            if tag is None:
                continue  # a comment
            tag = tag.lower()
            if tag == "a":  # the most common tag: only its href matters
                hm = _HREF.search(raw)
                if hm is not None:
                    href = hm.group(1) or hm.group(2) or hm.group(3) or ""
                    t = internal_path(unescape(href) if "&" in href else href, p.path, self.base)
                    if t is not None:
                        links[t] = None
                        if (flags_now & 1 or not self.has_main) and not flags_now & 2:
                            main_links[t] = None
                        if flags_now & 4:
                            card_links[t] = None
                continue
            if regions and tag not in VOID:
                for r in regions:
                    if r[0] == tag:
                        r[1] += 1
            if tag not in _INTEREST and "class" not in raw and "aria-label" not in raw:
                continue
            a = _attrs(raw) if raw.strip(" /") else {}
            flags = 0
            cls = a.get("class", "")
            label = a.get("aria-label", "").lower()
            if tag == "main":
                flags |= 1
                self.has_main = True
            if tag in EXCLUDED_TAGS or "breadcrumb" in cls.lower() or "breadcrumb" in label:
                flags |= 2
                if "breadcrumb" in cls.lower() or "breadcrumb" in label:
                    self.has_crumbs = True
            if cls and not CARD_CONTAINER_CLASSES.isdisjoint(cls.split()):
                flags |= 4
                self.has_card = True
            if tag == "svg":
                flags |= 8
            if flags and tag not in VOID and not raw.rstrip().endswith("/"):
                regions.append([tag, 1, flags])
                flags_now |= flags
            if tag == "img":
                src = a.get("src") or ""
                if "alt" not in a:
                    self.alt_missing.append(src)
                elif not a["alt"].strip() and a.get("role") != "presentation":
                    self.alt_empty.append(src)
                self._res(src)
                self._srcset(a.get("srcset"))
            elif tag == "source":
                self._res(a.get("src"))
                self._srcset(a.get("srcset"))
            elif tag == "link":
                rel = a.get("rel", "").lower().split()
                href = a.get("href") or ""
                if "canonical" in rel:
                    p.canonicals.append(href)
                elif "alternate" in rel and "hreflang" in a:
                    p.alternates.append((a["hreflang"], href))
                elif not set(rel) & {"alternate", "preconnect", "dns-prefetch"}:
                    self._res(href)
            elif tag == "meta":
                name = (a.get("name") or a.get("property") or "").lower()
                content = a.get("content") or ""
                if (a.get("http-equiv") or "").lower() == "refresh":
                    found = _REFRESH_URL.search(content)
                    p.refresh = unescape(found.group(1).strip("'\" ")) if found else ""
                elif name == "sitegen:status":
                    p.retired = content.strip()
                if name == "description":
                    p.descs.append(content)
                elif name == "robots":
                    p.robots = content.lower()
                elif name.startswith(("og:", "twitter:")):
                    self.og.add(name)
                    if name in ("og:image", "twitter:image"):
                        self._res(content)
            elif tag == "title":
                if not flags_now & 8:
                    capture = ("title", m.end())
            elif tag == "h1":
                capture = ("h1", m.end())
            elif tag == "html":
                p.lang = a.get("lang", "")

    def _res(self, url):
        if url and not url.startswith("data:"):
            t = internal_path(url, self.p.path, self.base)
            if t is not None:
                self.res[t] = None

    def _srcset(self, srcset):
        if srcset:
            for part in srcset.split(","):
                bits = part.split()
                if bits:
                    self._res(bits[0])


def _types(node: dict) -> list[str]:
    t = node.get("@type", [])
    return [t] if isinstance(t, str) else [x for x in t if isinstance(x, str)]


def _walk(node, out: list[dict]) -> None:
    if isinstance(node, dict):
        if "@type" in node:
            out.append(node)
        for v in node.values():
            if isinstance(v, (dict, list)):
                _walk(v, out)
    elif isinstance(node, list):
        for v in node:
            _walk(v, out)


def _member_url(el) -> str | None:
    if not isinstance(el, dict):
        return None
    item = el.get("item")
    if isinstance(item, str):
        return item
    for cand in (el.get("url"), item.get("url") if isinstance(item, dict) else None,
                 item.get("@id") if isinstance(item, dict) else None):
        if isinstance(cand, str) and "#" not in cand:
            return cand
    return None


def _check_jsonld(p: PageData, parser: _Parser, kind: str) -> None:
    out = p.findings
    if not parser.jsonld:
        out.append(_f("error", "jsonld_missing", p.path, "no <script type=\"application/ld+json\"> block"))
        return
    if len(parser.jsonld) > 1:
        out.append(_f("warning", "jsonld_multiple", p.path, f"{len(parser.jsonld)} JSON-LD blocks (expected one)"))
    nodes: list[dict] = []
    for i, text in enumerate(parser.jsonld, 1):
        try:
            data = json.loads(text)
        except ValueError as exc:
            out.append(_f("error", "jsonld_invalid", p.path, f"JSON-LD block {i} does not parse: {exc}"))
            return
        if not isinstance(data, dict) or not isinstance(data.get("@graph"), list):
            out.append(_f("error", "jsonld_no_graph", p.path, f"JSON-LD block {i} has no @graph list"))
            _walk(data, nodes)
        else:
            _walk(data["@graph"], nodes)
    p.jsonld_ok = True
    by_type: dict[str, list[dict]] = {}
    for node in nodes:
        for t in _types(node):
            by_type.setdefault(t, []).append(node)
    pages = [n for t, ns in by_type.items() if t.endswith("Page") for n in ns]

    def need(name: str, severity: Severity = "error") -> None:
        out.append(_f(severity, "jsonld_missing_type", p.path, f"the @graph has no {name} node"))

    def prop(node: dict, t: str, key: str) -> bool:
        if node.get(key) in (None, "", []):
            out.append(_f("error", "jsonld_missing_property", p.path, f"{t} lacks required property '{key}'"))
            return False
        return True

    for t in ("WebSite", "Organization"):
        if t not in by_type:
            need(t, "warning")
    if not pages:
        need("WebPage or CollectionPage")
    for node in pages:
        t = _types(node)[0]
        if prop(node, t, "name") & prop(node, t, "url") and p.canonicals and node is pages[0] \
                and node["url"] != p.canonicals[0]:
            out.append(_f("warning", "jsonld_url_mismatch", p.path,
                          f"{t} url {node['url']} differs from the canonical {p.canonicals[0]}"))
    if kind != "home" and "BreadcrumbList" not in by_type:
        need("BreadcrumbList")
    for node in by_type.get("BreadcrumbList", []):
        els = node.get("itemListElement")
        if not isinstance(els, list) or not els:
            prop(node, "BreadcrumbList", "itemListElement")
            continue
        for n, el in enumerate(els):
            el = el if isinstance(el, dict) else {}
            keys = ("position", "name", "item") if n < len(els) - 1 else ("position", "name")
            missing = [k for k in keys if el.get(k) in (None, "")]
            if missing:
                out.append(_f("error", "jsonld_missing_property", p.path,
                              f"BreadcrumbList element {n + 1} lacks {', '.join(missing)}"))
                break
    if kind in ("home", "hub", "collection") and "ItemList" not in by_type:
        need("ItemList")
    for node in by_type.get("ImageObject", []):
        if prop(node, "ImageObject", "contentUrl") and isinstance(node["contentUrl"], str):
            parser._res(node["contentUrl"])
    for node in by_type.get("ItemList", []):
        els = node.get("itemListElement")
        n_decl = node.get("numberOfItems")
        if not (prop(node, "ItemList", "numberOfItems") & prop(node, "ItemList", "itemListElement")):
            if isinstance(els, list):
                p.itemlists.append(len(els))
            continue
        if not isinstance(els, list):
            els = [els]
        if not isinstance(n_decl, int) or n_decl != len(els):
            out.append(_f("error", "itemlist_count", p.path,
                          f"ItemList numberOfItems is {n_decl!r} but it has {len(els)} itemListElement entries"))
        p.itemlists.append(len(els))
        members = []
        for el in els:
            url = _member_url(el)
            path = internal_path(url, p.path, parser.base) if url else None
            if path is not None:
                members.append(path)
        if not p.members:
            p.members = tuple(members)
        if parser.has_card:  # the cards: distinct links inside the card grid(s)
            shown = parser.card_links
            where = "cards"
        else:  # no card grid: links in the main content to pages of the members' kinds
            prefixes = {"/" + m.strip("/").split("/")[0] + "/" for m in members}
            shown = {t: None for t in parser.main_links if t != "/" and any(t.startswith(x) for x in prefixes)}
            where = "links in the main content"
        if members and (not parser.has_card or not shown.keys().isdisjoint(members)):
            hidden = [m for m in members if m not in shown]
            if hidden:
                out.append(_f("error", "itemlist_not_shown", p.path,
                              f"{len(hidden)} ItemList entries are not shown on the page (first: {hidden[0]})"))
        if len(by_type["ItemList"]) == 1 and (members or parser.has_card) and len(shown) != len(els):
            out.append(_f("error", "itemlist_visible_mismatch", p.path,
                          f"ItemList has {len(els)} entries but the page shows {len(shown)} {where}"))


def parse_page(out_dir: str, rel: str, base_url: str, locales: tuple[str, ...] = ()) -> PageData:
    """Parse one HTML file and run the checks that need only that page."""
    path = "/" + rel[:-len("index.html")] if rel.endswith("index.html") and (rel == "index.html" or
                                                                              rel.endswith("/index.html")) else "/" + rel
    p = PageData(path, rel)
    try:
        with open(os.path.join(out_dir, rel), encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        p.findings.append(_f("error", "html_unreadable", path, f"cannot read {rel}: {exc}"))
        return p
    parser = _Parser(p, base_url)
    parser.feed(text)
    p.links = [t for t in parser.links if t != path]
    p.noindex = "noindex" in p.robots
    kind = page_kind(path, locales)
    out = p.findings
    if parser.alt_missing:
        out.append(_f("error", "img_missing_alt", path,
                      f"{len(parser.alt_missing)} <img> without alt (first: {parser.alt_missing[0] or '?'})"))
    if parser.alt_empty:
        out.append(_f("warning", "img_empty_alt", path,
                      f"{len(parser.alt_empty)} <img> with empty alt (first: {parser.alt_empty[0] or '?'})"))
    p.resources = list(parser.res)
    if p.noindex:  # not for search engines: only broken links and alt text matter
        return p
    if not p.title:
        out.append(_f("error", "title_missing", path, "no <title> or an empty one"))
    elif p.n_titles > 1:
        out.append(_f("warning", "title_multiple", path, f"{p.n_titles} <title> elements"))
    elif len(p.title) > TITLE_MAX:
        out.append(_f("warning", "title_too_long", path, f"title is {len(p.title)} characters: {p.title[:80]!r}"))
    desc = p.descs[0].strip() if p.descs else ""
    if not desc:
        out.append(_f("error", "description_missing", path, "no meta description or an empty one"))
    elif len(desc) > DESC_MAX:
        out.append(_f("warning", "description_too_long", path, f"meta description is {len(desc)} characters"))
    elif len(desc) < DESC_MIN:
        out.append(_f("info", "description_too_short", path, f"meta description is {len(desc)} characters"))
    if not p.canonicals:
        out.append(_f("error", "canonical_missing", path, "no <link rel=\"canonical\">"))
    elif len(set(p.canonicals)) > 1:
        out.append(_f("warning", "canonical_multiple", path,
                      f"{len(p.canonicals)} canonical links: {', '.join(sorted(set(p.canonicals))[:3])}"))
    elif not p.canonicals[0].startswith(("http://", "https://")):
        out.append(_f("warning", "canonical_relative", path, f"canonical {p.canonicals[0]!r} is not absolute"))
    if not p.h1s:
        out.append(_f("warning", "h1_missing", path, "no <h1>"))
    missing_og = [k for k in ("og:title", "og:description", "og:url", "og:image", "twitter:card")
                  if k not in parser.og]
    if missing_og and not (missing_og == ["og:image"] and kind == "page"):
        out.append(_f("warning", "opengraph_missing", path, f"missing {', '.join(missing_og)}"))
    if kind != "home" and not parser.has_crumbs:
        out.append(_f("warning", "breadcrumbs_missing", path, "no breadcrumb trail"))
    if not p.lang:
        out.append(_f("info", "lang_missing", path, "<html> has no lang attribute"))
    _check_jsonld(p, parser, kind)
    p.resources = list(parser.res)  # JSON-LD image URLs were added
    return p
