"""A collection's summary: one to three sentences built only from catalog facts (how many items, their main
categories, their most common colours, the newest date). Nothing is invented: no statistics beyond these
counts, no quotes, no claims about popularity."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from sitegen.core.models import Item
from sitegen.core.text import colour_values

_TOP = 3


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _top(counter: Counter, n: int = _TOP) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def item_colours(item: Item, colours: dict[str, list[str]] | None = None) -> list[str]:
    """An item's colour names: its colour attribute(s) when the catalog has them, else the names computed
    from its pixels (``colours``: item id -> colour names, dominant first)."""
    named = [v.lower() for v in colour_values(item)]
    if named:
        return named
    return [c.lower() for c in (colours or {}).get(item.id, [])[:1]]


def summarise(collection_topic: str, members: Sequence[Item], *, colours: dict[str, list[str]] | None = None) -> str:
    """E.g. '12 items for "black formal shoes for men": 9 Formal Shoes and 3 Casual Shoes. The most common
    colour is black (12 items). The newest item is dated 2024-05-01.'"""
    n = len(members)
    if n == 0:
        return ""
    topic = " ".join(str(collection_topic).split())
    head = f"{_plural(n, 'item')} for \u201c{topic}\u201d" if topic else _plural(n, "item")
    cats = Counter(m.category for m in members if m.category)
    sentences = []
    if len(cats) == 1 and sum(cats.values()) == n:
        sentences.append(f"{head}, all in {next(iter(cats))}.")
    elif cats:
        top = _top(cats)
        parts = [f"{c} {name}" for name, c in top]
        rest = n - sum(c for _, c in top)
        if rest:
            parts.append(f"{rest} in other categories" if rest > 1 else "1 in another category")
        sentences.append(f"{head}: {_and(parts)}.")
    else:
        sentences.append(f"{head}.")
    colour_counts = Counter()
    for m in members:
        for name in dict.fromkeys(item_colours(m, colours)):  # an item counts once per colour
            colour_counts[name] += 1
    if colour_counts:
        top = _top(colour_counts)
        if top[0][1] > 1 or len(colour_counts) == 1:
            listed = _and([f"{name} ({_plural(c, 'item')})" for name, c in top])
            sentences.append(f"The most common colour{'s are' if len(top) > 1 else ' is'} {listed}.")
        else:  # every colour once: no "most common"
            names = [name for name, _ in top]
            if len(colour_counts) > len(names):
                names.append(f"{len(colour_counts) - len(names)} more")
            sentences.append(f"They come in {len(colour_counts)} colours: {_and(names)}.")
    dates = [m.date for m in members if m.date]
    if dates:
        sentences.append(f"The newest item is dated {max(dates)[:10]}.")
    return " ".join(sentences)
