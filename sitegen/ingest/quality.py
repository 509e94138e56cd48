"""A cheap image quality score in 0..1 from the pixels: resolution, sharpness and contrast.

- resolution: ``log(pixels / LOW_PIXELS) / log(HIGH_PIXELS / LOW_PIXELS)``, clipped: a 64x64 thumbnail scores 0,
  a one-megapixel image 1 (a catalog of 60x80 images scores about 0.03 everywhere);
- sharpness: the variance of the 4-neighbour Laplacian of the grey image (reduced to at most ``SIDE`` pixels a
  side, so every image is measured at a comparable scale), mapped by ``1 - exp(-var / SHARP_SCALE)``;
- contrast: the standard deviation of the grey levels over half the range (``std / 128``), clipped.

The score is their mean. ``image_quality`` caches it in the store by the image's content hash (namespace
``QUALITY_NAMESPACE``), so a catalog is measured once; an unreadable image scores 0.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from sitegen.core.models import Item

QUALITY_VERSION = 1
QUALITY_NAMESPACE = f"image_quality:v{QUALITY_VERSION}"
LOW_PIXELS = 64 * 64
HIGH_PIXELS = 1_000_000
SIDE = 256
SHARP_SCALE = 500.0


def quality_of(pixels: np.ndarray, width: int, height: int) -> float:
    """The score of a grey image (``pixels``: 2-d, 0..255, already reduced) of original size ``width`` x
    ``height``."""
    n = max(int(width) * int(height), 1)
    resolution = min(max(math.log(n / LOW_PIXELS) / math.log(HIGH_PIXELS / LOW_PIXELS), 0.0), 1.0)
    g = np.asarray(pixels, np.float32)
    if g.ndim != 2 or min(g.shape) < 3:
        return resolution / 3.0
    lap = 4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]
    sharpness = 1.0 - math.exp(-float(lap.var()) / SHARP_SCALE)
    contrast = min(float(g.std()) / 128.0, 1.0)
    return float((resolution + sharpness + contrast) / 3.0)


def file_quality(path: str) -> float:
    """The score of one image file; 0 when it cannot be read."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            width, height = im.size
            im.draft("L", (SIDE, SIDE))  # JPEG: decode at a reduced scale
            grey = im.convert("L")
            if max(grey.size) > SIDE:
                grey.thumbnail((SIDE, SIDE))
            return quality_of(np.asarray(grey), width, height)
    except (OSError, ValueError, Image.DecompressionBombError):
        return 0.0


def image_quality(items: Sequence[Item], store=None,
                  progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """float32 (n,): each item's image quality, read from the store's cache (by ``image_sha``) or measured and
    cached there."""
    keys = [i.image_sha or i.image for i in items]
    cached = store.cache.get(QUALITY_NAMESPACE, sorted(set(keys))) if store is not None else {}
    out = np.zeros(len(items), np.float32)
    fresh: dict[str, float] = {}
    for n, (item, key) in enumerate(zip(items, keys)):
        value = cached.get(key, fresh.get(key))
        if value is None:
            value = fresh[key] = round(file_quality(item.image), 6) if item.image else 0.0
        out[n] = float(value)
        if progress is not None and (n % 1000 == 0 or n == len(items) - 1):
            progress(n + 1, len(items))
    if store is not None and fresh:
        store.cache.put(QUALITY_NAMESPACE, fresh)
    return out
