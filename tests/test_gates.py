"""gates: aliases, base topics, item selection and filing, on hand-made candidates (no model, no index)."""

from __future__ import annotations

import numpy as np

from sitegen.aggregate.gates import (Candidate, alias_records, apply_gates, file_under, find_bases, processing_order,
                                     select)
from sitegen.core.models import Topic

N_ITEMS = 200


def cand(pos: int, items) -> Candidate:
    items = np.asarray(list(items), np.int64)
    return Candidate(pos, (), items, np.linspace(0.99, 0.6, len(items)).astype(np.float32))


def topics(*texts: str, category="description") -> list[Topic]:
    return [Topic(t, category, "Hub", (), float(len(texts) - n)) for n, t in enumerate(texts)]


def gate(viable, tops, analysed=None, hubs=None, **kw):
    analysed = analysed or [((t.text.replace(" ", "_"),), ()) for t in tops]  # no topic is another's base
    return apply_gates(viable, tops, analysed, hubs or ["Hub"] * N_ITEMS, threshold=kw.pop("threshold", 0.5),
                       max_items=kw.pop("max_items", 10), **kw)


def test_shown_items_overlapping_half_make_an_alias_even_when_the_relevant_ones_do_not():
    a = cand(0, range(0, 40))
    b = cand(1, [*range(0, 10), 40, 41])  # relevant: 10 of 42 shared; shown: 8 of A's 10, whatever is chosen
    kept, dropped = gate([a, b], topics("a", "b"))
    assert [k.cand.pos for k in kept] == [0] and not dropped
    assert kept[0].aliases == [(1, "duplicate", 0.6667)]


def test_a_page_shows_other_items_before_it_is_given_up():
    a = cand(0, range(0, 40))  # shows 0..9
    c = cand(1, [*range(40, 45), *range(100, 140)])  # shows 40..44 (its best) and 5 more
    b = cand(2, [*range(0, 10), *range(40, 45)])  # best first: 0..9 (all shown by A), then 40..44 (shown by C)
    kept, _ = gate([a, c, b], topics("a", "c", "b"))
    assert [k.cand.pos for k in kept] == [0, 1, 2]
    shown = [set(k.members.tolist()) for k in kept]
    assert shown[2] == {0, 1, 2, 3, 4, 40, 41, 42, 43, 44}  # not 0..9, which would repeat A's page
    for x in range(3):
        for y in range(x + 1, 3):
            assert len(shown[x] & shown[y]) / len(shown[x] | shown[y]) < 0.5


def test_relevant_items_overlapping_half_make_an_alias_of_the_most_overlapping_page():
    a = cand(0, range(0, 20))
    c = cand(1, range(100, 120))
    b = cand(2, [*range(100, 115), *range(0, 5)])  # 15 of C's 20, 5 of A's
    kept, _ = gate([a, c, b], topics("a", "c", "b"), max_items=48)
    assert [k.cand.pos for k in kept] == [0, 1]
    assert kept[0].aliases == [] and kept[1].aliases == [(2, "duplicate", 0.6)]


def test_base_topics_come_first_and_keep_the_page():
    tops = [Topic("skirt for college", "use_case", "Skirts", (), 9.0), Topic("skirts", "description", "Skirts", (), 2.0),
            Topic("grey casual bag", "style", "Bags", (), 5.0), Topic("casual bags", "description", "Bags", (), 1.0),
            Topic("how to style blue shirts", "use_case", "Shirts", (), 4.0),
            Topic("blue shirts", "style", "Shirts", (), 3.0)]
    analysed = [(("skirt",), ("college",)), (("skirt",), ()), (("grey", "casual_bag"), ()), (("casual_bag",), ()),
                (("blue", "shirt"), ()), (("blue", "shirt"), ())]
    viable = [cand(n, range(10 * n, 10 * n + 10)) for n in range(6)]
    bases = find_bases(viable, tops, analysed)
    assert bases == {0: 1, 2: 3, 4: 5}  # the purpose, the style word, the template: a plainer category
    assert processing_order(6, bases) == [1, 0, 3, 2, 5, 4]
    same = [cand(n, range(0, 10)) if n < 2 else cand(n, range(10 * n, 10 * n + 10)) for n in range(6)]
    kept, _ = apply_gates(same, tops, analysed, ["Hub"] * N_ITEMS, threshold=0.5, max_items=10)
    assert [k.cand.pos for k in kept] == [1, 3, 2, 5, 4]  # "skirts" stays although lighter than its use case
    assert kept[0].aliases == [(0, "same_as_base", 1.0)]


def test_a_description_has_no_base_and_audience_words_are_a_purpose():
    tops = [Topic("black formal shoes", "description", "X", (), 2.0), Topic("formal shoes", "description", "X", (), 1.0),
            Topic("kurti for women", "use_case", "X", (), 2.0), Topic("kurti", "description", "X", (), 1.0)]
    analysed = [(("black", "formal_shoe"), ()), (("formal_shoe",), ()), (("kurti", "women"), ()), (("kurti",), ())]
    viable = [cand(n, range(n, n + 10)) for n in range(4)]
    assert find_bases(viable, tops, analysed) == {2: 3}


def test_select_prefers_fresh_items_after_the_best_half():
    c = cand(0, range(20))
    shown = np.zeros(N_ITEMS, np.int32)
    shown[[5, 6, 7, 8]] = 1
    members, scores = select(c, 8, shown)
    assert members.tolist() == [0, 1, 2, 3, 4, 9, 10, 11]
    assert list(scores) == sorted(scores, reverse=True)
    avoid = np.zeros(N_ITEMS, bool)
    avoid[:10] = True
    assert select(c, 8, shown, avoid)[0].tolist() == list(range(10, 18))
    assert select(cand(0, range(5)), 8, shown)[0].tolist() == [0, 1, 2, 3, 4]


def test_filed_under_the_hub_of_most_items():
    hubs = ["Bags"] * 10 + ["Shoes"] * 10 + ["Belts"] * 10
    assert file_under(np.array([0, 1, 10, 11, 12]), hubs, "Bags") == "Shoes"
    assert file_under(np.array([10, 0, 11, 1]), hubs, "Bags") == "Bags"  # a tie: the topic's own hub
    assert file_under(np.array([20, 10, 21, 11]), hubs, "Bags") == "Belts"  # a tie elsewhere: the best item's
    kept, _ = gate([cand(0, [0, 10, 11, 12, 20])], topics("x"), hubs=hubs)
    assert kept[0].hub == "Shoes"


def test_alias_slugs_never_take_a_page_slug_and_anchors_avoid_theme_ids():
    tops = topics("images", "red bags", "Red  bags!", "related")
    viable = [cand(0, range(10)), cand(1, range(100, 110)), cand(2, range(100, 110)), cand(3, range(10))]
    kept, _ = gate(viable, tops)
    assert [k.cand.pos for k in kept] == [0, 1]
    records = alias_records(kept, tops, {"images", "red-bags"}, [f"i{n}" for n in range(N_ITEMS)])
    assert [(a.topic, a.slug, a.anchor) for a in records[0]] == [("related", "related", "topic-related")]
    assert records[0][0].item_ids == tuple(f"i{n}" for n in range(10))  # the page's items relevant to it
    assert [(a.topic, a.slug, a.anchor) for a in records[1]] == [("Red  bags!", "red-bags-2", "red-bags-2")]


def test_max_collections_counts_pages_not_aliases():
    viable = [cand(0, range(10)), cand(1, range(10)), cand(2, range(50, 60)), cand(3, range(80, 90))]
    kept, dropped = gate(viable, topics("a", "b", "c", "d"), max_collections=2)
    assert [k.cand.pos for k in kept] == [0, 2] and kept[0].aliases == [(1, "duplicate", 1.0)]
    assert [(d.topic, d.reason) for d in dropped] == [("d", "max_collections")]


def test_cover_places_unshown_relevant_items_instead_of_items_shown_twice():
    a = cand(0, range(0, 30))  # shows 0..4 (best half) and 5..9
    c = cand(1, [*range(5, 10), *range(100, 105)])  # fits: shows all, 5..9 included
    kept, _ = gate([a, c], topics("a", "c"))
    assert kept[0].members.tolist() == [0, 1, 2, 3, 4, 10, 11, 12, 13, 14]  # its best half stays
    assert list(kept[0].scores) == sorted(kept[0].scores, reverse=True)
    assert kept[1].members.tolist() == [5, 6, 7, 8, 9, 100, 101, 102, 103, 104]
    shown = np.zeros(N_ITEMS, np.int32)
    for k in kept:
        shown[k.members] += 1
    assert shown.max() == 1 and (shown > 0).sum() == 20


def test_two_topics_searchers_typed_are_told_apart_by_their_shown_items_only():
    a = cand(0, range(0, 40))  # shows 0..9
    b = cand(1, [*range(0, 30), *range(40, 50)])  # relevant: 30 of A's 40 (Jaccard 0.6)
    kept, _ = gate([a, b], topics("tshirts", "tshirts online"))
    assert [k.cand.pos for k in kept] == [0] and kept[0].aliases == [(1, "duplicate", 0.6)]
    kept, _ = gate([a, b], topics("tshirts", "tshirts online"), searched=frozenset({0, 1}))
    assert [k.cand.pos for k in kept] == [0, 1]
    shown = [set(k.members.tolist()) for k in kept]
    assert len(shown[0] & shown[1]) / len(shown[0] | shown[1]) < 0.5  # the second page shows other items
    kept, _ = gate([a, b], topics("tshirts", "tshirts online"), searched=frozenset({1}))
    assert [k.cand.pos for k in kept] == [0]  # one typed topic against a page nobody typed: as before
