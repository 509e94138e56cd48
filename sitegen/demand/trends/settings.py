"""The ``[trends]`` settings the agent reads beyond their types: the date it plans for, the time span of the
trends it reads, and its LLM (checked at config load, each problem named by its key).

The LLM's engine is one of the shared ones (``sitegen.engines.vlm``): ``trends.llm_backend`` chooses it,
``trends.llm_model`` names the model (empty: ``vlm.model`` when the backend is ``vlm.backend``'s) and
``trends.llm_base_url`` the server (empty: ``vlm.base_url``); every other engine setting (decoding, batch size,
concurrency, retries, timeout, device, API key) is ``[vlm]``'s, with ``trends.llm_max_new_tokens``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sitegen.core.config import Config, VlmSection

_RELATIVE = re.compile(r"^(?:today|now)\s+(\d+)-([dmy])$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s+(\d{4}-\d{2}-\d{2})$")


def today_of(cfg: Config) -> date:
    """``trends.today``, or the real date when it is empty."""
    return date.fromisoformat(cfg.trends.today) if cfg.trends.today else date.today()


def timespan_range(text: str, today: date) -> tuple[date | None, date | None]:
    """(first, last) day of ``trends.timespan``: ``YYYY-MM-DD YYYY-MM-DD``, ``today N-d`` / ``N-m`` / ``N-y``
    (the last N days, months or years up to ``today``), or ``""`` (every date: (None, None)). Raises
    ``ValueError`` for anything else."""
    text = " ".join(text.split())
    if not text:
        return None, None
    m = _RANGE.match(text)
    if m:
        first, last = date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2))
        if first > last:
            raise ValueError("the first date is after the last")
        return first, last
    m = _RELATIVE.match(text)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        if n <= 0:
            raise ValueError("the span must be at least 1")
        days = {"d": n, "m": round(n * 30.44), "y": round(n * 365.25)}[unit]
        return today - timedelta(days=days), today
    raise ValueError("use 'YYYY-MM-DD YYYY-MM-DD', 'today N-m', 'today N-y', 'today N-d' or ''")


@dataclass(frozen=True)
class LlmSettings:
    """The agent's engine: ``[vlm]`` with the ``trends.llm_*`` keys applied; ``model_key`` names the key that
    gave the model (for messages)."""

    vlm: VlmSection
    model_key: str


def settings_problems(cfg: Config) -> list[str]:
    """What is wrong with the ``[trends]`` settings, each line named by its key."""
    problems: list[str] = []
    t = cfg.trends
    today = date.today()
    if isinstance(t.today, str) and t.today:
        try:
            today = date.fromisoformat(t.today)
        except ValueError:
            problems.append(f"trends.today: must be an ISO date (YYYY-MM-DD) or empty (got {t.today!r})")
    if isinstance(t.timespan, str):
        try:
            timespan_range(t.timespan, today)
        except ValueError as exc:
            problems.append(f"trends.timespan: {exc} (got {t.timespan!r})")
    if t.llm_backend:
        problems.extend(_resolve(cfg)[1])
    return problems


def llm_settings(cfg: Config) -> LlmSettings | None:
    """The agent's LLM settings, or None when ``trends.llm_backend`` is empty (deterministic policies)."""
    if not cfg.trends.llm_backend:
        return None
    settings, problems = _resolve(cfg)
    if problems:
        from sitegen.core.errors import ConfigError

        raise ConfigError(problems, path=str(cfg.root / "site.toml"))
    return settings


def _resolve(cfg: Config) -> tuple[LlmSettings, list[str]]:
    t, v = cfg.trends, cfg.vlm
    backend = t.llm_backend
    problems: list[str] = []
    if t.llm_model:
        model, key = t.llm_model, "trends.llm_model"
    elif backend == v.backend and v.model:
        model, key = v.model, "vlm.model"
    else:
        model, key = "", "trends.llm_model"
        problems.append(f"trends.llm_model: required when trends.llm_backend is set ({backend!r}): a local model "
                        "folder for transformers and vllm, a model name for openai"
                        + ("" if backend == v.backend else f" (vlm.model is for vlm.backend {v.backend!r})"))
    base_url = t.llm_base_url or v.base_url
    if backend == "openai" and not base_url:
        problems.append("trends.llm_base_url: required when trends.llm_backend is 'openai' (or set vlm.base_url), "
                        "e.g. http://127.0.0.1:8001/v1")
    section = dataclasses.replace(v, backend=backend, model=model, base_url=base_url, adapter="",
                                  max_new_tokens=t.llm_max_new_tokens)
    return LlmSettings(section, key), problems
