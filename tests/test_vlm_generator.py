"""generator.py with a scripted backend: store cache, fallback, stats, candidates; the backend factory."""

from __future__ import annotations

import pytest
from PIL import Image

from sitegen.core.config import Config
from sitegen.core.errors import ModelError
from sitegen.core.models import Item
from sitegen.represent.base import Candidate, QueryGenerator
from sitegen.store.db import Store
from sitegen.engines.vlm import (
    OpenAIBackend,
    TransformersBackend,
    VllmBackend,
    VlmBackend,
    VlmRequest,
    VlmResult,
    make_backend,
)
from sitegen.represent.vlm import CACHE_NAMESPACE, VlmGenerator, make_vlm_generator

GOOD = ('[{"query": "red apple", "category": "description"}, {"query": "glossy red look", "category": "style"}, '
        '{"query": "fruit still life", "category": "description"}, {"query": "teacher gift ideas", '
        '"category": "use case"}, {"query": "kitchen wall art", "category": "use_case"}]')


class ScriptedBackend(VlmBackend):
    """Answers per item id; counts every request."""

    name = "scripted"

    def __init__(self, answers: dict[str, str | VlmResult], model_id: str = "scripted:v1"):
        self.answers = answers
        self.model_id = model_id
        self.seen: list[str] = []

    def generate_detailed(self, requests: list[VlmRequest]) -> list[VlmResult]:
        out = []
        for r in requests:
            self.seen.append(r.key)
            a = self.answers.get(r.key, GOOD)
            out.append(a if isinstance(a, VlmResult) else VlmResult(a))
        return out


class TitleGenerator(QueryGenerator):
    name = "title"

    def __init__(self):
        self.calls: list[list[str]] = []

    def generate(self, items):
        self.calls.append([i.id for i in items])
        return [[Candidate(i.title.lower(), "description", "title", 1.0)] for i in items]


@pytest.fixture
def vlm_items(tmp_path):
    items = []
    for n, colour in enumerate([(200, 0, 0), (0, 200, 0), (0, 0, 200), (200, 200, 0)]):
        p = tmp_path / f"img{n}.png"
        Image.new("RGB", (64, 48), colour).save(p)
        items.append(Item(id=f"i{n}", title=f"Item {n}", image=str(p), image_sha=f"sha{n}", width=64, height=48))
    return items


def test_vlm_generator_candidates_and_stats(vlm_items):
    backend = ScriptedBackend({})
    fallback = TitleGenerator()
    gen = VlmGenerator(backend, fallback=fallback, store=None, min_queries=5)
    out = gen.generate(vlm_items)
    assert len(out) == 4 and all(len(c) == 5 for c in out)
    first = out[0]
    assert all(c.source == "vlm" for c in first)
    assert [(c.text, c.category) for c in first][:2] == [("red apple", "description"), ("glossy red look", "style")]
    assert first[3].category == "use_case"
    assert [c.score for c in first] == sorted([c.score for c in first], reverse=True)
    assert gen.stats == {"generated": 4, "cached": 0, "fallback": 0, "supplemented": 0}
    assert fallback.calls == []


def test_vlm_generator_fallback_on_failure_and_garbage(vlm_items):
    backend = ScriptedBackend({"i1": "I am sorry, I cannot see the image.", "i2": VlmResult("", "HTTP 500"),
                               "i3": '[{"query": "red apple", "category": "description"}]'})
    fallback = TitleGenerator()
    gen = VlmGenerator(backend, fallback=fallback, store=None, min_queries=5)
    out = gen.generate(vlm_items)
    assert [c.source for c in out[1]] == ["title"] and out[1][0].text == "item 1"
    assert [c.source for c in out[2]] == ["title"]
    assert [c.source for c in out[3]] == ["vlm", "title"]  # 1 parsed query: topped up, ranked below
    assert out[3][1].score < out[3][0].score
    assert gen.stats == {"generated": 3, "cached": 0, "fallback": 2, "supplemented": 1}
    assert fallback.calls == [["i1", "i2", "i3"]]
    assert {i for i, _ in gen.failures} == {"i1", "i2"}


def test_vlm_generator_cache_second_run_does_no_model_work(vlm_items, tmp_path):
    store = Store(tmp_path / "site.duckdb")
    try:
        backend = ScriptedBackend({"i1": "garbage"})
        gen = VlmGenerator(backend, fallback=TitleGenerator(), store=store)
        first = gen.generate(vlm_items)
        assert len(backend.seen) == 4
        backend2 = ScriptedBackend({})  # would answer differently, but must not be asked
        gen2 = VlmGenerator(backend2, fallback=TitleGenerator(), store=store)
        second = gen2.generate(vlm_items)
        assert backend2.seen == []
        assert second == first
        assert gen2.stats["cached"] == 4 and gen2.stats["generated"] == 0 and gen2.stats["fallback"] == 1
        # a failed request is not cached: it is retried next time
        backend3 = ScriptedBackend({"i0": VlmResult("", "timeout")}, model_id="scripted:v2")
        VlmGenerator(backend3, fallback=TitleGenerator(), store=store).generate(vlm_items[:1])
        backend4 = ScriptedBackend({}, model_id="scripted:v2")
        VlmGenerator(backend4, fallback=TitleGenerator(), store=store).generate(vlm_items[:1])
        assert backend4.seen == ["i0"]
        assert len(gen.cache_key(vlm_items[0], "x")) == 64
        assert store.cache.get(CACHE_NAMESPACE, [gen.cache_key(vlm_items[0], "nope")]) == {}
    finally:
        store.close()


def test_vlm_cache_key_changes_with_model_prompt_and_image(vlm_items):
    a = VlmGenerator(ScriptedBackend({}, "m1"), fallback=TitleGenerator())
    b = VlmGenerator(ScriptedBackend({}, "m1+lora:abc"), fallback=TitleGenerator())
    item = vlm_items[0]
    assert a.cache_key(item, "p") != b.cache_key(item, "p")
    assert a.cache_key(item, "p") != a.cache_key(item, "q")
    assert a.cache_key(item, "p") != a.cache_key(vlm_items[1], "p")
    assert a.cache_key(item, "p") == VlmGenerator(ScriptedBackend({}, "m1"), fallback=TitleGenerator()).cache_key(item, "p")


def test_vlm_make_generator_from_config(vlm_items, tmp_path):
    cfg = Config(root=tmp_path)
    cfg.vlm.backend = "openai"
    cfg.vlm.base_url = "http://127.0.0.1:9/v1"
    cfg.vlm.model = "m"
    gen = make_vlm_generator(cfg, store=None, fallback=TitleGenerator())
    assert isinstance(gen, VlmGenerator) and isinstance(gen.backend, OpenAIBackend)
    assert gen.backend.url == "http://127.0.0.1:9/v1/chat/completions"
    gen2 = make_vlm_generator(cfg, store=None, fallback=TitleGenerator(), backend=ScriptedBackend({}))
    assert len(gen2.generate(vlm_items[:1])[0]) == 5


def test_vlm_make_backend_errors(tmp_path):
    cfg = Config(root=tmp_path)
    cfg.vlm.backend = "transformers"
    cfg.vlm.model = ""
    with pytest.raises(ModelError, match="vlm.model"):
        make_backend(cfg)
    cfg.vlm.model = "no-such-folder"
    with pytest.raises(ModelError, match="model folder not found"):
        make_backend(cfg)
    cfg.vlm.backend = "openai"
    cfg.vlm.base_url = ""
    with pytest.raises(ModelError, match="base_url"):
        make_backend(cfg)
    (tmp_path / "m").mkdir()
    cfg.vlm.backend, cfg.vlm.model = "transformers", "m"
    assert isinstance(make_backend(cfg), TransformersBackend)


def test_vlm_vllm_backend_missing_gives_install_hint(tmp_path, vlm_items):
    try:
        import vllm  # noqa: F401
        pytest.skip("vllm is installed")
    except ImportError:
        pass
    backend = VllmBackend(tmp_path)
    with pytest.raises(ModelError, match=r"pip install 'sitegen\[vllm\]'"):
        backend.generate([VlmRequest(vlm_items[0].image, "p")])
