"""Colour names from pixels (Pillow + numpy): the words people put in searches, such as "green apple".

Each pixel of a 64 px thumbnail is named by its nearest prototype in CIELAB space from a fixed palette of
16 common colour words (several prototypes per word). Transparent pixels are ignored, and so is a near-white
background that touches the image border (product photos on white), unless that would leave almost nothing
(a white product on white). The result is deterministic.
"""

from __future__ import annotations

import os

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from sitegen.core.text import is_colour_key

if TYPE_CHECKING:
    from sitegen.core.models import Item
    from sitegen.store.db import Store

# word -> sRGB prototypes
PALETTE: dict[str, tuple[tuple[int, int, int], ...]] = {
    "black": ((0, 0, 0), (30, 30, 30), (52, 52, 52)),
    "white": ((255, 255, 255), (240, 240, 234), (222, 222, 222)),
    "grey": ((128, 128, 128), (92, 92, 92), (165, 165, 165), (190, 190, 190)),
    "beige": ((245, 240, 215), (225, 205, 170), (205, 185, 150)),
    "brown": ((110, 70, 40), (150, 100, 60), (75, 48, 30), (165, 120, 85)),
    "red": ((220, 20, 30), (190, 30, 40), (250, 70, 60)),
    "maroon": ((128, 0, 32), (100, 22, 35), (120, 40, 50)),
    "orange": ((255, 140, 0), (240, 110, 40), (250, 165, 90)),
    "yellow": ((255, 220, 0), (250, 235, 100), (225, 195, 45)),
    "olive": ((110, 110, 40), (128, 128, 0), (85, 95, 50)),
    "green": ((30, 140, 50), (100, 190, 80), (20, 90, 40), (150, 210, 130)),
    "teal": ((0, 128, 128), (40, 165, 165), (0, 95, 100)),
    "blue": ((30, 90, 200), (80, 140, 220), (130, 175, 230), (60, 110, 170), (70, 105, 140), (170, 190, 215)),
    "navy": ((20, 30, 80), (30, 40, 105), (35, 45, 65)),
    "purple": ((110, 50, 150), (150, 100, 190), (80, 30, 100), (185, 155, 215)),
    "pink": ((255, 150, 190), (230, 80, 140), (250, 195, 205), (200, 60, 120)),
}
COLOUR_WORDS: frozenset[str] = frozenset(PALETTE)

_THUMB = 64
_NAMES = tuple(PALETTE)
_PROTO_NAME = np.array([i for i, name in enumerate(_NAMES) for _ in PALETTE[name]], dtype=np.int64)


def _srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(n, 3) sRGB 0..255 -> (n, 3) CIELAB (D65)."""
    c = rgb.astype(np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


# Shading turns part of any object grey, black or white: those words need more pixels to win.
_ACHROMATIC_WEIGHT = 0.6
_WEIGHT = np.array([_ACHROMATIC_WEIGHT if n in ("black", "white", "grey") else 1.0 for n in _NAMES])
_PROTO_LAB = _srgb_to_lab(np.array([p for name in _NAMES for p in PALETTE[name]], dtype=np.float64))


@lru_cache(maxsize=1)
def _lookup() -> tuple[np.ndarray, np.ndarray]:
    """Palette index and near-white flag for every colour quantised to 5 bits a channel (built once)."""
    levels = np.arange(32) * 8 + 4
    rgb = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(-1, 3)
    lab = _srgb_to_lab(rgb)
    names = _name_lab(lab)
    light = (lab[:, 0] >= 88.0) & (np.hypot(lab[:, 1], lab[:, 2]) <= 10.0)
    return names.reshape(32, 32, 32), light.reshape(32, 32, 32)


def _grow(mask: np.ndarray) -> np.ndarray:
    grown = mask.copy()
    grown[1:, :] |= mask[:-1, :]
    grown[:-1, :] |= mask[1:, :]
    grown[:, 1:] |= mask[:, :-1]
    grown[:, :-1] |= mask[:, 1:]
    return grown


def _border_background(light: np.ndarray) -> np.ndarray:
    """Mask of near-white pixels connected to the image border (4-neighbourhood flood fill)."""
    mask = np.zeros_like(light)
    mask[0, :], mask[-1, :], mask[:, 0], mask[:, -1] = light[0, :], light[-1, :], light[:, 0], light[:, -1]
    while True:
        grown = _grow(mask) & light
        if np.array_equal(grown, mask):
            return mask
        mask = grown


def name_pixels(rgb: np.ndarray) -> np.ndarray:
    """Palette index (into ``tuple(PALETTE)``) of each (n, 3) sRGB pixel."""
    return _name_lab(_srgb_to_lab(rgb.reshape(-1, 3)))


def _name_lab(lab: np.ndarray) -> np.ndarray:
    dist = ((lab[:, None, :] - _PROTO_LAB[None, :, :]) ** 2).sum(axis=2)
    return _PROTO_NAME[dist.argmin(axis=1)]


@dataclass(frozen=True, slots=True)
class ImageTraits:
    """What the pixels say: colour words with their (weighted) shares, largest first, and whether the image
    has a transparent background (most of its border is transparent: a cut-out, as clipart PNGs are)."""

    colours: tuple[tuple[str, float], ...] = ()
    transparent: bool = False


def dominant_colours(path: str, k: int = 3, *, min_share: float = 0.05) -> list[tuple[str, float]]:
    """Up to ``k`` (colour word, share of the object's pixels), largest share first; black, white and grey
    pixels count 0.6 (shading makes every object partly achromatic), so shares are weighted. Shares below
    ``min_share`` are left out. An unreadable image gives []."""
    return list(image_traits(path, k, min_share=min_share).colours)


def image_traits(path: str, k: int = 3, *, min_share: float = 0.05) -> ImageTraits:
    """Colours (as ``dominant_colours``) and transparency of one image; an unreadable image gives no traits."""
    from PIL import Image, UnidentifiedImageError

    from sitegen.ingest.images import large_decode, reduced

    try:
        with Image.open(path) as im:
            with large_decode(im.width * im.height):
                im.draft("RGB", (_THUMB * 2, _THUMB * 2))  # JPEG: decode at a reduced scale
                im = reduced(im, _THUMB * 2, _THUMB * 2)  # a large image of another format: box-reduced first
                im = im.convert("RGBA")
                im.thumbnail((_THUMB, _THUMB), Image.Resampling.BILINEAR)
                pixels = np.asarray(im, dtype=np.uint8)
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return ImageTraits()
    opaque = pixels[..., 3] >= 128
    if not opaque.any():
        return ImageTraits(transparent=True)
    ring = np.concatenate([~opaque[0, :], ~opaque[-1, :], ~opaque[:, 0], ~opaque[:, -1]])
    transparent = bool(ring.mean() >= 0.5)
    names_lut, light_lut = _lookup()
    q = pixels[..., :3] >> 3
    names_px = names_lut[q[..., 0], q[..., 1], q[..., 2]]
    background = _border_background(light_lut[q[..., 0], q[..., 1], q[..., 2]] & opaque)
    keep = opaque & ~background
    if background.any():  # drop the anti-aliased rim where the object blends into the background
        inner = keep & ~_grow(background)
        if inner.sum() >= 0.25 * keep.sum():
            keep = inner
    if keep.sum() < max(4, 0.03 * opaque.sum()):  # a white object on white: name what there is
        keep = opaque
    names = names_px[keep]
    counts = np.bincount(names, minlength=len(_NAMES)).astype(np.float64)
    counts *= _WEIGHT
    total = counts.sum()
    order = sorted(range(len(_NAMES)), key=lambda i: (-counts[i], i))
    out = []
    for i in order[:k]:
        share = float(counts[i] / total)
        if share < min_share:
            break
        out.append((_NAMES[i], round(share, 4)))
    return ImageTraits(tuple(out), transparent)


CACHE_NAMESPACE = "colours:v2"  # store cache: image sha (or path) -> {"colours": [[word, share]], "transparent"}


def cached_traits(items: Sequence[Item], store: Store | None = None) -> dict[str, ImageTraits]:
    """Item id -> traits of its image (5 colours at most), read from / written to the store's cache keyed by
    the image hash, so a second build reads no pixels. Items without an image are left out."""
    keys = {item.id: item.image_sha or item.image for item in items if item.image}
    cached: dict[str, dict] = {}
    if store is not None and keys:
        got = store.cache.get(CACHE_NAMESPACE, sorted(set(keys.values())))
        cached = {k: v for k, v in got.items() if isinstance(v, dict)}
    from sitegen.ingest.images import LARGE_PIXELS

    small: dict[str, str] = {}  # image key -> the path of its first item
    large: dict[str, str] = {}
    for item in items:
        key = keys.get(item.id)
        if key is not None and key not in cached:
            (large if item.width * item.height > LARGE_PIXELS else small).setdefault(key, item.image)
    fresh: dict[str, dict] = {}

    def keep(key: str, t: ImageTraits) -> None:
        fresh[key] = {"colours": [[n, share] for n, share in t.colours], "transparent": t.transparent}

    if small:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max(1, min(8, os.cpu_count() or 1, len(small)))) as pool:  # Pillow frees the GIL
            for key, t in zip(small, pool.map(lambda path: image_traits(path, k=5), small.values())):
                keep(key, t)
    for key, path in large.items():  # one at a time, in this thread (see publish.media.make_thumbnails)
        keep(key, image_traits(path, k=5))
    out: dict[str, ImageTraits] = {}
    for item_id, key in keys.items():
        value = cached[key] if key in cached else fresh[key]
        out[item_id] = ImageTraits(tuple((str(n), float(sh)) for n, sh in value.get("colours", [])),
                                   bool(value.get("transparent", False)))
    if store is not None and fresh:
        store.cache.put(CACHE_NAMESPACE, fresh)
    return out


def pixel_colours(items: Sequence[Item], store: Store | None = None, *,
                  min_share: float = 0.2, k: int = 2) -> dict[str, list[str]]:
    """Item id -> up to ``k`` colour words covering at least ``min_share`` of its image (cached as above): the
    colours the retrieval generator uses when the catalog names none."""
    return {item_id: [n for n, share in t.colours if share >= min_share][:k]
            for item_id, t in cached_traits(items, store).items()}


def with_pixel_colours(items: list[Item], store: Store) -> list[Item]:
    """Items whose catalog names no colour get the colour words computed from their pixels as ``colour``
    attributes (one per colour), so relevance, summaries, embeddings and item facts all see them."""
    def has_colour(item: Item) -> bool:
        return any(is_colour_key(k) for k, _ in item.attributes)

    todo = [i for i in items if not has_colour(i)]
    if not todo:
        return items
    names = pixel_colours(todo, store)
    return [replace(i, attributes=i.attributes + tuple(("colour", c) for c in names.get(i.id, ())))
            if i.id in names and not has_colour(i) else i for i in items]
