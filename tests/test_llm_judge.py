"""The ``llm`` judge: answer parsing, the prompt, its settings, a local OpenAI-compatible server on 127.0.0.1
(tests/vlm_server.py, grading by word overlap) and tiny random models through the transformers backend."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from PIL import Image

from sitegen.core.config import load_config
from sitegen.core.errors import ConfigError, ModelError
from sitegen.core.models import Item
from sitegen.core.text import item_text
from sitegen.learn.relevance.guideline import guideline_text
from sitegen.learn.relevance.judge import Pair, make_judge
from sitegen.learn.relevance.llm import CACHE_NAMESPACE, LlmJudge, build_prompt, parse_grade, system_prompt
from sitegen.store.db import Store

_spec = importlib.util.spec_from_file_location("vlm_server", Path(__file__).with_name("vlm_server.py"))
vlm_server = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vlm_server)
VlmTestServer = vlm_server.VlmTestServer

THINGS = [("Red apple", "Fruit", (200, 30, 30)), ("Green pear", "Fruit", (30, 200, 30)),
          ("Blue ceramic vase", "Home", (30, 30, 200)), ("Black cat drawing", "Animals", (10, 10, 10)),
          ("Golden retriever puppy", "Animals", (200, 160, 40))]
TOPICS = [("red apple", "description"), ("blue vase for the kitchen", "use_case"), ("cat", "")]


@pytest.fixture
def items(tmp_path) -> list[Item]:
    out = []
    for n, (title, category, colour) in enumerate(THINGS):
        path = tmp_path / f"img{n}.png"
        Image.new("RGB", (64 + 8 * n, 48), colour).save(path)
        out.append(Item(id=f"i{n}", title=title, image=str(path), image_sha=f"sha{n}", width=64 + 8 * n, height=48,
                        category=category, keywords=(title.split()[-1].lower(),)))
    return out


@pytest.fixture
def pairs(items) -> list[Pair]:
    return [Pair(topic, item, category) for topic, category in TOPICS for item in items]


def site(tmp_path: Path, toml: str, **overrides):
    (tmp_path / "site.toml").write_text(toml, encoding="utf-8")
    return load_config(tmp_path / "site.toml", overrides)


def openai_site(tmp_path: Path, url: str, extra: str = "", relevance: str = ""):
    return site(tmp_path, f"""
[vlm]
backend = "openai"
model = "test-vlm"
base_url = "{url}"
min_pixels = 3136
max_pixels = 12544
concurrency = 1
retries = 2
{extra}
[relevance]
teacher = "llm"
{relevance}
""")


def fast(judge: LlmJudge) -> LlmJudge:
    judge.backend.backoff = 0.01  # the retry pause of the openai engine, seconds
    return judge


# -- parsing --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("answer, grade", [
    ("4", 4), (" 3.\n", 3), ('{"grade": 4}', 4), ('```json\n{"grade": 2, "reason": "a shoe"}\n```', 2),
    ("Grade: 4 \u2014 the shade is slightly off", 4), ("**Grade:** 5", 5), ("Score: 4/5", 4), ("4 out of 5", 4),
    ('{"grade": "3"}', 3), ('{"score": 5.0}', 5), ("The grade is 2 because it is a shoe.", 2), ("[1]", 1),
    ("Highly relevant", 5), ("<think>maybe 2, maybe 3</think>\n{\"grade\": 3}", 3), ("Grade: 4, final grade: 4", 4),
    ("I cannot tell from this.", None), ("", None), ("0", None), ("6", None), ('{"grade": 9}', None),
    ("4.5", None), ("45", None), ("8/10", None), ("Grade: 4/10", None), ('{"grade": "high"}', None),
    ('{"grade": true}', None), ("Grade: 4. Grade: 2.", None), ("<think>it is a 4 I think", None),
    ("fresh fruit photography", None), ("red apple 2 kids", None),
])
def test_llm_judge_parses_grades_and_never_guesses(answer, grade):
    assert parse_grade(answer) == grade


def test_llm_judge_prompt_holds_guideline_topic_and_item(items):
    pair = Pair("blue vase for the kitchen", items[2], "use_case")
    prompt = build_prompt(pair, image=True)
    assert "Search: blue vase for the kitchen" in prompt and "Kind of search: a use or occasion" in prompt
    assert f"Item: {item_text(items[2])}" in prompt and "image is attached" in prompt
    assert "image" not in build_prompt(pair, image=False)
    assert guideline_text() in system_prompt() and '{"grade": N}' in system_prompt()


# -- settings -------------------------------------------------------------------------------------------
def test_llm_judge_settings_are_validated_by_key(tmp_path):
    def errors(toml: str) -> str:
        with pytest.raises(ConfigError) as err:
            site(tmp_path, toml)
        return str(err.value)

    assert "relevance.llm_model: the llm judge needs a model" in errors('[relevance]\nteacher = "llm"\n')
    assert "relevance.llm_model: required when relevance.llm_backend ('openai') is not vlm.backend" in errors(
        '[vlm]\nmodel = "models/vlm"\n[relevance]\nteacher = "llm"\nllm_backend = "openai"\n')
    assert "relevance.llm_base_url: required when the llm judge's backend is 'openai'" in errors(
        '[vlm]\nbackend = "openai"\nmodel = "m"\n[relevance]\nteacher = "llm"\n')
    text = errors('[relevance]\nllm_base_url = "ftp://x"\nllm_image = "maybe"\nllm_max_new_tokens = 0\n'
                  'llm_backend = "ollama"\n')
    for key in ("llm_base_url: must be an absolute http(s) URL", "llm_image: must be one of",
                "llm_max_new_tokens: must be > 0", "llm_backend: must be one of"):
        assert f"relevance.{key}" in text
    # another teacher: the judge's keys need not be complete, but building the judge says what is missing
    cfg = site(tmp_path, '[relevance]\nteacher = "catalog"\nllm_backend = "openai"\nllm_model = "m"\n')
    with pytest.raises(ConfigError, match="relevance.llm_base_url: required"):
        make_judge("llm", cfg)
    cfg = site(tmp_path, '[relevance]\nteacher = "llm"\nllm_model = "models/none"\n')
    with pytest.raises(ModelError, match="relevance.llm_model: model folder not found"):
        make_judge("llm", cfg)
    cfg = site(tmp_path, '[vlm]\nmodel = "models/vlm"\n[relevance]\nteacher = "llm"\n')
    with pytest.raises(ModelError, match="vlm.model: model folder not found"):
        make_judge("llm", cfg)


# -- a local OpenAI-compatible server ------------------------------------------------------------------
def test_llm_judge_openai_grades_land_in_store_and_cache(tmp_path, items, pairs):
    with VlmTestServer(vlm_server.grade_by_overlap, fail_first=[500, 503]) as server:
        cfg = openai_site(tmp_path, server.url)
        store = Store(cfg.store_path)
        try:
            judge = fast(make_judge("llm", cfg))
            assert isinstance(judge, LlmJudge) and judge.image  # the [vlm] model: a VLM, shown the image
            judge.store = store
            seen = []
            store.judgments.add(judge.grade(pairs, lambda done, total: seen.append((done, total))))
            assert seen[-1] == (len(pairs), len(pairs))
            assert judge.stats == {"asked": 15, "cached": 0, "graded": 15, "unparseable": 0, "failed": 0}
            assert len(server.requests) == len(pairs) + 2  # two 5xx answers, retried

            rows = store.judgments.all(["llm"])
            assert len(rows) == len(pairs)
            expected = {(p.topic, p.item.id): vlm_server.overlap_grade(p.topic, item_text(p.item)) for p in pairs}
            assert {(j.topic, j.item_id): j.grade for j in rows} == expected
            assert len(set(expected.values())) >= 3  # the grades follow the request, not a constant
            assert {j.source for j in rows} == {"llm"}
            assert {j.rater for j in rows} == {f"openai:test-vlm@{server.url}"} == {judge.rater}

            body = server.requests[-1]
            system, user = body["messages"]
            assert guideline_text() in system["content"] and body["model"] == "test-vlm"
            assert body["max_tokens"] == 32
            assert user["content"][0]["image_url"]["url"].startswith("data:image/jpeg;base64,")
            assert user["content"][1]["text"].startswith("Search: cat\nItem: Golden retriever puppy")

            n = len(server.requests)
            again = fast(LlmJudge(cfg, store=store))
            second = again.grade(pairs)
            assert len(server.requests) == n  # every answer came from the cache
            assert again.stats["cached"] == len(pairs) and again.stats["asked"] == 0
            assert {(j.topic, j.item_id): j.grade for j in second} == expected
            assert len(store.cache.get(CACHE_NAMESPACE, [again.cache_key(p, build_prompt(p, image=True))
                                                         for p in pairs])) == len(pairs)
        finally:
            store.close()


def test_llm_judge_text_model_on_its_own_server(tmp_path, pairs):
    """A text LLM judges while [vlm] keeps another model: no image, its own model and URL; the judge opens the
    site's store itself when given none."""
    with VlmTestServer(vlm_server.grade_by_overlap) as server:
        cfg = site(tmp_path, f"""
[vlm]
model = "models/qwen2-vl"
[relevance]
teacher = "llm"
llm_backend = "openai"
llm_model = "text-llm"
llm_base_url = "{server.url}"
llm_max_new_tokens = 8
""")
        judge = LlmJudge(cfg)
        assert not judge.image and judge.rater == f"openai:text-llm@{server.url}"
        grades = judge.grade(pairs[:5])
        assert len(grades) == 5 and all(1 <= j.grade <= 5 for j in grades)
        body = server.requests[0]
        assert body["model"] == "text-llm" and body["max_tokens"] == 8
        assert isinstance(body["messages"][1]["content"], str) and "image_url" not in json.dumps(body)
        with Store(cfg.store_path) as store:  # the judge closed the store after grading
            assert len(store.cache.get(CACHE_NAMESPACE, [judge.cache_key(p, build_prompt(p, image=False))
                                                         for p in pairs[:5]])) == 5

        cfg_image = site(tmp_path, f"""
[relevance]
teacher = "llm"
llm_backend = "openai"
llm_model = "some-vlm"
llm_base_url = "{server.url}"
llm_image = "yes"
""")
        shown = LlmJudge(cfg_image)
        assert shown.image
        shown.grade(pairs[:1])
        assert server.requests[-1]["messages"][1]["content"][0]["type"] == "image_url"
        # the image is part of the input: the same model and prompt with and without it are two cache entries
        hidden = LlmJudge(site(tmp_path, (tmp_path / "site.toml").read_text().replace('"yes"', '"no"')))
        assert not hidden.image and hidden.rater == shown.rater
        assert hidden.cache_key(pairs[0], "p") != shown.cache_key(pairs[0], "p")


def test_llm_judge_leaves_out_unparseable_and_failed_answers(tmp_path, items, pairs):
    def reply(body):
        text = vlm_server.user_text(body)
        if "Item: Green pear" in text:
            return "That is hard to say; it depends on what the searcher wants."
        return "Grade: " + json.loads(vlm_server.grade_by_overlap(body))["grade"].__str__() + " \u2014 by overlap"

    twice = pairs + [pairs[0]]  # a pair given twice is asked once
    with VlmTestServer(reply, fail_first=[500, 502, 503]) as server:  # the first request fails all 3 tries
        cfg = openai_site(tmp_path, server.url)
        with Store(cfg.store_path) as store:
            judge = fast(LlmJudge(cfg, store=store))
            out = judge.grade(twice)
            assert judge.stats == {"asked": 16, "cached": 0, "graded": 11, "unparseable": 3, "failed": 2}
            assert len(server.requests) == 3 + 14
            assert {(t, i) for t, i, _ in judge.failures} == {(t, "i1") for t, _ in TOPICS} | {("red apple", "i0")}
            assert any("HTTP 503" in reason for _, _, reason in judge.failures)
            assert all(1 <= j.grade <= 5 and j.source == "llm" for j in out)
            assert "i1" not in {j.item_id for j in out}

            again = fast(LlmJudge(cfg, store=store))
            out2 = again.grade(twice)
            assert len(server.requests) == 3 + 14 + 1  # only the failed request is asked again
            assert again.stats == {"asked": 2, "cached": 14, "graded": 13, "unparseable": 3, "failed": 0}
            assert {(j.topic, j.item_id) for j in out2} == {(j.topic, j.item_id) for j in out} | {("red apple", "i0")}


# -- tiny random models through the transformers backend ------------------------------------------------
@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from sitegen.engines.tiny import make_tiny_qwen2_lm, make_tiny_qwen2vl

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("llm-judge-models")
    yield make_tiny_qwen2vl(root / "vlm", seed=0), make_tiny_qwen2_lm(root / "lm", seed=0)
    torch.set_num_threads(before)


def _tiny_site(tmp_path: Path, model: Path, relevance: str = ""):
    return site(tmp_path, f"""
[vlm]
model = "{model}"
device = "cpu"
batch_size = 4
min_pixels = 3136
max_pixels = 3136
[relevance]
teacher = "llm"
llm_max_new_tokens = 6
{relevance}
""")


def _check_random_model_run(cfg, pairs, *, image: bool):
    with Store(cfg.store_path) as store:
        judge = LlmJudge(cfg, store=store)
        assert judge.image is image and judge.rater.startswith("transformers:")
        out = judge.grade(pairs)
        store.judgments.add(out)
        n = len(pairs)
        assert judge.stats["asked"] == n and judge.stats["failed"] == 0 and len(judge.raw) == n
        # random tokens: whatever parses is a grade, the rest is counted and left out
        unparseable = sum(parse_grade(text) is None for text in judge.raw.values())
        assert judge.stats["unparseable"] == unparseable and judge.stats["graded"] == n - unparseable == len(out)
        assert all(j.grade in (1, 2, 3, 4, 5) and j.source == "llm" and j.rater == judge.rater for j in out)
        assert len(store.judgments.all(["llm"])) == len(out)
        keys = [judge.cache_key(p, build_prompt(p, image=image)) for p in pairs]
        cached = store.cache.get(CACHE_NAMESPACE, keys)
        assert len(cached) == n and all(v["grade"] in (None, 1, 2, 3, 4, 5) for v in cached.values())
        judge.close()

        again = LlmJudge(cfg, store=store)
        assert [(j.topic, j.item_id, j.grade) for j in again.grade(pairs)] == [(j.topic, j.item_id, j.grade)
                                                                             for j in out]
        assert again.stats["asked"] == 0 and again.stats["cached"] == n
        assert again.stats["unparseable"] == unparseable


def test_llm_judge_tiny_vlm_end_to_end(tmp_path, tiny_models, pairs):
    vlm, _ = tiny_models
    _check_random_model_run(_tiny_site(tmp_path, vlm), pairs[:6], image=True)


def test_llm_judge_tiny_text_llm_end_to_end(tmp_path, tiny_models, pairs):
    vlm, lm = tiny_models
    cfg = _tiny_site(tmp_path, vlm, f'llm_model = "{lm}"')
    _check_random_model_run(cfg, pairs[:6], image=False)
    with pytest.raises(ConfigError, match="relevance.llm_image: 'yes', but .* is a text-only model"):
        LlmJudge(_tiny_site(tmp_path, vlm, f'llm_model = "{lm}"\nllm_image = "yes"'))


def test_llm_judge_import_and_openai_judge_are_light(tmp_path):
    import subprocess
    import sys

    (tmp_path / "site.toml").write_text('[relevance]\nteacher = "llm"\nllm_backend = "openai"\nllm_model = "m"\n'
                                        'llm_base_url = "http://127.0.0.1:9/v1"\n', encoding="utf-8")
    code = ("import sys; from sitegen.core.config import load_config; from sitegen.learn.relevance.judge import "
            f"make_judge; make_judge('llm', load_config({str(tmp_path / 'site.toml')!r})); "
            "print([m for m in ('torch', 'transformers', 'peft', 'vllm', 'PIL') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
