"""Query-reward steering (sitegen.demand.steer): collect's page budget, slugs that stay their topics', and the hub,
home and related slots of the link stage, each against the unsteered choice."""

from __future__ import annotations

import numpy as np
import pytest

from sitegen.aggregate.gates import SlugBook
from sitegen.core import urls
from sitegen.core.config import LinkSection
from sitegen.core.models import Reward, RewardTable
from sitegen.core.text import normalise, topic_key
from sitegen.demand import steer
from sitegen.distribute.link import RELATED_MIN_SIM, shape_links, steer_neighbours

from sitegen.aggregate.collect import collect
from sitegen.core.config import CollectSection, IndexSection
from sitegen.engines.index import build_index

from .test_collect import catalog, embed, item_text, topic
from .test_link import synthetic_site


def run(topics, items, rewards=None, owned=None, **cfg):
    vectors = embed([item_text(i) for i in items])
    index = build_index(vectors, IndexSection(backend="exact"))
    return collect(topics, embed([t.text for t in topics]), items, vectors, index, CollectSection(**cfg),
                   hub_of=lambda i: i.category, item_text=item_text, rewards=rewards, owned=owned)


def table(pages=None, queries=None, average=0.05) -> RewardTable:
    return RewardTable(pages={p: Reward(p, r, 1000, 1000 * r) for p, r in (pages or {}).items()},
                       queries={normalise(q): Reward(normalise(q), r, 1000, 1000 * r) for q, r in (queries or {}).items()},
                       average=average, value=1000 * average)  # the average page: 1000 impressions


def test_steering_is_off_without_data_or_when_disabled():
    t = table(queries={"red shoes": 0.1})
    assert steer.steering(None, True) is None and steer.steering(RewardTable(), True) is None
    assert steer.steering(t, False) is None and steer.steering(RewardTable(queries=t.queries), True) is None
    assert steer.steering(t, True) is t


def test_ratio_prefers_the_page_then_the_query_then_the_average():
    t = table(pages={"/topic/red-shoes/": 0.1}, queries={"Red Shoes": 0.025})
    assert steer.ratio(t, "red shoes", "/topic/red-shoes/") == pytest.approx(2.0)
    assert steer.ratio(t, "Red  shoes!", "") == pytest.approx(0.5)  # the query, normalised
    assert steer.ratio(t, "blue shoes", "/topic/blue-shoes/") == pytest.approx(1.0)  # no data: the average


def test_ratio_is_expected_clicks_so_volume_counts_and_an_unseen_page_has_none():
    pages = {"/topic/tshirts/": Reward("/topic/tshirts/", 0.04, 20_000, 800),  # 800 clicks at 4 %
             "/topic/rare/": Reward("/topic/rare/", 0.5, 20, 10)}  # 10 clicks at 50 %
    t = RewardTable(pages=pages, average=0.05, unseen=frozenset({"/topic/quiet/"}))
    assert t.value == pytest.approx((800 + 10) / 2)
    assert steer.ratio(t, "tshirts", "/topic/tshirts/") > 1.0 > steer.ratio(t, "rare", "/topic/rare/")
    assert steer.ratio(t, "quiet", "/topic/quiet/") == 0.0  # live, covered by the signals, no impression
    assert steer.ratio(t, "new topic", "") == 1.0  # no data: the average page's chance


def test_a_topic_without_a_page_is_priced_by_its_querys_searches():
    pages = {"/topic/casual-tshirts/": Reward("/topic/casual-tshirts/", 0.1, 1000, 100)}
    queries = {"tshirts online": Reward("tshirts online", 0.02, 5000, 100, searches=1000),  # shown, rarely clicked
               "rare": Reward("rare", 0.5, 10, 5, searches=10)}
    t = RewardTable(pages=pages, queries=queries, average=0.05, top=0.3)
    assert t.value == pytest.approx(100)
    assert steer.ratio(t, "tshirts online") == pytest.approx(1000 * 0.3 / 100)  # a page of its own: 300 clicks
    assert steer.ratio(t, "rare") == pytest.approx(5 / 100)  # what it brings already is more than 10 x 0.3
    assert steer.ratio(t, "casual tshirts", "/topic/casual-tshirts/") == pytest.approx(1.0)  # the page's own
    assert steer.ratio(RewardTable(pages=pages, queries=queries, average=0.05), "tshirts online") == \
        pytest.approx(1.0)  # no best-placed rate known: what the query brings (100 clicks)
    t2 = RewardTable(pages={**pages, "/topic/tshirts-online/": Reward("/topic/tshirts-online/", 0.05, 400, 20)},
                     queries=queries, average=0.05, top=0.3, unseen=frozenset({"/topic/rare/"}))
    assert t2.value == pytest.approx(60)
    # a page that earned 20 clicks is still worth what its query's searches promise: the rival without a page
    # is priced the same way, so neither takes the other's slot only because it has no page yet
    assert steer.ratio(t2, "tshirts online", "/topic/tshirts-online/") == pytest.approx(300 / 60)
    assert steer.ratio(t2, "rare", "/topic/rare/") == pytest.approx(5 / 60)  # unseen, but searchers type it
    assert steer.ratio(t2, "quiet", "/topic/rare/") == 0.0  # unseen, and nobody typed it
    assert steer.searched(t, "Tshirts  online!") and steer.searched(t, "rare")
    assert not steer.searched(t, "casual tshirts")  # a page's topic that no searcher typed as such


def test_moves_and_gained_lost():
    assert steer.moves(["a", "b", "c"], ["b", "a", "c"]) == [("b", 2, 1), ("a", 1, 2)]
    assert steer.moves(["a", "b"], ["a", "c"]) == [("c", 0, 2), ("b", 2, 0)]
    assert steer.gained_lost(["a", "b"], ["b", "c"]) == (["c"], ["a"])


def budget_topics(items):
    by = {t: [i.id for i in items if all(w.lower() in i.title.lower() for w in t.split()[:2])]
          for t in ("black formal shoes", "brown casual shoes", "blue shirts")}
    return [topic("black formal shoes", items, source=by["black formal shoes"][:5]),
            topic("brown casual shoes", items, source=by["brown casual shoes"][:4]),
            topic("blue shirts", items, source=by["blue shirts"][:3])]


def test_a_topic_below_average_loses_its_slot_to_a_topic_without_data():
    items = catalog()
    topics = budget_topics(items)
    plain, _, stats = run(topics, items, max_collections=2)
    assert [c.topic for c in plain] == ["black formal shoes", "brown casual shoes"] and "steering" not in stats
    low = table(queries={"brown casual shoes": 0.01})  # reward ratio 0.2: 4 x 0.2 < 3
    cols, dropped, stats = run(topics, items, max_collections=2, rewards=low)
    assert [c.topic for c in cols] == ["black formal shoes", "blue shirts"]
    assert ("brown casual shoes", "max_collections") in {(d.topic, d.reason) for d in dropped}
    s = stats["steering"]
    assert [g["topic"] for g in s["gained"]] == ["blue shirts"] and s["gained"][0]["ratio"] == 1.0
    assert [x["topic"] for x in s["lost"]] == ["brown casual shoes"] and s["lost"][0]["ratio"] == pytest.approx(0.2)
    assert "max_collections" in s["lost"][0]["now"]
    # an above-average reward keeps it; a page's own reward counts where the topic had that page
    high = table(queries={"brown casual shoes": 0.2})
    assert [c.topic for c in run(topics, items, max_collections=2, rewards=high)[0]] == [c.topic for c in plain]
    owned = {"brown-casual-shoes": topic_key("brown casual shoes")}
    by_page = table(pages={"/topic/brown-casual-shoes/": 0.01})
    cols, _, _ = run(topics, items, max_collections=2, rewards=by_page, owned=owned)
    assert [c.topic for c in cols] == ["black formal shoes", "blue shirts"]


def test_steering_keeps_slugs_and_a_published_slug_stays_its_topics():
    items = catalog()
    topics = budget_topics(items)
    plain, _, _ = run(topics, items)
    steered, _, _ = run(topics, items, rewards=table(queries={"blue shirts": 0.5, "black formal shoes": 0.01}))
    assert {c.topic: c.slug for c in steered} == {c.topic: c.slug for c in plain}
    # "blue-shirts" was published for another topic (live or retired): this topic never gets it
    cols, _, _ = run(topics, items, owned={"blue-shirts": "blue shirt designs"})
    assert {c.topic: c.slug for c in cols}["blue shirts"] == "blue-shirts-2"
    # ... and a topic gets back the slug it owns, even one its text would not give it
    cols, _, _ = run(topics, items, owned={"shoes-in-black": topic_key("black formal shoes")})
    assert {c.topic: c.slug for c in cols}["black formal shoes"] == "shoes-in-black"


def test_slug_book():
    book = SlugBook({"dog-s-clipart": "dog s clipart", "cats": "cats"})
    assert book.take(["dog's clipart", "Cats", "dog s clipart"]) == ["dog-s-clipart-2", "cats", "dog-s-clipart"]
    assert SlugBook().take(["a b", "a-b", "A B!"]) == ["a-b", "a-b-2", "a-b-3"]


def test_link_steering_orders_hubs_and_home_by_reward():
    site, vectors = synthetic_site()
    cfg = LinkSection(home_collections=3)
    plain, plain_report = shape_links(site, vectors, cfg, hub_page_size=20)
    assert "steering" not in plain_report
    small = [c for c in site.collections if len(c.item_ids) == 6 and c.hub == "Hub 1"][0]
    big = [c for c in site.collections if len(c.item_ids) == 40 and c.hub == "Hub 1"]
    rewards = table(pages={urls.collection_url(small.slug): 0.5,  # 10x the average: 6 x 10 > 40
                           **{urls.collection_url(c.slug): 0.01 for c in big}})
    shaped, report = shape_links(site, vectors, cfg, hub_page_size=20, rewards=rewards)
    hub = {h.name: h.collection_slugs for h in shaped.hubs}["Hub 1"]
    plain_hub = {h.name: h.collection_slugs for h in plain.hubs}["Hub 1"]
    assert hub[0] == small.slug and plain_hub.index(small.slug) > 0
    assert [c.slug for c in big] == [s for s in hub if s in {c.slug for c in big}][-len(big):]
    assert small.slug in shaped.featured and small.slug not in plain.featured
    moves = {m["path"]: m for m in report["steering"]["hub_moves"]}
    assert moves[urls.collection_url(small.slug)]["after"] == 1
    assert urls.collection_url(small.slug) in {x["path"] for x in report["steering"]["featured_gained"]}
    # the same links as before where no collection has data
    same, _ = shape_links(site, vectors, cfg, hub_page_size=20, rewards=table(queries={"nothing here": 0.1}))
    assert [c.related for c in same.collections] == [c.related for c in plain.collections]
    assert same.featured == plain.featured


def test_rewarded_neighbours_take_the_related_slots_first():
    ratios = [1.0, 1.0, 1.0, 3.0, 1.0, 0.2]
    cands = [(1, 0.9), (2, 0.8), (3, 0.7), (4, 0.6), (5, 0.55)]
    order = [j for j, _ in steer_neighbours(cands, ratios, pool=4)]
    assert order == [3, 1, 2, 4, 5]  # 0.7 x 3 first; 5 is outside the pool of the 4 nearest
    far = [(1, 0.9), (2, RELATED_MIN_SIM - 0.01)]
    assert [j for j, _ in steer_neighbours(far, [1.0, 1.0, 50.0], pool=4)] == [1, 2]  # too far: never promoted


def test_related_slots_follow_rewards_in_shape_links():
    site, vectors = synthetic_site(n_collections=12, seed=3)
    for c in site.collections:  # neighbours close enough to be related: a shared direction plus noise
        vectors[c.slug] = vectors[c.slug] * 0.3 + np.ones(16, np.float32)
    cfg = LinkSection(related_min=2, related_max=3)
    plain, _ = shape_links(site, vectors, cfg, hub_page_size=20)
    target = site.collections[0]
    unit = {k: v / np.linalg.norm(v) for k, v in vectors.items()}
    outsider = max((c for c in site.collections if c.slug not in plain.collection_by_slug()[target.slug].related
                    and c.slug != target.slug), key=lambda c: float(unit[c.slug] @ unit[target.slug]))
    assert float(unit[outsider.slug] @ unit[target.slug]) >= RELATED_MIN_SIM
    rewards = table(pages={urls.collection_url(outsider.slug): 2.0})
    shaped, report = shape_links(site, vectors, cfg, hub_page_size=20, rewards=rewards)
    assert outsider.slug in shaped.collection_by_slug()[target.slug].related
    changed = {x["path"]: x for x in report["steering"]["related"]}
    assert urls.collection_url(outsider.slug) in {a["path"] for a in changed[urls.collection_url(target.slug)]["added"]}
