"""Topic quality from the catalog: the lexicon of the catalog's domain (detected), implied attributes of occasions,
title fragments (brand, creator, model-number words) that never head a topic, and colour-only facets."""

from __future__ import annotations

import numpy as np
import pytest

from sitegen.aggregate.collect import Lexicon, collect
from sitegen.aggregate.topics import TopicRequest, gather_topics, topic_gate
from sitegen.core.config import CollectSection, IndexSection
from sitegen.core.errors import ConfigError
from sitegen.core.lexicon import detect_domains, domain_scores, english, load_lexicon
from sitegen.core.models import Item, Query, Topic
from sitegen.engines.index import build_index
from sitegen.represent.fragments import learn_fragments

from .test_collect import embed


def product(n: int, title: str, kind: str, colour: str, usage: str = "Casual", **extra) -> Item:
    return Item(id=f"p{n:03d}", title=title, image=f"/img/{n}.jpg", image_sha=f"sha{n}", width=60, height=80,
                category=kind, attributes=(("base_colour", colour), ("usage", usage), *extra.items()))


def clip(n: int, title: str, category: str = "", colour: str = "") -> Item:
    return Item(id=f"c{n:03d}", title=title, image=f"/img/{n}.png", image_sha=f"sha{n}", width=60, height=60,
                category=category, attributes=(("colour", colour),) if colour else ())


FASHION = load_lexicon(["en", "fashion"])


# -- domain of the lexicon -------------------------------------------------------------------------------

def test_the_domain_lexicon_is_detected_from_the_catalog_text():
    fashion = ["Nike Men Black Sports Shoes", "Diva Women Printed Green Kurta", "Puma Unisex Blue Backpack"] * 5
    clipart = ["Red apple clipart", "Black and white cat . animal; clipart", "Vector car icon"] * 5
    files = ["architetto fra red apple", "juliane krug beige chair", "gerald g 45 rpm record", "ganson baseball"]
    assert domain_scores(fashion)["fashion"] == 1.0 and detect_domains(fashion) == ["fashion"]
    assert detect_domains(clipart) == ["clipart"]
    assert detect_domains(files) == [] and detect_domains([]) == []
    assert load_lexicon(["auto"], texts=fashion).names == ("fashion", "en")
    none = load_lexicon(["auto"], texts=files)
    assert none.names == ("en",) and "{s} outfit ideas" not in none.generic_intents and not none.kind_intents
    assert load_lexicon(["en", "clipart"], texts=fashion).names == ("en", "clipart")  # a setting is honoured
    assert load_lexicon(["auto"]).names == ("clipart", "fashion", "en")  # no catalog at hand: every lexicon


def test_implies_is_validated_like_every_table(tmp_path):
    (tmp_path / "shop.toml").write_text('[implies]\n"board meeting" = "formal"\n')
    with pytest.raises(ConfigError, match=r"shop\.toml: implies\.board meeting: must be a list of strings"):
        load_lexicon(["en", "shop.toml"], tmp_path)
    (tmp_path / "shop.toml").write_text('[implies]\n"board meeting" = ["formal"]\nwedding = []\n')
    lex = load_lexicon(["en", "fashion", "shop.toml"], tmp_path)
    assert lex.implies["board meeting"] == ("formal",) and lex.implies["wedding"] == ()
    assert FASHION.implies["date night"] == ("party",) and FASHION.implies["office"] == ("formal",)
    assert english().implies == {}


# -- implied attributes ----------------------------------------------------------------------------------

def bags() -> list[Item]:
    items = [product(n, f"Acme Women Red Handbag {n}", "Handbags", "Red", "Casual") for n in range(8)]
    items += [product(n, f"Acme Women Red Handbag {n}", "Handbags", "Red", "Ethnic") for n in range(8, 14)]
    items += [product(n, f"Zed Men Black Formal Shoes {n}", "Formal Shoes", "Black", "Formal") for n in range(14, 20)]
    return items


def test_an_occasion_asks_for_the_value_it_implies_when_the_catalog_has_it():
    items = bags()
    lex = Lexicon(items, implies=FASHION.implies)
    assert lex.analyse("handbags for weddings", "use_case") == (("handbag", "ethnic"), ("wedding",))
    assert lex.analyse("shoes for the office", "use_case")[0] == ("shoe", "formal")
    assert lex.analyse("handbags for date night", "use_case") == (("handbag",), ("date", "night"))  # no party item
    casual_only = [i for i in items if i.attr("usage") != "Ethnic"]
    assert Lexicon(casual_only, implies=FASHION.implies).analyse("handbags for weddings", "use_case")[0] == ("handbag",)
    assert Lexicon(items).analyse("handbags for weddings", "use_case")[0] == ("handbag",)  # no table: embedding
    either = Lexicon(items, implies={"gala": ["party", "ethnic", "formal"]})
    checked = either.analyse("shoes for a gala", "use_case")[0]
    assert checked == ("shoe", "ethnic|formal") and either.count(either.all_of(checked)) == 6


def test_use_case_collections_hold_only_items_with_the_implied_value():
    items = bags()
    topics = [Topic("handbags for weddings", "use_case", "Handbags", (items[8].id,), 1.0)]
    vectors = embed([i.category for i in items])  # the embedding cannot tell the occasion
    cols, dropped, _ = collect(topics, embed([t.text for t in topics]), items, vectors,
                               build_index(vectors, IndexSection(backend="exact")), CollectSection(min_items=3),
                               hub_of=lambda i: i.category, item_text=lambda i: f"{i.title} . {i.attr('usage')}",
                               implies=FASHION.implies)
    assert len(cols) == 1 and {i.attr("usage") for i in items if i.id in cols[0].item_ids} == {"Ethnic"}
    assert len(cols[0].item_ids) == 6


# -- fragments -------------------------------------------------------------------------------------------

def fashion_titles() -> list[Item]:
    titles = [("Jealous 21 Women Pink Top", "Tops", "Pink"), ("Jealous 21 Women Black Top", "Tops", "Black"),
              ("Jealous 21 Women White Top", "Tops", "White"), ("Inc 5 Women Black Heels", "Heels", "Black"),
              ("Inc 5 Women Red Heels", "Heels", "Red"), ("Nike Men Air Max 2 Black Shoes", "Sports Shoes", "Black"),
              ("Nike Men Blue Tshirt", "Tshirts", "Blue"), ("U.S. Polo Assn. Men Blue Shirt", "Shirts", "Blue"),
              ("U.S. Polo Assn. Men Grey Shirt", "Shirts", "Grey"), ("Puma Men Polo Tshirt", "Tshirts", "Navy Blue"),
              ("Lotus Herbals Skin Cream", "Creams", "White"), ("Lotus Herbals Lip Gloss", "Lip Gloss", "Pink"),
              ("Lotus Herbals Face Wash", "Face Wash", "White"), ("Wildcraft Black Backpack", "Backpacks", "Black")]
    return [product(n, t, k, c) for n, (t, k, c) in enumerate(titles)]


def test_fragments_are_learnt_from_product_titles():
    items = fashion_titles()
    frag = learn_fragments(items, FASHION)
    assert frag.product
    assert {w: frag.tokens[w] for w in ("jealous", "inc", "nike", "21", "5", "2")} == {
        "jealous": "lead", "inc": "lead", "nike": "lead", "21": "digits", "5": "digits", "2": "digits"}
    assert frag.tokens["herbals"] == "prefix" and frag.tokens["lotus"] in ("lead", "prefix")
    assert "polo" not in frag.tokens and "pink" not in frag.tokens and "top" not in frag.tokens
    assert frag.clean_title(items[0]) == ["women", "pink", "top"]
    assert frag.clean_title(items[7]) == ["men", "blue", "shirt"]  # its own brand span, though "polo" is a word
    assert frag.clean_title(items[9]) == ["men", "polo", "tshirt"]
    assert frag.fragment("21 pink top") == "21" and frag.fragment("5 heels") == "5"
    assert frag.fragment("herbals skin") == "herbals" and frag.fragment("pink tops for women") is None


def test_a_creator_spread_over_every_category_is_a_fragment_a_subject_is_not():
    subjects = {"Food": ["red apple", "banana", "pizza slice"], "Animals": ["cat", "brown dog", "horse"],
                "Music": ["guitar", "drum", "piano"], "Sports": ["baseball", "soccer ball", "tennis racket"]}
    items, n = [], 0
    for creator in ("ganson", "juliane krug", "gerald g"):
        for cat, things in subjects.items():
            for thing in things:
                title = f"{thing} by {creator}" if n % 4 == 0 else f"{creator} {thing}"
                items.append(clip(n, title, cat if n % 3 else ""))
                n += 1
    items += [clip(n + k, f"christmas {w}", "Holidays") for k, w in enumerate(("tree", "bell", "star", "gift"))]
    frag = learn_fragments(items, english())
    assert not frag.product
    for word in ("ganson", "juliane", "krug", "gerald", "g"):
        assert word in frag.tokens, word
    assert not {"apple", "banana", "cat", "dog", "guitar", "christmas", "tree", "red"} & set(frag.tokens)
    assert frag.clean_title(items[1]) == ["banana"]


def test_a_colour_alone_is_a_facet():
    items = [clip(0, "Orange", "Food", "orange"), clip(1, "Black Dog", "Animals", "black"),
             clip(2, "Grey Cat", "Animals", "grey")]
    frag = learn_fragments(items, load_lexicon(["en", "clipart"]))
    words = load_lexicon(["en", "clipart"])
    for text in ("Black", "grey", "Check black", "black and white clipart", "purple clipart ideas", "blue cartoon"):
        assert frag.reason(text, words) == "facet", text
    for text in ("black dog", "orange clipart", "grey cat clipart", "floral clipart"):
        assert frag.reason(text, words) is None, text


def test_the_topic_gate_drops_fragments_and_facets_with_reasons():
    items = fashion_titles()
    frag = learn_fragments(items, FASHION)
    queries = [Query(items[0].id, text, "description", "title", 1.0, "en")
               for text in ("21 pink top", "pink top", "herbals skin", "black", "check black", "nike shoes")]
    request = TopicRequest(items, queries, lambda i: i.category, frozenset(i.category for i in items), None)
    topics, dropped = gather_topics(request, ["queries"], topic_gate(frag, FASHION))
    assert [t.text for t in topics] == ["pink top"]
    assert {(d.topic, d.reason) for d in dropped} == {
        ("21 pink top", "fragment:21"), ("herbals skin", "fragment:herbals"), ("black", "facet"),
        ("check black", "facet"), ("nike shoes", "fragment:nike")}
    assert "brand" in next(d.detail for d in dropped if d.reason == "fragment:nike")


def test_brand_spans_are_no_evidence():
    items = fashion_titles()
    frag = learn_fragments(items, FASHION)
    lex = Lexicon(items, fragments=frag)
    polo = lex.members(lex.all_of(lex.analyse("polo shirt")[0]))
    assert polo.tolist() == []  # "U.S. Polo Assn." shirts are shirts, not polo shirts
    assert lex.members(lex.all_of(lex.analyse("polo tshirt")[0])).tolist() == [9]
    assert Lexicon(items).members(Lexicon(items).all_of(("polo", "shirt"))).tolist() == [7, 8]


def test_the_generator_never_proposes_fragments():
    from sitegen.core.config import RepresentSection
    from sitegen.engines.embed import Embedder
    from sitegen.represent.retrieval import RetrievalGenerator

    items = fashion_titles()
    gen = RetrievalGenerator(RepresentSection(), Embedder(device="cpu"), corpus=items, lexicon=FASHION,
                             pixel_colours=False)
    frag = learn_fragments(items, FASHION)
    texts = [c.text for cands in gen.generate(items) for c in cands]
    assert texts and not [t for t in texts if frag.fragment(t)]
    assert "pink top" in {c.text for c in gen.generate(items[:1])[0]}
    assert not any(t.startswith("polo shirt") for t in texts)
