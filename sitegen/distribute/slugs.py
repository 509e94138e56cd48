"""URL slugs of items and hubs. A published slug is pinned in the store and never changes."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from sitegen.core import urls
from sitegen.core.errors import SlugCollisionError
from sitegen.core.models import Hub, Item
from sitegen.distribute.plan import OTHER


def assign_slugs(items: list[Item], pinned: dict[str, str], mode: str) -> tuple[list[Item], dict[str, str]]:
    """Give every item a URL slug. A slug, once published, is pinned in the store and never changes (a retitled
    item keeps its URL). Returns the items and the new pins to store after a successful build."""
    out: list[Item] = []
    owner: dict[str, Item] = {}
    new: dict[str, str] = {}
    for item in items:
        slug = pinned.get(item.id)
        if not slug:
            slug = _new_slug(item, mode)
            slug = slug or "item-" + hashlib.sha1(item.id.encode()).hexdigest()[:10]
            new[item.id] = slug
        if slug in owner:
            raise SlugCollisionError(urls.item_url(slug), f"item {owner[slug].id!r} ({owner[slug].source})",
                                     f"item {item.id!r} ({item.source})")
        owner[slug] = item
        out.append(replace(item, slug=slug))
    return out, new


def _new_slug(item: Item, mode: str) -> str:
    title, ident = urls.slugify(item.title, 60), urls.slugify(item.id, 40)
    if mode == "title":
        return title
    if mode == "id":
        return ident
    if title and ident and f"-{title}-" in f"-{ident}-":  # the id already says it: "food-red-apple"
        return ident
    return "-".join(p for p in (title, ident) if p)


def make_hubs(items: list[Item]) -> list[Hub]:
    """One hub per category (items without one go to "Other"), items sorted by title then id."""
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(item.category or OTHER, []).append(item)
    hubs, seen = [], {}
    for name in sorted(groups):
        slug = urls.slugify(name) or "category-" + hashlib.sha1(name.encode()).hexdigest()[:8]
        if slug in seen:
            raise SlugCollisionError(urls.hub_url(slug), f"category {seen[slug]!r}", f"category {name!r}")
        seen[slug] = name
        members = sorted(groups[name], key=lambda i: (i.title.lower(), i.id))
        hubs.append(Hub(slug=slug, name=name, item_ids=tuple(i.id for i in members)))
    return hubs
