"""evalq.py: ROUGE-1 F1, per-category best-match scoring, the table, generation for held-out records."""

from __future__ import annotations

import json

import pytest

from sitegen.core.models import Query
from sitegen.engines.vlm import VlmBackend, VlmRequest, VlmResult
from sitegen.learn.evalq import (
    PAPER_ROUGE1,
    evaluate_queries,
    format_table,
    generate_for_records,
    references_from_records,
    rouge1_f1,
)
from sitegen.represent.prompt import chat_messages, format_target


@pytest.mark.parametrize("pred,ref,value", [
    ("red apple", "red apple", 1.0), ("Red Apple!", "red apple", 1.0), ("red apple", "green pear", 0.0),
    ("red apple pie", "red apple", 0.8), ("apple", "red apple", 2 / 3), ("", "red", 0.0), ("a a b", "a b b", 2 / 3),
])
def test_vlm_rouge1_f1(pred, ref, value):
    assert rouge1_f1(pred, ref) == pytest.approx(value)


def test_vlm_evaluate_queries_best_match_same_category():
    generated = {
        "a": [Query("a", "red apple", "description", "vlm"), Query("a", "glossy red look", "style", "vlm"),
              Query("a", "teacher gift", "use_case", "vlm"), Query("a", "apple", "description", "vlm")],
        "b": [("blue vase", "description")],
        "extra": [("x", "style")],
    }
    references = {
        "a": [("red apple", "description"), ("glossy look", "style"), ("gift ideas for teachers", "use_case"),
              ("red apple", "style")],
        "b": [("blue ceramic vase", "description"), ("vase decor ideas", "use_case")],
        "c": [("nothing generated", "description")],
    }
    rep = evaluate_queries(generated, references)
    # description: a 1.0 (exact), b rouge("blue vase","blue ceramic vase") = 0.8, c 0.0
    assert rep.per_category["description"] == pytest.approx((1.0 + 0.8 + 0.0) / 3)
    # style: "glossy look" vs "glossy red look" = 0.8; "red apple" (style ref) vs style gens only = 0.4
    assert rep.per_category["style"] == pytest.approx((0.8 + 0.4) / 2)
    # use_case: "gift ideas for teachers" vs "teacher gift" = 1 overlap -> P .5 R .25 -> 1/3; b has none -> 0
    assert rep.per_category["use_case"] == pytest.approx((1 / 3 + 0.0) / 2)
    assert rep.references == {"description": 3, "style": 2, "use_case": 2}
    assert rep.overall == pytest.approx(sum(rep.per_category.values()) / 3)
    assert rep.overall_micro == pytest.approx((1.0 + 0.8 + 0.0 + 0.8 + 0.4 + 1 / 3 + 0.0) / 7)
    assert rep.missing == ["c"] and rep.images == 3
    assert rep.generated_count == 6 and rep.generated_mix["description"] == pytest.approx(3 / 6)
    a = next(s for s in rep.side_by_side if s["key"] == "a")
    assert a["references"][1] == {"reference": "glossy look", "category": "style", "best_match": "glossy red look",
                                  "rouge1_f1": 0.8}
    data = rep.to_dict()
    json.dumps(data)
    assert data["paper"] == PAPER_ROUGE1
    table = format_table(rep)
    for word in ("description", "style", "use_case", "overall", "0.63", "0.46"):
        assert word in table


def test_vlm_evaluate_empty():
    rep = evaluate_queries({}, {})
    assert rep.overall == 0.0 and rep.images == 0
    assert "overall" in format_table(rep)


class EchoBackend(VlmBackend):
    model_id = "echo"

    def __init__(self):
        self.requests: list[VlmRequest] = []

    def generate_detailed(self, requests):
        self.requests += requests
        return [VlmResult(format_target([("red apple", "description")])) if r.key != "bad" else VlmResult("", "boom")
                for r in requests]


def test_vlm_generate_for_records_uses_record_prompts():
    recs = [{"image": "/a.png", "item_id": "a", "messages": chat_messages("prompt A", system="sys A",
                                                                         answer=format_target([("red apple", "style")]))},
            {"image": "/b.png", "item_id": "bad", "messages": chat_messages("prompt B", answer="[]")}]
    backend = EchoBackend()
    gen = generate_for_records(recs, backend)
    assert gen == {"a": [("red apple", "description")], "bad": []}
    assert backend.requests[0].prompt == "prompt A" and backend.requests[0].system == "sys A"
    refs = references_from_records(recs)
    assert refs == {"a": [("red apple", "style")], "bad": []}


def test_vlm_load_query_file_shapes_and_store(tmp_path):
    from sitegen.store.db import Store
    from sitegen.learn.evalq import generated_from_store, load_query_file, write_report

    path = tmp_path / "q.jsonl"
    lines = [
        {"image": "/a.png", "item_id": "a", "messages": chat_messages("p", answer=format_target([("red apple", "style")]))},
        {"item_id": "b", "queries": [{"query": "blue vase", "category": "description"}, {"text": "vase ideas",
                                                                                        "category": "use_case"}]},
        {"item_id": "c", "text": "green pear", "category": "description"},
        {"item_id": "c", "text": "pear decor", "category": "use_case"},
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    got = load_query_file(path)
    assert got == {"a": [("red apple", "style")], "b": [("blue vase", "description"), ("vase ideas", "use_case")],
                   "c": [("green pear", "description"), ("pear decor", "use_case")]}
    store = Store(tmp_path / "s.duckdb")
    try:
        from sitegen.core.models import Query

        store.geo.replace_collections([], [Query("a", "red apple", "style", "vlm", 1.0, "en"),
                                           Query("z", "other", "style", "vlm", 1.0, "en")])
        assert generated_from_store(store, ["a"]) == {"a": [("red apple", "style")]}
    finally:
        store.close()
    rep = evaluate_queries(got, got)
    assert rep.overall == 1.0
    write_report(rep, tmp_path / "r" / "report.json")
    assert json.loads((tmp_path / "r" / "report.json").read_text())["overall"] == 1.0
