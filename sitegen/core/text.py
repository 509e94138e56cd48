"""Item text: what represents an item for embeddings and lexical relevance."""

from __future__ import annotations

from sitegen.core.models import Item


def item_text(item: Item) -> str:
    """The text that represents an item for embeddings and lexical relevance."""
    parts = [item.title, item.category, " ".join(item.keywords), " ".join(v for _, v in item.attributes),
             item.description[:300]]
    return " . ".join(p for p in parts if p)
