"""The ``two_tower`` annotator: each item's annotations ranked by the trained VASE two-tower model.

1. Every link target (collection pages and their alias lines: the site's topics that have a page to link to,
   whether they came from generated queries, console queries or trends) is embedded once by the query tower;
   its vectors go into one ANN index per query category (``engines.index``, the site's ``[index]`` settings).
2. Every item is embedded by the item tower in one batched pass (numpy, blocks of ``model.BLOCK`` rows) and
   each index returns its ``NEIGHBOURS`` nearest targets: the candidates, with the collections the item is a
   member of.
3. A candidate's score is the cosine of the two towers' vectors; it counts as relevant when the item is a
   member there (the relevance scorer graded it relevant; memberships come first) or its score reaches the
   model's threshold (chosen on the training pairs), and each tier is ranked by the score.
   ``annotate.choose`` then picks 3-5 per item and balances the query mix, exactly as for ``similarity``.

Without a trained model (``two_tower.model``) the annotator is the ``similarity`` baseline.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from sitegen.core.models import QUERY_CATEGORIES, Collection, Item

NEIGHBOURS = 12  # nearest targets of each category per item (as the similarity annotator considers)
_MEMBER, _RELEVANT = 2.0, 1.0  # annotate's tier bonuses: quality >= _RELEVANT is relevant


def two_tower_annotator(items: Sequence[Item], collections: Sequence[Collection], item_vectors: np.ndarray,
                        topic_vectors: dict[str, np.ndarray], cfg, embed=None, embedded=None,
                        store=None) -> dict[str, tuple[str, ...]]:
    """The registered ``two_tower`` annotator (see the module docstring). ``embedded``: the embed stage's
    output (text and image vectors); ``store``: caches the image quality scores."""
    from sitegen.distribute.stage import similarity_annotator
    from sitegen.ingest.quality import image_quality
    from sitegen.learn.twotower.model import has_model, load_model

    folder = cfg.path(cfg.two_tower.model)
    if not has_model(folder):
        return similarity_annotator(items, collections, item_vectors, topic_vectors, cfg, embed=embed)
    model = load_model(folder)
    text = embedded.texts if embedded is not None else item_vectors
    image = embedded.image_vectors if embedded is not None else None
    return rank_annotations(items, collections, model, text, image, image_quality(items, store), topic_vectors,
                            cfg.link, cfg.represent.mix, cfg.index)


def candidates(model, item_x: np.ndarray, query_x: np.ndarray, categories: Sequence[str], index_cfg,
               members: tuple[np.ndarray, np.ndarray] | None = None, k: int = NEIGHBOURS
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised candidates: (item rows, target indexes, cosines, is-member) of every item's ``k`` nearest
    targets of each category by the two towers, and of its ``members`` (item rows, target indexes)."""
    from sitegen.engines.index import build_index

    u = model.encode_items(item_x)
    v = model.encode_queries(query_x)
    cat = np.array([QUERY_CATEGORIES.index(c) for c in categories], np.int64)
    rows, cols, sims = [], [], []
    n = len(u)
    for q in range(len(QUERY_CATEGORIES)):
        sub = np.flatnonzero(cat == q)
        if not len(sub) or not n:
            continue
        ids, s = build_index(v[sub], index_cfg).query(u, min(k, len(sub)))
        ok = ids >= 0
        rows.append(np.broadcast_to(np.arange(n)[:, None], ids.shape)[ok])
        cols.append(sub[ids[ok]])
        sims.append(s[ok])
    member = [np.zeros(sum(len(r) for r in rows), bool)]
    if members is not None and len(members[0]):
        mi, mc = members
        rows.append(mi)
        cols.append(mc)
        sims.append(np.einsum("ij,ij->i", u[mi], v[mc]))
        member.append(np.ones(len(mi), bool))
    if not rows:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0, np.float32), np.zeros(0, bool)
    return (np.concatenate(rows), np.concatenate(cols), np.concatenate(sims).astype(np.float32),
            np.concatenate(member))


def candidate_lists(n: int, rows: np.ndarray, cols: np.ndarray, sims: np.ndarray, member: np.ndarray,
                    threshold: float) -> list[list[tuple[int, float]]]:
    """Per item: [(target, quality)] best first, one entry per target. Quality is the cosine mapped to 0..1,
    plus a tier bonus as in ``annotate``: 2 for a membership (the relevance scorer graded it relevant), 1 for
    another candidate whose cosine reaches ``threshold``; so memberships come first, each tier ranked by the
    two towers."""
    tier = np.where(member, _MEMBER, np.where(sims >= threshold, _RELEVANT, 0.0))
    quality = (1.0 + sims.astype(np.float64)) / 2.0 + tier
    order = np.lexsort((cols, -quality, rows))
    rows, cols, quality = rows[order], cols[order], quality[order]
    keep = np.ones(len(rows), bool)
    if len(rows):  # a target found twice (nearest and member): its best entry, which sorts first
        key = rows.astype(np.int64) * (int(cols.max()) + 1) + cols
        _, first = np.unique(key, return_index=True)
        keep[:] = False
        keep[first] = True
    rows, cols, quality = rows[keep], cols[keep], quality[keep]
    bounds = np.searchsorted(rows, np.arange(n + 1))
    c, qv = cols.tolist(), quality.tolist()
    return [list(zip(c[bounds[i]:bounds[i + 1]], qv[bounds[i]:bounds[i + 1]])) for i in range(n)]


def target_inputs(targets: Sequence[Collection], topic_vectors: dict[str, np.ndarray], text: np.ndarray,
                  pos_of: dict[str, int]) -> np.ndarray:
    """The query tower's inputs of the link targets: each topic's vector (the centroid of its items' text
    vectors when it has none) and length."""
    from sitegen.learn.twotower.model import query_inputs

    dim = text.shape[1]
    vecs = np.zeros((len(targets), dim), np.float32)
    for t, coll in enumerate(targets):
        v = topic_vectors.get(coll.slug)
        if v is None:
            idx = [pos_of[i] for i in coll.item_ids if i in pos_of]
            v = text[idx].mean(axis=0) if idx else np.zeros(dim, np.float32)
        vecs[t] = np.asarray(v, np.float32) / max(float(np.linalg.norm(v)), 1e-12)
    return query_inputs(vecs, [c.topic for c in targets])


def rank_annotations(items: Sequence[Item], collections: Sequence[Collection], model, text_vectors: np.ndarray,
                     image_vectors: np.ndarray | None, quality: np.ndarray, topic_vectors: dict[str, np.ndarray],
                     link_cfg, mix: dict[str, float], index_cfg) -> dict[str, tuple[str, ...]]:
    """item id -> its annotations (collection slugs / alias keys), ranked by ``model``."""
    from sitegen.distribute.annotate import choose, with_aliases
    from sitegen.learn.twotower.model import item_inputs

    if not collections or not items:
        return {item.id: () for item in items}
    targets, page_of = with_aliases(collections)
    text = np.asarray(text_vectors, np.float32)
    pos_of = {item.id: i for i, item in enumerate(items)}
    mi, mc = [], []
    for t, coll in enumerate(targets):
        for item_id in coll.item_ids:
            if item_id in pos_of:
                mi.append(pos_of[item_id])
                mc.append(t)
    rows, cols, sims, member = candidates(model, item_inputs(text, image_vectors, quality),
                                          target_inputs(targets, topic_vectors, text, pos_of),
                                          [t.category for t in targets], index_cfg,
                                          (np.array(mi, np.int64), np.array(mc, np.int64)))
    cands = candidate_lists(len(items), rows, cols, sims, member, model.threshold)
    return choose(items, targets, page_of, cands, link_cfg, mix)
