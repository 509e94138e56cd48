"""Images in the embed stage: each item's image vector (``embed.image_encoder``) fused with its text vector.

- an item with real text retrieves by ``normalise((1 - w) * text + w * image)``, ``w = embed.image_weight``;
- an item with *weak* text (``core.text.weak_text``: its title is empty or a file name such as ``IMG_1234``, and
  the catalog says nothing else about it) is placed by its image alone: its own text is left out, and it
  borrows from its ``NEIGHBOURS`` nearest items with text by image similarity (weighted by it). It retrieves
  by ``normalise(WEAK_IMAGE * image + (1 - WEAK_IMAGE) * mean of the neighbours' text vectors)``; relevance
  checks a topic's catalog words against its *evidence item*: the category, attribute values, keywords and
  title words its neighbours agree on (``evidence_items``), so a photo of a black shoe among black men's shoes
  can join "black shoes for men" without a title. How much agreement a field needs is measured on the catalog
  itself (``calibrate``): on items with text, the support at which their neighbours' vote is their own value
  ``ACCURACY`` (90%) of the time; a colour column whose photos look alike across values needs more than an
  article type. The represent stage gives the item the queries of the same neighbours
  (``represent.neighbours``).

The catalog encoder is trained here on first use when no trained one is saved (``sitegen train image`` trains
or refreshes it ahead of a build). A CLIP-style folder's image features are mapped into the text space by a
ridge head fitted on the site's own pairs (items with real text), every build (it takes well under a second).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from sitegen.core.errors import ModelError
from sitegen.core.text import normalise

if TYPE_CHECKING:
    from sitegen.core.models import Item
    from sitegen.core.stage import StageContext

NEIGHBOURS = 10  # items with text whose words (and queries) a weak-text item borrows
SUPPORT = 0.5  # the least share of the neighbours' weight a borrowed value needs (calibrate raises it per field)
ACCURACY = 0.9  # how often a borrowed value must be right, measured on the catalog's items with text
CALIBRATION_SAMPLE = 2000  # items with text that measure it
_MIN_VOTES = 20
WEAK_IMAGE = 0.3  # a weak-text item's vector: this share its image, the rest its image neighbours' texts
RIDGE_ALPHA = 1.0
_BLOCK = 1024


def image_vectors(ctx: StageContext, items: Sequence[Item], text_vectors: np.ndarray,
                  weak: np.ndarray) -> np.ndarray:
    """Every item's image in the text space (rows aligned with ``items``, L2-normalised), with the encoder
    ``embed.image_encoder`` names; counters ``images_encoded`` / ``images_cached``."""
    from sitegen.engines.image import CATALOG, MODEL_FILE, CatalogEncoder, ClipEncoder, apply_ridge, \
        cached_encode, catalog_model_dir, fit_ridge

    cfg = ctx.cfg
    choice = cfg.embed.image_encoder
    if choice == CATALOG:
        folder = catalog_model_dir(cfg)
        if not (folder / MODEL_FILE).is_file():
            from sitegen.learn.image_train import train_catalog_encoder

            try:
                result = train_catalog_encoder(items, ctx.embedder.encode, folder,
                                               text_model_id=ctx.embedder.model_id,
                                               progress=lambda name: ctx.progress(f"image {name}"))
            except ValueError as exc:  # too few items with text to learn from
                raise ModelError(f"embed.image_encoder: {exc}") from exc
            ctx.counters["image_encoder_trained"] = result.steps
        encoder = CatalogEncoder(folder)
        vectors, encoded = cached_encode(encoder, items, ctx.store, ctx.progress("images"))
    else:
        encoder = ClipEncoder(cfg.path(choice), device="cuda" if cfg.embed.device == "cuda" else "cpu")
        features, encoded = cached_encode(encoder, items, ctx.store, ctx.progress("images"))
        fit = np.flatnonzero(~weak)
        if len(fit) < 2:
            raise ModelError("embed.image_encoder: a CLIP-style model needs at least 2 items with text to fit "
                             "its head into the text space")
        vectors = apply_ridge(features, fit_ridge(features[fit], text_vectors[fit], RIDGE_ALPHA))
    ctx.counters["images_encoded"] = encoded
    ctx.counters["images_cached"] = len({it.image_sha for it in items}) - encoded
    return _l2(vectors)


def fuse(text_vectors: np.ndarray, image_vectors: np.ndarray, weak: np.ndarray, weight: float,
         neighbours: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """``normalise((1 - weight) * text + weight * image)`` per item with text. A weak-text item's own text
    says nothing, so it is left out: the item gets ``normalise(WEAK_IMAGE * image + (1 - WEAK_IMAGE) *
    neighbour texts)``, the second part the weighted mean of the texts of its nearest items by image
    (``neighbours``, from ``image_neighbours``; without them, the image alone). Both parts come from its image;
    the neighbours' texts put it on the same similarity scale as items with text (an image is never as close to
    a query as a text that says the same thing)."""
    fused = (1.0 - weight) * text_vectors + weight * image_vectors
    fused[weak] = image_vectors[weak]
    if neighbours is not None and neighbours[1].shape[1]:
        rows, nbrs, sims = neighbours
        w = neighbour_weights(sims)
        borrowed = _l2(np.einsum("nk,nkd->nd", w, text_vectors[nbrs]))
        fused[rows] = WEAK_IMAGE * image_vectors[rows] + (1.0 - WEAK_IMAGE) * borrowed
    return _l2(fused)


def image_neighbours(image_vectors: np.ndarray, weak: np.ndarray,
                     k: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each weak-text item (positions ``rows``): its ``k`` nearest items with text by image cosine
    (positions, similarities; best first). Returns (rows, neighbour positions, similarities)."""
    rows, donors = np.flatnonzero(weak), np.flatnonzero(~weak)
    k = min(k, len(donors))
    if not len(rows) or k == 0:
        return rows, np.zeros((len(rows), 0), np.int64), np.zeros((len(rows), 0), np.float32)
    idx = np.empty((len(rows), k), np.int64)
    sims = np.empty((len(rows), k), np.float32)
    donor_vecs = image_vectors[donors]
    for start in range(0, len(rows), _BLOCK):
        s = image_vectors[rows[start:start + _BLOCK]] @ donor_vecs.T
        top = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < len(donors) else \
            np.broadcast_to(np.arange(len(donors)), s.shape).copy()
        val = np.take_along_axis(s, top, axis=1)
        order = np.lexsort((top, -val), axis=1)  # nearest first, ties by position
        idx[start:start + _BLOCK] = donors[np.take_along_axis(top, order, axis=1)]
        sims[start:start + _BLOCK] = np.take_along_axis(val, order, axis=1)
    return rows, idx, sims


def neighbour_weights(sims: np.ndarray) -> np.ndarray:
    """Vote weights from neighbour similarities: the similarity above the farthest neighbour's, plus a floor,
    so nearer items count more and every neighbour counts."""
    if sims.shape[1] == 0:
        return sims
    w = np.maximum(sims - sims[:, -1:], 0.0) + 0.05
    return (w / w.sum(axis=1, keepdims=True)).astype(np.float32)


_CATEGORY, _KEYWORDS, _TITLE = "\0category", "\0keywords", "\0title"


def _fields(item: Item) -> dict[str, set[str]]:
    """An item's catalog fields as value sets: its category, each attribute (by name), keywords, title words."""
    out: dict[str, set[str]] = {}
    if item.category:
        out[_CATEGORY] = {item.category}
    for k, v in item.attributes:
        if v:
            out.setdefault(k, set()).add(v)
    if item.keywords:
        out[_KEYWORDS] = set(item.keywords)
    words = normalise(item.title).split()
    if words:
        out[_TITLE] = set(words)
    return out


def _votes(items: Sequence[Item], nbrs: Sequence[int], ws: Sequence[float]) -> dict[str, dict[str, float]]:
    """field -> value -> the share of the neighbours' weight that holds it."""
    votes: dict[str, dict[str, float]] = {}
    for j, w in zip(nbrs, ws):
        for field, values in _fields(items[j]).items():
            got = votes.setdefault(field, {})
            for v in values:
                got[v] = got.get(v, 0.0) + w
    return votes


def calibrate(items: Sequence[Item], image_vectors: np.ndarray, weak: np.ndarray, *, k: int = NEIGHBOURS,
              accuracy: float = ACCURACY, sample: int = CALIBRATION_SAMPLE, seed: int = 0) -> dict[str, float]:
    """The support each field needs before a weak-text item borrows its value, measured on the catalog itself:
    for a seeded sample of items *with* text, their image neighbours (other items with text) vote on every
    field as they would for a weak-text item, and a field's threshold is the lowest support (from ``SUPPORT``
    up, in steps of 0.05) at which the values voted are the item's own ``accuracy`` of the time (at least
    ``_MIN_VOTES`` votes). A field that never gets there is never borrowed (it is left out of the result)."""
    donors = np.flatnonzero(~weak)
    if len(donors) < 3:
        return {}
    rng = np.random.default_rng(seed)
    probe = np.sort(rng.choice(donors, min(sample, len(donors)), replace=False))
    votes_by_field: dict[str, list[tuple[float, bool]]] = {}
    for start in range(0, len(probe), _BLOCK):
        rows = probe[start:start + _BLOCK]
        sims = image_vectors[rows] @ image_vectors[donors].T
        sims[np.arange(len(rows)), np.searchsorted(donors, rows)] = -np.inf  # not its own neighbour
        kk = min(k, len(donors) - 1)
        top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
        val = np.take_along_axis(sims, top, axis=1)
        order = np.lexsort((top, -val), axis=1)
        nb = donors[np.take_along_axis(top, order, axis=1)]
        w = neighbour_weights(np.take_along_axis(val, order, axis=1))
        for r, nbrs, ws in zip(rows.tolist(), nb, w):
            own = _fields(items[r])
            for field, values in _votes(items, nbrs.tolist(), ws.tolist()).items():
                have = own.get(field, set())
                for v, share in values.items():
                    if share >= SUPPORT - 1e-9:
                        votes_by_field.setdefault(field, []).append((share, v in have))
    out: dict[str, float] = {}
    for key, pairs in sorted(votes_by_field.items()):
        arr = np.array(pairs, np.float64)
        for t in np.arange(SUPPORT, 1.0 + 1e-9, 0.05):
            sel = arr[arr[:, 0] >= t - 1e-9]
            if len(sel) >= _MIN_VOTES and sel[:, 1].mean() >= accuracy:
                out[key] = round(float(t), 2)
                break
    return out


def evidence_items(items: Sequence[Item], rows: np.ndarray, neighbours: np.ndarray, sims: np.ndarray,
                   thresholds: dict[str, float]) -> dict[int, Item]:
    """What relevance reads a weak-text item by (position -> a copy of the item): the catalog fields its image
    neighbours agree on. Each field votes with the neighbours' weights and keeps the values a share of them
    hold of at least the field's threshold (``calibrate``; a field without one is not borrowed): the category,
    each attribute (by name), keywords, and title words (in the order the neighbours' titles use them, so "navy
    blue" stays a phrase). The item's own text - a file name, the pixel colours the build adds - is left out,
    as in its vector. Its id and image stay its own."""
    from dataclasses import replace

    weights = neighbour_weights(sims)
    out: dict[int, Item] = {}
    for r, nbrs, ws in zip(rows.tolist(), neighbours, weights):
        votes = _votes(items, nbrs.tolist(), ws.tolist())

        def agreed(field: str) -> list[str]:
            got = votes.get(field, {})
            keep = []
            t = thresholds.get(field)
            for v, share in got.items():
                if t is not None and share >= t - 1e-9:
                    keep.append(v)
            return sorted(keep, key=lambda v: (-got[v], v))

        place: dict[str, float] = {}
        for j, w in zip(nbrs.tolist(), ws.tolist()):
            title = normalise(items[j].title).split()
            for word in dict.fromkeys(title):
                place[word] = place.get(word, 0.0) + w * title.index(word) / max(len(title) - 1, 1)
        title = sorted(agreed(_TITLE), key=lambda w: (place[w] / votes[_TITLE][w], w))
        cats = agreed(_CATEGORY)
        names = sorted(f for f in votes if f not in (_CATEGORY, _KEYWORDS, _TITLE))
        attributes = tuple((name, v) for name in names for v in agreed(name))
        out[r] = replace(items[r], title=" ".join(title), description="", category=cats[0] if cats else "",
                         keywords=tuple(agreed(_KEYWORDS)), attributes=attributes)
    return out


def _l2(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float32)
    return (v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)).astype(np.float32)
