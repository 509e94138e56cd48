"""Image validation shared by the loader: format, size as displayed, and whether the bytes decode.

Large images (more than ``LARGE_PIXELS``) are decoded one at a time in the whole process (``large_decode``),
and reduced while they are decoded where the format allows it (JPEG's ``draft``), so a catalog of 40-MP
images needs the memory of one decoded image, not of one per thread. The thumbnail and colour stages use the
same gate.
"""

from __future__ import annotations

import io
import re
import threading
from contextlib import contextmanager
from typing import Iterator

from PIL import Image

IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg", "MPO": "jpg", "GIF": "gif", "WEBP": "webp"}
UNVERIFIED = "unverified"  # error value: header read, too many pixels to decode under the limit then in force
DEFERRED = "deferred"  # error value: a large image, not decoded here (``large=False``): decode it in one thread
LARGE_PIXELS = 4_000_000  # above this, an image is decoded alone and reduced as early as the format allows
_LARGE = threading.Lock()
_BOMB_SIZE = re.compile(r"\((\d+) pixels\)")


@contextmanager
def large_decode(pixels: int) -> Iterator[None]:
    """Hold the process-wide gate while decoding an image of ``pixels`` pixels (only large ones wait)."""
    if pixels <= LARGE_PIXELS:
        yield
        return
    with _LARGE:
        yield


def reduced(im: Image.Image, width: int, height: int) -> Image.Image:
    """A large image decoded and shrunk by a whole factor (box average) to no less than twice ``width`` x
    ``height``; small images, and images already reduced while decoding (JPEG draft), come back as they are."""
    w, h = im.size
    if w * h <= LARGE_PIXELS:
        return im
    factor = min(w // (2 * max(1, width)), h // (2 * max(1, height)))
    if factor < 2:
        return im
    if im.mode not in ("L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "La", "RGBa", "I", "F"):
        im = im.convert("RGBA" if im.mode in ("P", "PA") and "transparency" in im.info or im.mode == "PA"
                        else "RGB")
    out = im.reduce(factor)
    out.info = dict(im.info)
    return out


def pixels_detail(w: int, h: int, max_pixels: int) -> str:
    return f"image is {w}x{h} = {w * h} pixels, more than catalog.max_image_pixels ({max_pixels})"


def _bomb_detail(exc: BaseException, max_pixels: int) -> str:
    """Pillow's decompression-bomb guard fired: say so in terms of the configured limit, not Pillow's."""
    m = _BOMB_SIZE.search(str(exc))
    size = f"image is {int(m.group(1))} pixels" if m else "image has too many pixels to open"
    return f"oversized_image: {size}, more than catalog.max_image_pixels ({max_pixels})"


def _show(value: str, limit: int = 100) -> str:
    """A one-line, printable, bounded rendering of a value for a message."""
    s = value if len(value) <= limit else value[:limit] + "..."
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in s)


def _sniff_unsupported(data: bytes) -> str:
    head = data[:512].lstrip()
    if head.startswith((b"<?xml", b"<svg", b"<!DOCTYPE svg")) or b"<svg" in head:
        return "SVG"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"avif", b"heim", b"heis"):
        return "HEIF/AVIF"
    return ""


def _one_line(exc: BaseException) -> str:
    return _show(" ".join(str(exc).split()) or type(exc).__name__, 160)


def inspect_image(data: bytes, max_pixels: int, name: str = "", *, large: bool = True) -> tuple[str, int, int, str]:
    """(Pillow format, width, height, error) for image bytes; error is "" (decodes), UNVERIFIED (too many
    pixels to try), DEFERRED (``large`` is False and the image is larger than ``LARGE_PIXELS``), or
    "<reason>: <detail>". ``name`` (the path as the catalog wrote it) is used in messages."""
    shown = f" {_show(name)}" if name else ""
    try:
        im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        return "", 0, 0, _bomb_detail(exc, max_pixels)
    except Exception as exc:
        kind = _sniff_unsupported(data)
        if kind:
            return kind, 0, 0, f"unsupported_image: {kind} images are not supported (use PNG, JPEG, GIF or WEBP)"
        why = "" if "cannot identify image file" in str(exc) else f" ({_one_line(exc)})"
        return "", 0, 0, f"corrupt_image: not a readable image{shown}{why}"
    with im:
        fmt, (w, h) = im.format or "", im.size
        if fmt not in IMAGE_FORMATS:
            return fmt, w, h, f"unsupported_image: {fmt or 'this'} format is not supported (use PNG, JPEG, GIF or WEBP)"
        if w * h > max_pixels:
            return fmt, w, h, UNVERIFIED
        if not large and w * h > LARGE_PIXELS:
            return fmt, w, h, DEFERRED
        try:
            with large_decode(w * h):
                if fmt == "PNG":  # verify() checks the chunk CRCs and leaves the image unusable: decode a fresh one
                    im.verify()
                    with Image.open(io.BytesIO(data)) as fresh:
                        fresh.load()
                        w, h = _oriented(fresh, w, h)
                else:
                    if fmt in ("JPEG", "MPO") and w * h > LARGE_PIXELS:
                        im.draft(im.mode, (max(1, w // 8), max(1, h // 8)))  # every byte decoded, at 1/8 scale
                    im.load()
                    w, h = _oriented(im, w, h)
        except Image.DecompressionBombError as exc:
            return fmt, w, h, _bomb_detail(exc, max_pixels)
        except Exception as exc:
            return fmt, w, h, f"corrupt_image: {fmt} image{shown} does not decode ({_one_line(exc)})"
    return fmt, w, h, ""


def _oriented(im: Image.Image, w: int, h: int) -> tuple[int, int]:
    """The size as displayed: EXIF orientations 5-8 turn the image a quarter (as ImageOps.exif_transpose does)."""
    if not im.info.get("exif"):
        return w, h
    try:
        orientation = im.getexif().get(0x0112)
    except Exception:  # unreadable EXIF: the pixels are fine, keep the stored size
        return w, h
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)
