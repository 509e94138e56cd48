"""Query reward (Pinterest's Query Reward, per topic page): the engagement rate each page and each query earned
over the reward window, with decay, smoothed toward the average so a page with little data stays near it.

The window: ``reward.window_days`` days ending on the newest day imported (or ``today``). A day ``a`` days before
the window's end weighs ``0.5 ** (a / reward.half_life_days)``; a period row (a UI export's totals over
``start`` .. ``date``) is spread evenly over its days, so it weighs the mean weight of its days, counting only
those inside the window. Sums per page path and per query (keyed by ``sitegen.core.text.query_key``, the
``topic_key`` that topics are de-duplicated by) are those decayed sums.

The measure (``reward.measure``):

- ``ctr``: clicks / impressions, for every page with impressions;
- ``engagement``: engaged sessions / sessions (GA4), for every page with sessions; pages without GA4 data have no
  reward of their own (they get the average);
- ``auto`` (default): engagement for pages with GA4 sessions, CTR for the others.

Smoothing: a page's reward is ``(x + prior * avg) / (n + prior)`` (x = clicks or engaged sessions, n = impressions
or sessions, ``prior`` = ``reward.prior``), ``avg`` being the pooled rate of its measure over every page with
data (sum of x / sum of n). ``RewardTable.average`` is the pooled rate of the table's measure: CTR unless
``measure = "engagement"`` (or no page has impressions); it is what a page or query with no data gets. In
``auto``, a page measured by engagement is put on the CTR scale by its ratio to the pooled engagement rate
(``smoothed / avg_engagement * average``), so pages of both measures compare: one engaging twice as well as the
average page ranks like a page with twice the average CTR. Queries are measured by CTR (exports have no
sessions per query) and smoothed the same way, on the table's scale. When no page has data, the average is the
pooled CTR of the queries. Rewards are clipped to [0, 1].

A query's *searches* are the searches that showed the site: in query x page data the impressions of the page
shown most for it (every search counts one impression for each page it showed, so the query's impressions
summed over its pages count a search once per page), else its impressions. ``RewardTable.top`` is the pooled
CTR of each query's best-placed page: what a page that becomes a query's first result can expect of its
searches (``sitegen.demand.steer`` prices a topic without a page of its own by it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from sitegen.core.models import Reward, RewardTable
from sitegen.core.text import query_key

__all__ = ["query_key", "reward_table", "reward_window", "decayed_sums", "Sums"]


@dataclass
class Sums:
    clicks: float = 0.0
    impressions: float = 0.0
    sessions: float = 0.0
    engaged: float = 0.0
    spellings: dict[str, float] | None = None  # queries: raw text -> decayed impressions


def reward_window(store, cfg, today: str | None = None) -> tuple[str, str] | None:
    """(first day, last day) of the reward window: ``reward.window_days`` days ending on ``today`` or on the
    newest day imported; None when nothing is imported (and no ``today``)."""
    if today:
        end = date.fromisoformat(today)
    else:
        span = store.signals.date_range()
        if span is None:
            return None
        end = date.fromisoformat(span[1])
    return (end - timedelta(days=cfg.reward.window_days - 1)).isoformat(), end.isoformat()


@lru_cache(maxsize=4096)
def period_weight(start: str, stop: str, end: str, window_days: int, half_life: float) -> float:
    """The decay weight of a row covering ``start`` .. ``stop``: the mean over its days of
    ``0.5 ** (age / half_life)``, days outside the window (age 0 .. window_days - 1 before ``end``) counting 0."""
    s, e, last = date.fromisoformat(start), date.fromisoformat(stop), date.fromisoformat(end)
    days = (e - s).days + 1
    lo, hi = max(0, (last - e).days), min(window_days - 1, (last - s).days)
    if days <= 0 or hi < lo:
        return 0.0
    r = 0.5 ** (1.0 / half_life)
    return (r ** lo - r ** (hi + 1)) / (1.0 - r) / days


def decayed_sums(store, cfg, by: str, window: tuple[str, str]) -> dict[str, Sums]:
    """Decayed sums per page path (``by="page"``) or per query key (``by="query"``) over ``window``."""
    first, end = window
    out: dict[str, Sums] = {}
    for key, start, stop, clicks, impressions, sessions, engaged in store.signals.sums(by, first, end):
        w = period_weight(start, stop, end, cfg.reward.window_days, float(cfg.reward.half_life_days))
        if w <= 0.0:
            continue
        name = query_key(key) if by == "query" else key
        if not name:
            continue
        s = out.setdefault(name, Sums(spellings={} if by == "query" else None))
        s.clicks += w * clicks
        s.impressions += w * impressions
        s.sessions += w * sessions
        s.engaged += w * engaged
        if s.spellings is not None:
            s.spellings[key] = s.spellings.get(key, 0.0) + w * impressions
    return out


def decayed_best(store, cfg, window: tuple[str, str]) -> dict[str, Sums]:
    """Per query key, decayed over ``window``: ``sessions`` holds its searches (the impressions of its
    most-shown page), ``clicks`` / ``impressions`` those of its best-placed page (``Signals.best_results``)."""
    first, end = window
    out: dict[str, Sums] = {}
    for key, start, stop, searches, clicks, impressions in store.signals.best_results(first, end):
        w = period_weight(start, stop, end, cfg.reward.window_days, float(cfg.reward.half_life_days))
        name = query_key(key)
        if w <= 0.0 or not name:
            continue
        s = out.setdefault(name, Sums())
        s.sessions += w * searches
        s.clicks += w * clicks
        s.impressions += w * impressions
    return out


def _pooled(values, num: str, den: str) -> float | None:
    n = sum(getattr(v, den) for v in values)
    return sum(getattr(v, num) for v in values) / n if n > 0 else None


def _smooth(x: float, n: float, prior: float, avg: float) -> float:
    total = n + prior
    return (x + prior * avg) / total if total > 0 else avg


def _clip(v: float) -> float:
    return min(1.0, max(0.0, v))


def reward_table(store, cfg, today: str | None = None) -> RewardTable:
    """The reward of every page and query with data in the window (see the module docstring)."""
    window = reward_window(store, cfg, today)
    if window is None:
        return RewardTable()
    pages = decayed_sums(store, cfg, "page", window)
    queries = {k: v for k, v in decayed_sums(store, cfg, "query", window).items() if v.impressions > 0}
    measure, prior = cfg.reward.measure, float(cfg.reward.prior)
    with_impressions = [v for v in pages.values() if v.impressions > 0]
    with_sessions = [v for v in pages.values() if v.sessions > 0]
    avg_ctr = _pooled(with_impressions, "clicks", "impressions")
    if avg_ctr is None:
        avg_ctr = _pooled(queries.values(), "clicks", "impressions")
    avg_eng = _pooled(with_sessions, "engaged", "sessions") if measure != "ctr" else None
    if measure == "engagement" or (avg_ctr is None and avg_eng is not None):
        average, scale = (avg_eng or 0.0), "engagement"
    else:
        average, scale = (avg_ctr or 0.0), "ctr"

    def on_scale(value: float, own: str, own_avg: float) -> float:
        if own == scale:
            return _clip(value)
        return _clip(value / own_avg * average) if own_avg > 0 else _clip(average)

    out_pages: dict[str, Reward] = {}
    for path, v in sorted(pages.items()):
        if measure != "ctr" and v.sessions > 0:
            smoothed = _smooth(v.engaged, v.sessions, prior, avg_eng or 0.0)
            value, own = on_scale(smoothed, "engagement", avg_eng or 0.0), "engagement"
        elif measure != "engagement" and v.impressions > 0:
            value, own = on_scale(_smooth(v.clicks, v.impressions, prior, avg_ctr or 0.0), "ctr", avg_ctr or 0.0), "ctr"
        else:
            continue
        out_pages[path] = Reward(path, value, v.impressions, v.clicks, v.sessions, v.engaged, own)  # type: ignore[arg-type]
    best = decayed_best(store, cfg, window)
    out_queries: dict[str, Reward] = {}
    for key, v in sorted(queries.items()):
        value = on_scale(_smooth(v.clicks, v.impressions, prior, avg_ctr or 0.0), "ctr", avg_ctr or 0.0)
        searches = best[key].sessions if key in best else v.impressions
        out_queries[key] = Reward(key, value, v.impressions, v.clicks, 0.0, 0.0, "ctr", min(searches, v.impressions))
    top = _pooled(best.values(), "clicks", "impressions")
    top = on_scale(top, "ctr", avg_ctr or 0.0) if top is not None else 0.0
    return RewardTable(out_pages, out_queries, _clip(average), unseen_pages(store, window, out_pages), top=top)


def unseen_pages(store, window: tuple[str, str], pages) -> frozenset[str]:
    """The live collection pages without data in ``window`` that were created before its last day (while an
    older day was the newest imported, or before any import): they were published through days the signals
    cover and earned no impression."""
    end = window[1]
    return frozenset(p.path for p in store.lifecycle.live().values()
                     if p.path not in pages and (p.through or "") < end)
