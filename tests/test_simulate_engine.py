"""The simulator's search engine: what it reads from a page, and its ranking over a tiny built site."""

from __future__ import annotations

import json
import os

import pytest

from sitegen.learn.simulate.engine import SearchEngine, page_kind, parse_page, read_site, s_stem, terms

from .simsite import make_site

PAGE = """<!doctype html><html><head><title>Black formal shoes for men | Shop</title>
<meta name="description" content="12 pairs of black formal shoes.">
<link rel="canonical" href="https://shop.example/topic/black-formal-shoes-for-men/">
<script type="application/ld+json">{json}</script>
<style>.x {{ color: red }}</style></head>
<body><header><nav><a href="/category/shoes/">Shoes nav</a></nav></header>
<main><h1>Black formal shoes for men</h1><p class="lead">Leather &amp; lace-ups.</p>
<img src="/m/h.webp" alt="A shoe rack">
<ul><li><a href="/item/oxford-1/"><img src="/m/1.webp" alt="Acme Men Black Oxford">
<span>Acme Men Black Oxford</span></a></li>
<li><a href="/item/derby-2/"><img src="/m/2.webp" alt="Acme Men Black Derby"></a></li></ul>
<script>var hidden = "not text";</script></main><footer>Footer words</footer></body></html>"""
GRAPH = {"@context": "https://schema.org", "@graph": [
    {"@type": "CollectionPage", "name": "x"},
    {"@type": "ItemList", "itemListElement": [
        {"@type": "ListItem", "position": 1, "name": "Acme Men Black Oxford",
         "url": "https://shop.example/item/oxford-1/"},
        {"@type": "ListItem", "position": 2, "item": {"url": "https://shop.example/item/derby-2/"},
         "name": "Acme Men Black Derby"}]}]}


def test_a_page_is_read_as_a_search_engine_reads_it():
    doc = parse_page(PAGE.format(json=json.dumps(GRAPH)), "/topic/black-formal-shoes-for-men/")
    assert doc.kind == "collection"
    assert doc.title == "Black formal shoes for men | Shop" and doc.h1 == "Black formal shoes for men"
    assert doc.description == "12 pairs of black formal shoes."
    assert doc.items == ("/item/oxford-1/", "/item/derby-2/")
    assert doc.item_names == ("Acme Men Black Oxford", "Acme Men Black Derby")
    assert doc.alts == ("A shoe rack",)  # linked images' alt texts describe the page linked to
    assert "Leather & lace-ups." in doc.text
    for absent in ("hidden", "Footer", "nav", "color", "Oxford"):  # scripts, styles, header, footer, anchors
        assert absent not in doc.text
    assert "Acme Men Black Derby" in doc.bm25_text()  # the listed items count by their names
    assert doc.dense_text().startswith("Black formal shoes for men | Shop. Black formal shoes for men. 12 pairs")
    assert doc.dense_text().endswith("Acme Men Black Oxford, Acme Men Black Derby")


def test_pages_a_search_engine_leaves_out():
    html = PAGE.format(json="{}")
    path = "/topic/black-formal-shoes-for-men/"
    assert parse_page(html, path) is not None
    assert parse_page(html.replace("<title>", '<meta name="robots" content="noindex, follow"><title>'), path) is None
    assert parse_page('<html><head><meta http-equiv="refresh" content="0; url=/topic/x/"></head></html>', path) is None
    assert parse_page(html, "/topic/other/") is None  # its canonical names another URL
    item = parse_page("<html><head><title>Oxford</title></head><body><main><h1>Acme Oxford</h1></main></body></html>",
                      "/item/oxford-1/")
    assert item.kind == "item" and item.items == ("/item/oxford-1/",) and item.item_names == ("Acme Oxford",)


def test_kinds_and_words():
    assert [page_kind(p) for p in ("/", "/category/x/page/2/", "/topic/x/", "/item/x/", "/about/")] == \
        ["home", "hub", "collection", "item", "page"]
    assert [s_stem(w) for w in ("shoes", "dresses", "accessories", "glass", "status", "tshirts", "bus")] == \
        ["shoe", "dresse", "accessory", "glass", "status", "tshirt", "bus"]
    stop = frozenset({"for", "the"})
    assert terms("Men's Black Formal Shoes for the Café", stop) == ["men", "black", "formal", "shoe", "cafe"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from sitegen.core.config import load_config
    from sitegen.pipeline.build import build_site

    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    root = make_site(tmp_path_factory.mktemp("simsite"))
    cfg = load_config(root / "site.toml")
    result = build_site(cfg, check=False)
    stub = cfg.output_dir / "old" / "index.html"  # a redirect stub, as the lifecycle writes them
    stub.parent.mkdir()
    stub.write_text('<html><head><meta http-equiv="refresh" content="0; url=/"></head></html>')
    return cfg, result


def test_the_engine_ranks_the_pages_of_a_built_site(built):
    from sitegen.engines.embed import Embedder

    cfg, result = built
    cache: dict = {}
    docs = read_site(cfg.output_dir, cache)
    paths = {d.path for d in docs}
    assert "/old/" not in paths and "/" in paths
    assert {d.kind for d in docs} >= {"home", "hub", "collection", "item"}
    assert len(paths) == sum(result.summary.pages_by_kind.values())
    assert read_site(cfg.output_dir, cache)[0] is docs[0]  # unchanged files are not parsed again
    slugs = {f"/item/{it.slug}/": it for it in result.site.items}
    for d in docs:
        if d.kind == "item":
            assert d.items == (d.path,) and d.path in slugs
        elif d.kind == "collection":
            assert d.items and all(p in slugs for p in d.items)

    engine = SearchEngine(docs, Embedder().encode)
    collection = next(d for d in docs if d.kind == "collection")
    queries = [collection.h1.lower(), "black formal shoes for men", "zzqxv"]
    first = engine.search(queries)
    assert first == engine.search(queries)  # deterministic
    # retrieved by fusion, reranked by the heading: the page whose h1 is the query comes first
    assert first[0][0].path == collection.path and first[0][0].score == pytest.approx(1.0, abs=1e-4)
    assert all(h.retrieval > 0 for q in first for h in q)
    top = first[1]
    assert 1 <= len(top) <= 10 and [h.position for h in top] == list(range(1, len(top) + 1))
    assert all(a.score >= b.score for a, b in zip(top, top[1:]))
    best = next(d for d in docs if d.path == top[0].path)
    names = [slugs[p].title for p in best.items]
    assert any("Men Black Formal Shoes" in n for n in names)
    assert first[2] == []  # matches no word and nothing close
