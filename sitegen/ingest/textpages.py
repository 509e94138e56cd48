"""Markdown text pages (``content/pages/*.md``): about, contact, imprint ...

Each file may start with a TOML front matter between ``+++`` lines (``title``, ``description``). The body is
CommonMark (+ tables) rendered by markdown-it-py with raw HTML disabled, so HTML in a page is shown as text.
Headings are shifted down one level: the page title is the page's only ``<h1>``.
"""

from __future__ import annotations

import html
import re
import tomllib
from pathlib import Path

from sitegen.core.models import TextPage
from sitegen.core.urls import slugify

FRONT_MATTER = re.compile(r"\A\ufeff?\+\+\+[ \t]*\r?\n(.*?)\r?\n\+\+\+[ \t]*(?:\r?\n|\Z)", re.S)
KNOWN_KEYS = {"title", "description"}
# first path segments used by generated pages: a text page there would shadow or confuse them
RESERVED = {"item", "category", "topic", "media", "assets", "report", "sitemap", "robots", "llms"}
MAX_DESCRIPTION = 155


def _markdown():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.-–")
    return cut + "…"


def parse_text_page(text: str, stem: str, source: str, md=None) -> tuple[TextPage, list[str]]:
    """One markdown document -> TextPage (slug from ``stem``) and its warnings."""
    md = md or _markdown()
    warnings: list[str] = []
    meta: dict = {}
    match = FRONT_MATTER.match(text)
    if match:
        try:
            meta = tomllib.loads(match.group(1))
        except tomllib.TOMLDecodeError as exc:
            warnings.append(f"{source}: front matter is not valid TOML ({exc}); ignored")
        for key in sorted(set(meta) - KNOWN_KEYS):
            warnings.append(f"{source}: unknown front matter key {key!r}, ignored")
        text = text[match.end():]
    tokens = md.parse(text)

    title = meta.get("title") if isinstance(meta.get("title"), str) else ""
    title = _plain(title)
    first_heading = ""
    drop: tuple[int, int] | None = None
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            inline = tokens[i + 1]
            first_heading = _plain("".join(c.content for c in (inline.children or [])
                                           if c.type in ("text", "code_inline")))
            drop = (i, i + 3)
            break
    if not title:
        title = first_heading or stem.replace("-", " ").replace("_", " ").strip().capitalize()
        warnings.append(f"{source}: no title in the front matter; using {title!r}")
    if drop and first_heading == title and drop[0] == 0:
        del tokens[drop[0]:drop[1]]  # the title is the page's <h1>; do not repeat it as a heading
    levels = [int(tok.tag[1]) for tok in tokens if tok.type == "heading_open"]
    shift = 2 - min(levels) if levels else 0  # the body's top headings become <h2>
    for tok in tokens:
        if tok.type in ("heading_open", "heading_close"):
            tok.tag = f"h{min(int(tok.tag[1]) + shift, 6)}"
    body = md.renderer.render(tokens, md.options, {})

    description = meta.get("description") if isinstance(meta.get("description"), str) else ""
    description = _plain(description)
    if not description:
        paragraph = ""
        for i, tok in enumerate(tokens):
            if tok.type == "paragraph_open":
                paragraph = _plain("".join(c.content for c in (tokens[i + 1].children or [])
                                           if c.type in ("text", "code_inline", "softbreak")))
                break
        description = _clip(paragraph, MAX_DESCRIPTION) if paragraph else title
        warnings.append(f"{source}: no description in the front matter; using the first paragraph")
    elif len(description) > MAX_DESCRIPTION:
        warnings.append(f"{source}: description is {len(description)} characters; search engines show about "
                        f"{MAX_DESCRIPTION}")
    slug = slugify(stem)
    return TextPage(slug=slug, title=title, description=description, html=body, source=source), warnings


def load_text_pages(folder: Path) -> tuple[list[TextPage], list[str]]:
    """Every ``*.md`` file of ``folder`` (not recursive), sorted by slug. A missing folder gives no pages."""
    folder = Path(folder)
    pages: list[TextPage] = []
    warnings: list[str] = []
    if not folder.is_dir():
        return pages, warnings
    md = _markdown()
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.md")):
        source = f"{folder.name}/{path.name}"
        slug = slugify(path.stem)
        if not slug:
            warnings.append(f"{source}: the file name gives an empty URL slug; page skipped")
            continue
        if slug in RESERVED:
            warnings.append(f"{source}: /{slug}/ is reserved for generated pages; page skipped")
            continue
        if slug in seen:
            warnings.append(f"{source}: same URL /{slug}/ as {seen[slug]}; page skipped")
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            warnings.append(f"{source}: cannot be read as UTF-8 ({exc}); page skipped")
            continue
        page, page_warnings = parse_text_page(text, path.stem, source, md)
        seen[slug] = source
        pages.append(page)
        warnings.extend(page_warnings)
    pages.sort(key=lambda p: p.slug)
    return pages, warnings


def html_to_text(fragment: str) -> str:
    """Visible text of an HTML fragment (for descriptions and summaries)."""
    return _plain(html.unescape(re.sub(r"<[^>]+>", " ", fragment)))
