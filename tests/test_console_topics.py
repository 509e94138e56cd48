"""Console topics (sitegen.demand.console): the queries searchers used become demanded topics after the shared
post-processing, and the ``console`` topic source files them under the majority hub of the items they name."""

from __future__ import annotations

import pytest

from sitegen.aggregate.topics import TopicRequest, gather_topics
from sitegen.core.config import Config, RepresentSection, SignalsSection
from sitegen.core.models import Demand, DemandTopic, Item, SignalRow
from sitegen.demand.console import console_source, console_topic_plan, console_topics, query_category
from sitegen.core.lexicon import load_lexicon
from sitegen.store.db import Store


def q(day: str, query: str, impressions: float, clicks: float = 0.0) -> SignalRow:
    return SignalRow(day, "gsc", "query", query=query, clicks=clicks, impressions=impressions)


@pytest.fixture()
def store(tmp_path):
    with Store(tmp_path / "s.duckdb") as s:
        s.signals.add("f", "f", "gsc", "query", "2026-06-01T00:00:00Z", {}, [
            q("2026-05-31", "Red Dresses", 30), q("2026-05-31", "red dresses", 5),
            q("2026-05-24", "dresses for weddings", 40),  # a week back: 20 decayed impressions
            q("2026-05-31", "porn dresses", 100),
            q("2026-05-31", "acme dresses", 50),
            q("2026-05-31", "one two three four five six seven eight nine", 50),
            q("2026-05-31", "for the", 50),
            q("2026-05-31", "tiny", 9),
            q("2026-04-01", "old news", 500),  # before the window
            q("2026-05-31", "マルイカ 釣果", 12)])
        yield s


def test_console_topics_weights_spellings_and_post_processing(store):
    cfg = Config(represent=RepresentSection(brands=["acme"]))
    topics, dropped = console_topic_plan(store, cfg)
    assert [(t.text, t.weight, t.category, t.source, t.hub) for t in topics] == [
        ("red dresses", 35.0, "description", "console", ""),
        ("dresses for weddings", 20.0, "use_case", "console", ""),
        ("マルイカ 釣果", 12.0, "description", "console", "")]
    assert sorted((d.text, d.reason) for d in dropped) == [
        ("acme dresses", "brand"), ("for the", "stopwords"),
        ("one two three four five six seven eight nine", "too_long"), ("porn dresses", "blocklist")]
    assert console_topics(store, cfg) == topics


def test_the_minimum_is_a_setting(store):
    cfg = Config(signals=SignalsSection(topic_min_impressions=0.0))
    assert "tiny" in [t.text for t in console_topics(store, cfg)]
    cfg = Config(signals=SignalsSection(topic_min_impressions=25.0))
    assert [t.text for t in console_topics(store, cfg)] == ["acme dresses", "red dresses"]  # no brands set
    assert [(t.text, t.weight) for t in console_topics(store, cfg, today="2026-04-01")] == [("old news", 500.0)]


def test_query_category():
    lexicon = load_lexicon(("auto",))
    assert query_category("kurtas for festivals", lexicon) == "use_case"
    assert query_category("office wear shirts", lexicon) == "use_case"  # an occasions phrase
    assert query_category("halloween costume", lexicon) == "use_case"
    assert query_category("black formal shoes", lexicon) == "use_case"  # "formal" is a use-case word
    assert query_category("black leather shoes", lexicon) == "description"  # a style word: still a description


ITEMS = [Item("1", "Red summer dress", "/1.jpg", "s", 1, 1, category="Dresses"),
         Item("2", "Red party dress", "/2.jpg", "s", 1, 1, category="Dresses"),
         Item("3", "Red dress shoes", "/3.jpg", "s", 1, 1, category="Shoes"),
         Item("4", "Blue cat mug", "/4.jpg", "s", 1, 1, category="Mugs")]


def request(*topics: DemandTopic) -> TopicRequest:
    return TopicRequest(ITEMS, [], lambda item: item.category, frozenset({"Dresses", "Shoes", "Mugs"}), Config(),
                        Demand(topics=topics))


def test_the_console_source_files_queries_under_their_items_majority_hub():
    req = request(DemandTopic("red dresses", "console", 35.0),
                  DemandTopic("dresses for weddings", "console", 20.0, category="use_case"),
                  DemandTopic("blue cats", "trend", 9.0),  # another source's
                  DemandTopic("hci direct", "console", 12.0),
                  DemandTopic("マルイカ 釣果", "console", 12.0),
                  DemandTopic("free clipart", "console", 11.0))
    topics = console_source(req)
    assert [(t.text, t.hub, t.category, t.source_items, t.weight) for t in topics] == [
        ("red dresses", "Dresses", "description", ("1", "2", "3"), 3.0),
        ("dresses for weddings", "Dresses", "use_case", ("1", "2", "3"), 3.0)]  # "weddings": left to relevance
    assert [(d.topic, d.reason) for d in req.dropped] == [
        ("hci direct", "no_items"), ("マルイカ 釣果", "no_content_words"), ("free clipart", "no_content_words")]
    assert "no item has hci + direct" in req.dropped[0].detail


def test_gather_topics_reports_the_sources_drops():
    req = request(DemandTopic("blue mugs", "console", 3.0), DemandTopic("green hats", "console", 2.0))
    topics, dropped = gather_topics(req, ["console"])
    assert [(t.text, t.hub, t.source_items) for t in topics] == [("blue mugs", "Mugs", ("4",))]
    assert [(d.topic, d.reason) for d in dropped] == [("green hats", "no_items")]
    assert gather_topics(request(), ["console"]) == ([], [])


@pytest.mark.slow
def test_console_topics_reach_the_example_sites_collections(example_site_copy):
    """Through the GEO stages: a demanded query becomes a collection under its items' hub; one matching no item
    is dropped with its reason."""
    from sitegen.core.config import load_config
    from sitegen.pipeline.gather import gather_site
    from sitegen.pipeline.geo import run_geo

    site = example_site_copy()
    cfg = load_config(site / "site.toml", {"collect.topic_sources": ["console", "queries"]})
    demand = Demand(topics=(DemandTopic("cats", "console", 40.0), DemandTopic("dogs", "console", 35.0),
                            DemandTopic("hci direct", "console", 30.0)))
    with Store(cfg.store_path) as store:
        gathered = gather_site(cfg, store)
        run = store.runs.begin("2026-01-01T00:00:00Z", "h")
        geo = run_geo(cfg, store, gathered.site, demand=demand, reuse=False, run_id=run)
        dropped = {(text, reason, detail) for kind, text, reason, detail, _ in store.geo.dropped(run)
                   if kind == "topic"}
    pages = {c.topic: c for c in geo.site.collections}
    lines = {a.topic: c for c in geo.site.collections for a in c.aliases}
    for text in ("cats", "dogs"):
        found = pages.get(text) or lines.get(text)
        assert found is not None and found.hub == "Animals", (text, sorted(pages)[:20])
    assert ("hci direct", "no_items", "console: no item has hci + direct") in dropped


def test_a_topic_proposed_by_two_sources_keeps_the_first_ones_text_and_the_heaviest_weight():
    from sitegen.core import registry
    from sitegen.core.models import Topic

    registry.register("topic_source", "test-few", lambda request: [Topic("Red Dresses", "description", "Dresses",
                                                                         ("1",), 1.0)])
    try:
        req = request(DemandTopic("red dresses", "console", 35.0), DemandTopic("blue mugs", "console", 3.0))
        topics, _ = gather_topics(req, ["test-few", "console"])
        assert [(t.text, t.source_items, t.weight) for t in topics] == [
            ("Red Dresses", ("1",), 3.0),  # three items hold "red dress"; the first source proposed it once
            ("blue mugs", ("4",), 1.0)]
        topics, _ = gather_topics(request(DemandTopic("red dresses", "console", 35.0)), ["console", "test-few"])
        assert [(t.text, t.weight) for t in topics] == [("red dresses", 3.0)]  # a lighter one changes nothing
    finally:
        registry.unregister("topic_source", "test-few")
