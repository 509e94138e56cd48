"""The trend agent with an LLM: end to end against a local OpenAI-compatible server on 127.0.0.1
(tests/vlm_server.py, answering as a plausible LLM would), its answers cached in the store, unclear and failed
answers falling back to the deterministic policy; and a tiny random transformers model, whose answers are never
clear, giving exactly the deterministic decisions."""

from __future__ import annotations

import json
import re

import pytest

from sitegen.demand.trends import llm as trend_llm
from sitegen.demand.trends.agent import decide, run_agent
from sitegen.demand.trends.llm import TrendLlm
from sitegen.store.db import Store

from sitegen.core.models import Trend, TrendStage

from .trendtools import STAGES, TRENDS, Stager, make_cfg, make_toolbox
from .vlm_server import VlmTestServer, user_text


def answer(body: dict) -> str:
    """What the test's LLM answers: a focus for the plan, a verdict per trend (one unclear on purpose), and
    expansions (one unclear on purpose; "leather ..." has no item in the catalog)."""
    system = body["messages"][0]["content"]
    text = user_text(body)
    term = re.findall(r"^Trend: (.*)$", text, re.M)[-1].lower() if "Trend: " in text else ""
    if system == trend_llm.SYSTEM_PLAN:
        return json.dumps({"focus": ["summer holidays", "rainy days"]})
    if system == trend_llm.SYSTEM_JUDGE:
        if "earthquake" in term:
            return json.dumps({"fit": False, "domain": "news", "reason": "a news event"})
        if "cavaliers" in term:
            return '```json\n{"fit": false, "domain": "sports", "reason": "a basketball team"}\n```'
        if "kitchen" in term:
            return json.dumps({"fit": False, "domain": "other", "reason": "the catalog sells no kitchens"})
        if "rain jacket" in term:
            return "Probably, yes."  # unclear: the deterministic verdict stands
        return json.dumps({"fit": True, "domain": "catalog", "reason": "the catalog sells it"})
    if system == trend_llm.SYSTEM_EXPAND:
        if term == "sun hat":
            return "sun hats for the beach"  # unclear: the templates are used
        return json.dumps([f"{term} for women", f"black {term}", f"leather {term}"])
    return "?"


def llm_site(tmp_path, url: str, extra: str = ""):
    return make_cfg(tmp_path, f'llm_backend = "openai"\nllm_model = "trend-test"\nllm_base_url = "{url}"\n{extra}'
                              "\n[vlm]\nretries = 0\ntimeout = 20")


def test_end_to_end_with_an_openai_compatible_server(tmp_path):
    with VlmTestServer(answer, timeout=300) as server:
        cfg = llm_site(tmp_path, server.url)
        with Store(cfg.store_path) as store:
            box = make_toolbox(cfg, store, llm=TrendLlm(cfg, store))
            run = run_agent(cfg, store, toolbox=box, stager=Stager())
            d = {x.trend: x for x in run.decisions}
            assert run.stats["focus"] == ["summer holidays", "rainy days"] and run.stats["focus_by"] == "llm"
            assert d["Earthquake Los Angeles"].decision == "reject"
            assert d["Earthquake Los Angeles"].reason.startswith("news (LLM): a news event")
            assert d["Cleveland Cavaliers"].reason.startswith("sports (LLM): a basketball team")
            assert d["Kitchen sink"].reason.startswith("off-catalog (LLM): the catalog sells no kitchens")
            # the LLM's expansions, validated: no sunglasses of the catalog are leather
            assert d["Sunglasses"].decision == "propose"
            assert d["Sunglasses"].topics == ("sunglasses", "sunglasses for women", "black sunglasses")
            assert d["Sun hat"].topics == ("sun hat",)  # its answer was unclear: the templates
            assert d["Rain jacket"].decision == "propose"  # unclear verdict: the embedding's fit decided
            stats = box.llm.stats
            asked = len(server.requests)
            assert stats["asked"] == asked and stats["failed"] == 0 and stats["unclear"] == 2
            systems = [r["messages"][0]["content"] for r in server.requests]
            assert systems.count(trend_llm.SYSTEM_PLAN) == 1
            assert systems.count(trend_llm.SYSTEM_JUDGE) == 6  # the candidates with a page to propose
            assert systems.count(trend_llm.SYSTEM_EXPAND) == 3
            expand = [user_text(r) for r in server.requests if r["messages"][0]["content"] == trend_llm.SYSTEM_EXPAND]
            assert all("Trend: sunglasses\nQueries: [" in p for p in expand)  # the packaged few-shot example
            assert any("- audiences: men, women" in p for p in expand)
            assert all(r["model"] == "trend-test" for r in server.requests)

            # approve one: the memory's exemplar becomes the few-shot example; a rerun asks nothing twice
            decide(cfg, store, {p.trend: p for p in run.pending}["Sunglasses"].id, "approved", by="Rita")
            later = [*TRENDS, Trend("Swimsuit", "related.csv", "related", rank=1, rising=True)]
            box2 = make_toolbox(cfg, store, later, llm=TrendLlm(cfg, store))
            again = run_agent(cfg, store, toolbox=box2, stager=Stager({**STAGES, "swimsuit": TrendStage("emerging")}))
            d = {x.trend: x for x in again.decisions}
            assert d["Sunglasses"].decision == "refresh" and d["Sun hat"].decision == "propose"
            assert "awaiting approval" in d["Sun hat"].reason and d["Swimsuit"].decision == "propose"
            new = [r for r in server.requests[asked:]]
            kinds = [r["messages"][0]["content"] for r in new]
            # asked again: the plan (the calendar now expects the summer peaks) and the new trend only
            assert kinds == [trend_llm.SYSTEM_PLAN, trend_llm.SYSTEM_JUDGE, trend_llm.SYSTEM_EXPAND]
            assert "Sunglasses: 2019-07-15" in user_text(new[0]) and "Trend: Swimsuit" in user_text(new[1])
            assert 'Trend: Sunglasses\nQueries: ["sunglasses", "sunglasses for women", "black sunglasses"]' in \
                user_text(new[2])
            assert box2.llm.stats["asked"] == 3 and box2.llm.stats["cached"] == 5


def test_failed_llm_requests_fall_back_and_are_asked_again(tmp_path):
    with VlmTestServer(answer, fail_first=[500] * 3, timeout=300) as server:
        cfg = llm_site(tmp_path, server.url)
        with Store(cfg.store_path) as store:
            box = make_toolbox(cfg, store, llm=TrendLlm(cfg, store))
            run = run_agent(cfg, store, toolbox=box, stager=Stager())
            stats = box.llm.stats
            assert stats["failed"] == 3 and stats["asked"] == len(server.requests) == 10
            assert run.stats["focus_by"].startswith("categories")  # the plan's request failed
            systems = {"plan": trend_llm.SYSTEM_PLAN, "filter": trend_llm.SYSTEM_JUDGE, "expand": trend_llm.SYSTEM_EXPAND}
            keys = [box.llm._key(systems[kind], prompt) for kind, prompt, _a in box.llm.raw]
            assert len(store.cache.get(trend_llm.CACHE_NAMESPACE, keys)) == 10 - 3  # failures are not cached
            assert {x.trend: x.decision for x in run.decisions}["Earthquake Los Angeles"] == "reject"
            again = TrendLlm(cfg, store)
            run_agent(cfg, store, toolbox=make_toolbox(cfg, store, llm=again), stager=Stager())
            assert again.stats["asked"] >= 3  # the failed ones are asked again


# -- a tiny random transformers model ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from sitegen.engines.tiny import make_tiny_qwen2_lm

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield make_tiny_qwen2_lm(tmp_path_factory.mktemp("trend-lm") / "lm", seed=0)
    torch.set_num_threads(before)


def test_a_random_model_is_never_followed(tmp_path, tiny_lm):
    plain = make_cfg(tmp_path / "plain")
    with Store(plain.store_path) as store:
        want = [(d.trend, d.decision, d.topics) for d in
                run_agent(plain, store, toolbox=make_toolbox(plain, store), stager=Stager()).decisions]
    cfg = make_cfg(tmp_path / "llm", f'llm_backend = "transformers"\nllm_model = "{tiny_lm}"\nllm_max_new_tokens = 8'
                                     '\n[vlm]\ndevice = "cpu"\nbatch_size = 4')
    with Store(cfg.store_path) as store:
        model = TrendLlm(cfg, store)
        assert model.model_id.startswith("transformers:")
        box = make_toolbox(cfg, store, llm=model)
        run = run_agent(cfg, store, toolbox=box, stager=Stager())
        assert model.stats["asked"] > 0 and model.stats["unclear"] == model.stats["asked"]
        assert run.stats["focus_by"] == "categories (the LLM's answer was unclear)"
        assert [(d.trend, d.decision, d.topics) for d in run.decisions] == want
