"""Reading a built site the way a crawler does (independent of sitegen's own audit)."""

from __future__ import annotations

import hashlib
import json
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
IMG = "{http://www.google.com/schemas/sitemap-image/1.1}"


class PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.images: list[dict] = []
        self.titles: list[str] = []
        self.canonical: list[str] = []
        self.jsonld: list[str] = []
        self.h1: list[str] = []
        self.meta: dict[str, str] = {}
        self.scripts = 0
        self._in: str | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "img":
            self.images.append(a)
        elif tag == "link" and a.get("rel") == "canonical":
            self.canonical.append(a.get("href", ""))
        elif tag == "meta" and (a.get("name") or a.get("property")):
            self.meta[a.get("name") or a.get("property")] = a.get("content", "")
        elif tag == "script":
            self.scripts += 1
            if a.get("type") == "application/ld+json":
                self._in, self._buf = "jsonld", []
        elif tag in ("title", "h1"):
            self._in, self._buf = tag, []

    def handle_endtag(self, tag):
        if self._in == "jsonld" and tag == "script":
            self.jsonld.append("".join(self._buf))
            self._in = None
        elif self._in == tag == "title":
            self.titles.append("".join(self._buf).strip())
            self._in = None
        elif self._in == tag == "h1":
            self.h1.append("".join(self._buf).strip())
            self._in = None

    def handle_data(self, data):
        if self._in:
            self._buf.append(data)


def parse_page(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def page_file(root: Path, url_path: str) -> Path:
    rel = url_path.lstrip("/")
    return root / rel / "index.html" if rel == "" or rel.endswith("/") else root / rel


def internal(href: str) -> str | None:
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    return parts.path


def all_pages(root: Path) -> dict[str, Path]:
    """URL path -> file for every HTML page (not the stubs left at retired URLs: redirects, not pages)."""
    out = {}
    for f in root.rglob("index.html"):
        rel = f.parent.relative_to(root).as_posix()
        path = "/" if rel == "." else f"/{rel}/"
        if not is_retired_stub(f):
            out[path] = f
    return out


def is_retired_stub(f: Path) -> bool:
    """The page sitegen leaves at a retired URL (a 301 meta refresh or a 410 "gone" page)."""
    with open(f, "rb") as fh:
        return b'<meta name="sitegen:status"' in fh.read(1024)


def crawl(root: Path) -> dict[str, int]:
    """Breadth-first from the home page over internal links: URL path -> clicks from home."""
    depth = {"/": 0}
    queue = deque(["/"])
    while queue:
        path = queue.popleft()
        f = page_file(root, path)
        if not f.is_file() or not f.name.endswith(".html"):
            continue
        for href in parse_page(f).links:
            target = internal(href)
            if target is not None and target not in depth:
                depth[target] = depth[path] + 1
                queue.append(target)
    return depth


def sitemap_urls(root: Path) -> dict[str, list[str]]:
    """loc -> image locs, over the sitemap index and its children."""
    index = ET.parse(root / "sitemap.xml").getroot()
    assert index.tag == SM + "sitemapindex"
    out: dict[str, list[str]] = {}
    for loc in index.iter(SM + "loc"):
        child = root / urlsplit(loc.text).path.lstrip("/")
        for url in ET.parse(child).getroot().iter(SM + "url"):
            out[url.find(SM + "loc").text] = [i.text for i in url.iter(IMG + "loc")]
    return out


def sitemap_lastmods(root: Path) -> dict[str, str]:
    index = ET.parse(root / "sitemap.xml").getroot()
    out = {}
    for loc in index.iter(SM + "loc"):
        child = root / urlsplit(loc.text).path.lstrip("/")
        for url in ET.parse(child).getroot().iter(SM + "url"):
            out[url.find(SM + "loc").text] = url.find(SM + "lastmod").text
    return out


def tree_hashes(root: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file (the review report is not in the site, so nothing is skipped)."""
    out = {}
    for f in sorted(root.rglob("*")):
        if f.is_file():
            out[f.relative_to(root).as_posix()] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def jsonld_graph(parser: PageParser) -> list[dict]:
    assert len(parser.jsonld) == 1, "exactly one JSON-LD block"
    return json.loads(parser.jsonld[0])["@graph"]
