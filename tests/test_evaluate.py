"""evaluate: the ground-truth metric on hand-made rows, and (slow, needs ../shared) the real pipeline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sitegen.learn.evaluate import Truth, collection_precision, duplicate_pairs, format_eval, majority_filing, subset
from sitegen.core.models import Collection

SHARED = Path(__file__).resolve().parents[2] / "shared"
FASHION = SHARED / "datasets" / "fashion-44k"

ROWS = [
    {"id": "1", "title": "Acme Men Black Formal Shoes", "article_type": "Formal Shoes", "base_colour": "Black",
     "usage": "Formal"},
    {"id": "2", "title": "Acme Women Black Formal Shoes", "article_type": "Formal Shoes", "base_colour": "Black",
     "usage": "Formal"},
    {"id": "3", "title": "Acme Men Navy Blue Shirt", "article_type": "Shirts", "base_colour": "Navy Blue",
     "usage": "Casual"},
    {"id": "4", "title": "Acme Men Blue T-Shirt", "article_type": "Tshirts", "base_colour": "Blue", "usage": "Sports"},
    {"id": "5", "title": "Acme Unisex Black Casual Shoes", "article_type": "Casual Shoes", "base_colour": "Black",
     "usage": "Casual"},
]


def coll(topic, ids):
    return Collection(slug=topic.replace(" ", "-"), topic=topic, category="style", hub="x", item_ids=tuple(ids))


def test_named_values_longest_phrase_and_gender():
    truth = Truth(ROWS)
    assert truth.named("black formal shoes for men") == {"base_colour": {"Black"}, "article_type": {"Formal Shoes"},
                                                        "gender": {"men"}}
    assert truth.named("Men's navy blue shirts") == {"gender": {"men"}, "base_colour": {"Navy Blue"},
                                                     "article_type": {"Shirts"}}
    assert truth.named("blue t-shirts for sports") == {"base_colour": {"Blue"}, "article_type": {"Tshirts"},
                                                       "usage": {"Sports"}}
    assert truth.named("capsule wardrobe ideas") == {}


def test_precision_needs_every_named_value():
    truth = Truth(ROWS)
    cols = [coll("black formal shoes for men", ["1", "2"]),  # women's pair does not count: 0.5
            coll("blue shirts", ["3"]),  # navy blue is not blue: 0.0
            coll("black shoes", ["1", "5"]),  # no "shoes" article type: colour only: 1.0
            coll("capsule wardrobe", ["1", "3"])]  # names nothing: not evaluable
    got = collection_precision(cols, truth)
    assert got["evaluable"] == 3 and got["collections"] == 4
    assert got["precision"] == pytest.approx((0.5 + 0.0 + 1.0) / 3, abs=1e-4)
    assert got["precision_by_field"]["gender"] == 0.5
    assert got["worst"][0]["topic"] == "blue shirts"
    assert truth.matches("5", {"gender": {"unisex"}}) and not truth.matches("5", {"gender": {"men"}})


def test_duplicate_pairs_on_published_items():
    cols = [coll("a", "123456"), coll("b", "12345x"), coll("c", "1234yz"), coll("d", "789")]
    got = duplicate_pairs(cols)  # a-b 5/7, a-c 4/8 (exactly half), b-c 4/8; d shares nothing
    assert got["pairs"] == 3 and got["collections_in_pairs"] == 3 and got["share"] == 0.75
    assert got["worst"][0] == {"a": "a", "b": "b", "jaccard": round(5 / 7, 3)}
    assert duplicate_pairs(cols, 0.6)["share"] == 0.5 and duplicate_pairs([])["share"] == 0.0


def test_majority_filing_counts_ties_for_every_tied_hub():
    hubs = {"1": "Shoes", "2": "Shoes", "3": "Bags", "4": "Bags", "5": "Belts"}
    cols = [coll("x", "123"), coll("y", "345"), coll("z", "1234")]  # hub "x" everywhere: all misfiled
    assert majority_filing(cols, hubs.__getitem__)["share"] == 0.0
    cols = [Collection("x", "x", "style", "Shoes", tuple("123")), Collection("y", "y", "style", "Shoes", tuple("345")),
            Collection("z", "z", "style", "Bags", tuple("1234"))]
    got = majority_filing(cols, hubs.__getitem__)
    assert got["share"] == round(2 / 3, 4) and got["misfiled"] == 1
    assert got["worst"] == [{"topic": "y", "hub": "Shoes", "majority": "Bags", "share": round(2 / 3, 3)}]


def test_subset_is_seeded_and_in_order():
    rows = [{"id": str(i)} for i in range(100)]
    a, b = subset(rows, 10, 0), subset(rows, 10, 0)
    assert a == b and len(a) == 10 and [int(r["id"]) for r in a] == sorted(int(r["id"]) for r in a)
    assert subset(rows, 10, 1) != a and len(subset(rows, 1000, 0)) == 100


def test_format_eval_table():
    report = {"items": 10, "rows": 10, "seed": 0, "hubs": 2, "queries": 60,
              "query_mix": {"description": 0.3, "style": 0.3, "use_case": 0.4}, "topics": 20, "collections": 3,
              "mean_collection_size": 8.0, "dropped_topics": {"thin": 17}, "evaluable_collections": 3,
              "evaluable_by_field": {"gender": 3}, "precision": 0.95, "precision_by_field": {"gender": 0.95},
              "coverage": 0.5, "recall_at_10": 1.0, "recall_at_10_items": 1.0, "index_backend": "exact",
              "annotation_mix": {"description": 0.3, "style": 0.3, "use_case": 0.4}, "seconds": {"load": 1.0},
              "passed": {"precision": True, "coverage": False, "recall_at_10": True}, "worst_collections": []}
    text = format_eval(report)
    assert "collection precision" in text and "0.950" in text and "FAIL" in text
    assert text.count("\n") >= 12


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.skipif(not FASHION.is_dir(), reason=f"fashion-44k dataset not found at {FASHION} (../shared)")
def test_evaluate_fashion_small_subset(tmp_path):
    from sitegen.learn.evaluate import evaluate_fashion

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    report = evaluate_fashion(FASHION, n_items=300, seed=1, work_dir=tmp_path)
    assert report["items"] == 300 and report["collections"] > 0
    assert report["evaluable_collections"] > 0 and 0.0 <= report["precision"] <= 1.0
    assert report["recall_at_10"] == 1.0  # 300 vectors: exact search below index.exact_below
    assert "collection precision" in format_eval(report)


def test_occasion_precision_checks_the_usage_an_occasion_implies():
    from sitegen.learn.evaluate import implied_usages, occasion_precision

    implies = {"wedding": ["Ethnic"], "office": ["Formal"], "date night": ["Party"]}
    assert implied_usages("Bags for weddings", implies) == [{"ethnic"}]
    assert implied_usages("shoes for date night at the office", implies) == [{"party"}, {"formal"}]
    rows = [*ROWS, {"id": "6", "title": "Acme Women Red Kurta", "article_type": "Kurtas", "base_colour": "Red",
                    "usage": "Ethnic"}]
    truth = Truth(rows)
    cols = [coll("formal shoes for the office", ["1", "2"]),  # formal: 1.0
            coll("black shoes for weddings", ["1", "5"]),  # no ethnic shoe: 0.0
            coll("kurtas for weddings", ["6", "3"]),  # one of two: 0.5
            coll("shirts for date night", ["3"]),  # no party item in the catalog: left out
            coll("black formal shoes", ["1"])]  # no occasion: left out
    got = occasion_precision(cols, truth, implies, {"formal", "ethnic", "casual", "sports"})
    assert got["occasion_collections"] == 3
    assert got["occasion_precision"] == pytest.approx(0.5, abs=1e-4)
    assert got["worst_occasion"][0]["topic"] == "black shoes for weddings"


def test_fragment_heads_and_bare_colours_are_counted_independently():
    from sitegen.learn.evaluate import junk_topics

    rows = [{"id": str(n), "title": t, "article_type": k, "base_colour": c, "usage": "Casual"}
            for n, (t, k, c) in enumerate([
                ("Jealous 21 Women Pink Top", "Tops", "Pink"), ("Jealous 21 Women Black Top", "Tops", "Black"),
                ("U.S. Polo Assn. Men Blue Shirt", "Shirts", "Blue"), ("U.S. Polo Assn. Men Grey Shirt", "Shirts", "Grey"),
                ("Nike Men Polo Tshirt", "Tshirts", "Blue"), *[(f"Lotus Herbals {p}", "Creams", "White")
                                                                for p in ("Skin Cream", "Lip Gloss", "Face Wash",
                                                                          "Sun Screen", "Hair Oil")]])]
    truth = Truth(rows)
    assert truth.brand("0") == {"jealou", "21"} and truth.brand("2") == {"u", "s", "polo", "assn"}  # singular
    assert truth.brand("5") == {"lotu", "herbal"}
    cols = [coll("21 pink top", ["0"]), coll("polo shirt", ["2", "3"]), coll("polo tshirts", ["4", "2"]),
            coll("herbals skin", ["5", "6"]), coll("pink tops", ["0"]), coll("Black", ["1"]),
            coll("Check black", ["1"]), coll("black tops", ["1"])]
    got = junk_topics(cols, truth)
    assert got["fragment_headed_topics"] == ["21 pink top", "herbals skin", "polo shirt"]  # tshirts: half Nike
    assert got["bare_colour_topics"] == ["Black", "Check black"] and got["bare_colour_share"] == 0.25
