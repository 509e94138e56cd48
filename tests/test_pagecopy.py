"""aggregate/pagecopy.py (a collection page's copy) and the meta-description helpers of publish/render.py."""

from __future__ import annotations

from sitegen.aggregate.pagecopy import (collection_copy, facts, guide, lead, profile_catalog, purpose_of,
                                        related_reason)
from sitegen.core.models import Alias, Collection, Item
from sitegen.publish.render import DESCRIPTION_MAX, compose, fit, unique_descriptions

AUDIENCES = {"men": "men", "women": "women", "unisex": ""}


def item(n: int, title: str, category: str, date: str = "", **attrs: str) -> Item:
    return Item(id=f"i{n}", title=title, image="", image_sha="", width=10, height=10, category=category,
                date=date, attributes=tuple(attrs.items()))


def wardrobe() -> list[Item]:
    return [
        item(1, "Men Navy Formal Shirt", "Shirts", "2021-03-01", base_colour="Navy", usage="Formal", size="S, M"),
        item(2, "Men White Formal Shirt", "Shirts", "2022-01-05", base_colour="White", usage="Formal", size="M"),
        item(3, "Men Navy Slim Shirt", "Shirts", "2020-07-09", base_colour="Navy", usage="Formal", size="L"),
        item(4, "Men Black Formal Shoes", "Formal Shoes", "2021-11-11", base_colour="Black", usage="Formal"),
        item(5, "Women Black Casual Shoes", "Casual Shoes", "2019-02-02", base_colour="Black", usage="Casual"),
    ]


def test_profile_reads_the_columns_the_catalog_has():
    items = wardrobe() + [item(6, "Unisex Red Cap", "Caps", base_colour="Red", usage="Casual",
                               notes="A long free-text note that no fact block should ever count at all")]
    profile = profile_catalog(items, AUDIENCES)
    roles = [(c.role, c.name) for c in profile.columns]
    assert roles == [("category", "category"), ("colour", "base_colour"), ("audience", "title"),
                     ("usage", "usage"), ("size", "size"), ("date", "date")]  # notes: free text, left out
    # an audience column wins over the titles; a column of ids is not a fact
    with_gender = [item(n, f"Thing {n}", "A", gender="Men" if n % 2 else "Women", sku=f"sku-{n}") for n in range(8)]
    roles = [(c.role, c.name) for c in profile_catalog(with_gender, AUDIENCES).columns]
    assert roles == [("category", "category"), ("audience", "gender")]
    # titles that rarely name an audience (clipart: "Woman Running") do not make one
    clipart = [item(n, t, "People") for n, t in enumerate(["Woman Running", "Red Apple", "Bus", "Cat"])]
    assert [c.role for c in profile_catalog(clipart, AUDIENCES).columns] == ["category"]


def test_facts_count_every_value_and_ranges():
    items = wardrobe()
    profile = profile_catalog(items, AUDIENCES)
    fs = {f.role: f for f in facts(items, profile)}
    assert fs["category"].counts == (("Shirts", 3), ("Casual Shoes", 1), ("Formal Shoes", 1))
    assert fs["colour"].counts == (("black", 2), ("navy", 2), ("white", 1))
    assert fs["audience"].counts == (("men", 4), ("women", 1))
    assert fs["usage"].counts == (("Formal", 4), ("Casual", 1))
    assert fs["size"].counts == (("M", 2), ("L", 1), ("S", 1)) and fs["size"].items == 3  # "S, M" is two sizes
    assert (fs["date"].low, fs["date"].high, fs["date"].items) == ("2019-02-02", "2022-01-05", 5)


def test_lead_says_what_and_for_whom():
    items = wardrobe()
    profile = profile_catalog(items, AUDIENCES)
    assert lead("office looks", items, facts(items, profile)) == (
        "5 images for \u201coffice looks\u201d: 3 Shirts, 1 Casual Shoes and 1 Formal Shoes, for men (4) and "
        "women (1).")
    shirts = items[:3]
    assert lead("navy shirts", shirts, facts(shirts, profile)) == \
        "3 images for \u201cnavy shirts\u201d, all in Shirts, all for men."
    many = [item(n, f"T{n}", c) for n, c in enumerate("ABCDEE")]
    assert lead("x", many, facts(many, profile_catalog(many))) == \
        "6 images for \u201cx\u201d: 2 E, 1 A, 1 B and 2 in other categories."


def test_guide_uses_the_usage_the_purpose_implies():
    items = wardrobe()
    profile = profile_catalog(items, AUDIENCES)
    g = guide("shirts and shoes for office wear", items, profile, {"office wear": ["formal"], "office": ["formal"]})
    assert g.purpose == "office wear" and g.usage == ("Formal",)
    assert g.text == "For office wear (usage Formal): Shirts in navy and white (3) and Formal Shoes in black (1)."
    # no implied usage (or none in the catalog): every member, by kind
    g = guide("shoes for walking", items[3:], profile, {})
    assert g.text == "For walking: Casual Shoes in black (1) and Formal Shoes in black (1)."
    mixed = items + [item(7, "Men Red Shirt", "Shirts", base_colour="Red", usage="Formal")]
    assert guide("office wear", mixed, profile, {"office wear": ["formal"]}).text == (
        "For \u201coffice wear\u201d (usage Formal): Shirts (4), most often navy and red; and Formal Shoes in black (1).")
    assert purpose_of("how to style bags") == "\u201chow to style bags\u201d"


def test_copy_sections_description_and_related():
    items = wardrobe()
    profile = profile_catalog(items, AUDIENCES)
    alias = Alias("what to wear to the office", "what-to-wear", "what-to-wear", "use_case", "duplicate", 0.7,
                  item_ids=("i1", "i4"))
    coll = Collection("how-to-dress-for-work", "how to dress for work", "use_case", "Shirts",
                      tuple(i.id for i in items), aliases=(alias,))
    copy = collection_copy(coll, items, profile, {"work": ["formal"]})
    assert [s.question for s in copy.sections] == ["How to dress for work?", "What to wear to the office?"]
    assert copy.sections[0].answer == copy.lead + " " + copy.guide.text
    assert copy.sections[1].anchor == "what-to-wear"
    assert copy.sections[1].answer == ("2 of these 5 images answer it: 1 Formal Shoes and 1 Shirts. "
                                       "In 2 colours: black and navy.")
    assert copy.sentences[0] == copy.lead and "Most common colours: black (2), navy (2) and white (1)." in copy.sentences
    assert all(s.endswith(".") for s in copy.sentences + copy.extras)
    assert related_reason(items[:3], items[1:3] + [items[0]], profile) == \
        "3 images in common; both in Shirts, mostly navy, for men and for formal use"
    assert related_reason(items[:3], items[4:], profile, "Shirts", "Casual Shoes") == "A collection in Casual Shoes"


def test_descriptions_are_whole_sentences_cut_at_a_boundary():
    long = ("Free public-domain clipart gathered into collections for what people search for: food, animals, "
            "plants, people, transport, buildings, sports, music, holidays and household things.")
    assert fit(long, 155) == "Free public-domain clipart gathered into collections for what people search for."
    assert fit("One short sentence. " + "x" * 200, 155) == "One short sentence."
    assert fit("word " * 60, 40).endswith("\u2026")  # no boundary at all: a word, marked
    text = compose(["12 items here. The most common colours are red (5 items) and blue (3 items). Y" + " y" * 40 + ".",
                    "A second part."], limit=80)
    assert text == "12 items here. The most common colours are red (5 items) and blue (3 items)."
    assert compose(["Aa. " + "B" * 100 + ". Cc.", "Dd."], limit=60) == "Aa. Dd."  # a part stops where one fails
    assert len(compose(["a " * 100], tail=["Item x1."])) <= DESCRIPTION_MAX
    assert compose(["Same words here for every page of the group."], tail=["Item x1."]).endswith(" Item x1.")


def test_duplicate_descriptions_get_grounded_facts():
    descs = {"/a/": "Same text.", "/b/": "Same text.", "/c/": "Other text."}
    sources = {"/a/": (["Same text."], [], ["Dated 2020-01-01.", "Item a."]),
               "/b/": (["Same text."], [], ["Dated 2020-01-01.", "Item b."]),
               "/c/": (["Other text."], [], [])}
    unique_descriptions(descs, sources)
    assert descs == {"/a/": "Same text. Dated 2020-01-01.", "/b/": "Same text. Item b.", "/c/": "Other text."}
    descs = {"/a/": "X.", "/b/": "x."}  # case-insensitive; no extras: the page's own path
    unique_descriptions(descs, {"/a/": (["X."], [], []), "/b/": (["x."], [], [])})
    assert descs == {"/a/": "X. Page /a/.", "/b/": "x. Page /b/."}
