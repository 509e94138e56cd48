"""The ``catalog`` judge: silver grades from attribute agreement, one test per rule of its table."""

from __future__ import annotations

import numpy as np

from sitegen.core import registry
from sitegen.core.models import Item
from sitegen.learn.relevance.catalog import RULES_VERSION, STRONG, CatalogJudge
from sitegen.learn.relevance.judge import Pair, make_judge


def product(n: int, title: str, kind: str, colour: str, usage: str = "Casual") -> Item:
    return Item(id=f"p{n}", title=title, image="", image_sha="", width=1, height=1, category=kind,
                attributes=(("base_colour", colour), ("usage", usage)))


ITEMS = [product(0, "Acme Men Black Casual Shoes", "Casual Shoes", "Black"),
         product(1, "Acme Women Red Handbag", "Handbags", "Red", "Ethnic"),
         product(2, "Zed Women Brown Handbag", "Handbags", "Brown"),
         product(3, "Zed Men Blue Formal Shoes", "Formal Shoes", "Blue", "Formal"),
         product(4, "Zed Unisex Black Duffel Bag", "Duffel Bag", "Black"),
         product(5, "Acme Women Navy Blue Kurta", "Kurtas", "Navy Blue", "Ethnic"),
         product(6, "U.S. Polo Assn. Men Blue Shirt", "Shirts", "Blue"),
         product(7, "Zed Unisex Black Casual Shoes", "Casual Shoes", "Black"),
         product(8, "Puma Men Polo Tshirt", "Tshirts", "White")]


def judge(items=ITEMS, **kw) -> CatalogJudge:
    j = make_judge("catalog")
    j.prepare(items, **kw)
    return j


def grade(j, topic, n, category="style"):
    return j.explain(Pair(topic, ITEMS[n], category))[0]


def test_registered_and_grades_pairs_into_judgments():
    assert registry.get("judge", "catalog") is CatalogJudge
    j = judge()
    got = j.grade([Pair("black shoes for men", ITEMS[0], "style"), Pair("capsule wardrobe", ITEMS[0], "use_case"),
                   Pair("black shoes for men", ITEMS[3], "style")])
    assert [(g.item_id, g.grade, g.source, g.rater) for g in got] == [
        ("p0", 5, "catalog", RULES_VERSION), ("p3", 3, "catalog", RULES_VERSION)]  # capsule: nothing to check


def test_head_kind_mismatch_is_1_or_2():
    j = judge()
    assert grade(j, "black shoes", 4) == 2  # black, but a bag
    assert grade(j, "kurtas for diwali", 3, "use_case") == 1  # nothing in common
    assert grade(j, "brown handbags", 5) == 1


def test_a_conflicting_colour_audience_or_occasion_is_3():
    j = judge()
    assert grade(j, "black shoes for men", 3) == 3  # colour
    assert grade(j, "blue kurta", 5) == 3  # navy blue is not blue
    assert grade(j, "black shoes for women", 0) == 3  # audience
    assert grade(j, "handbags for weddings", 2, "use_case") == 3  # occasion: weddings imply ethnic
    assert grade(j, "polo shirt", 6) == 3  # "polo" only in the brand


def test_all_checkable_constraints_hold_is_4_and_a_strong_example_5():
    j = judge()
    assert grade(j, "handbags for brunch", 1, "use_case") == 4  # brunch: no item says, so no 5
    assert grade(j, "handbags for weddings", 1, "use_case") == 5  # weddings: checked as ethnic
    assert grade(j, "shoes for the office", 3, "use_case") == 5  # office: checked as formal
    assert grade(j, "black shoes for men", 0) == 5  # the title names the head
    assert grade(j, "black shoes for men", 7) == 5  # unisex satisfies men
    assert grade(j, "bags", 4) == 4  # a duffel bag is a bag (the last word of a longer name), not named "bag"


def test_similarity_decides_5_and_a_kind_held_only_through_a_longer_name():
    dog = Item(id="d", title="Beagle", image="", image_sha="", width=1, height=1, category="Animals",
               keywords=("beagle", "dog"))
    hot = Item(id="h", title="Hot Dog", image="", image_sha="", width=1, height=1, category="Food",
               keywords=("hot dog", "food"))
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    j = judge([dog, hot], item_vectors=vectors, encode=lambda texts: np.array([[STRONG + 0.1, 0.1]] * len(texts)))
    assert j.explain(Pair("dog clipart", dog))[0] == 5  # clipart is left to the embedding, which vouches
    assert j.explain(Pair("dog", dog)) == (5, f"all hold, similarity {STRONG + 0.1:.2f}")
    assert j.explain(Pair("dog", hot))[0] == 2  # only "hot dog", and the embedding does not see a dog
    assert judge([dog, hot]).explain(Pair("dog", hot))[0] == 4  # without an embedding it cannot tell


def test_any_catalog_without_columns_uses_its_title_words():
    items = [Item(id=str(n), title=t, image="", image_sha="", width=1, height=1)
             for n, t in enumerate(["red apple", "green apple", "red car", "blue car"])]
    j = judge(items)
    assert j.explain(Pair("red apple", items[0]))[0] == 5
    assert j.explain(Pair("red apple", items[1]))[0] == 3  # the head (apple) holds, the colour does not
    assert j.explain(Pair("red apple", items[2]))[0] == 2
    assert j.explain(Pair("yellow banana", items[0])) == (None, "nothing the catalog can check")


def test_without_prepare_the_judge_reads_the_catalog_from_the_pairs():
    got = CatalogJudge().grade([Pair("black shoes for men", it, "style") for it in ITEMS])
    assert [g.grade for g in got] == [5, 1, 1, 3, 2, 1, 2, 5, 2]
