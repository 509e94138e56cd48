"""Slug collisions never stop a build: the later item (by id) or category gets a disambiguated slug, the
collision is a warning naming both rows, and --strict makes it an error."""

from __future__ import annotations

import hashlib

import pytest

from sitegen.core.errors import StrictError
from sitegen.core.models import Item
from sitegen.distribute.slugs import assign_slugs, make_hubs

A, B = "magnolia-white_patricia__01", "magnolia_white_patricia__01"  # two real file names of a clipart library


def item(id, title="Magnolia white patricia 01", category="Flowers", source=""):
    return Item(id=id, title=title, image=f"/img/{id}.png", image_sha=hashlib.sha256(id.encode()).hexdigest(),
                width=10, height=10, category=category, source=source or f"catalog.csv:{id}")


def slugs(items):
    return {i.id: i.slug for i in items}


def test_colliding_items_get_a_disambiguated_slug_and_a_warning():
    warnings: list[str] = []
    out, pins = assign_slugs([item(B, source="catalog.csv:3"), item(A, source="catalog.csv:2")], {}, "title-id",
                             warnings=warnings)
    suffix = hashlib.sha1(B.encode()).hexdigest()[:6]
    assert slugs(out) == {A: "magnolia-white-patricia-01", B: f"magnolia-white-patricia-01-{suffix}"}
    assert [i.id for i in out] == [B, A]  # the catalog order is kept
    assert pins == slugs(out)  # the disambiguated slug is pinned like any other
    assert warnings == [f"slug collision: /item/magnolia-white-patricia-01/ is claimed by both item {A!r} "
                        f"(catalog.csv:2) and item {B!r} (catalog.csv:3); item {B!r} (catalog.csv:3) is "
                        f"published at /item/magnolia-white-patricia-01-{suffix}/ instead"]


def test_the_result_does_not_depend_on_row_order():
    rows = [item(f"x{n}", title="Same title") for n in range(6)] + [item(A), item(B)]
    first, _ = assign_slugs(rows, {}, "title")
    again, _ = assign_slugs(list(reversed(rows)), {}, "title")
    assert slugs(first) == slugs(again)
    assert len(set(slugs(first).values())) == len(rows)
    assert slugs(first)["x0"] == "same-title"


def test_a_published_slug_never_moves():
    # B was published first: it keeps the plain slug although A sorts first
    out, pins = assign_slugs([item(A), item(B)], {B: "magnolia-white-patricia-01"}, "title-id", warnings=[])
    assert slugs(out)[B] == "magnolia-white-patricia-01" and slugs(out)[A].startswith("magnolia-white-patricia-01-")
    assert pins == {A: slugs(out)[A]}
    warnings: list[str] = []
    second, new = assign_slugs([item(A), item(B)], {B: slugs(out)[B], **pins}, "title-id", warnings=warnings)
    assert slugs(second) == slugs(out) and new == {} and warnings == []  # the next build: nothing moves


def test_strict_makes_a_collision_an_error_naming_both():
    with pytest.raises(StrictError) as info:
        assign_slugs([item(A, source="catalog.csv:2"), item(B, source="catalog.csv:3")], {}, "title-id", strict=True)
    message = info.value.message
    assert f"item {A!r} (catalog.csv:2)" in message and f"item {B!r} (catalog.csv:3)" in message
    assert info.value.exit_code == 2


def test_categories_with_the_same_slug_are_disambiguated():
    items = [item("1", category="Café"), item("2", category="Cafe"), item("3", category="Cafe"),
             item("4", category="C++"), item("5", category="C")]
    warnings: list[str] = []
    hubs = make_hubs(items, warnings=warnings)
    by_name = {h.name: h.slug for h in hubs}
    assert by_name["Cafe"] == "cafe" and by_name["Café"] == "cafe-" + hashlib.sha1("Café".encode()).hexdigest()[:6]
    assert by_name["C"] == "c" and by_name["C++"].startswith("c-")
    assert len(warnings) == 2 and "category 'Cafe' and category 'Café'" in warnings[1]
    assert {h.name: h.slug for h in make_hubs(list(reversed(items)))} == by_name
    with pytest.raises(StrictError, match="category 'Cafe' and category 'Café'"):
        make_hubs(items[:3], strict=True)


def test_categories_differing_in_case_only_still_publish(tmp_path):
    # items built outside the loader (which merges such spellings) still give distinct, working hubs
    hubs = make_hubs([item("1", category="Animals"), item("2", category="animals")], warnings=[])
    assert [h.slug for h in hubs] == ["animals", "animals-" + hashlib.sha1(b"animals").hexdigest()[:6]]
