"""Image validation shared by the loader: format, size as displayed, and whether the bytes decode."""

from __future__ import annotations

import io

from PIL import Image

IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg", "MPO": "jpg", "GIF": "gif", "WEBP": "webp"}
UNVERIFIED = "unverified"  # error value: header read, too many pixels to decode under the limit then in force


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


def inspect_image(data: bytes, max_pixels: int) -> tuple[str, int, int, str]:
    """(Pillow format, width, height, error) for image bytes; error is "" (decodes), UNVERIFIED (too many
    pixels to try), or "<reason>: <detail>"."""
    try:
        im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        return "", 0, 0, f"oversized_image: {_one_line(exc)}"
    except Exception as exc:
        kind = _sniff_unsupported(data)
        if kind:
            return kind, 0, 0, f"unsupported_image: {kind} images are not supported (use PNG, JPEG, GIF or WEBP)"
        return "", 0, 0, f"corrupt_image: not a readable image ({_one_line(exc)})"
    with im:
        fmt, (w, h) = im.format or "", im.size
        if fmt not in IMAGE_FORMATS:
            return fmt, w, h, f"unsupported_image: {fmt or 'this'} format is not supported (use PNG, JPEG, GIF or WEBP)"
        if w * h > max_pixels:
            return fmt, w, h, UNVERIFIED
        try:
            if fmt == "PNG":  # verify() checks the chunk CRCs and leaves the image unusable: decode a fresh one
                im.verify()
                with Image.open(io.BytesIO(data)) as fresh:
                    fresh.load()
                    w, h = _oriented(fresh, w, h)
            else:
                im.load()
                w, h = _oriented(im, w, h)
        except Image.DecompressionBombError as exc:
            return fmt, w, h, f"oversized_image: {_one_line(exc)}"
        except Exception as exc:
            return fmt, w, h, f"corrupt_image: {fmt} image does not decode ({_one_line(exc)})"
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
