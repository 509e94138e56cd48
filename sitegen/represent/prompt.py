"""The reverse-search prompt and the image preparation every VLM backend shares.

The prompt asks a vision-language model what people would *type into a search box* to find an image (not a
caption of what it is), as a JSON list of ``{"query", "category"}`` objects in the paper's three kinds mixed
30 / 30 / 40. ``PROMPT_VERSION`` is part of every cache key: change it whenever the wording changes.

Images are resized into the paper's pixel range (175,616 .. 602,112 pixels by default), keeping the aspect
ratio, with both sides multiples of 28 (Qwen2-VL's 14-pixel patches merged 2 x 2).
"""

from __future__ import annotations

import base64
import io
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sitegen.core.models import Item, QueryCategory

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image as PILImage

PROMPT_VERSION = "geo-reverse-search-v1"
PATCH_FACTOR = 28  # 14-pixel patches, 2 x 2 spatial merge
DEFAULT_MIN_PIXELS = 175_616  # 224 * 28 * 28
DEFAULT_MAX_PIXELS = 602_112  # 768 * 28 * 28

SYSTEM_PROMPT = (
    "You are a search expert. You predict the exact search queries real people type into a search engine "
    "to find an image. You answer with JSON only."
)

_TASK = """Look at the image and write {n_min} to {n_max} search queries that people would type to find this image.
Write queries, not captions: short (2 to 6 words), lowercase, natural search phrasing, no brand names, no hashtags.
Use three kinds of query:
- "description": what the image shows, the main entity named plainly (e.g. "soft green knit dress").
- "style": visual details and attributes such as colour, material, pattern, technique or aesthetic (e.g. "sage green monochrome look").
- "use_case": the intent or occasion someone has when searching (e.g. "modern office outfits for women", "capsule wardrobe must-haves").
Mix them about 30% description, 30% style and 40% use_case.
Answer with a JSON list only, no other text:
[{{"query": "...", "category": "description"}}, {{"query": "...", "category": "style"}}, {{"query": "...", "category": "use_case"}}]"""


def build_prompt(item: Item | None = None, *, context: bool = True, n_min: int = 5, n_max: int = 7) -> str:
    """The user-turn text for one image. With ``context``, the item's title, category and keywords are added
    as hints (the model should still search the *image*)."""
    text = _TASK.format(n_min=n_min, n_max=n_max)
    if context and item is not None:
        lines = []
        if item.title:
            lines.append(f"Title: {_clip(item.title, 200)}")
        if item.category:
            lines.append(f"Category: {_clip(item.category, 100)}")
        if item.keywords:
            lines.append(f"Keywords: {_clip(', '.join(item.keywords[:12]), 300)}")
        if lines:
            text = "Context from the catalog (hints only):\n" + "\n".join(lines) + "\n\n" + text
    return text


def chat_messages(prompt: str, *, system: str = SYSTEM_PROMPT, answer: str | None = None,
                  image: bool = True) -> list[dict]:
    """Chat-format messages with one image placeholder before the text (the layout used for training data
    and for the transformers backend's chat template); without ``image``, the user turn is plain text (what
    a text-only model's chat template expects)."""
    user: str | list[dict] = [{"type": "image"}, {"type": "text", "text": prompt}] if image else prompt
    messages: list[dict] = [
        {"role": "system", "content": system},
        {"role": "user", "content": user},
    ]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return messages


def format_target(queries: Iterable[tuple[str, QueryCategory]]) -> str:
    """The canonical assistant answer: a compact one-line JSON list (what training teaches the model to write)."""
    return json.dumps([{"query": text, "category": cat} for text, cat in queries], ensure_ascii=False)


# -- images ----------------------------------------------------------------------------------------------
def fit_pixels(width: int, height: int, *, min_pixels: int = DEFAULT_MIN_PIXELS,
               max_pixels: int = DEFAULT_MAX_PIXELS, factor: int = PATCH_FACTOR) -> tuple[int, int]:
    """Target (width, height): both multiples of ``factor``, area within [min_pixels, max_pixels] where the
    range allows, aspect ratio kept as closely as possible (Qwen2-VL's ``smart_resize`` rule)."""
    if width <= 0 or height <= 0:
        raise ValueError(f"invalid image size {width}x{height}")
    if max(width, height) / min(width, height) > 200:
        raise ValueError(f"aspect ratio of {width}x{height} is more than 200:1")
    if min_pixels > max_pixels:
        raise ValueError(f"min_pixels {min_pixels} > max_pixels {max_pixels}")
    h = max(factor, round(height / factor) * factor)
    w = max(factor, round(width / factor) * factor)
    if h * w > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h = max(factor, math.floor(height / beta / factor) * factor)
        w = max(factor, math.floor(width / beta / factor) * factor)
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h = math.ceil(height * beta / factor) * factor
        w = math.ceil(width * beta / factor) * factor
    return w, h


def load_image(path: str | Path, *, min_pixels: int = DEFAULT_MIN_PIXELS,
               max_pixels: int = DEFAULT_MAX_PIXELS) -> PILImage.Image:
    """Open an image as RGB, resized with :func:`fit_pixels` (bicubic)."""
    from PIL import Image

    with Image.open(path) as img:
        img.load()
        rgb = _to_rgb(img)
    size = fit_pixels(rgb.width, rgb.height, min_pixels=min_pixels, max_pixels=max_pixels)
    return rgb if size == rgb.size else rgb.resize(size, Image.Resampling.BICUBIC)


def image_data_url(image: PILImage.Image, fmt: Literal["auto", "png", "jpeg"] = "auto",
                   quality: int = 90) -> str:
    """A ``data:image/...;base64,`` URL for an OpenAI-style ``image_url`` part. ``auto``: JPEG for photos,
    PNG when the image has transparency."""
    if fmt == "auto":
        fmt = "png" if image.mode in ("RGBA", "LA", "P") else "jpeg"
    buf = io.BytesIO()
    if fmt == "jpeg":
        image.convert("RGB").save(buf, format="JPEG", quality=quality)
        mime = "image/jpeg"
    else:
        image.save(buf, format="PNG")
        mime = "image/png"
    return f"data:{mime};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _to_rgb(img: PILImage.Image) -> PILImage.Image:
    from PIL import Image

    if img.mode == "RGB":
        return img.copy()
    if img.mode in ("RGBA", "LA", "P"):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.split()[-1])
        return background
    return img.convert("RGB")


def _clip(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"
