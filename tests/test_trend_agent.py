"""The trend-mining agent (sitegen.demand.trends): each node of the LangGraph graph, the approval interrupt resumed
from another process, an end-to-end run without an LLM, the memory across runs (refresh, expire, outcomes), the
topic source, the tools as LangGraph tools. The trends and their stages are built in code (tests/trendtools.py);
the catalog is a tiny fashion one embedded with the packaged MiniLM."""

from __future__ import annotations

import dataclasses

import pytest

from sitegen.core.models import Demand, DemandTopic, Reward, RewardTable, Trend, TrendStage
from sitegen.demand.trends.agent import TrendAgent, decide, run_agent, settle
from sitegen.demand.trends.topics import expired_topics, trend_topic_source, trend_topics
from sitegen.store.db import Store

from .trendtools import TRENDS, Stager, make_cfg, make_toolbox


@pytest.fixture
def site(tmp_path):
    cfg = make_cfg(tmp_path)
    with Store(cfg.store_path) as store:
        yield cfg, store


def agent_of(cfg, store, trends=None, stages=None, **kw) -> TrendAgent:
    agent = TrendAgent(cfg, store, toolbox=make_toolbox(cfg, store, trends), stager=Stager(stages), **kw)
    agent.thread_id = "trends-test"
    return agent


def through(agent: TrendAgent, last: str) -> dict:
    """The state after running the nodes up to ``last`` (each node's output merged in)."""
    state: dict = {}
    for name in ("planning", "retrieval", "filtering", "expansion", "validation"):
        state.update(getattr(agent, name)(state))
        if name == last:
            return state
    raise AssertionError(last)


def by_term(decisions) -> dict:
    return {d.trend if hasattr(d, "trend") else d["trend"]: d for d in decisions}


# -- nodes ---------------------------------------------------------------------------------------------------

def test_planning_plans_from_the_settings_the_catalog_and_the_calendar(site):
    cfg, store = site
    store.trends.put_calendar([("swimsuit", "Swimsuit", "07-01", "heatwave.csv", "2018-08-01"),
                               ("puffer jacket", "Puffer jacket", "12-15", "winter.csv", "2018-12-20")])
    plan = agent_of(cfg, store).planning({})["plan"]
    assert plan["today"] == "2019-06-01" and plan["lead_days"] == 60 and plan["max_proposals"] == 20
    assert plan["expand_budget"] == 60 and plan["threshold"] == cfg.trends.threshold
    assert plan["upcoming"] == ["Swimsuit: 2019-07-01"]  # the winter peak is outside the lead window
    assert plan["focus_by"] == "categories" and set(plan["focus"]) == {"Caps", "Jackets", "Sunglasses", "Swimwear"}


def test_retrieval_groups_a_term_stages_it_and_remembers_seasonal_peaks(site):
    cfg, store = site
    store.trends.put_calendar([("rain jacket", "Rain jacket", "06-20", "old.csv", "2018-06-30")])
    stages = {"sunglasses": TrendStage("seasonal", "summer", peak="2018-07-15", next_peak="2019-07-15")}
    agent = agent_of(cfg, store, stages=stages)
    state = through(agent, "retrieval")
    cands = {c["key"]: c for c in state["candidates"]}
    assert len(state["candidates"]) == 8  # "Sunglasses" and "sunglasses" are one term
    sun = cands["sunglasses"]
    assert sun["source"] == "heatwave.csv" and sun["kind"] == "series" and sun["files"] == 2 and sun["rising"]
    assert [len(g) for g in agent.stager.asked if g[0].term.lower() == "sunglasses"] == [2]
    assert sun["action"] == "propose" and "next peak 2019-07-15 in 44 days" in sun["action_reason"]
    # no stage from its files, but the memory knows its typical peak
    assert cands["rain jacket"]["stage"] == "seasonal" and cands["rain jacket"]["next_peak"] == "2019-06-20"
    assert cands["kitchen sink"]["stage"] == "unknown" and cands["kitchen sink"]["action"] == "reject"
    assert store.trends.calendar()["sunglasses"] == ("Sunglasses", "07-15", "heatwave.csv")


def test_retrieval_keeps_the_region_and_the_timespan(tmp_path):
    cfg = make_cfg(tmp_path, 'region = "US"\ntimespan = "2018-06-10 2018-06-30"')
    trends = [Trend("Sunglasses", "a.csv", "series", region="US", points=(("2018-06-04", 1.0), ("2018-06-11", 2.0))),
              Trend("Sun hat", "b.csv", "series", region="FR", points=(("2018-06-11", 2.0),)),
              Trend("Swimsuit", "c.csv", "series", region="US-CA", points=(("2018-07-11", 2.0),)),
              Trend("Bikini", "d.csv", "ranking", region="", rank=1),
              Trend("Rain jacket", "e.csv", "ranking", region="US-NY", rank=2)]
    with Store(cfg.store_path) as store:
        box = make_toolbox(cfg, store, trends)
        got = box.fetch_trends("US", "2018-06-10 2018-06-30")
    assert [t.term for t in got] == ["Sunglasses", "Bikini", "Rain jacket"]
    assert got[0].points == (("2018-06-11", 2.0),)  # clipped to the span; FR and a series outside it left out


def test_retrieval_sees_nothing_after_the_day_it_plans_for(tmp_path):
    cfg = make_cfg(tmp_path)  # today = 2019-06-01
    trends = [Trend("Sunglasses", "a.csv", "series", points=(("2019-05-20", 40.0), ("2019-06-10", 90.0))),
              Trend("Swimsuit", "b.csv", "series", points=(("2019-06-03", 90.0),)),
              Trend("Sun hat", "c.csv", "trending_now", started="2019-06-02T10:00:00", rising=True),
              Trend("Rain jacket", "d.csv", "trending_now", started="2019-05-30T10:00:00", rising=True)]
    with Store(cfg.store_path) as store:
        got = make_toolbox(cfg, store, trends).fetch_trends()
    assert [(t.term, t.points) for t in got] == [("Sunglasses", (("2019-05-20", 40.0),)), ("Rain jacket", ())]


def test_filtering_rejects_news_sports_people_and_off_catalog_terms(site):
    cfg, store = site
    fits = through(agent_of(cfg, store), "filtering")["fits"]
    assert fits["sunglasses"]["verdict"] == "fit" and fits["sunglasses"]["fit"] >= 0.9
    assert fits["rain jacket"]["verdict"] == "fit"
    assert fits["earthquake los angeles"]["verdict"] == "news"
    assert fits["cleveland cavaliers"]["verdict"] == "sports"
    assert fits["donald trump"]["verdict"] in ("person", "politics")
    assert fits["kitchen sink"]["verdict"] == "off_catalog"
    assert fits["kitchen sink"]["reason"].startswith("off-catalog: the catalog uses none of its words")
    assert all(f["llm"] == "" for f in fits.values())  # no LLM configured


def test_semantic_filter_rejects_unsafe_terms_and_brands(tmp_path):
    cfg = make_cfg(tmp_path, '[represent]\nbrands = ["rayban"]')
    with Store(cfg.store_path) as store:
        box = make_toolbox(cfg, store)
        unsafe, brand, fine = box.semantic_filter_many(["porn sunglasses", "rayban sunglasses", "black sunglasses"])
        strict = box.semantic_filter("sun hat", threshold=0.99)
        town = box.semantic_filter("Hattem")  # a town: no word of it is the catalog's, whatever "Hat" suggests
    assert unsafe.verdict == "unsafe" and brand.verdict == "brand" and fine.passed
    assert strict.verdict == "off_catalog" and "< trends.threshold 0.99" in strict.reason
    assert town.verdict in ("off_catalog", "place") and not town.passed
    with Store(cfg.store_path) as store:
        half = make_toolbox(cfg, store).semantic_filter("Jack Sunglasses")  # a name half made of catalog words
    assert half.verdict == "off_catalog" and "uses only 1 of its 2 words" in half.reason


def test_expansion_orders_by_priority_and_expands_with_catalog_values(site):
    cfg, store = site
    exp = through(agent_of(cfg, store), "expansion")["expansions"]
    assert set(exp) == {"sunglasses", "sun hat", "rain jacket"}  # the fitting trends with a page to propose
    sun = exp["sunglasses"]
    assert sun["how"] == "templates" and sun["content"]["items"] == 24 and sun["content"]["hub"] == "Sunglasses"
    assert sun["expansions"][0] == "Sunglasses".lower()
    assert {"sunglasses for men", "sunglasses for women"} <= set(sun["expansions"])
    assert any(e.startswith(("black ", "brown ", "blue ")) for e in sun["expansions"])
    assert not any(e.endswith(" sunglasses sunglasses") for e in sun["expansions"])  # it names the items
    assert sun["priority"] >= exp["rain jacket"]["priority"]


def test_expansion_budget_leaves_the_rest_over_budget(tmp_path):
    cfg = make_cfg(tmp_path, "max_proposals = 1")
    with Store(cfg.store_path) as store:
        state = through(agent_of(cfg, store), "validation")
    over = [k for k, e in state["expansions"].items() if e.get("over_budget")]
    assert over == [] and len(state["expansions"]) == 3  # budget 3 x 1 expands all three ...
    decisions = by_term(state["decisions"])
    proposed = [d for d in state["decisions"] if d["decision"] == "propose"]
    assert len(proposed) == 1 and proposed[0]["trend"] == "Sunglasses"  # ... the best one is proposed
    assert "over trends.max_proposals (1)" in decisions["Rain jacket"]["reason"]


def test_validation_keeps_topics_with_enough_content_and_stores_proposals(site):
    cfg, store = site
    state = through(agent_of(cfg, store), "validation")
    d = by_term(state["decisions"])
    assert d["Sunglasses"]["decision"] == "propose"
    assert d["Sunglasses"]["topics"][:3] == ["sunglasses", "sunglasses for men", "sunglasses for women"]
    assert len(d["Sunglasses"]["topics"]) == cfg.trends.max_expansions
    assert d["Rain jacket"]["topics"] == ["rain jacket"]  # 3 rain jackets for men: fewer than collect.min_items
    assert d["Puffer jacket"]["decision"] == "reject" and "proposed from 2019-10-16" in d["Puffer jacket"]["reason"]
    assert d["Earthquake Los Angeles"]["decision"] == "reject" and d["Earthquake Los Angeles"]["reason"].startswith("news")
    assert d["Donald Trump"]["decision"] == "reject" and "too late" in d["Donald Trump"]["reason"]
    pending = store.trends.proposals(["pending"])
    assert {p.trend for p in pending} == {"Sunglasses", "Sun hat", "Rain jacket"}
    assert {p.id for p in pending} == set(state["proposals"])
    hubs = {t.text: t.hub for p in pending for t in p.topics}
    assert hubs["sunglasses for men"] == "Sunglasses" and hubs["sun hat"] == "Caps"
    assert [x.decision for x in store.trends.decisions("trends-test")] == [x["decision"] for x in state["decisions"]]


def test_validation_reports_too_little_content(tmp_path):
    cfg = make_cfg(tmp_path, "[collect]\nmin_items = 30")
    with Store(cfg.store_path) as store:
        d = by_term(through(agent_of(cfg, store), "validation")["decisions"])
    assert d["Sunglasses"]["decision"] == "reject"
    assert d["Sunglasses"]["reason"].startswith("too little content: 24 item(s)")
    assert "collect.min_items = 30" in d["Sunglasses"]["reason"]


# -- approval: an interrupt resumed from another process --------------------------------------------------------

def test_approval_waits_and_is_resumed_by_a_later_process(tmp_path):
    cfg = make_cfg(tmp_path)
    with Store(cfg.store_path) as store:
        run = run_agent(cfg, store, toolbox=make_toolbox(cfg, store), stager=Stager())
        assert {p.trend for p in run.pending} == {"Sunglasses", "Sun hat", "Rain jacket"}
        assert all(p.interrupt_id for p in run.pending)
        assert store.trends.threads() == [run.thread_id]
        assert store.trends.runs()[0][4] == "waiting"
        ids = {p.trend: p.id for p in run.pending}
    with Store(cfg.store_path) as store:  # the review app, later: a fresh store, a fresh graph
        p = decide(cfg, store, ids["Sunglasses"], "approved", by="Rita")
        assert p.status == "approved" and p.decided_by == "Rita"
        agent = TrendAgent(cfg, store)
        assert set(agent.waiting(run.thread_id)) == {ids["Sun hat"], ids["Rain jacket"]}
        assert [e[1] for e in store.trends.exemplars()] == ["Sunglasses"]
        assert trend_topics(store)[0].text == "sunglasses"
        decide(cfg, store, ids["Sun hat"], "rejected", by="Rita", note="not now")
        with pytest.raises(Exception, match="already rejected"):
            decide(cfg, store, ids["Sun hat"], "approved", by="Rita")
    with Store(cfg.store_path) as store:
        decide(cfg, store, ids["Rain jacket"], "approved", by="Sam")
        assert store.trends.threads() == []  # every proposal decided: the thread finished and was deleted
        assert store.trends.runs()[0][4] == "done"
        assert {p.trend: p.status for p in store.trends.proposals()} == {
            "Sunglasses": "approved", "Sun hat": "rejected", "Rain jacket": "approved"}
        assert {t.text for t in trend_topics(store)} >= {"sunglasses", "sunglasses for men", "rain jacket"}


# -- end to end, and the memory across runs --------------------------------------------------------------------

def test_end_to_end_without_llm_then_refresh_expire_and_outcomes(tmp_path):
    cfg = make_cfg(tmp_path)
    with Store(cfg.store_path) as store:
        first = run_agent(cfg, store, toolbox=make_toolbox(cfg, store), stager=Stager())
        d = by_term(first.decisions)
        assert [x.decision for x in first.decisions].count("propose") == 3
        assert {t for t, x in d.items() if x.decision == "reject"} == {
            "Earthquake Los Angeles", "Puffer jacket", "Cleveland Cavaliers", "Donald Trump", "Kitchen sink"}
        ids = {p.trend: p.id for p in first.pending}
        decide(cfg, store, ids["Sunglasses"], "approved", by="Rita")
        decide(cfg, store, ids["Sun hat"], "rejected", by="Rita")

        # a later run: sunglasses peak (the site has its pages), the sun hat stays rejected, rain jackets decline
        stages = {**Stager().stages,
                  "sunglasses": TrendStage("peaking", "at its summer peak"),
                  "rain jacket": TrendStage("declining", "past its peak", peak="2019-05-20")}
        rewards = RewardTable(queries={"sunglasses": Reward("sunglasses", 0.2, 100, 20)}, average=0.1)
        second = run_agent(cfg, store, toolbox=make_toolbox(cfg, store), stager=Stager(stages), rewards=rewards)
        d = by_term(second.decisions)
        assert d["Sunglasses"].decision == "refresh" and "sunglasses for men" in d["Sunglasses"].topics
        assert d["Sun hat"].decision == "reject" and d["Sun hat"].reason.startswith("rejected in review")
        assert d["Rain jacket"].decision == "expire" and d["Rain jacket"].topics == ("rain jacket",)
        assert second.pending == []
        assert expired_topics(store) == ["rain jacket"]
        assert store.trends.threads() == []  # the first run's thread: its last approval was expired and resumed
        props = {p.trend: p for p in store.trends.proposals()}
        assert props["Rain jacket"].status == "expired" and props["Rain jacket"].decided_by == "agent"
        assert props["Sunglasses"].refreshed_at
        outcomes = store.trends.outcomes()
        assert dict((t, r) for t, _p, r, _a in outcomes["sunglasses"])["sunglasses"] == 0.2
        assert dict((t, r) for t, _p, r, _a in outcomes["sunglasses"])["sunglasses for men"] == 0.1  # the average


def test_a_pending_proposal_is_not_proposed_twice_and_vectors_are_cached_in_the_store(site):
    cfg, store = site
    first = run_agent(cfg, store, toolbox=make_toolbox(cfg, store, store_cache=True), stager=Stager())
    box = make_toolbox(cfg, store, store_cache=True)
    second = run_agent(cfg, store, toolbox=box, stager=Stager())
    assert box.embedder.stats["embedded"] == 0 and box.embedder.stats["cached"] > 100  # nothing embedded twice
    d = by_term(second.decisions)
    assert d["Sunglasses"].decision == "propose" and "awaiting approval since" in d["Sunglasses"].reason
    assert second.pending == [] and len(store.trends.proposals(["pending"])) == len(first.pending) == 3


def test_auto_approve_publishes_without_waiting(tmp_path):
    cfg = make_cfg(tmp_path, "auto_approve = true")
    with Store(cfg.store_path) as store:
        run = run_agent(cfg, store, toolbox=make_toolbox(cfg, store), stager=Stager())
        assert run.pending == [] and store.trends.threads() == []
        approved = store.trends.proposals(["approved"])
        assert {p.trend for p in approved} == {"Sunglasses", "Sun hat", "Rain jacket"}
        assert {p.decided_by for p in approved} == {"auto"}
        topics = trend_topics(store, cfg)
        assert topics[0].source == "trend" and len({t.text for t in topics}) == len(topics)


def test_a_failed_run_leaves_no_thread_and_settle_cleans_up(site):
    cfg, store = site

    def broken(group, today):
        raise RuntimeError("the stager broke")

    with pytest.raises(RuntimeError):
        run_agent(cfg, store, toolbox=make_toolbox(cfg, store), stager=broken)
    assert store.trends.threads() == [] and store.trends.runs()[0][4] == "failed"
    assert settle(cfg, store) == 0


def test_the_trends_topic_source_turns_demanded_topics_into_topics(site):
    from sitegen.aggregate.topics import TopicRequest
    from sitegen.core import registry

    from .trendtools import fashion_items

    cfg, store = site
    items = fashion_items()
    demand = Demand(topics=(DemandTopic("sunglasses for men", "trend", 0.9, "Sunglasses"),
                            DemandTopic("rain jacket", "trend", 0.5, "Raincoats"),
                            DemandTopic("black shoes", "console", 40.0)))
    request = TopicRequest(items, [], lambda i: i.category, frozenset(i.category for i in items), cfg, demand)
    topics = registry.get("topic_source", "trends")(request)
    assert registry.get("topic_source", "trends") is trend_topic_source
    assert [(t.text, t.hub, t.weight) for t in topics] == [("sunglasses for men", "Sunglasses", 0.9),
                                                           ("rain jacket", "Caps", 0.5)]  # unknown hub: the largest
    assert trend_topic_source(dataclasses.replace(request, demand=Demand())) == []


def test_the_tools_work_as_langgraph_tools(site):
    from sitegen.demand.trends.tools import langgraph_tools

    cfg, store = site
    tools = {t.name: t for t in langgraph_tools(make_toolbox(cfg, store))}
    assert set(tools) == {"fetch_trends", "semantic_filter", "content_lookup", "expand_query"}
    assert len(tools["fetch_trends"].invoke({"region": "", "timespan": ""})) == len(TRENDS)
    assert tools["semantic_filter"].invoke({"trend": "earthquake los angeles"})["verdict"] == "news"
    got = tools["content_lookup"].invoke({"query": "sunglasses for women"})
    assert got["items"] == 12 and got["enough"] and got["needed"] == 6
    assert "sunglasses for women" in tools["expand_query"].invoke({"trend": "sunglasses"})
    assert tools["expand_query"].invoke({"trend": "sun hat", "taxonomy": {"audiences": ["kids"]}}) == [
        "sun hat", "sun hat for kids"]
