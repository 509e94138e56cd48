"""The openai backend against tests/vlm_server.py on 127.0.0.1: replies, retries, errors, cache, oracle labels."""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import socket
from pathlib import Path

import pytest
from PIL import Image

from sitegen.core.errors import ModelError
from sitegen.core.models import Item
from sitegen.represent.base import Candidate, QueryGenerator
from sitegen.store.db import Store
from sitegen.engines.vlm import Decoding, OpenAIBackend, VlmRequest
from sitegen.represent.vlm import VlmGenerator
from sitegen.learn.traindata import synthesize_training_data

_spec = importlib.util.spec_from_file_location("vlm_server", Path(__file__).with_name("vlm_server.py"))
vlm_server = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vlm_server)
VlmTestServer = vlm_server.VlmTestServer


class TitleGenerator(QueryGenerator):
    name = "title"

    def generate(self, items):
        return [[Candidate(i.title.lower(), "description", "title", 1.0)] for i in items]


@pytest.fixture
def vlm_openai_items(tmp_path):
    items = []
    for n in range(5):
        p = tmp_path / f"img{n}.jpg"
        Image.new("RGB", (120 + 10 * n, 90), (40 * n, 100, 200)).save(p)
        items.append(Item(id=f"i{n}", title=f"Blue thing {n}", image=str(p), image_sha=f"sha{n}", width=120,
                          height=90, category="Things"))
    return items


def _backend(server, **kw) -> OpenAIBackend:
    kw.setdefault("min_pixels", 784 * 4)
    kw.setdefault("max_pixels", 784 * 16)
    kw.setdefault("backoff", 0.01)
    return OpenAIBackend(server.url, "test-model", **kw)


def test_vlm_openai_request_shape_and_reply(vlm_openai_items, monkeypatch):
    monkeypatch.setenv("SITEGEN_TEST_KEY", "sekrit")
    with VlmTestServer() as server:
        backend = _backend(server, api_key_env="SITEGEN_TEST_KEY", decoding=Decoding())
        texts = backend.generate([VlmRequest(vlm_openai_items[0].image, "the prompt", key="i0")])
        assert json.loads(texts[0])[0] == {"query": "red apple", "category": "description"}
        body = server.requests[0]
        assert body["model"] == "test-model"
        assert body["temperature"] == 0.1 and body["top_p"] == 0.001 and body["max_tokens"] == 256
        assert body["top_k"] == 1 and body["repetition_penalty"] == 1.05
        system, user = body["messages"]
        assert system["role"] == "system" and user["content"][1] == {"type": "text", "text": "the prompt"}
        url = user["content"][0]["image_url"]["url"]
        assert url.startswith("data:image/jpeg;base64,")
        img = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
        assert img.width % 28 == 0 and img.height % 28 == 0 and 784 * 4 <= img.width * img.height <= 784 * 16
        assert server.headers[0]["authorization"] == "Bearer sekrit"


def test_vlm_openai_concurrency_keeps_order(vlm_openai_items):
    def reply(body):
        return json.dumps([{"query": vlm_server.user_text(body), "category": "description"}])

    with VlmTestServer(reply) as server:
        backend = _backend(server, concurrency=4)
        reqs = [VlmRequest(it.image, f"prompt {n}") for n, it in enumerate(vlm_openai_items)]
        out = backend.generate(reqs)
        assert [json.loads(t)[0]["query"] for t in out] == [f"prompt {n}" for n in range(5)]


def test_vlm_openai_retries_on_500(vlm_openai_items):
    with VlmTestServer(fail_first=[500, 503]) as server:
        backend = _backend(server, retries=2)
        result = backend.generate_detailed([VlmRequest(vlm_openai_items[0].image, "p")])[0]
        assert result.error == "" and "red apple" in result.text
        assert len(server.requests) == 3 and backend.calls == 3
    with VlmTestServer(fail_first=[500, 500, 500]) as server:
        backend = _backend(server, retries=1)
        result = backend.generate_detailed([VlmRequest(vlm_openai_items[0].image, "p", key="i0")])[0]
        assert result.text == "" and "HTTP 500" in result.error and len(server.requests) == 2


def test_vlm_openai_client_error_is_model_error(vlm_openai_items):
    with VlmTestServer(fail_first=[401]) as server:
        with pytest.raises(ModelError, match="HTTP 401"):
            _backend(server, retries=3).generate([VlmRequest(vlm_openai_items[0].image, "p")])
        assert len(server.requests) == 1  # no retry on a 4xx


def test_vlm_openai_unreachable_names_url(vlm_openai_items):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    backend = OpenAIBackend(url, "m", retries=1, backoff=0.01, timeout=2, min_pixels=784, max_pixels=784 * 4)
    with pytest.raises(ModelError) as err:
        backend.generate([VlmRequest(vlm_openai_items[0].image, "p")])
    assert f"127.0.0.1:{port}/v1/chat/completions" in str(err.value) and "cannot reach" in str(err.value)


def test_vlm_openai_malformed_http_body_fails_request(vlm_openai_items):
    with VlmTestServer(raw_body=b"<html>oops</html>") as server:
        result = _backend(server, retries=1).generate_detailed([VlmRequest(vlm_openai_items[0].image, "p")])[0]
        assert result.text == "" and "malformed" in result.error


def test_vlm_openai_generator_cache_and_fallback(vlm_openai_items, tmp_path):
    def reply(body):  # a malformed (non-JSON, prose) answer for one item
        if "Blue thing 2" in vlm_server.user_text(body):
            return "I'm sorry, but I can't determine search queries for this picture."
        return vlm_server.DEFAULT_REPLY

    store = Store(tmp_path / "s.duckdb")
    try:
        with VlmTestServer(reply) as server:
            gen = VlmGenerator(_backend(server), fallback=TitleGenerator(), store=store, min_queries=5)
            out = gen.generate(vlm_openai_items)
            assert gen.stats["generated"] == 5 and gen.stats["fallback"] == 1
            assert [c.source for c in out[2]] == ["title"]
            assert len(out[0]) == 7 and {c.category for c in out[0]} == {"description", "style", "use_case"}
            n = len(server.requests)
            gen2 = VlmGenerator(_backend(server), fallback=TitleGenerator(), store=store, min_queries=5)
            assert gen2.generate(vlm_openai_items) == out
            assert len(server.requests) == n  # no model work the second time
            assert gen2.stats["cached"] == 5 and gen2.stats["generated"] == 0
    finally:
        store.close()


def test_vlm_synthetic_training_data_through_oracle(vlm_openai_items):
    def reply(body):
        if "Blue thing 4" in vlm_server.user_text(body):
            return "[]"
        return ('```json\n[{"query": "Blue Widget", "category": "description"}, {"query": "blue widget", '
                '"category": "description"}, {"query": "cobalt blue look", "category": "style"}, '
                '{"query": "office desk ideas", "category": "use case"}, {"query": "a query that is far too long '
                'to be a real search query", "category": "style"}, {"query": "gift for dad", "category": "intent"}]'
                '\n```')

    with VlmTestServer(reply) as server:
        records, stats = synthesize_training_data(vlm_openai_items, _backend(server), sample_size=7)
    assert stats["labelled"] == 4 and stats["too_few_queries"] == 1 and stats["failed"] == 0
    rec = records[0]
    assert rec["source"] == "synthetic" and rec["item_id"] == "i0" and rec["image"] == vlm_openai_items[0].image
    target = json.loads(rec["messages"][2]["content"])
    assert target == [{"query": "blue widget", "category": "description"},
                      {"query": "cobalt blue look", "category": "style"},
                      {"query": "office desk ideas", "category": "use_case"},
                      {"query": "gift for dad", "category": "use_case"}]
    assert rec["messages"][1]["content"][0] == {"type": "image"}
    assert "Title: Blue thing 0" in rec["messages"][1]["content"][1]["text"]


def test_vlm_test_server_stops_by_itself():
    server = VlmTestServer(timeout=0.2).start()
    server._timer.join(2)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=0.5).close()
