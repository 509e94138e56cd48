"""URL slugs of items and hubs. A published slug is pinned in the store and never changes.

When two items would get the same slug, the one whose id sorts first (or the one already published there)
keeps it and the other gets the slug plus a short hash of its id (``magnolia-white-patricia-01-3f2a9c``),
pinned like any other; the collision is a build warning naming both rows (an error under ``--strict``). So
the result does not depend on the order of the catalog rows. Two categories whose names give the same slug
are disambiguated the same way (the name that sorts first keeps the plain slug).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from sitegen.core import urls
from sitegen.core.errors import StrictError
from sitegen.core.models import Hub, Item
from sitegen.distribute.plan import OTHER


def _suffixed(base: str, key: str, taken: set[str] | dict[str, object]) -> str:
    """``base`` plus the shortest hash of ``key`` (6 hex digits or more) that no one holds yet."""
    digest = hashlib.sha1(key.encode()).hexdigest()
    for n in range(6, len(digest) + 1):
        slug = f"{base}-{digest[:n]}" if base else digest[:n]
        if slug not in taken:
            return slug
    raise AssertionError("unreachable: a 40-digit hash of a distinct key is taken")  # pragma: no cover


def _collided(url: str, first: str, second: str, moved_to: str, warnings: list[str] | None,
              strict: bool) -> None:
    message = f"slug collision: {url} is claimed by both {first} and {second}"
    if strict:
        raise StrictError(f"{message} (--strict)")
    if warnings is not None:
        warnings.append(f"{message}; {second} is published at {moved_to} instead")


def assign_slugs(items: list[Item], pinned: dict[str, str], mode: str, *, warnings: list[str] | None = None,
                 strict: bool = False) -> tuple[list[Item], dict[str, str]]:
    """Give every item a URL slug. A slug, once published, is pinned in the store and never changes (a retitled
    item keeps its URL). A collision is disambiguated (see the module docstring) and reported in ``warnings``;
    with ``strict`` it raises ``StrictError`` naming both rows. Returns the items (in their order) and the new
    pins to store after a successful build."""
    owner: dict[str, Item] = {}
    slug_of: dict[str, str] = {}
    new: dict[str, str] = {}
    ordered = sorted(items, key=lambda i: i.id)
    for item in ordered:  # published slugs first: they never move
        slug = pinned.get(item.id)
        if slug and slug not in owner:
            owner[slug] = item
            slug_of[item.id] = slug
    for item in ordered:
        if item.id in slug_of:
            continue
        slug = pinned.get(item.id) or _new_slug(item, mode) or "item-" + hashlib.sha1(item.id.encode()).hexdigest()[:10]
        if slug in owner:
            first = owner[slug]
            moved = _suffixed(slug, item.id, owner)
            _collided(urls.item_url(slug), f"item {first.id!r} ({first.source})",
                      f"item {item.id!r} ({item.source})", urls.item_url(moved), warnings, strict)
            slug = moved
        if pinned.get(item.id) != slug:
            new[item.id] = slug
        owner[slug] = item
        slug_of[item.id] = slug
    return [replace(item, slug=slug_of[item.id]) for item in items], new


def _new_slug(item: Item, mode: str) -> str:
    title, ident = urls.slugify(item.title, 60), urls.slugify(item.id, 40)
    if mode == "title":
        return title
    if mode == "id":
        return ident
    if title and ident and f"-{title}-" in f"-{ident}-":  # the id already says it: "food-red-apple"
        return ident
    return "-".join(p for p in (title, ident) if p)


def make_hubs(items: list[Item], *, warnings: list[str] | None = None, strict: bool = False) -> list[Hub]:
    """One hub per category (items without one go to "Other"), items sorted by title then id. Two categories
    whose names give the same slug: the name that sorts first keeps it, the other is disambiguated and the
    collision reported in ``warnings`` (``StrictError`` with ``strict``). The loader has already made
    categories that differ only in case, width or invisible characters one category."""
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(item.category or OTHER, []).append(item)
    hubs, seen = [], {}
    for name in sorted(groups):
        slug = urls.slugify(name) or "category-" + hashlib.sha1(name.encode()).hexdigest()[:8]
        if slug in seen:
            moved = _suffixed(slug, name, seen)
            _collided(urls.hub_url(slug), f"category {seen[slug]!r}", f"category {name!r}",
                      urls.hub_url(moved), warnings, strict)
            slug = moved
        seen[slug] = name
        members = sorted(groups[name], key=lambda i: (i.title.lower(), i.id))
        hubs.append(Hub(slug=slug, name=name, item_ids=tuple(i.id for i in members)))
    return hubs
