"""The ``vlm`` query generator: a VLM predicts what people would search for to find each image.

For every item it asks the configured backend (see ``backends.py``) with the reverse-search prompt, parses the
answer (``parse.py``) into candidates with ``source="vlm"`` and the model's category, and caches the result in
the store (namespace ``"vlm"``), so a second run does no model work. Items whose generation fails or whose
answer parses to nothing get the ``fallback`` generator's candidates instead (counted in ``stats``).

Cache key: sha256 of (image sha, backend model id (weights fingerprint + LoRA adapter fingerprint),
``PROMPT_VERSION``, the prompt text (catalog context included), decoding settings, pixel range).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sitegen.core.models import Item
from sitegen.represent.base import Candidate, QueryGenerator
from sitegen.engines.vlm import Decoding, Progress, VlmBackend, VlmRequest, make_backend
from sitegen.represent.parse import ParsedQuery, parse_queries
from sitegen.represent.prompt import PROMPT_VERSION, SYSTEM_PROMPT, build_prompt

if TYPE_CHECKING:  # pragma: no cover
    from sitegen.core.config import Config
    from sitegen.store.db import Store

CACHE_NAMESPACE = "vlm"


class VlmGenerator(QueryGenerator):
    """``stats``: ``generated`` (items the model answered this run), ``cached`` (items answered from the store),
    ``fallback`` (items that got the fallback generator's candidates: failed, or nothing parseable),
    ``supplemented`` (items with fewer than ``min_queries`` parsed queries, topped up from the fallback)."""

    name = "vlm"

    def __init__(self, backend: VlmBackend, *, fallback: QueryGenerator, store: Store | None = None,
                 context: bool = True, batch_size: int = 32, min_queries: int = 0, settings: str = "",
                 progress: Progress | None = None):
        self.backend = backend
        self.fallback = fallback
        self.store = store
        self.context = context
        self.batch_size = max(1, batch_size)
        self.min_queries = min_queries
        self.settings = settings  # decoding / pixel settings folded into the cache key
        self.progress = progress
        self.stats: dict[str, int] = {"generated": 0, "cached": 0, "fallback": 0, "supplemented": 0}
        self.failures: list[tuple[str, str]] = []  # (item id, reason)
        self.raw: dict[str, str] = {}  # item id -> raw model text of this run (for review / debugging)

    def cache_key(self, item: Item, prompt: str) -> str:
        parts = [item.image_sha or item.image, self.backend.model_id, PROMPT_VERSION,
                 hashlib.sha256((SYSTEM_PROMPT + "\n" + prompt).encode()).hexdigest(), self.settings]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()

    def generate(self, items: Sequence[Item]) -> list[list[Candidate]]:
        items = list(items)
        prompts = [build_prompt(item, context=self.context) for item in items]
        keys = [self.cache_key(item, p) for item, p in zip(items, prompts)]
        cached: dict[str, Any] = self.store.cache.get(CACHE_NAMESPACE, keys) if self.store is not None else {}
        parsed: dict[int, list[ParsedQuery]] = {}
        todo: list[int] = []
        for i, key in enumerate(keys):
            value = cached.get(key)
            if isinstance(value, dict) and isinstance(value.get("queries"), list):
                parsed[i] = [ParsedQuery(str(t), c) for t, c in value["queries"]]  # type: ignore[arg-type]
                self.stats["cached"] += 1
            else:
                todo.append(i)
        done = len(items) - len(todo)
        if self.progress and done:
            self.progress(done, len(items))
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start: start + self.batch_size]
            requests = [VlmRequest(image=items[i].image, prompt=prompts[i], key=items[i].id) for i in chunk]
            results = self.backend.generate_detailed(requests)
            to_cache: dict[str, object] = {}
            for i, res in zip(chunk, results):
                if res.error:
                    self.failures.append((items[i].id, res.error))
                    parsed[i] = []
                    continue
                self.stats["generated"] += 1
                self.raw[items[i].id] = res.text
                queries = parse_queries(res.text)
                parsed[i] = queries
                if not queries:
                    self.failures.append((items[i].id, "no queries parsed from the model output"))
                to_cache[keys[i]] = {"raw": res.text, "queries": [[q.text, q.category] for q in queries],
                                     "model": self.backend.model_id, "prompt_version": PROMPT_VERSION}
            if self.store is not None and to_cache:
                self.store.cache.put(CACHE_NAMESPACE, to_cache)
            done += len(chunk)
            if self.progress:
                self.progress(done, len(items))
        return self._assemble(items, parsed)

    def _assemble(self, items: list[Item], parsed: dict[int, list[ParsedQuery]]) -> list[list[Candidate]]:
        out: list[list[Candidate]] = []
        need = [i for i in range(len(items)) if len(parsed.get(i, [])) < max(1, self.min_queries)]
        extra: dict[int, list[Candidate]] = {}
        if need:
            fallback_lists = self.fallback.generate([items[i] for i in need])
            extra = dict(zip(need, fallback_lists))
        for i in range(len(items)):
            queries = parsed.get(i, [])
            cands = [Candidate(q.text, q.category, "vlm", round(1.0 - 0.01 * rank, 4))
                     for rank, q in enumerate(queries)]
            if i in extra:
                if queries:
                    self.stats["supplemented"] += 1
                    # keep the fallback's own source; rank them below every VLM candidate
                    cands += [Candidate(c.text, c.category, c.source, min(c.score, 0.0) - 0.01 * r)
                              for r, c in enumerate(extra[i])]
                else:
                    self.stats["fallback"] += 1
                    cands = list(extra[i])
            out.append(cands)
        return out

    def close(self) -> None:
        self.backend.close()
        self.fallback.close()


def settings_fingerprint(decoding: Decoding, min_pixels: int, max_pixels: int) -> str:
    return json.dumps([decoding.temperature, decoding.top_p, decoding.top_k, decoding.repetition_penalty,
                       decoding.max_new_tokens, min_pixels, max_pixels])


def make_vlm_generator(cfg: Config, *, store: Store | None, fallback: QueryGenerator,
                       backend: VlmBackend | None = None, progress: Progress | None = None) -> QueryGenerator:
    """The ``vlm`` generator for ``cfg`` (``cfg.vlm`` picks the backend). ``backend`` overrides the configured
    one (tests, or a caller that shares one loaded model). The model loads lazily, on the first item that is
    not in the cache."""
    v = cfg.vlm
    decoding = Decoding(temperature=v.temperature, top_p=v.top_p, top_k=v.top_k,
                        repetition_penalty=v.repetition_penalty, max_new_tokens=v.max_new_tokens)
    return VlmGenerator(backend if backend is not None else make_backend(cfg, progress=None), fallback=fallback,
                        store=store, context=v.context, batch_size=max(v.batch_size, v.concurrency * 4),
                        min_queries=cfg.represent.min_queries,
                        settings=settings_fingerprint(decoding, v.min_pixels, v.max_pixels), progress=progress)
