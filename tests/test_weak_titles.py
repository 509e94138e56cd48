"""A catalog of another domain with weak, file-name titles (``tests/weaktitles.py``), built with the default
settings (no lexicons chosen): at most 2% of its topic pages may be junk - a creator's name, another domain's
template ("outfit ideas" on clipart), or a bare colour. The checker knows the generated creator names."""

from __future__ import annotations

import os

import pytest

from .conftest import EPOCH
from .weaktitles import foreign_phrases, junk, make_weak_catalog

MAX_JUNK = 0.02


def build_and_check(tmp_path, **kw):
    from sitegen.core.config import load_config
    from sitegen.pipeline.build import build_site

    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    weak = make_weak_catalog(tmp_path / "weak", **kw)
    cfg = load_config(weak.root / "site.toml")
    assert cfg.represent.lexicons == ["auto"]
    result = build_site(cfg)
    topics = sorted(p.parent.name for p in (weak.root / "build" / "topic").glob("*/index.html"))
    phrases = foreign_phrases()
    bad = {t: why for t in topics if (why := junk(t.replace("-", " "), weak.creators, phrases))}
    return weak, result, topics, bad


def test_the_checker_knows_junk():
    phrases = foreign_phrases()
    assert "outfit ideas" in phrases and "how to style" in phrases and "for festivals" in phrases
    creators = ("architetto fra", "ganson")
    assert junk("Architetto fra outfit ideas", creators, phrases) == "creator:architetto"
    assert junk("Baseball ganson ideas", creators, phrases) == "creator:ganson"
    assert junk("How to style blue apples", creators, phrases) == "template:how to style"
    assert junk("White", creators, phrases) == junk("blue clipart", creators, phrases) == "colour"
    assert junk("Red apple clipart", creators, phrases) is None


def test_a_small_weak_title_catalog_publishes_no_junk(tmp_path):
    weak, _, topics, bad = build_and_check(tmp_path, n_items=120, seed=1, category_share=0.5)
    assert weak.items == 120 and topics
    assert len(bad) <= MAX_JUNK * len(topics), bad


@pytest.mark.slow
@pytest.mark.parametrize("category_share", [0.4, 0.0])
def test_a_weak_title_catalog_publishes_at_most_2_percent_junk(tmp_path, category_share):
    weak, result, topics, bad = build_and_check(tmp_path, n_items=400, seed=0, category_share=category_share)
    assert weak.items == 400 and len(topics) >= 20
    assert len(bad) <= MAX_JUNK * len(topics), bad
