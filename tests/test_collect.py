"""collect: topics -> collections, on a tiny hand-made catalog with hand-made embeddings (no model)."""

from __future__ import annotations

import re
import zlib

import numpy as np
import pytest

from sitegen.aggregate.collect import Lexicon, collect, make_topics, topic_key
from sitegen.core.config import CollectSection, IndexSection
from sitegen.engines.index import build_index
from sitegen.core.models import Alias, Item, Query, Topic
from sitegen.aggregate.summary import summarise

DIM = 64


def _word_vector(word: str) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(word.encode()))
    return rng.standard_normal(DIM)


def embed(texts) -> np.ndarray:
    """A bag-of-words embedding: the sum of one fixed random vector per (singular, lowercase) word."""
    out = []
    for text in texts:
        ws = [w[:-1] if w.endswith("s") and len(w) > 3 else w for w in re.findall(r"[a-z]+", text.lower())]
        ws = [w for w in ws if w not in {"for", "the", "a", "and"}]
        v = sum((_word_vector(w) for w in ws), np.zeros(DIM))
        out.append(v / max(np.linalg.norm(v), 1e-12))
    return np.asarray(out, np.float32)


def make_item(n: int, gender: str, colour: str, kind: str, usage: str = "Casual") -> Item:
    return Item(id=f"i{n:03d}", title=f"Acme {gender} {colour} {kind}", image=f"/img/{n}.jpg", image_sha=f"sha{n}",
                width=60, height=80, category=kind,
                attributes=(("base_colour", colour), ("usage", usage)), date=f"2024-01-{n % 28 + 1:02d}")


def catalog() -> list[Item]:
    items, n = [], 0
    spec = [("Men", "Black", "Formal Shoes", "Formal", 9), ("Women", "Black", "Formal Shoes", "Formal", 8),
            ("Men", "Brown", "Casual Shoes", "Casual", 8), ("Men", "Navy Blue", "Shirts", "Formal", 7),
            ("Men", "Blue", "Shirts", "Casual", 7), ("Women", "Red", "Kurtas", "Ethnic", 3)]
    for gender, colour, kind, usage, count in spec:
        for _ in range(count):
            items.append(make_item(n, gender, colour, kind, usage))
            n += 1
    return items


def item_text(item: Item) -> str:
    return " . ".join([item.title, item.category, " ".join(v for _, v in item.attributes)])


def topic(text: str, items: list[Item], category: str = "style", source=()) -> Topic:
    return Topic(text=text, category=category, hub="Formal Shoes", source_items=tuple(source), weight=len(source))


def run(topics, items, **cfg):
    vectors = embed([item_text(i) for i in items])
    index = build_index(vectors, IndexSection(backend="exact"))
    return collect(topics, embed([t.text for t in topics]), items, vectors, index, CollectSection(**cfg),
                   hub_of=lambda i: i.category, item_text=item_text)


def attr(item: Item, name: str) -> str:
    return item.attr(name)


def test_topic_requires_every_catalog_word_and_men_is_not_women():
    items = catalog()
    cols, dropped, stats = run([topic("black formal shoes for men", items)], items, min_items=6)
    assert not dropped and len(cols) == 1
    members = {i.id: i for i in items if i.id in cols[0].item_ids}
    assert len(members) == 9  # every black formal shoe for men, nothing else
    assert all(" Men " in f" {m.title} " and attr(m, "base_colour") == "Black" for m in members.values())
    assert stats["collections"] == 1 and stats["items_covered"] == 9


def test_colour_phrases_are_atomic():
    items = catalog()
    cols, _, _ = run([topic("blue shirts for men", items), topic("navy blue shirts for men", items)], items)
    by_topic = {c.topic: c for c in cols}
    blue = [i for i in items if i.id in by_topic["blue shirts for men"].item_ids]
    navy = [i for i in items if i.id in by_topic["navy blue shirts for men"].item_ids]
    assert {attr(i, "base_colour") for i in blue} == {"Blue"}
    assert {attr(i, "base_colour") for i in navy} == {"Navy Blue"}


def test_thin_topics_are_dropped_with_reason():
    items = catalog()
    cols, dropped, stats = run([topic("red kurtas for women", items)], items, min_items=6)
    assert cols == []
    assert [(d.topic, d.reason) for d in dropped] == [("red kurtas for women", "thin")]
    assert "3 item(s)" in dropped[0].detail
    assert stats["dropped_thin"] == 1


def test_too_few_candidates():
    items = catalog()[:4]
    cols, dropped, _ = run([topic("black formal shoes for men", items)], items, min_items=6)
    assert cols == [] and dropped[0].reason == "too_few_candidates"


def test_threshold_is_respected():
    items = catalog()
    cols, _, _ = run([topic("formal shoes", items)], items, min_items=2, threshold=0.5)
    assert all(s >= 0.5 for s in cols[0].scores)
    assert list(cols[0].scores) == sorted(cols[0].scores, reverse=True)
    strict, dropped, _ = run([topic("formal shoes", items)], items, min_items=2, threshold=0.999)
    assert strict == [] and dropped[0].reason == "thin"


def test_max_items_caps_members():
    items = catalog()
    cols, _, _ = run([topic("formal shoes", items)], items, min_items=2, max_items=6)
    assert len(cols[0].item_ids) == 6


def test_a_duplicate_becomes_an_alias_line_of_the_stronger():
    items = catalog()
    men = [i.id for i in items if "Men Black Formal" in i.title]
    strong = topic("black formal shoes for men", items, "description", source=men[:5])
    weak = topic("formal shoes for men", items, "description", source=men[:1])  # every men's formal shoe is black
    cols, dropped, stats = run([strong, weak], items, min_items=6)
    assert [c.topic for c in cols] == ["black formal shoes for men"] and not dropped
    (alias,) = cols[0].aliases
    assert alias == Alias("formal shoes for men", "formal-shoes-for-men", "formal-shoes-for-men", "description",
                          "duplicate", 1.0, cols[0].item_ids, alias.scores)
    assert len(alias.scores) == 9 and all(s >= 0.5 for s in alias.scores)  # its own relevance to each item
    assert stats["aliases"] == 1 and stats["aliases_duplicate"] == 1 and stats["collections"] == 1


def test_overlap_below_the_threshold_keeps_both_pages():
    items = catalog()
    men = [i.id for i in items if "Men Black Formal" in i.title]
    women = [i.id for i in items if "Women Black Formal" in i.title]
    topics = [topic("black formal shoes", items, "description", source=men[:5]),
              topic("black formal shoes for women", items, "description", source=women[:1])]
    cols, _, _ = run(topics, items, min_items=6)  # 8 of the 17: Jaccard 0.47
    assert [c.topic for c in cols] == ["black formal shoes", "black formal shoes for women"]
    assert all(not c.aliases for c in cols)
    one, _, _ = run(topics, items, min_items=6, duplicate_jaccard=0.4)
    assert [c.topic for c in one] == ["black formal shoes"] and one[0].aliases[0].jaccard == pytest.approx(8 / 17, abs=1e-3)


def test_a_style_topic_with_the_items_of_its_base_is_a_line_on_the_base_page():
    items = catalog()
    men = [i.id for i in items if "Men Black Formal" in i.title]
    styled = topic("black formal shoes for men", items, "style", source=men[:5])  # heavier than its base
    base = topic("formal shoes for men", items, "description", source=men[:1])
    cols, dropped, stats = run([styled, base], items, min_items=6)
    assert [c.topic for c in cols] == ["formal shoes for men"] and not dropped
    (alias,) = cols[0].aliases
    assert (alias.topic, alias.reason, alias.anchor) == ("black formal shoes for men", "same_as_base",
                                                         "black-formal-shoes-for-men")
    assert stats["aliases_same_as_base"] == 1


def test_a_use_case_topic_gets_a_page_only_when_its_items_differ_from_its_base():
    items = catalog()
    shoes = [i.id for i in items if "Shoes" in i.title]
    base = topic("shoes", items, "description", source=shoes[:2])
    men = topic("shoes for men", items, "use_case", source=shoes[2:8])  # 17 of the 25 shoes are men's
    casual = topic("casual shoes for the weekend", items, "use_case", source=shoes[8:9])
    cols, _, _ = run([men, base, casual], items, min_items=6)
    assert [c.topic for c in cols] == ["shoes", "casual shoes for the weekend"]
    assert [(a.topic, a.reason, a.jaccard) for a in cols[0].aliases] == [("shoes for men", "same_as_base", 0.68)]
    assert len(cols[0].item_ids) == 25 and len(cols[1].item_ids) == 8  # 8 of the 25 shoes: a page of its own
    assert not cols[1].aliases


def test_each_collection_is_filed_under_the_hub_of_most_of_its_items():
    items = catalog()
    topics = [Topic("brown casual shoes", "description", "Formal Shoes", (items[0].id,), 1.0),
              Topic("black formal shoes", "description", "Formal Shoes", (items[0].id,), 1.0)]
    cols, _, stats = run(topics, items, min_items=6)
    by_topic = {c.topic: c for c in cols}
    assert (by_topic["brown casual shoes"].hub, by_topic["brown casual shoes"].filed_from) == ("Casual Shoes",
                                                                                               "Formal Shoes")
    assert (by_topic["black formal shoes"].hub, by_topic["black formal shoes"].filed_from) == ("Formal Shoes", "")
    assert stats["refiled"] == 1


def test_published_items_of_two_pages_never_overlap_half():
    items = catalog()
    shoes = [i.id for i in items if "Shoes" in i.title]
    topics = [topic("shoes", items, "description", source=shoes[:6]), topic("black shoes", items, "style"),
              topic("formal shoes", items, "description"), topic("shoes for men", items, "use_case"),
              topic("casual shoes", items, "description")]
    cols, _, _ = run(topics, items, min_items=4, max_items=8)
    sets = [set(c.item_ids) for c in cols]
    for a in range(len(sets)):
        for b in range(a + 1, len(sets)):
            assert len(sets[a] & sets[b]) / len(sets[a] | sets[b]) < 0.5, (cols[a].topic, cols[b].topic)
    assert sum(len(c.aliases) for c in cols) + len(cols) == 5


def test_near_duplicate_topics_merge_into_the_heavier():
    items = catalog()
    men = [i.id for i in items if "Men Black Formal" in i.title]
    heavy = topic("black formal shoes for men", items, source=men[:4])
    light = topic("men black formal shoes", items, source=men[4:5])
    cols, dropped, _ = run([light, heavy], items, min_items=6)
    assert [c.topic for c in cols] == ["black formal shoes for men"]
    assert dropped[0].reason == "merged_into:black formal shoes for men"


def test_deterministic_and_collection_fields():
    items = catalog()
    topics = [topic("black formal shoes for men", items, source=[items[0].id]), topic("formal shoes", items),
              topic("brown casual shoes", items), topic("shirts for men", items)]
    first = run(topics, items, min_items=6)
    second = run(topics, items, min_items=6)
    assert first[0] == second[0] and first[1] == second[1]
    cols = first[0]
    assert len({c.slug for c in cols}) == len(cols)
    for c in cols:
        assert c.category == "style" and c.summary
        assert c.summary.startswith(f"{len(c.item_ids)} items")
        hubs = [next(i.category for i in items if i.id == m) for m in c.item_ids]
        assert c.hub == max(set(hubs), key=hubs.count)


def test_source_items_belong_when_they_pass():
    items = catalog()
    src = [i.id for i in items if "Men Black Formal" in i.title][-2:]  # not among the 3 nearest (ties: by id)
    cols, _, _ = run([topic("black formal shoes for men", items, source=src)], items, min_items=4, candidates=3)
    assert set(src) <= set(cols[0].item_ids) and len(cols[0].item_ids) == 5


def test_make_topics_normalises_and_counts():
    items = catalog()
    qs = [Query(items[0].id, "Black Formal Shoes", "style", "t"), Query(items[1].id, "black  formal shoes!", "style", "t"),
          Query(items[2].id, "black formal shoes", "description", "t"), Query(items[9].id, "black formal shoes", "style", "t"),
          Query(items[20].id, "brown shoes", "description", "t"), Query("missing", "ghost", "style", "t")]
    hubs = {"i000": "A", "i001": "A", "i002": "B", "i009": "B"}
    topics = make_topics(items, qs, lambda i: hubs.get(i.id, "C"))
    assert [t.text for t in topics] == ["black formal shoes", "brown shoes"]
    t = topics[0]
    assert t.weight == 4 and t.source_items == ("i000", "i001", "i002", "i009")
    assert t.category == "style" and t.hub == "A"  # 2-2 tie between hubs: the first name
    assert topic_key("Men’s  T-Shirts!") == topic_key("mens tshirts")


def test_lexicon_phrases_and_gender():
    items = catalog()
    lex = Lexicon(items, item_text)
    assert lex.analyse("black casual shoes for men")[0] == ("black", "casual_shoe", "men")
    assert lex.analyse("cool office looks for ladies") == (("women",), ("cool", "office"))
    women = np.array([i for i, it in enumerate(items) if "Women" in it.title])
    assert lex.evidence(("men",), women).max() == 0.0
    blue = np.array([i for i, it in enumerate(items) if it.attr("base_colour") == "Navy Blue"])
    assert lex.evidence(("blue",), blue).max() == 0.0
    shoes = np.array([i for i, it in enumerate(items) if it.category == "Casual Shoes"])
    assert lex.evidence(("shoe", "casual"), shoes).min() == 1.0


def test_summary_mentions_only_facts_present():
    items = catalog()
    members = items[:9] + items[17:20]  # 9 black formal shoes (men), 3 brown casual shoes
    text = summarise("black formal shoes", members, colours=None)
    assert text == ("12 items for \u201cblack formal shoes\u201d: 9 Formal Shoes and 3 Casual Shoes. The most common "
                    "colours are black (9 items) and brown (3 items). The newest item is dated 2024-01-20.")
    sentences = [s for s in re.split(r"(?<=\.)\s", text) if s]
    assert 1 <= len(sentences) <= 3
    assert not re.search(r"%|percent|popular|best-?selling", text)
    assert summarise("t", items[:2], colours=None).startswith("2 items for \u201ct\u201d, all in Formal Shoes.")


def test_summary_uses_pixel_colours_without_a_colour_column():
    items = [Item(id=f"p{n}", title="Apple", image="", image_sha="", width=1, height=1, category="Food")
             for n in range(3)]
    text = summarise("red apple", items, colours={"p0": ["red", "green"], "p1": ["red"], "p2": ["green"]})
    assert text == ("3 items for \u201cred apple\u201d, all in Food. The most common colours are red (2 items) "
                    "and green (1 item).")
    assert summarise("x", [], colours=None) == ""
    varied = [make_item(n, "Men", c, "Shirts") for n, c in enumerate(["Black", "Blue", "Cream", "Red", "Teal"])]
    assert "They come in 5 colours: black, blue, cream and 2 more." in summarise("shirts", varied)


@pytest.mark.parametrize("n_items", [2000])
def test_collect_is_fast_on_thousands_of_items(n_items):
    rng = np.random.default_rng(0)
    colours, kinds, genders = ["Black", "White", "Blue", "Red", "Green"], ["Shirts", "Tshirts", "Jeans", "Heels"], ["Men", "Women"]
    items = [make_item(n, genders[n % 2], colours[rng.integers(5)], kinds[rng.integers(4)]) for n in range(n_items)]
    texts = [f"{c.lower()} {k.lower()} for {g.lower()}" for c in colours for k in kinds for g in genders]
    topics = [Topic(t, "style", "Shirts", (), 1.0) for t in texts]
    import time

    t0 = time.perf_counter()
    cols, dropped, _ = run(topics, items, min_items=6, candidates=200)
    assert time.perf_counter() - t0 < 10
    assert len(cols) + len(dropped) == len(topics)
    for c in cols:
        colour, kind, _, gender = c.topic.split()
        for i in c.item_ids:
            it = items[int(i[1:])]
            assert it.attr("base_colour").lower() == colour and it.category.lower() == kind
            assert f" {gender.capitalize()} " in f" {it.title} "
