"""`sitegen build` with the vlm generator on a saved tiny Qwen2-VL folder, and back to retrieval by setting."""

from __future__ import annotations

import csv
import shutil

import pytest
from PIL import Image

from sitegen.pipeline.build import build_site
from sitegen.core.config import load_config

from .conftest import copy_example
from .sitetools import all_pages


@pytest.fixture(scope="module")
def vlm_tiny_folder(tmp_path_factory):
    from sitegen.engines.tiny import make_tiny_qwen2vl

    return make_tiny_qwen2vl(tmp_path_factory.mktemp("tiny") / "qwen2vl")


def small_catalog(folder, n=14):
    (folder / "img").mkdir(parents=True)
    rows = []
    for i in range(n):
        Image.new("RGB", (48, 48), (220, 20 + 10 * i, 30)).save(folder / "img" / f"{i}.png")
        rows.append({"id": f"apple-{i}", "title": f"Red Apple {i}", "category": "Food",
                     "keywords": "apple;fruit;red", "image": f"img/{i}.png"})
    with open(folder / "catalog.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    (folder / "site.toml").write_text('[site]\ntitle = "Apples"\nbase_url = "https://a.example/"\n'
                                      '[catalog]\npath = "catalog.csv"\nimages_dir = "."\n'
                                      '[build]\ncheck = false\n', encoding="utf-8")


def vlm_settings(model) -> dict:
    return {"represent.generator": "vlm", "vlm.backend": "transformers", "vlm.model": str(model),
            "vlm.max_new_tokens": 24, "vlm.device": "cpu"}


def test_vlm_generator_builds_and_switches_back(tmp_path, vlm_tiny_folder):
    small_catalog(tmp_path)
    result = build_site(load_config(tmp_path / "site.toml", vlm_settings(vlm_tiny_folder)))
    c = result.summary.counters
    assert c["generator"] == "vlm"
    # random weights write no parseable queries: every item falls back to retrieval, and is counted
    assert c["generator_generated"] + c["generator_cached"] + c["generator_fallback"] >= 14
    assert c["generator_fallback"] >= 1
    assert sum(1 for p in all_pages(tmp_path / "build") if p.startswith("/item/")) == 14
    again = build_site(load_config(tmp_path / "site.toml", vlm_settings(vlm_tiny_folder)))
    assert again.summary.counters["generator_generated"] == 0, "second run must come from the cache"
    back = build_site(load_config(tmp_path / "site.toml"))
    assert back.summary.counters["generator"] == "retrieval"


@pytest.mark.slow
def test_vlm_generator_builds_the_example_site(tmp_path, vlm_tiny_folder):
    site = copy_example(tmp_path / "site")
    result = build_site(load_config(site / "site.toml", vlm_settings(vlm_tiny_folder)))
    assert result.summary.counters["generator"] == "vlm"
    assert result.summary.pages_by_kind["item"] == result.summary.items_accepted
    assert result.summary.counters.get("audit_errors", 0) == 0
    shutil.rmtree(site / "build")
