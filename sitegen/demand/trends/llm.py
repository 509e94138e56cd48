"""The agent's LLM policy: planning, filtering and expansion through the shared engines (``sitegen.engines.vlm``:
``transformers``, ``vllm``, ``openai``), chosen by ``trends.llm_backend`` (settings: ``settings.py``).

Each task asks for JSON and is parsed strictly; an answer that is not clear (not JSON of the asked shape, a
contradiction such as "fits" and "news" at once, an empty list) is ``None``, and the caller keeps its
deterministic policy: nothing is guessed. Answers are cached in the store (``store.cache``, namespace
``trend-llm``) under the hash of the prompt, the model id and the decoding settings, so a re-run asks nothing
twice; a request that failed is not cached.

- ``plan``: focus themes for this run (seasons, occasions, product kinds the catalog serves), which order the
  candidates;
- ``judge``: does a trend fit the catalog, or is it news, sports, politics, a person or an event;
- ``expand``: 3-6 search queries for a trend from the catalog values of its matching items, few-shot from the
  memory's exemplars (approved trends and their expansions).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

CACHE_NAMESPACE = "trend-llm"
PROMPT_VERSION = "trend-agent-v1"  # part of every cache key: change it whenever the wording changes
DOMAINS = ("news", "sports", "politics", "person", "place", "event")
MAX_QUERY_CHARS = 80

SYSTEM_PLAN = ("You plan which search trends a website of catalog landing pages should watch. Answer with JSON "
               'only: {"focus": ["theme", ...]} with up to 8 short themes (seasons, occasions, kinds of product) '
               "that this catalog serves.")
SYSTEM_JUDGE = ("You screen search trends for a website of catalog landing pages. A trend fits when people "
                "searching for it want items this catalog holds. News, sports, politics, people's names, places "
                'and events never fit. Answer with JSON only: {"fit": true or false, "domain": "catalog", "news", '
                '"sports", "politics", "person", "place", "event" or "other", "reason": "a few words"}.')
SYSTEM_EXPAND = ("You write the searches people type to find catalog items for a trend. Use only what the "
                 "catalog holds (its categories, colours and audiences). Answer with JSON only: a list of 3 to 6 "
                 "short search queries.")

_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.S | re.I)
_FENCE = re.compile(r"```[a-z]*", re.I)


def _clean(text: str) -> str:
    return _FENCE.sub(" ", _THINK.sub(" ", text or "")).strip()


def _json_values(text: str) -> list[Any]:
    """Every JSON value (object or array) found in the text, outermost first."""
    text = _clean(text)
    out: list[Any] = []
    decoder = json.JSONDecoder()
    i = 0
    while i < len(text):
        if text[i] in "[{":
            try:
                value, end = decoder.raw_decode(text, i)
            except ValueError:
                i += 1
                continue
            out.append(value)
            i = end
        else:
            i += 1
    return out


def _strings(value: Any, limit: int) -> list[str] | None:
    if not isinstance(value, list) or not value:
        return None
    out = []
    for v in value:
        if not isinstance(v, str):
            return None
        v = " ".join(v.split())
        if not v or len(v) > MAX_QUERY_CHARS:
            return None
        out.append(v)
    return out[:limit]


def parse_plan(text: str) -> list[str] | None:
    """The focus themes of a planning answer, or None."""
    for value in _json_values(text):
        if isinstance(value, dict) and "focus" in value:
            return _strings(value["focus"], 8)
    return None


def parse_verdict(text: str) -> tuple[str, bool, str] | None:
    """(rejected domain or "", fits, reason) of a filtering answer, or None when it is unclear."""
    for value in _json_values(text):
        if not isinstance(value, dict) or "fit" not in value:
            continue
        fit = value["fit"]
        if isinstance(fit, str) and fit.strip().lower() in ("yes", "no", "true", "false"):
            fit = fit.strip().lower() in ("yes", "true")
        if not isinstance(fit, bool):
            return None
        domain = value.get("domain", "other")
        domain = domain.strip().lower() if isinstance(domain, str) else ""
        if domain not in (*DOMAINS, "catalog", "other"):
            return None
        reason = value.get("reason", "")
        reason = " ".join(reason.split())[:160] if isinstance(reason, str) else ""
        if domain in DOMAINS:
            return (domain, False, reason) if not fit else None  # "fits" and "news" at once: unclear
        if domain == "catalog" and not fit:
            return None
        return "", fit, reason
    return None


def parse_queries(text: str, limit: int = 6) -> list[str] | None:
    """The queries of an expansion answer (a JSON list, or ``{"queries": [...]}``), or None."""
    for value in _json_values(text):
        if isinstance(value, dict):
            value = value.get("queries")
        got = _strings(value, limit)
        if got:
            return got
    return None


def plan_prompt(today: str, catalog_lines: Sequence[str], upcoming: Sequence[str]) -> str:
    lines = [f"Today: {today}", "Catalog:", *(f"- {line}" for line in catalog_lines)]
    if upcoming:
        lines += ["Seasonal peaks remembered from earlier runs:", *(f"- {u}" for u in upcoming)]
    lines += ["", 'Which themes should the agent focus on? Answer with JSON only: {"focus": [...]}.']
    return "\n".join(lines)


def judge_prompt(term: str, catalog_lines: Sequence[str]) -> str:
    return "\n".join(["Catalog:", *(f"- {line}" for line in catalog_lines), "", f"Trend: {term}", "",
                      'Does this trend fit the catalog? Answer with JSON only: {"fit": ..., "domain": ..., '
                      '"reason": ...}.'])


def expand_prompt(term: str, taxonomy_lines: Sequence[str], exemplars: Sequence[tuple[str, Sequence[str]]]) -> str:
    lines = []
    for trend, expansions in exemplars:
        lines += [f"Trend: {trend}", f"Queries: {json.dumps(list(expansions), ensure_ascii=False)}", ""]
    lines += [f"Trend: {term}", "Catalog values of the items that match it:",
              *(f"- {line}" for line in taxonomy_lines), "Queries:"]
    return "\n".join(lines)


class TrendLlm:
    """The agent's LLM. ``backend`` overrides the configured engine (a caller that shares a loaded model).
    ``stats``: ``asked``, ``cached``, ``unclear`` (answers without the asked shape: the deterministic policy
    decided), ``failed`` (requests that failed: likewise); ``raw``: the answers of this run by prompt kind."""

    def __init__(self, cfg, store=None, backend=None):
        from sitegen.demand.trends.settings import llm_settings

        settings = llm_settings(cfg)
        if settings is None:
            raise ValueError("trends.llm_backend is not set")
        self.settings = settings
        v = settings.vlm
        if backend is None:
            from sitegen.core.errors import ModelError
            from sitegen.engines.vlm import make_backend

            if v.backend != "openai" and not cfg.path(v.model).is_dir():
                raise ModelError(f"{settings.model_key}: model folder not found: {cfg.path(v.model)}")
            backend = make_backend(dataclasses.replace(cfg, vlm=v))
        self.backend = backend
        self.store = store
        self.decoding = json.dumps([v.temperature, v.top_p, v.top_k, v.repetition_penalty, v.max_new_tokens])
        self.stats = {"asked": 0, "cached": 0, "unclear": 0, "failed": 0}
        self.raw: list[tuple[str, str, str]] = []  # (kind, prompt, answer)

    @property
    def model_id(self) -> str:
        return self.backend.model_id

    def _key(self, system: str, prompt: str) -> str:
        parts = [PROMPT_VERSION, hashlib.sha256((system + "\n" + prompt).encode()).hexdigest(),
                 self.backend.model_id, self.decoding]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()

    def ask(self, kind: str, system: str, prompts: Sequence[str]) -> list[str | None]:
        """The raw answer per prompt (None for a request that failed), from the cache or the model."""
        from sitegen.engines.vlm import VlmRequest

        keys = [self._key(system, p) for p in prompts]
        cached = self.store.cache.get(CACHE_NAMESPACE, list(dict.fromkeys(keys))) if self.store is not None else {}
        answers: dict[str, str | None] = {k: v["raw"] for k, v in cached.items()
                                          if isinstance(v, dict) and isinstance(v.get("raw"), str)}
        self.stats["cached"] += sum(1 for k in keys if k in answers)
        todo = list(dict.fromkeys(k for k in keys if k not in answers))
        if todo:
            first = {k: p for k, p in zip(keys, prompts)}
            results = self.backend.generate_detailed([VlmRequest(image="", prompt=first[k], system=system,
                                                                 key=f"trend {kind}") for k in todo])
            self.stats["asked"] += len(todo)
            fresh = {}
            for k, res in zip(todo, results):
                if res.error:
                    self.stats["failed"] += 1
                    answers[k] = None
                else:
                    answers[k] = res.text
                    fresh[k] = {"raw": res.text, "model": self.backend.model_id, "kind": kind,
                                "prompt_version": PROMPT_VERSION}
            if self.store is not None and fresh:
                self.store.cache.put(CACHE_NAMESPACE, fresh)
        out = [answers.get(k) for k in keys]
        self.raw += [(kind, p, a or "") for p, a in zip(prompts, out)]
        return out

    def _parsed(self, answers: Sequence[str | None], parse) -> list:
        out = []
        for a in answers:
            got = parse(a) if a is not None else None
            if a is not None and got is None:
                self.stats["unclear"] += 1
            out.append(got)
        return out

    def plan(self, today: str, catalog_lines: Sequence[str], upcoming: Sequence[str]) -> list[str] | None:
        answer = self.ask("plan", SYSTEM_PLAN, [plan_prompt(today, catalog_lines, upcoming)])
        return self._parsed(answer, parse_plan)[0]

    def judge_many(self, terms: Sequence[str], catalog_lines: Sequence[str]) -> list[tuple[str, bool, str] | None]:
        return self._parsed(self.ask("filter", SYSTEM_JUDGE, [judge_prompt(t, catalog_lines) for t in terms]),
                            parse_verdict)

    def judge(self, term: str, catalog_lines: Sequence[str]) -> tuple[str, bool, str] | None:
        return self.judge_many([term], catalog_lines)[0]

    def expand(self, term: str, taxonomy_lines: Sequence[str],
               exemplars: Sequence[tuple[str, Sequence[str]]]) -> list[str] | None:
        answer = self.ask("expand", SYSTEM_EXPAND, [expand_prompt(term, taxonomy_lines, exemplars)])
        return self._parsed(answer, parse_queries)[0]

    def close(self) -> None:
        self.backend.close()
