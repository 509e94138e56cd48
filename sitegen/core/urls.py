"""URL scheme and slugs: one place decides where every page lives."""

from __future__ import annotations

import re
import unicodedata

MAX_SLUG = 80


def slugify(text: str, max_len: int = MAX_SLUG) -> str:
    """Lowercase ASCII slug: 'Crème Brûlée & Café' -> 'creme-brulee-cafe'. May return '' for text with no
    ASCII letters or digits; callers fall back to another source."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(text) > max_len:
        text = text[:max_len].rsplit("-", 1)[0] or text[:max_len]
    return text.strip("-")


def home_url() -> str:
    return "/"


def hub_url(slug: str, page: int = 1) -> str:
    return f"/category/{slug}/" if page <= 1 else f"/category/{slug}/page/{page}/"


def item_url(slug: str) -> str:
    return f"/item/{slug}/"


def collection_url(slug: str) -> str:
    """``/topic/<slug>/``; for an alias key ``<slug>#<anchor>`` (a line on that page) ``/topic/<slug>/#<anchor>``."""
    slug, sep, anchor = slug.partition("#")
    return f"/topic/{slug}/#{anchor}" if sep else f"/topic/{slug}/"


def collection_slug(url_path: str) -> str:
    """The slug of a collection page path (``/topic/<slug>/`` -> ``<slug>``); "" for any other path."""
    path = page_path(url_path)
    if path.startswith("/topic/") and path.endswith("/") and path.count("/") == 3:
        return path[len("/topic/"):-1]
    return ""


def alias_key(slug: str, anchor: str) -> str:
    """The key of an alias line (anchor ``anchor`` on the collection page ``slug``), where a collection slug may
    stand (an item's annotations)."""
    return f"{slug}#{anchor}"


def page_path(url_path: str) -> str:
    """The page a link lands on: the path without its ``#fragment``."""
    return url_path.split("#", 1)[0]


def text_page_url(slug: str) -> str:
    return f"/{slug}/"


def output_file(url_path: str) -> str:
    """'/item/x/' -> 'item/x/index.html' (relative to the output folder)."""
    rel = url_path.lstrip("/")
    return f"{rel}index.html" if rel.endswith("/") or rel == "" else rel


def absolute(base_url: str, url_path: str) -> str:
    return base_url.rstrip("/") + "/" + url_path.lstrip("/")


def alternates(base_url: str, language: str, translations: dict[str, str], url_path: str) -> list[tuple[str, str]]:
    """hreflang alternates of the page at ``url_path``: (language, absolute URL) for this site and each
    translated site (``site.translations``, which publish the page at the same path), sorted by language;
    [] when the site declares no translations."""
    if not translations:
        return []
    pairs = {language: absolute(base_url, url_path)}
    pairs.update({lang: absolute(base, url_path) for lang, base in translations.items()})
    return sorted(pairs.items())
