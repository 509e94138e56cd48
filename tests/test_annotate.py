"""annotate: 3-5 annotations per item, memberships first, the 30/30/40 mix over all annotations."""

from __future__ import annotations

from collections import Counter

import numpy as np

from sitegen.distribute.annotate import annotate, annotation_mix
from sitegen.core.config import CollectSection, LinkSection
from sitegen.core.models import Collection, Item

MIX = {"description": 0.3, "style": 0.3, "use_case": 0.4}


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def fixture(n_items=120, seed=0):
    """Many high-scoring description collections: a naive best-first pick is far from 30/30/40."""
    rng = np.random.default_rng(seed)
    items = [Item(id=f"i{n}", title=f"Thing {n}", image="", image_sha="", width=1, height=1, category="Things")
             for n in range(n_items)]
    vecs = unit(rng.standard_normal((n_items, 32)))
    spec = {"description": (10, 36, 0.95), "style": (6, 40, 0.7), "use_case": (5, 60, 0.6)}
    collections, topic_vectors = [], {}
    for cat, (count, size, score) in spec.items():
        for c in range(count):
            centre = unit(rng.standard_normal(32))
            members = np.argsort(-(vecs @ centre))[:size]
            slug = f"{cat.replace('_', '-')}-{c}"
            collections.append(Collection(slug=slug, topic=f"zork {cat} {'abcdefghij'[c]}x", category=cat,
                                          hub="Things", item_ids=tuple(items[i].id for i in members),
                                          scores=tuple(float(score - 0.001 * r) for r in range(size))))
            topic_vectors[slug] = centre
    return items, vecs, collections, topic_vectors


def test_annotations_count_mix_and_order():
    items, vecs, cols, tvs = fixture()
    cfg = LinkSection()
    ann = annotate(items, cols, vecs, tvs, cfg, MIX)
    assert set(ann) == {i.id for i in items}
    assert all(cfg.annotations_min <= len(v) <= cfg.annotations_max for v in ann.values())
    assert all(len(set(v)) == len(v) for v in ann.values())
    mix = annotation_mix(ann, cols)
    assert all(abs(mix[c] - MIX[c]) <= 0.05 for c in MIX), mix
    members = {c.slug: set(c.item_ids) for c in cols}
    # memberships come first: an annotation that is not a membership never precedes one that is
    for item_id, slugs in ann.items():
        flags = [item_id in members[s] for s in slugs]
        assert flags == sorted(flags, reverse=True)


def test_deterministic_and_uses_memberships():
    items, vecs, cols, tvs = fixture(seed=3)
    a = annotate(items, cols, vecs, tvs, LinkSection(), MIX)
    b = annotate(items, cols, vecs, tvs, LinkSection(), MIX)
    assert a == b
    member_of = {}
    for c in cols:
        for i in c.item_ids:
            member_of.setdefault(i, set()).add(c.slug)
    share = np.mean([len(set(v) & member_of.get(k, set())) / len(v) for k, v in a.items() if v])
    assert share > 0.7


def test_few_collections_and_none():
    items, vecs, cols, tvs = fixture(n_items=30)
    ann = annotate(items, cols[:2], vecs, tvs, LinkSection(), MIX)
    assert all(len(v) == 2 for v in ann.values())  # only two exist
    assert annotate(items, [], vecs, {}, LinkSection(), MIX) == {i.id: () for i in items}


def test_missing_topic_vector_uses_the_centroid():
    items, vecs, cols, tvs = fixture(n_items=40)
    tvs.pop(cols[0].slug)
    ann = annotate(items, cols, vecs, tvs, LinkSection(), MIX)
    assert all(3 <= len(v) <= 5 for v in ann.values())


def test_the_configured_threshold_decides_which_nearby_topics_are_relevant():
    """Six topics the item is not a member of, each at cosine 0.61 (a relevance of about 0.70): with the default
    threshold (0.5) all are relevant and the item gets the maximum of five; with collect.threshold = 0.8 none
    are, and it gets only the minimum of three."""
    dim = 8
    items = [Item(id=f"i{n}", title=f"Thing {n}", image="", image_sha="", width=1, height=1, category="Things")
             for n in range(7)]
    vecs = np.eye(dim, dtype=np.float32)[:7]
    cols, tvs = [], {}
    for k, name in enumerate(["alpha", "beta", "gamma", "delta", "epsilon", "zeta"], start=1):
        v = np.zeros(dim, np.float32)
        v[0], v[7] = 0.61, np.sqrt(1 - 0.61 ** 2)
        slug = f"zork-{name}"
        cols.append(Collection(slug=slug, topic=f"zork {name}", category="use_case", hub="Things",
                               item_ids=(f"i{k}",), scores=(0.9,)))
        tvs[slug] = v
    mix = {"description": 0.0, "style": 0.0, "use_case": 1.0}
    default = annotate(items, cols, vecs, tvs, LinkSection(), mix)
    strict = annotate(items, cols, vecs, tvs, LinkSection(), mix, CollectSection(threshold=0.8))
    assert len(default["i0"]) == 5
    assert len(strict["i0"]) == 3


def test_alias_lines_are_annotations_at_their_anchor_and_a_page_is_linked_once():
    from dataclasses import replace

    from sitegen.core.models import Alias

    items, vecs, cols, tvs = fixture(seed=1)
    pages = [c for c in cols if c.category != "use_case"]  # the use cases became lines on description pages
    for n, c in enumerate(pages):
        if c.category == "description":
            alias = Alias(f"zork use {n}", f"zork-use-{n}", f"zork-use-{n}", "use_case", "same_as_base", 0.8,
                          c.item_ids)
            pages[n] = replace(c, aliases=(alias,))
            tvs[f"{c.slug}#zork-use-{n}"] = tvs[c.slug]
    ann = annotate(items, pages, vecs, tvs, LinkSection(), MIX)
    keys = {c.slug for c in pages} | {f"{c.slug}#{a.anchor}" for c in pages for a in c.aliases}
    assert all(k in keys for v in ann.values() for k in v)
    assert any("#" in k for v in ann.values() for k in v)
    twice = 0
    for v in ann.values():
        landing = Counter(k.split("#")[0] for k in v)
        assert max(landing.values()) <= 2 and len(set(v)) == len(v), v  # a page at most twice, a line once
        twice += max(landing.values()) == 2
        assert 3 <= len(v) <= 5
    assert 0 < twice < len(ann)
    mix = annotation_mix(ann, pages)  # an alias line counts as a use case
    assert all(abs(mix[c] - MIX[c]) <= 0.05 for c in MIX), mix
