"""Queries for items with weak text (a file-name title and nothing else), from their images.

When an image encoder is on, the embed stage finds each weak-text item's nearest items with text by image
(``engines.fusion.image_neighbours``). Their queries are the weak item's candidates: a query scores the share
of the neighbours' weight that has it (a query most look-alikes share is what people would search for to find
this image too), plus its cosine with the item's image vector as a tie-break; the shared post-processing picks
5-7 in the 30 / 30 / 40 mix as for every item. Candidates keep their query category; their source is
``image``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sitegen.core.models import Item, Query
from sitegen.represent.base import Candidate

_TIE_BREAK = 0.1  # weight of the cosine with the image next to the neighbours' share


def neighbour_candidates(items: Sequence[Item], rows: np.ndarray, neighbours: np.ndarray, sims: np.ndarray,
                         queries: Sequence[Query], item_vectors: np.ndarray,
                         encode) -> list[list[Candidate]]:
    """Candidates for ``items[rows[n]]`` (one list per row) from the queries of ``items[neighbours[n]]``.
    ``item_vectors``: what each item retrieves by (a weak-text item's image vector); ``encode``: the site's
    text embedder."""
    from sitegen.engines.fusion import neighbour_weights

    by_item: dict[str, list[Query]] = {}
    for q in queries:
        by_item.setdefault(q.item_id, []).append(q)
    weights = neighbour_weights(sims)
    pooled: list[dict[str, tuple[float, str]]] = []
    for nbrs, ws in zip(neighbours, weights):
        votes: dict[str, tuple[float, str]] = {}
        for j, w in zip(nbrs.tolist(), ws.tolist()):
            for q in by_item.get(items[j].id, ()):
                share, category = votes.get(q.text, (0.0, q.category))
                votes[q.text] = (share + w, category)
        pooled.append(votes)
    texts = list(dict.fromkeys(t for votes in pooled for t in votes))
    vectors = dict(zip(texts, encode(texts))) if texts else {}
    out: list[list[Candidate]] = []
    for r, votes in zip(rows.tolist(), pooled):
        vec = item_vectors[r]
        cands = [Candidate(t, cat, "image", round(share + _TIE_BREAK * float(vectors[t] @ vec), 6))
                 for t, (share, cat) in votes.items()]
        cands.sort(key=lambda c: (-c.score, c.text))
        out.append(cands)
    return out
