"""The trend agent's deterministic policies, its LLM answers' parsing (never guessed), its settings checked at
config load, and its memory in the store (proposals, calendar, exemplars, the LangGraph checkpointer)."""

from __future__ import annotations

import operator
from datetime import date
from typing import Annotated, TypedDict

import pytest

from sitegen.core.errors import ConfigError
from sitegen.core.models import DemandTopic, Item, TrendDecision, TrendProposal, TrendStage
from sitegen.demand.trends import llm, policy
from sitegen.demand.trends.settings import timespan_range
from sitegen.store.db import Store

from .trendtools import make_site

TODAY = date(2019, 6, 1)


# -- lifecycle -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stage, history, action, words", [
    (TrendStage("emerging", "breakout"), policy.History(), "propose", "emerging"),
    (TrendStage("emerging"), policy.History(approved=True), "refresh", "has its pages"),
    (TrendStage("seasonal", next_peak="2019-07-15"), policy.History(), "propose", "in 44 days"),
    (TrendStage("seasonal", next_peak="2019-07-31"), policy.History(), "propose", "in 60 days"),
    (TrendStage("seasonal", next_peak="2019-08-01"), policy.History(), "reject", "proposed from 2019-06-02"),
    (TrendStage("seasonal", next_peak="2019-07-15"), policy.History(approved=True), "refresh", "has its pages"),
    (TrendStage("seasonal", next_peak="2019-05-01"), policy.History(), "reject", "has passed"),
    (TrendStage("seasonal"), policy.History(), "reject", "no next peak"),
    (TrendStage("peaking"), policy.History(), "reject", "too late"),
    (TrendStage("peaking"), policy.History(approved=True), "refresh", "peaking"),
    (TrendStage("declining", peak="2019-04-01"), policy.History(approved=True), "expire", "since its peak 2019-04-01"),
    (TrendStage("declining"), policy.History(pending="2019-05-01"), "expire", "left to expire"),
    (TrendStage("declining"), policy.History(), "reject", "too late"),
    (TrendStage("evergreen"), policy.History(), "reject", "evergreen"),
    (TrendStage("unknown", "two points"), policy.History(), "reject", "no lifecycle stage: two points"),
    (TrendStage("emerging"), policy.History(rejected="2019-05-02T10:00:00Z"), "reject", "rejected in review on 2019-05-02"),
    (TrendStage("seasonal", next_peak="2019-07-15"), policy.History(rejected="2018-06-01", rejected_peak="2018-07-15"),
     "propose", "in 44 days"),  # rejected for last year's peak: proposed again for this one
    (TrendStage("seasonal", next_peak="2019-07-15"), policy.History(rejected="2019-05-01", rejected_peak="2019-07-15"),
     "reject", "for the peak 2019-07-15"),
])
def test_lifecycle_actions(stage, history, action, words):
    got, reason = policy.lifecycle_action(stage, TODAY, 60, history)
    assert got == action and words in reason


def test_a_remembered_peak_is_the_next_one():
    assert policy.next_from_calendar("07-15", TODAY) == date(2019, 7, 15)
    assert policy.next_from_calendar("05-15", TODAY) == date(2020, 5, 15)
    assert policy.next_from_calendar("02-29", TODAY) == date(2020, 2, 29)
    assert policy.next_from_calendar("02-29", date(2020, 3, 1)) == date(2021, 2, 28)
    stage = policy.remembered_stage("10-31", TODAY)
    assert stage.stage == "seasonal" and stage.next_peak == "2019-10-31" and "remembered" in stage.reason


def test_domain_verdict_needs_a_margin_and_a_floor():
    assert policy.domain_verdict(0.30, {"news": 0.60, "sports": 0.2})[0] == "news"
    assert policy.domain_verdict(0.59, {"news": 0.60})[0] == ""  # within the margin: the catalog wins
    assert policy.domain_verdict(0.10, {"news": 0.30})[0] == ""  # below the floor
    assert "closer to sports searches (0.70) than to the catalog (0.40)" in policy.domain_verdict(0.4, {"sports": .7})[1]
    d = policy.domains()
    assert set(d.prototypes) == {"news", "sports", "politics", "person", "place", "event"} and d.exemplars


# -- taxonomy and templates --------------------------------------------------------------------------------------

def item(n, title, category, colour):
    return Item(str(n), title, "/x.jpg", "s", 1, 1, category=category, attributes=(("base_colour", colour),))


def test_taxonomy_and_templates():
    items = [item(1, "Men Black Aviator Sunglasses", "Sunglasses", "Black"),
             item(2, "Women Black Round Sunglasses", "Sunglasses", "Black"),
             item(3, "Women Brown Sunglasses", "Sunglasses", "Brown")]
    tax = policy.taxonomy_of(items, term="sunglasses")
    assert tax.categories == ("Sunglasses",) and tax.colours == ("black", "brown")
    assert tax.audiences == ("women", "men") and tax.named
    assert policy.template_expansions("Sunglasses", tax) == [
        "sunglasses", "sunglasses for women", "sunglasses for men", "black sunglasses for women",
        "black sunglasses", "brown sunglasses", "black sunglasses for men"]
    assert policy.template_expansions("How to wear sunglasses", tax) == ["how to wear sunglasses"]
    unisex = policy.Taxonomy(("Caps",), ("black",), ("unisex", "men"))
    assert policy.template_expansions("cap", unisex)[:2] == ["cap", "cap for men"]
    summer = policy.taxonomy_of(items, term="summer")
    assert not summer.named
    assert "summer sunglasses" in policy.template_expansions("summer", summer)
    assert policy.template_expansions("black sunglasses for women", tax) == ["black sunglasses for women"]
    assert policy.template_expansions("kids sunglasses", tax) == ["kids sunglasses", "black kids sunglasses",
                                                                  "brown kids sunglasses"]


def test_priority_adds_focus_and_earned_reward():
    assert policy.priority(0.5) == 0.5
    assert policy.priority(0.5, focus=1.0) == 0.6
    assert policy.priority(0.5, reward_ratio=2.0) == 0.6 and policy.priority(0.5, reward_ratio=5.0) == 0.6
    assert policy.priority(0.5, reward_ratio=0.5) == 0.45


# -- the LLM's answers: parsed strictly --------------------------------------------------------------------------

@pytest.mark.parametrize("text, want", [
    ('{"fit": true, "domain": "catalog", "reason": "sunglasses are sold"}', ("", True, "sunglasses are sold")),
    ('```json\n{"fit": false, "domain": "news", "reason": "an earthquake"}\n```', ("news", False, "an earthquake")),
    ('<think>hmm {"fit": true}</think>{"fit": "no", "domain": "other"}', ("", False, "")),
    ('{"fit": true, "domain": "sports"}', None),  # fits and is sports: a contradiction
    ('{"fit": false, "domain": "catalog"}', None),
    ('{"fit": "maybe", "domain": "catalog"}', None),
    ('{"fit": true, "domain": "shoes"}', None),
    ("Yes, it fits.", None),
    ("", None),
])
def test_filter_answers_are_never_guessed(text, want):
    assert llm.parse_verdict(text) == want


@pytest.mark.parametrize("text, want", [
    ('["sunglasses for women", "black sunglasses"]', ["sunglasses for women", "black sunglasses"]),
    ('Here: {"queries": ["a b", "c d"]}', ["a b", "c d"]),
    ('["ok", 3]', None),
    ("[]", None),
    ('["' + "x" * 81 + '"]', None),
    ("sunglasses for women, black sunglasses", None),
])
def test_expansion_answers(text, want):
    assert llm.parse_queries(text) == want


def test_plan_answers():
    assert llm.parse_plan('{"focus": ["summer", "beach holidays"]}') == ["summer", "beach holidays"]
    assert llm.parse_plan('{"themes": ["summer"]}') is None and llm.parse_plan("summer") is None


def test_prompts_hold_the_catalog_the_trend_and_the_exemplars():
    p = llm.expand_prompt("sun hat", ["categories: Caps"], [("sunglasses", ["sunglasses for women"])])
    assert p.index('Trend: sunglasses\nQueries: ["sunglasses for women"]') < p.index("Trend: sun hat")
    assert "- categories: Caps" in p and p.endswith("Queries:")
    assert "Trend: earthquake" in llm.judge_prompt("earthquake", ["96 items"])
    assert "Today: 2019-06-01" in llm.plan_prompt("2019-06-01", ["96 items"], ["Swimsuit: 2019-07-01"])


# -- settings --------------------------------------------------------------------------------------------------

def test_timespans():
    assert timespan_range("", TODAY) == (None, None)
    assert timespan_range("2018-06-01  2018-07-31", TODAY) == (date(2018, 6, 1), date(2018, 7, 31))
    assert timespan_range("today 12-m", TODAY) == (date(2018, 6, 1), TODAY)
    assert timespan_range("today 5-y", TODAY)[0] == date(2014, 6, 1)
    assert timespan_range("now 7-d", TODAY) == (date(2019, 5, 25), TODAY)
    for bad in ("last year", "2018-07-31 2018-06-01", "today 0-m"):
        with pytest.raises(ValueError):
            timespan_range(bad, TODAY)


def test_trend_settings_are_checked_at_load_by_key(tmp_path):
    from sitegen.core.config import load_config

    def errors(extra: str, today: str = "2019-06-01") -> list[str]:
        with pytest.raises(ConfigError) as info:
            load_config(make_site(tmp_path, extra, today))
        return info.value.errors

    assert errors('llm_backend = "openai"') == [
        "trends.llm_model: required when trends.llm_backend is set ('openai'): a local model folder for "
        "transformers and vllm, a model name for openai (vlm.model is for vlm.backend 'transformers')",
        "trends.llm_base_url: required when trends.llm_backend is 'openai' (or set vlm.base_url), "
        "e.g. http://127.0.0.1:8001/v1"]
    assert errors('llm_backend = "chatgpt"')[0].startswith("trends.llm_backend: must be one of")
    assert errors('llm_backend = "openai"\nllm_model = "m"\nllm_base_url = "ftp://x"') == [
        "trends.llm_base_url: must be an absolute http(s) URL (got 'ftp://x')"]
    assert errors('timespan = "last week"')[0].startswith("trends.timespan: use 'YYYY-MM-DD YYYY-MM-DD'")
    assert errors("", today="June 1st") == ["trends.today: must be an ISO date (YYYY-MM-DD) or empty (got 'June 1st')"]
    assert errors("lead_days = 0\nmax_expansions = 0\nllm_max_new_tokens = -1") == [
        "trends.lead_days: must be > 0 (got 0)", "trends.max_expansions: must be > 0 (got 0)",
        "trends.llm_max_new_tokens: must be > 0 (got -1)"]
    cfg = load_config(make_site(tmp_path, 'llm_backend = "openai"\nllm_model = "m"\nllm_base_url = "http://127.0.0.1:9/v1"'))
    assert cfg.trends.llm_backend == "openai"
    cfg = load_config(make_site(tmp_path, 'llm_backend = "transformers"\n[vlm]\nmodel = "models/qwen"'))
    from sitegen.demand.trends.settings import llm_settings

    assert llm_settings(cfg).vlm.model == "models/qwen" and llm_settings(cfg).model_key == "vlm.model"


# -- memory ----------------------------------------------------------------------------------------------------

def proposal(pid: str, status: str = "pending", weight: float = 0.5) -> TrendProposal:
    return TrendProposal(pid, f"trend {pid}", f"trend {pid}", "a.csv", "emerging", "rising",
                         (DemandTopic(f"topic {pid}", "trend", weight, "Caps"),), status, "t1", weight=weight,
                         proposed_at="2019-06-01T00:00:00Z")


def test_the_memory_is_durable_and_round_trips(tmp_path):
    path = tmp_path / "s" / "site.duckdb"
    with Store(path) as store:
        m = store.trends
        m.put_proposals([proposal("a"), proposal("b", weight=0.9), proposal("c", "approved")])
        assert [p.id for p in m.proposals(["pending"])] == ["b", "a"]  # heaviest first
        assert m.proposal("c").topics == (DemandTopic("topic c", "trend", 0.5, "Caps"),)
        m.set_status("a", "rejected", at="2019-06-02", by="Rita", note="no")
        assert (m.proposal("a").status, m.proposal("a").decided_by, m.proposal("a").note) == ("rejected", "Rita", "no")
        m.record_decisions("t1", [TrendDecision("x", "a.csv", "emerging", "propose", "rising", ("x", "x for men"))])
        assert m.decisions("t1")[0].topics == ("x", "x for men")
        m.put_calendar([("x", "X", "07-15", "a.csv", "2019-06-01")])
        m.put_exemplar("x", "X", "Caps", ["x", "x for men"], "2019-06-01")
        m.put_outcomes([("x", "x", "/c/x/", 0.25, "2019-06-01")])
        assert m.calendar() == {"x": ("X", "07-15", "a.csv")}
        assert m.exemplars() == [("x", "X", "Caps", ("x", "x for men"))]
        assert m.outcomes() == {"x": [("x", "/c/x/", 0.25, "2019-06-01")]}
        assert {"trend_proposals", "trend_checkpoints", "trend_exemplars"} <= set(m.DURABLE)
        manifest = store.backup()
        assert manifest["tables"]["trend_proposals"] == 3 and manifest["tables"]["trend_calendar"] == 1
        assert store.schema_versions()["trends"] == 1


class Asked(TypedDict, total=False):
    names: list
    answers: Annotated[list, operator.add]


def test_the_checkpointer_keeps_a_waiting_graph_across_processes(tmp_path):
    """A small graph with two parallel interrupts, its checkpoints in the store: one approval answered by a
    second process, the other by a third; the thread's checkpoints can then be deleted."""
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Command, Send, interrupt

    from sitegen.demand.trends.checkpoint import StoreCheckpointer

    def fan(state):
        return [Send("ask", {"name": n}) for n in state["names"]]

    def ask(task):
        return {"answers": [[task["name"], interrupt({"name": task["name"]})]]}

    def graph(store):
        g = StateGraph(Asked)
        g.add_node("start", lambda state: {"names": ["a", "b"]})
        g.add_node("ask", ask)
        g.add_edge(START, "start")
        g.add_conditional_edges("start", fan, ["ask"])
        g.add_edge("ask", END)
        return g.compile(checkpointer=StoreCheckpointer(store))

    conf = {"configurable": {"thread_id": "t"}}
    path = tmp_path / "site.duckdb"
    with Store(path) as store:
        out = graph(store).invoke({}, conf)
        assert sorted(i.value["name"] for i in out["__interrupt__"]) == ["a", "b"]
    with Store(path) as store:
        app = graph(store)
        ids = {i.value["name"]: i.id for i in app.get_state(conf).interrupts}
        app.invoke(Command(resume={ids["b"]: "yes"}), conf)
        assert [i.value["name"] for i in app.get_state(conf).interrupts] == ["a"]
        assert len(list(StoreCheckpointer(store).list(conf))) >= 2
    with Store(path) as store:
        app = graph(store)
        (left,) = app.get_state(conf).interrupts
        out = app.invoke(Command(resume={left.id: "no"}), conf)
        assert sorted(out["answers"]) == [["a", "no"], ["b", "yes"]] and app.get_state(conf).next == ()
        assert store.trends.threads() == ["t"]
        StoreCheckpointer(store).delete_thread("t")
        assert store.trends.threads() == [] and app.get_state(conf).values == {}
