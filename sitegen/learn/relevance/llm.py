"""The ``llm`` judge: an LLM (or a VLM, shown the item's image) grades topic-item pairs on the guideline.

It runs on the shared engines of ``sitegen.engines.vlm`` (``transformers``: a local model folder, VLM or
text-only LLM; ``vllm``; ``openai``: any OpenAI-compatible server) with their batching, retries and timeouts.
Its model is set under ``[relevance]`` (``llm_backend``, ``llm_model``, ``llm_base_url``, ``llm_image``,
``llm_max_new_tokens``); the empty defaults take the ``[vlm]`` model, and every other engine setting (decoding,
pixels, batch size, concurrency, retries, timeout, device, API key) is ``[vlm]``'s. ``vlm.adapter`` is not used:
it teaches the model to write queries, not to grade.

The prompt: the guideline (``guideline_text()``) in the system turn; the topic, its kind of search and the item's
text (``item_text``) in the user turn, with the image when the model sees it. The answer is parsed by
``parse_grade`` (a bare digit, ``{"grade": 4}``, ``Grade: 4 - ...``); an answer with no clear grade is left out
and counted (``stats["unparseable"]``), never guessed.

Every answer is cached in the store (``store.cache``, namespace ``llm-judge``) under the hash of the prompt,
the image's hash, the model id and the decoding settings, so a re-run asks the model nothing twice. A request
that failed (server error after every retry, unreadable image) is not cached: the next run asks again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sitegen.core.errors import ConfigError, ModelError
from sitegen.core.models import Judgment
from sitegen.core.text import item_text
from sitegen.learn.relevance.guideline import GRADES, guideline_text
from sitegen.learn.relevance.judge import Judge, Pair

if TYPE_CHECKING:  # pragma: no cover
    from sitegen.core.config import Config, VlmSection
    from sitegen.engines.vlm import VlmBackend
    from sitegen.store.db import Store

CACHE_NAMESPACE = "llm-judge"
PROMPT_VERSION = "relevance-judge-v1"  # part of every cache key: change it whenever the wording changes
MAX_TOPIC_CHARS = 200
MAX_ITEM_CHARS = 1200

SYSTEM = ("You are a search relevance judge. You grade how well a catalog item satisfies a search, following "
          "this guideline.\n\n{guideline}\n\n"
          'Answer with JSON only: {{"grade": N}}, where N is 1, 2, 3, 4 or 5.')

_KINDS = {"description": "what it shows", "style": "a style or attribute", "use_case": "a use or occasion"}


def system_prompt() -> str:
    return SYSTEM.format(guideline=guideline_text())


def build_prompt(pair: Pair, *, image: bool) -> str:
    """The user turn for one pair: the search, its kind, the item's text (and a word on the attached image)."""
    lines = [f"Search: {_clip(pair.topic, MAX_TOPIC_CHARS)}"]
    if pair.category in _KINDS:
        lines.append(f"Kind of search: {_KINDS[pair.category]}")
    lines.append(f"Item: {_clip(item_text(pair.item), MAX_ITEM_CHARS)}")
    if image:
        lines.append("The item's image is attached.")
    lines += ["", 'How relevant is the item to the search? Answer with JSON only: {"grade": N}.']
    return "\n".join(lines)


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


# -- parsing the answer ----------------------------------------------------------------------------------
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.S | re.I)
_FENCE = re.compile(r"```[a-z]*", re.I)
_OBJECT = re.compile(r"\{[^{}]*\}")
_GRADE_KEYS = ("grade", "score", "rating", "relevance")
_SCALE = r"\s*(?:/|out\s+of)\s*"
_NUMBER = rf"(\d+(?:\.\d+)?)(?!\d|\.\d)(?:{_SCALE}(\d+)(?!\d))?(?!{_SCALE})"  # 4, 4.0, 4/5, 4 out of 5
_LABELLED = re.compile(r"\b(?:grade|score|rating|relevance|rated)\b(?:\s+(?:is|of|as))?[\s:=*_\"'\-\u2013\u2014]*"
                       + _NUMBER, re.I)
_LEADING = re.compile(r"^[\s*_\"'`(\[#]*" + _NUMBER + r"(?!\w)")
_WHOLE_NUMBER = re.compile(r"\s*" + _NUMBER + r"\s*")
_NAMES = {name: grade for grade, (name, _) in GRADES.items()}


def parse_grade(text: str) -> int | None:
    """The grade 1-5 an answer states, or None when it states none clearly. Read, in this order: a JSON object
    with a ``grade`` (``score``, ``rating``, ``relevance``) key; a labelled grade ("Grade: 4", "**Score:** 4/5");
    a number that opens the answer ("4", "4 - relevant", "**4**"); the answer being a level's name ("highly
    relevant"). The first kind found decides; several different grades of that kind, a number outside 1-5, a
    fraction (4.5) or a scale other than 5 ("8/10") give None. A reasoning model's ``<think>`` block is skipped."""
    if not isinstance(text, str):
        return None
    text = _FENCE.sub(" ", _THINK.sub(" ", text)).strip()
    if not text:
        return None
    found = _json_grades(text)
    if not found:
        found = [_number(m.group(1), m.group(2)) for m in _LABELLED.finditer(text)]
    if not found:
        m = _LEADING.match(text)
        if m:
            found = [_number(m.group(1), m.group(2))]
    if not found:
        name = " ".join(re.sub(r"[^a-z ]+", " ", text.lower()).split())
        found = [_NAMES[name]] if name in _NAMES else []
    values = set(found)
    if len(values) != 1:
        return None
    (value,) = values
    return value if isinstance(value, int) and value in GRADES else None


def _json_grades(text: str) -> list[int | None]:
    """The grade of each JSON object in the text that has a grade key (None for a value that is no grade)."""
    out: list[int | None] = []
    for m in _OBJECT.finditer(text):
        try:
            obj = json.loads(m.group())
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        value = next((v for k, v in obj.items() if isinstance(k, str) and k.strip().lower() in _GRADE_KEYS), obj)
        if value is obj:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append(_number(str(value), None))
        elif isinstance(value, str) and (n := _WHOLE_NUMBER.fullmatch(value)):
            out.append(_number(n.group(1), n.group(2)))
        else:
            out.append(None)
    return out


def _number(value: str, scale: str | None) -> int | None:
    """An integral grade ("4", "4.0", "4/5"); None for a fraction or a scale other than 5."""
    if scale is not None and scale != "5":
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


# -- settings --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LlmSettings:
    """The judge's engine settings: ``[vlm]`` with the ``relevance.llm_*`` keys applied, and which key named
    the model and the URL (for messages)."""

    vlm: VlmSection
    image: str  # relevance.llm_image: auto / yes / no
    model_key: str  # "relevance.llm_model" or "vlm.model"
    inherited: bool  # the model is the [vlm] one


def settings_problems(cfg: Config) -> list[str]:
    """What keeps the ``llm`` judge from running with these settings, each line named by its key."""
    return _resolve(cfg)[1]


def judge_settings(cfg: Config) -> LlmSettings:
    settings, problems = _resolve(cfg)
    if problems:
        raise ConfigError(problems, path=str(cfg.root / "site.toml"))
    return settings


def _resolve(cfg: Config) -> tuple[LlmSettings, list[str]]:
    r, v = cfg.relevance, cfg.vlm
    backend = r.llm_backend or v.backend
    problems: list[str] = []
    if r.llm_model:
        model, key, inherited = r.llm_model, "relevance.llm_model", False
    elif backend == v.backend:
        model, key, inherited = v.model, "vlm.model", True
    else:
        model, key, inherited = "", "relevance.llm_model", False
        problems.append(f"relevance.llm_model: required when relevance.llm_backend ({backend!r}) is not "
                        f"vlm.backend ({v.backend!r})")
    if not model and inherited:
        problems.append("relevance.llm_model: the llm judge needs a model (set it, or vlm.model): a local model "
                        "folder for the transformers and vllm backends, a model name for openai")
    base_url = r.llm_base_url or v.base_url
    if backend == "openai" and not base_url:
        problems.append("relevance.llm_base_url: required when the llm judge's backend is 'openai' (or set "
                        "vlm.base_url), e.g. http://127.0.0.1:8001/v1")
    section = dataclasses.replace(v, backend=backend, model=model, base_url=base_url, adapter="",
                                  max_new_tokens=r.llm_max_new_tokens)
    return LlmSettings(section, r.llm_image, key, inherited), problems


def make_judge_backend(cfg: Config, settings: LlmSettings) -> VlmBackend:
    """The engine the settings name (through ``make_backend``, the one every VLM user builds)."""
    from sitegen.engines.vlm import make_backend

    v = settings.vlm
    if v.backend != "openai" and not cfg.path(v.model).is_dir():
        raise ModelError(f"{settings.model_key}: model folder not found: {cfg.path(v.model)}")
    return make_backend(dataclasses.replace(cfg, vlm=v))


# -- the judge -------------------------------------------------------------------------------------------
class LlmJudge(Judge):
    """Grades pairs with an LLM / VLM. ``store``: where answers are cached; when none is given the judge opens
    the site's store (``cfg.store_path``) for the length of each ``grade`` call (pass the caller's ``Store`` when
    it holds it already). ``backend`` overrides the configured engine (a caller that shares a loaded model).

    ``stats`` (added up over calls): ``asked`` (pairs sent to the model), ``cached`` (answered from the store),
    ``graded`` (pairs with a grade), ``unparseable`` (answers without a clear grade: left out), ``failed``
    (requests that failed: left out, asked again next run). ``failures``: (topic, item id, reason) of the
    last two kinds; ``raw``: the model's answer per (topic, item id) this run."""

    name = "llm"

    def __init__(self, cfg: Config | None = None, *, store: Store | None = None, backend: VlmBackend | None = None):
        from sitegen.core.config import Config
        from sitegen.represent.vlm import settings_fingerprint

        cfg = cfg if cfg is not None else Config()
        super().__init__(cfg)
        self.settings = judge_settings(cfg)
        self.backend = backend if backend is not None else make_judge_backend(cfg, self.settings)
        self.image = self._sees_images()
        self.store = store
        v = self.settings.vlm
        self.batch_size = max(1, v.batch_size, v.concurrency * 4)
        self.decoding = settings_fingerprint(_decoding(v), v.min_pixels if self.image else 0,
                                             v.max_pixels if self.image else 0)
        self.system = system_prompt()
        self.stats: dict[str, int] = {"asked": 0, "cached": 0, "graded": 0, "unparseable": 0, "failed": 0}
        self.failures: list[tuple[str, str, str]] = []
        self.raw: dict[tuple[str, str], str] = {}

    def _sees_images(self) -> bool:
        choice = self.settings.image
        if choice == "no":
            return False
        if self.settings.vlm.backend == "openai":  # a server does not say; the [vlm] model is a VLM
            return choice == "yes" or self.settings.inherited
        if choice == "yes" and not self.backend.vision:
            raise ConfigError([f"relevance.llm_image: 'yes', but {self.settings.vlm.model} is a text-only model "
                               "(its config.json has no vision part)"], path=str(self.cfg.root / "site.toml"))
        return self.backend.vision

    @property
    def rater(self) -> str:
        return self.backend.model_id

    def cache_key(self, pair: Pair, prompt: str) -> str:
        image = (pair.item.image_sha or pair.item.image) if self.image else ""
        parts = [PROMPT_VERSION, hashlib.sha256((self.system + "\n" + prompt).encode()).hexdigest(), image,
                 self.backend.model_id, self.decoding]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()

    def grade(self, pairs: Sequence[Pair], progress: Callable[[int, int], None] | None = None) -> list[Judgment]:
        pairs = list(pairs)
        if self.store is not None or not pairs:
            return self._grade(pairs, self.store, progress)
        from sitegen.store.db import Store

        with Store(self.cfg.store_path) as store:
            return self._grade(pairs, store, progress)

    def _grade(self, pairs: list[Pair], store: Store | None,
               progress: Callable[[int, int], None] | None) -> list[Judgment]:
        from sitegen.engines.vlm import VlmRequest

        prompts = [build_prompt(p, image=self.image) for p in pairs]
        keys = [self.cache_key(p, t) for p, t in zip(pairs, prompts)]
        first: dict[str, int] = {}  # key -> the first pair that asks it (a pair given twice is asked once)
        for i, key in enumerate(keys):
            first.setdefault(key, i)
        answers: dict[str, int | None] = {}  # key -> grade (None: unparseable); failed keys stay out
        cached = store.cache.get(CACHE_NAMESPACE, list(first)) if store is not None else {}
        for key, value in cached.items():
            if isinstance(value, dict) and "grade" in value:
                grade = value["grade"]
                answers[key] = grade if isinstance(grade, int) and not isinstance(grade, bool) and grade in GRADES \
                    else None
        self.stats["cached"] += sum(1 for k in keys if k in answers)
        todo = [first[k] for k in first if k not in answers]
        done = sum(1 for k in keys if k in answers)
        if progress and done:
            progress(done, len(pairs))
        reasons: dict[str, str] = {}
        per_key = _count(keys)
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start: start + self.batch_size]
            requests = [VlmRequest(image=pairs[i].item.image if self.image else "", prompt=prompts[i],
                                   system=self.system, key=f"{pairs[i].item.id} for {pairs[i].topic!r}")
                        for i in chunk]
            results = self.backend.generate_detailed(requests)
            to_cache: dict[str, object] = {}
            for i, res in zip(chunk, results):
                key = keys[i]
                if res.error:
                    reasons[key] = res.error
                    continue
                grade = parse_grade(res.text)
                answers[key] = grade
                self.raw[(pairs[i].topic, pairs[i].item.id)] = res.text
                to_cache[key] = {"raw": res.text, "grade": grade, "model": self.backend.model_id,
                                 "prompt_version": PROMPT_VERSION}
            if store is not None and to_cache:
                store.cache.put(CACHE_NAMESPACE, to_cache)
            self.stats["asked"] += sum(per_key[keys[i]] for i in chunk)
            done += sum(per_key[keys[i]] for i in chunk)
            if progress:
                progress(done, len(pairs))
        out: list[Judgment] = []
        for pair, key in zip(pairs, keys):
            if key in reasons:
                self.stats["failed"] += 1
                self.failures.append((pair.topic, pair.item.id, reasons[key]))
            elif answers.get(key) is None:
                self.stats["unparseable"] += 1
                self.failures.append((pair.topic, pair.item.id, "no grade in the model's answer"))
            else:
                self.stats["graded"] += 1
                out.append(self.judgment(pair, answers[key]))  # type: ignore[arg-type]
        return out

    def close(self) -> None:
        self.backend.close()


def _count(keys: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    return counts


def _decoding(v: VlmSection) -> Any:
    from sitegen.engines.vlm import Decoding

    return Decoding(temperature=v.temperature, top_p=v.top_p, top_k=v.top_k,
                    repetition_penalty=v.repetition_penalty, max_new_tokens=v.max_new_tokens)
