"""prompt.py: the reverse-search prompt, image sizing into the paper's pixel range, data URLs."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys

import pytest
from PIL import Image

from sitegen.core.models import Item
from sitegen.represent.prompt import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MIN_PIXELS,
    PROMPT_VERSION,
    SYSTEM_PROMPT,
    build_prompt,
    chat_messages,
    fit_pixels,
    format_target,
    image_data_url,
    load_image,
)


def _item(**kw) -> Item:
    base = dict(id="a1", title="Red apple on oak table", image="/x.png", image_sha="s", width=10, height=10,
                category="Food", keywords=("fruit", "apple"))
    base.update(kw)
    return Item(**base)


def test_vlm_prompt_asks_for_reverse_search_json_and_mix():
    text = build_prompt(None)
    assert "5 to 7 search queries" in text
    for word in ('"description"', '"style"', '"use_case"', "30% description", "30% style", "40% use_case",
                 '"query"', '"category"', "JSON"):
        assert word in text
    assert PROMPT_VERSION and "JSON" in SYSTEM_PROMPT


def test_vlm_prompt_context_only_when_enabled():
    item = _item()
    with_ctx = build_prompt(item, context=True)
    assert "Title: Red apple on oak table" in with_ctx and "Category: Food" in with_ctx
    assert "Keywords: fruit, apple" in with_ctx
    assert "Red apple" not in build_prompt(item, context=False)
    assert "Title:" not in build_prompt(_item(title="", category="", keywords=()), context=True)


def test_vlm_chat_messages_and_target():
    target = format_target([("red apple", "description"), ("teacher gift ideas", "use_case")])
    assert json.loads(target) == [{"query": "red apple", "category": "description"},
                                  {"query": "teacher gift ideas", "category": "use_case"}]
    msgs = chat_messages("p", answer=target)
    assert [m["role"] for m in msgs] == ["system", "user", "assistant"]
    assert msgs[1]["content"] == [{"type": "image"}, {"type": "text", "text": "p"}]


@pytest.mark.parametrize("w,h", [(1, 1), (50, 50), (100, 3000), (640, 480), (1024, 768), (4000, 3000),
                                 (8000, 100), (777, 1333), (28, 28), (3000, 20)])
def test_vlm_fit_pixels_range_and_multiples_of_28(w, h):
    nw, nh = fit_pixels(w, h)
    assert nw % 28 == 0 and nh % 28 == 0
    assert DEFAULT_MIN_PIXELS <= nw * nh <= DEFAULT_MAX_PIXELS
    if min(w, h) >= 100:  # aspect kept (within the 28-pixel rounding)
        assert abs(nw / nh - w / h) / (w / h) < 0.25


def test_vlm_fit_pixels_keeps_in_range_sizes_and_custom_range():
    assert fit_pixels(560, 448) == (560, 448)  # 250,880 px, already multiples of 28
    assert fit_pixels(100, 100, min_pixels=784, max_pixels=784 * 4) == (56, 56)
    with pytest.raises(ValueError):
        fit_pixels(0, 10)


def test_vlm_load_image_resizes_and_converts(tmp_path):
    p = tmp_path / "t.png"
    Image.new("RGBA", (300, 200), (255, 0, 0, 128)).save(p)
    img = load_image(p)
    assert img.mode == "RGB" and img.width % 28 == 0 and img.height % 28 == 0
    assert DEFAULT_MIN_PIXELS <= img.width * img.height <= DEFAULT_MAX_PIXELS
    assert img.width > img.height


def test_vlm_image_data_url_roundtrip():
    img = Image.new("RGB", (56, 28), (0, 128, 0))
    url = image_data_url(img)
    assert url.startswith("data:image/jpeg;base64,")
    decoded = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert decoded.size == (56, 28)
    assert image_data_url(img, "png").startswith("data:image/png;base64,")
    assert image_data_url(Image.new("RGBA", (4, 4))).startswith("data:image/png;base64,")


def test_vlm_generator_import_is_light():
    code = ("import sys, sitegen.represent.vlm, sitegen.learn.traindata, sitegen.learn.evalq, sitegen.learn.vlm_train, "
            "sitegen.engines.tiny; bad = [m for m in ('torch', 'transformers', 'peft', 'vllm', 'PIL') if m in sys.modules];"
            " print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
