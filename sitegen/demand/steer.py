"""Query-reward steering: how the rewards of the last weeks shape the next build (Pinterest's Query Reward).

A topic's *reward ratio* is the clicks its page can be expected to earn over those of the average page with
data, ``RewardTable.value``. A topic's expected clicks are the most of: its page's exposure x reward
(``Reward.value``: impressions x the smoothed engagement rate, i.e. the decayed clicks the page earned); what a
page of its own can expect of its query, the searches that showed the site x the rate at which a query's
best-placed page is clicked (``RewardTable.top``); and, for a topic without a page, the clicks its query
already brings. Pricing a topic with a page and one without by the same demand keeps near-duplicates from
trading places each week ("casual tshirts" against "tshirts men casual": the page that had the slot earns less
than its rival's estimate, loses it, and the rival's page then earns less than the first one's estimate). 1 for
a topic with no data, so it still gets its chance (Query Reward's average); 0 for a page that was live through
days the signals cover and earned no impression, its query no search (``RewardTable.unseen``: no demand, not
missing data). The rate alone would rank a page that ten searchers clicked at 50 % above the page that earns a
thousand clicks at 10 %; within a page budget the slot is worth its clicks. Wherever the build ranks topics or pages by strength,
steering ranks them by strength x ratio instead:

- collect: which viable topics get pages within ``collect.max_collections`` (and which of two duplicates keeps
  the page): a topic whose reward is below average loses its slot to a no-data topic of the same strength;
  two topics that searchers typed (``searched``) are told apart by the items their pages show, not by the
  overlap of their relevant items;
- link: the order of collections within each hub page, the hub slots and featured collections of the home
  page, and the related-collection slots (among a collection's near neighbours, similarity × ratio).

Steering is on when ``reward.steer`` is true and the table is not empty; otherwise nothing here runs and the
build is exactly the unsteered one. ``changes``-style helpers compare the steered choice with the unsteered one
(both orderings are computed, the site is built once) for the review report. Pure functions, no I/O.
"""

from __future__ import annotations

from typing import Hashable, Sequence, TypeVar

from sitegen.core import urls
from sitegen.core.models import Reward, RewardTable
from sitegen.core.text import normalise

K = TypeVar("K", bound=Hashable)
TABLE_ROWS = 500


def steering(rewards: RewardTable | None, steer: bool) -> RewardTable | None:
    """The table to steer with, or None when steering is off (``reward.steer`` false or no data)."""
    if rewards is None or not steer or rewards.empty or rewards.average <= 0:
        return None
    return rewards


def ratio(rewards: RewardTable, topic: str, path: str = "") -> float:
    """A topic's expected clicks over the average page's (see the module docstring: 1.0 with no data, 0.0 for
    an unseen page). ``path`` is the page the topic has, or had (``/topic/<slug>/``); queries are keyed by
    ``core.text.normalise``."""
    if rewards.average <= 0 or rewards.value <= 0:
        return 1.0
    from sitegen.core.text import query_key

    text = normalise(topic)
    q = rewards.queries.get(text) or rewards.queries.get(query_key(text))
    demand = q.searches * rewards.top if q is not None else 0.0  # what a page of its own can expect
    page = rewards.pages.get(path) if path else None
    if page is not None:
        return max(page.value, demand) / rewards.value
    if path and path in rewards.unseen and demand <= 0:
        return 0.0
    if q is None:
        return 1.0
    return max(q.value, demand) / rewards.value


def searched(rewards: RewardTable, topic: str) -> bool:
    """Whether searchers typed the topic: its query has searches in the table (a demand of its own, which the
    duplicate gate keeps apart from another typed topic whose relevant items overlap, ``aggregate.gates``)."""
    from sitegen.core.text import query_key

    text = normalise(topic)
    r = rewards.queries.get(text) or rewards.queries.get(query_key(text))
    return r is not None and max(r.searches, r.impressions) > 0


def steered(strength: float, reward_ratio: float) -> float:
    """Strength × reward ratio: the steered strength."""
    return strength * reward_ratio


def moves(before: Sequence[K], after: Sequence[K]) -> list[tuple[K, int, int]]:
    """(key, position before, position after), 1-based, of every key whose position changed (0 = absent)."""
    pos_b = {k: n for n, k in enumerate(before, 1)}
    pos_a = {k: n for n, k in enumerate(after, 1)}
    keys = list(after) + [k for k in before if k not in pos_a]
    return [(k, pos_b.get(k, 0), pos_a.get(k, 0)) for k in keys if pos_b.get(k, 0) != pos_a.get(k, 0)]


def gained_lost(before: Sequence[K], after: Sequence[K]) -> tuple[list[K], list[K]]:
    """(in ``after`` only, in ``before`` only), each in its own order."""
    b, a = set(before), set(after)
    return [k for k in after if k not in b], [k for k in before if k not in a]


def table_rows(rewards: RewardTable, topic_of: dict[str, str], limit: int = TABLE_ROWS) -> list[dict]:
    """The reward table for the report: one row per page with data (page, topic, impressions, clicks, sessions,
    reward, measure, reward / average), best reward first; ``topic_of`` maps a page path to its topic."""
    rows = []
    for path, r in rewards.pages.items():
        rows.append(_row(path, topic_of.get(path, ""), r, rewards.average))
    rows.sort(key=lambda row: (-row["reward"], row["page"]))
    return rows[:limit]


def _row(path: str, topic: str, r: Reward, average: float) -> dict:
    return {"page": path, "topic": topic, "impressions": round(r.impressions, 1), "clicks": round(r.clicks, 1),
            "sessions": round(r.sessions, 1), "engaged": round(r.engaged, 1), "reward": round(r.reward, 4),
            "measure": r.measure, "vs_average": round(r.reward / average, 3) if average > 0 else 1.0}


def table_summary(rewards: RewardTable | None, topic_of: dict[str, str], steer: bool) -> dict:
    """What the report shows of the reward table: the average, the rows, how many pages had no data."""
    if rewards is None or rewards.empty:
        return {}
    rows = table_rows(rewards, topic_of)
    without = sum(1 for p in topic_of if p not in rewards.pages)
    return {"average": round(rewards.average, 4), "pages": len(rewards.pages), "queries": len(rewards.queries),
            "rows": rows, "capped": len(rewards.pages) > len(rows), "pages_without_data": without,
            "steer": bool(steer)}


def collection_ratios(rewards: RewardTable, collections) -> list[float]:
    """The reward ratio of each collection (its page is ``/topic/<slug>/``)."""
    return [ratio(rewards, c.topic, urls.collection_url(c.slug)) for c in collections]
