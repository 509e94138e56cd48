"""The sitemaps as published, read back for the review report's HTML view (``report.py``): the index and every
child it names that exists in the built folder, each URL with its lastmod and image count. XSLT is leaving
browsers, so SEO staff read these tables instead of the XSL view; the audit (``check.py``) checks the protocol,
this only reads. Streams each file (``iterparse``), so a 50,000-URL sitemap costs little memory."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
IMAGE_NS = "{http://www.google.com/schemas/sitemap-image/1.1}"
INDEX = "sitemap.xml"


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    path: str  # the URL's path on the site ("" when the URL is not under base_url)
    lastmod: str
    images: int


@dataclass
class SitemapFile:
    name: str  # file name in the built folder: sitemap.xml, sitemap-items.xml ...
    kind: str  # "index", "urlset", or "invalid" (not readable XML, or another root element)
    entries: list[SitemapEntry] = field(default_factory=list)  # urls, or an index's child sitemaps
    error: str = ""

    @property
    def images(self) -> int:
        return sum(e.images for e in self.entries)

    def lastmod_range(self) -> tuple[str, str]:
        dates = sorted(e.lastmod for e in self.entries if e.lastmod)
        return (dates[0], dates[-1]) if dates else ("", "")


def _site_path(loc: str, base_url: str) -> str:
    if not loc.startswith(base_url):
        return ""
    return "/" + loc[len(base_url):].lstrip("/") if base_url.endswith("/") else urlsplit(loc).path


def read_file(path: Path, base_url: str) -> SitemapFile:
    out = SitemapFile(path.name, "invalid")
    root = None
    try:
        for event, elem in ET.iterparse(str(path), events=("start", "end")):
            if root is None:
                root = elem
                out.kind = {SITEMAP_NS + "urlset": "urlset", SITEMAP_NS + "sitemapindex": "index"}.get(elem.tag,
                                                                                                     "invalid")
                if out.kind == "invalid":
                    out.error = f"root element {elem.tag} is neither urlset nor sitemapindex"
                    return out
                continue
            if event != "end" or elem.tag not in (SITEMAP_NS + "url", SITEMAP_NS + "sitemap"):
                continue
            loc = (elem.findtext(SITEMAP_NS + "loc") or "").strip()
            lastmod = (elem.findtext(SITEMAP_NS + "lastmod") or "").strip()
            images = sum(1 for _ in elem.iter(IMAGE_NS + "image"))
            out.entries.append(SitemapEntry(loc, _site_path(loc, base_url), lastmod, images))
            root.clear()
    except (ET.ParseError, OSError) as exc:
        out.kind, out.error = "invalid", str(exc)
    return out


def read_sitemaps(site_dir: Path, base_url: str) -> list[SitemapFile]:
    """The index, then each child it names (in its order) that is a file of ``site_dir``; each file once."""
    site_dir = Path(site_dir)
    if not (site_dir / INDEX).is_file():
        return []
    files = [read_file(site_dir / INDEX, base_url)]
    seen = {INDEX}
    if files[0].kind == "index":
        for child in files[0].entries:
            name = child.path.lstrip("/")
            if not name or "/" in name or name in seen or not (site_dir / name).is_file():
                continue
            seen.add(name)
            files.append(read_file(site_dir / name, base_url))
    return files
