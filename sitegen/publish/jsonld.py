"""schema.org JSON-LD: one ``@graph`` per page, built from the page's template context (plain data).

Graph nodes and their ``@id``s (Yoast-style, so nodes can reference each other):
- ``<base>#website`` WebSite, ``<base>#organization`` Organization (the publisher);
- ``<page url>`` WebPage / CollectionPage, ``<page url>#breadcrumb`` BreadcrumbList;
- ``<page url>#itemlist`` ItemList: of ImageObject on hubs and collections, of the linked CollectionPages on
  the home page (each by the ``@id`` of that page's own node);
- ``<page url>#primaryimage`` ImageObject (item pages: ``primaryImageOfPage`` and ``mainEntity``).
"""

from __future__ import annotations

import json
from typing import Any

CONTEXT = "https://schema.org"
_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def dumps(data: Any) -> str:
    """JSON for a ``<script type="application/ld+json">`` element: sorted keys, and ``< > &`` escaped so no
    string can close the script element."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).translate(_ESCAPES)


RIGHTS_KEYS = {"license": "license", "license_page": "acquireLicensePage", "credit": "creditText",
               "copyright": "copyrightNotice"}  # CatalogSection.RIGHTS -> schema.org ImageObject


def page_type(kind: str) -> str:
    """The schema.org type of a page's own node."""
    return "CollectionPage" if kind in ("hub", "collection") else "WebPage"


def image_object(*, page_url: str, name: str, caption: str, content_url: str, thumbnail_url: str,
                 width: int, height: int, keywords: list[str], date: str = "",
                 rights: dict[str, str] | None = None) -> dict:
    """An ImageObject for an item image (``url`` is the item page, ``contentUrl`` the largest rendition).
    ``rights``: license, license_page, credit, copyright (absolute URLs for the first two), empty ones left out."""
    node: dict[str, Any] = {"@type": "ImageObject", "url": page_url, "name": name, "contentUrl": content_url,
                            "thumbnailUrl": thumbnail_url, "width": width, "height": height,
                            "encodingFormat": "image/webp"}
    for key, value in (rights or {}).items():
        if value:
            node[RIGHTS_KEYS[key]] = value
    if caption:
        node["caption"] = caption
        node["description"] = caption
    if keywords:
        node["keywords"] = ", ".join(keywords)
    if date:
        node["dateCreated"] = date
    return node


def _website(site: dict) -> dict:
    base = site["base_url"]
    node = {"@type": "WebSite", "@id": base + "#website", "url": base, "name": site["title"],
            "publisher": {"@id": base + "#organization"}, "inLanguage": site["language"]}
    if site["description"]:
        node["description"] = site["description"]
    return node


def _organization(site: dict) -> dict:
    base = site["base_url"]
    node: dict[str, Any] = {"@type": "Organization", "@id": base + "#organization",
                            "name": site["organization"] or site["title"], "url": base}
    logo = site.get("logo")
    if logo:
        node["logo"] = {"@type": "ImageObject", "@id": base + "#logo", "url": logo, "contentUrl": logo,
                        "caption": node["name"]}
        if site.get("logo_width"):
            node["logo"].update(width=site["logo_width"], height=site["logo_height"])
        for key, value in (site.get("rights") or {}).items():  # the site's licence, as its images carry it
            if value:
                node["logo"][RIGHTS_KEYS[key]] = value
        node["image"] = {"@id": base + "#logo"}
    return node


def _breadcrumb(site: dict, page: dict) -> dict:
    base = site["base_url"].rstrip("/")
    crumbs = [(c["name"], base + c["path"]) for c in page["crumbs"]] + [(page["crumb"], page["url"])]
    return {"@type": "BreadcrumbList", "@id": page["url"] + "#breadcrumb",
            "itemListElement": [{"@type": "ListItem", "position": n, "name": name, "item": url}
                                for n, (name, url) in enumerate(crumbs, start=1)]}


def _item_list(page: dict, entries: list[dict], name: str) -> dict:
    elements = []
    for n, entry in enumerate(entries, start=1):
        element = {"@type": "ListItem", "position": n, "url": entry["url"], "name": entry["name"]}
        if entry["ld"]:
            element["item"] = entry["ld"]
        elements.append(element)
    return {"@type": "ItemList", "@id": page["url"] + "#itemlist", "name": name, "numberOfItems": len(elements),
            "itemListOrder": "https://schema.org/ItemListUnordered", "itemListElement": elements}


def _linked_page(url: str, kind: str, name: str, description: str, card: dict | None) -> dict:
    """A page the home page lists, as itself: its node's ``@id`` and type, name, description, thumbnail."""
    node: dict[str, Any] = {"@type": page_type(kind), "@id": url, "url": url, "name": name}
    if description:
        node["description"] = description
    if card and card["ld"]:
        node["thumbnailUrl"] = card["ld"]["thumbnailUrl"]
    return node


def list_entries(site: dict, page: dict) -> list[dict]:
    """What a listing page shows, in page order, as {url, name, ld, image}: on the home page the category and
    collection cards (``url`` and ``ld``: the linked CollectionPage; ``image``: the ImageObject of its
    thumbnail), on hubs and collections the item cards (``url`` is the item page, ``ld`` = ``image`` its
    ImageObject). ``image`` (and there ``ld``) is None for a card without an image."""
    base = site["base_url"].rstrip("/")
    kind = page["kind"]
    if kind == "home":
        out = []
        for c, linked in [(c, "hub") for c in page["hubs"]] + [(c, "collection") for c in page["collections"]]:
            url = base + c["path"]
            image = c["card"]["ld"] if c["card"] else None
            out.append({"url": url, "name": c["name"], "image": image,
                        "ld": _linked_page(url, linked, c["name"], c.get("description", ""), c["card"])})
        return out
    if kind in ("hub", "collection"):
        return [{"url": base + c["path"], "name": c["title"], "ld": c["ld"], "image": c["ld"]} for c in page["cards"]]
    return []


def build_graph(site: dict, page: dict) -> dict:
    """The page's whole graph. ``site`` and ``page`` are the template globals and context (see render.py)."""
    base = site["base_url"]
    kind = page["kind"]
    url = page["url"]
    web_page: dict[str, Any] = {
        "@type": page_type(kind),
        "@id": url, "url": url, "name": page["title"], "description": page["description"],
        "isPartOf": {"@id": base + "#website"}, "breadcrumb": {"@id": url + "#breadcrumb"},
        "inLanguage": site["language"],
    }
    graph = [_website(site), _organization(site), web_page, _breadcrumb(site, page)]
    if kind == "home":
        web_page["about"] = {"@id": base + "#organization"}
    if kind in ("home", "hub", "collection"):
        graph.append(_item_list(page, list_entries(site, page), page["h1"]))
        web_page["mainEntity"] = {"@id": url + "#itemlist"}
        if page.get("og_image"):
            web_page["thumbnailUrl"] = page["og_image"]["url"]
    if kind == "collection":
        web_page["about"] = {"@type": "Thing", "name": page["h1"]}
        if page.get("aliases"):  # the topics this page answers besides its own (aliases)
            web_page["about"]["alternateName"] = [a["name"] for a in page["aliases"]]
    if kind == "item" and page["item"]["ld"]:
        image = dict(page["item"]["ld"])
        image["@id"] = url + "#primaryimage"
        image["mainEntityOfPage"] = {"@id": url}
        graph.append(image)
        web_page["primaryImageOfPage"] = {"@id": url + "#primaryimage"}
        web_page["thumbnailUrl"] = image["contentUrl"]
        web_page["mainEntity"] = {"@id": url + "#primaryimage"}
    return {"@context": CONTEXT, "@graph": graph}


def script_json(site: dict, page: dict) -> str:
    return dumps(build_graph(site, page))
