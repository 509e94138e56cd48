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


@pytest.mark.parametrize("category_share", [0.4, 0.0])
def test_weak_titles_lead_to_no_junk_candidates(tmp_path, category_share):
    """The lexical half, fast: the default lexicons, the learnt fragments, the generator's candidates and the
    topic gate on 400 items (no image, no embedding)."""
    from sitegen.aggregate.topics import topic_gate
    from sitegen.core.config import RepresentSection
    from sitegen.core.lexicon import load_lexicon
    from sitegen.core.text import item_text
    from sitegen.represent.fragments import learn_fragments
    from sitegen.represent.retrieval import RetrievalGenerator

    weak = make_weak_catalog(tmp_path, n_items=400, seed=0, category_share=category_share, copy_images=False)
    items = weak.catalog_items()
    words = load_lexicon(RepresentSection().lexicons, tmp_path, [item_text(i) for i in items])
    assert words.names == ("en",)  # file-name titles speak no domain: no foreign templates
    fragments = learn_fragments(items, words)
    assert set(fragments.tokens) == {w for c in weak.creators for w in c.split()}
    gen = RetrievalGenerator(RepresentSection(), None, corpus=items, lexicon=words, pixel_colours=False)
    gate = topic_gate(fragments, words)
    texts = sorted({c.text for item in items for c in gen.propose(item)})
    kept = [t for t in texts if gate(t) is None]
    phrases = foreign_phrases()
    bad = {t: why for t in kept if (why := junk(t, weak.creators, phrases))}
    assert len(kept) >= 400 and not bad, bad
    assert any(gate(t) for t in texts if junk(t, weak.creators, phrases) == "colour")  # facets were proposed


@pytest.mark.slow
@pytest.mark.parametrize("category_share", [0.4, 0.0])
def test_a_weak_title_catalog_publishes_at_most_2_percent_junk(tmp_path, category_share):
    weak, result, topics, bad = build_and_check(tmp_path, n_items=400, seed=0, category_share=category_share)
    assert weak.items == 400 and len(topics) >= 15
    assert len(bad) <= MAX_JUNK * len(topics), bad
