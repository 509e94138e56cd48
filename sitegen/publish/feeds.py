"""Site-level files: sitemaps (index + one child per page type, image extension, XSL), robots.txt, llms.txt.

Sitemaps are written one ``<url>`` at a time (never one big string) and split at ``max_urls`` URLs or
``max_bytes`` bytes, whichever comes first: ``sitemap-items.xml``, ``sitemap-items-2.xml`` ... Output is
sorted by path, so the same records give the same bytes.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from sitegen.core import urls
from sitegen.core.config import Config
from sitegen.core.errors import BuildError
from sitegen.core.models import PageRecord, Site
from sitegen.distribute.plan import SitePlan

GROUPS = (("pages", ("home", "page")), ("hubs", ("hub",)), ("collections", ("collection",)), ("items", ("item",)))
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
IMAGE_NS = "http://www.google.com/schemas/sitemap-image/1.1"
XHTML_NS = "http://www.w3.org/1999/xhtml"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<?xml-stylesheet type="text/xsl" href="/sitemap.xsl"?>\n'
URLSET_OPEN = f'<urlset xmlns="{SITEMAP_NS}" xmlns:image="{IMAGE_NS}">\n'
URLSET_OPEN_XHTML = f'<urlset xmlns="{SITEMAP_NS}" xmlns:image="{IMAGE_NS}" xmlns:xhtml="{XHTML_NS}">\n'
URLSET_CLOSE = "</urlset>\n"
MAX_IMAGES_PER_URL = 1000  # the image sitemap limit
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9._~:/@!$&*+,;=%-]+")  # what config.py accepts as site.base_url
_SITE_PATH = re.compile(r"/(?:[a-z0-9._-]+/)*")  # the paths sitegen publishes: lowercase ASCII slugs


def _base(cfg: Config) -> str:
    """``site.base_url``, checked again here: one line of robots.txt or a sitemap must not become several."""
    base = cfg.site.base_url
    if not _PLAIN_URL.fullmatch(base):
        raise BuildError(f"site.base_url: must be a plain absolute http(s) URL (got {base!r})")
    return base


def _url_entry(record: PageRecord, base_url: str, cfg: Config | None = None) -> str:
    """One ``<url>``: loc, lastmod, then the extension elements (image entries; hreflang alternates as
    ``xhtml:link`` when ``site.translations`` declares translated sites)."""
    parts = [f"<url><loc>{escape(urls.absolute(base_url, record.path))}</loc>"]
    if record.lastmod:
        parts.append(f"<lastmod>{escape(record.lastmod)}</lastmod>")
    for image in record.images[:MAX_IMAGES_PER_URL]:
        parts.append(f"<image:image><image:loc>{escape(image.loc)}</image:loc></image:image>")
    if cfg is not None:
        for lang, href in urls.alternates(base_url, cfg.site.language, cfg.site.translations, record.path):
            parts.append(f'<xhtml:link rel="alternate" hreflang="{escape(lang)}" href="{escape(href)}"/>')
    parts.append("</url>\n")
    return "".join(parts)


class _Chunks:
    """Writes one page type's URLs into as many files as the limits need."""

    def __init__(self, out_dir: Path, name: str, max_urls: int, max_bytes: int, urlset_open: str = URLSET_OPEN):
        self.out_dir, self.name, self.max_urls, self.max_bytes = out_dir, name, max_urls, max_bytes
        self.urlset_open = urlset_open
        self.files: list[tuple[str, str]] = []  # (file name, max lastmod)
        self._fh = None
        self._count = self._bytes = 0
        self._lastmod = ""

    def add(self, entry: bytes, lastmod: str) -> None:
        tail = len(URLSET_CLOSE)
        if self._fh is not None and (self._count >= self.max_urls or self._bytes + len(entry) + tail > self.max_bytes):
            self._close()
        if self._fh is None:
            self._open()
        self._fh.write(entry)
        self._count += 1
        self._bytes += len(entry)
        self._lastmod = max(self._lastmod, lastmod)

    def _open(self) -> None:
        n = len(self.files) + 1
        file_name = f"sitemap-{self.name}.xml" if n == 1 else f"sitemap-{self.name}-{n}.xml"
        self.files.append((file_name, ""))
        self._fh = open(self.out_dir / file_name, "wb")
        head = (XML_HEAD + self.urlset_open).encode("utf-8")
        self._fh.write(head)
        self._count, self._bytes, self._lastmod = 0, len(head), ""

    def _close(self) -> None:
        self._fh.write(URLSET_CLOSE.encode("utf-8"))
        self._fh.close()
        self._fh = None
        self.files[-1] = (self.files[-1][0], self._lastmod)

    def finish(self) -> list[tuple[str, str]]:
        if self._fh is not None:
            self._close()
        return self.files


def write_sitemaps(records: list[PageRecord], cfg: Config, out_dir: Path, *, max_urls: int = 50_000,
                   max_bytes: int = 50_000_000) -> list[str]:
    """Write ``sitemap.xml`` (an index), its children and ``sitemap.xsl``. Returns the file names written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = _base(cfg)
    children: list[tuple[str, str]] = []
    for name, kinds in GROUPS:
        group = sorted((r for r in records if r.in_sitemap and r.kind in kinds), key=lambda r: r.path)
        chunks = _Chunks(out_dir, name, max_urls, max_bytes,
                         URLSET_OPEN_XHTML if cfg.site.translations else URLSET_OPEN)
        for record in group:
            chunks.add(_url_entry(record, base, cfg).encode("utf-8"), record.lastmod)
        children += chunks.finish()
    with open(out_dir / "sitemap.xml", "wb") as fh:
        fh.write((XML_HEAD + f'<sitemapindex xmlns="{SITEMAP_NS}">\n').encode("utf-8"))
        for file_name, lastmod in children:
            entry = f"<sitemap><loc>{escape(urls.absolute(base, '/' + file_name))}</loc>"
            if lastmod:
                entry += f"<lastmod>{escape(lastmod)}</lastmod>"
            fh.write((entry + "</sitemap>\n").encode("utf-8"))
        fh.write(b"</sitemapindex>\n")
    (out_dir / "sitemap.xsl").write_text(SITEMAP_XSL, encoding="utf-8")
    return ["sitemap.xml"] + [name for name, _ in children] + ["sitemap.xsl"]


REPORT_PATH = "/_report/"  # where `sitegen serve` shows the review report (never part of build/)


def order_rules(rules: list[tuple[bool, str]]) -> list[tuple[bool, str]]:
    """Allow / Disallow rules (allow, path) in the order that makes a first-match parser (Python's
    ``urllib.robotparser``, many crawlers) decide as the longest-match rule of RFC 9309 and Google does:
    longer paths first, and on a tie Allow first (RFC 9309 prefers Allow). Exact for plain path prefixes;
    wildcards (``*``, ``$``), which first-match parsers do not read, are not used."""
    return sorted(dict.fromkeys(rules), key=lambda r: (-len(r[1]), not r[0], r[1]))


def robots_rules(cfg: Config) -> list[tuple[bool, str]]:
    """What robots.txt says for every crawler: the site is open, the review report (should a preview of
    ``sitegen serve`` ever be reachable) is not."""
    root = urlsplit(_base(cfg)).path or "/"
    return order_rules([(True, root), (False, root.rstrip("/") + REPORT_PATH)])


def write_robots(cfg: Config, out_dir: Path) -> None:
    lines = ["User-agent: *", *(f"{'Allow' if allow else 'Disallow'}: {path}" for allow, path in robots_rules(cfg))]
    text = "\n".join(lines) + f"\n\nSitemap: {urls.absolute(_base(cfg), '/sitemap.xml')}\n"
    (Path(out_dir) / "robots.txt").write_text(text, encoding="utf-8", newline="\n")


# -- llms.txt -----------------------------------------------------------------------------------------
def _one_line(text: str) -> str:
    return " ".join(str(text).split())


_MD_SPECIAL = re.compile(r"([\\`\[\]()<>])")


def _md(text: str) -> str:
    """One line of Markdown text: brackets, parentheses, backticks, angle brackets and backslashes escaped, so
    a name or summary can never open a link, an image, code or HTML; "://" and "www." are broken up so a
    URL in the text is not turned into a link."""
    text = _MD_SPECIAL.sub(r"\\\1", _one_line(text))
    return text.replace("://", "\\://").replace("www.", "www\\.")



def _link(base: str, path: str) -> str:
    """The absolute URL of one of the site's own pages, or "" (no link is written) for anything else."""
    return urls.absolute(base, path) if _SITE_PATH.fullmatch(path) else ""


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _first_sentence(text: str) -> str:
    text = _one_line(text)
    for end in (". ", "? ", "! "):
        if end in text:
            text = text.split(end, 1)[0] + end.strip()
    return text


def write_llms_txt(plan: SitePlan, site: Site, records: dict[str, PageRecord], cfg: Config, out_dir: Path) -> None:
    """``llms.txt`` (llmstxt.org): the site, its categories, collections and text pages, one line each. Names
    and summaries are escaped for Markdown (``_md``); links go only to the site's own pages (``_link``)."""
    base = _base(cfg)
    lines = [f"# {_md(cfg.site.title)}", ""]
    description = _md(cfg.site.description) or (
        f"{len(plan.items):,} images in {len(plan.hubs):,} categories and {len(plan.collections):,} collections.")
    lines += [f"> {description}", ""]
    lines += [f"This site has {len(plan.items):,} image pages, {len(plan.hubs):,} category pages and "
              f"{len(plan.collections):,} collection pages. Every page has a sitemap entry: "
              f"{urls.absolute(base, '/sitemap.xml')}", ""]
    published = set(records) if records else None

    def listed(path: str) -> bool:
        return published is None or path in published

    def entries(heading: str, rows: list[tuple[str, str, str]]) -> None:
        """(name, page path, note) -> "- [name](url)note" lines under ``heading``."""
        out = [f"- [{_md(name)}]({url}){note}" for name, path, note in rows if (url := _link(base, path))]
        if out:
            lines.extend([heading, "", *out, ""])

    hub_rows = []
    for _, hub in sorted(plan.hubs.items()):
        if not listed(urls.hub_url(hub.slug)):
            continue
        topics = [_md(plan.collections[s].topic) for s in hub.collection_slugs[:3] if s in plan.collections]
        summary = ("Collections such as " + ", ".join(topics)) if topics else f"Images in {_md(hub.name)}"
        counts = f"{_plural(len(hub.item_ids), 'image')}, {_plural(len(hub.collection_slugs), 'collection')}"
        hub_rows.append((hub.name, urls.hub_url(hub.slug), f": {summary} ({counts})"))
    entries("## Categories", hub_rows)
    coll_rows = []
    for _, coll in sorted(plan.collections.items()):
        path = urls.collection_url(coll.slug)
        if not listed(path):
            continue
        summary = _one_line(coll.summary) or (records[path].description if records and path in records else "")
        summary = _md(_first_sentence(summary)) or f"{len(coll.item_ids)} images"
        topic = _one_line(coll.topic)
        coll_rows.append((topic[:1].upper() + topic[1:], path, f": {summary}"))
    entries("## Collections", coll_rows)
    text_rows = [(page.title, urls.text_page_url(page.slug), f": {_md(page.description)}" if page.description else "")
                 for _, page in sorted(plan.text_pages.items()) if listed(urls.text_page_url(page.slug))]
    entries("## Pages", text_rows)
    (Path(out_dir) / "llms.txt").write_text("\n".join(lines), encoding="utf-8", newline="\n")


SITEMAP_XSL = """<?xml version="1.0" encoding="UTF-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:s="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"
  exclude-result-prefixes="s image">
<xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>
<xsl:template match="/">
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<meta name="robots" content="noindex, follow"/>
<title>XML Sitemap</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2321;background:#faf8f5}
.wrap{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:1.6rem;margin:0 0 .3em}
p{color:#55605c;margin:0 0 1em}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #e4dfd7}
th,td{text-align:left;padding:8px 12px;border-bottom:1px solid #e4dfd7;vertical-align:top}
th{background:#1f4d46;color:#fff;font-weight:600;position:sticky;top:0}
tr:nth-child(even) td{background:#f6f3ee}
td.n{text-align:right;font-variant-numeric:tabular-nums}
a{color:#1f4d46;word-break:break-all}
.kind{display:inline-block;padding:0 8px;border-radius:999px;background:#e6efec;font-size:.85rem}
</style>
</head>
<body><div class="wrap">
<h1>XML Sitemap</h1>
<xsl:choose>
<xsl:when test="s:sitemapindex">
<p>This sitemap index lists <strong><xsl:value-of select="count(s:sitemapindex/s:sitemap)"/></strong> sitemaps.
It is meant for search engines; this table is for people.</p>
<table>
<thead><tr><th>#</th><th>Sitemap</th><th>Last modified</th></tr></thead>
<tbody>
<xsl:for-each select="s:sitemapindex/s:sitemap">
<tr>
<td class="n"><xsl:value-of select="position()"/></td>
<td><a href="{s:loc}"><xsl:value-of select="s:loc"/></a></td>
<td><xsl:value-of select="s:lastmod"/></td>
</tr>
</xsl:for-each>
</tbody>
</table>
</xsl:when>
<xsl:otherwise>
<p>This sitemap lists <strong><xsl:value-of select="count(s:urlset/s:url)"/></strong> URLs and
<strong><xsl:value-of select="count(s:urlset/s:url/image:image)"/></strong> images.
<a href="/sitemap.xml">Back to the sitemap index</a>.</p>
<table>
<thead><tr><th>#</th><th>URL</th><th>Type</th><th>Last modified</th><th>Images</th></tr></thead>
<tbody>
<xsl:for-each select="s:urlset/s:url">
<tr>
<td class="n"><xsl:value-of select="position()"/></td>
<td><a href="{s:loc}"><xsl:value-of select="s:loc"/></a></td>
<td><span class="kind"><xsl:choose>
<xsl:when test="contains(s:loc, '/item/')">item</xsl:when>
<xsl:when test="contains(s:loc, '/topic/')">collection</xsl:when>
<xsl:when test="contains(s:loc, '/category/')">hub</xsl:when>
<xsl:otherwise>page</xsl:otherwise>
</xsl:choose></span></td>
<td><xsl:value-of select="s:lastmod"/></td>
<td class="n"><xsl:value-of select="count(image:image)"/></td>
</tr>
</xsl:for-each>
</tbody>
</table>
</xsl:otherwise>
</xsl:choose>
</div></body>
</html>
</xsl:template>
</xsl:stylesheet>
"""
