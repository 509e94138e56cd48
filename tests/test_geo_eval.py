"""``sitegen eval geo``: passages cut from pages, extractive answers, PAWC on hand-computed numbers, and the whole
check on a tiny built fashion-like site."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from sitegen.core.models import Item
from sitegen.learn.geo.answers import Answer, Quote, extract_answer, pawc, position_weights, word_share
from sitegen.learn.geo.evaluate import _aggregate, baseline_pages, group_of
from sitegen.learn.geo.passages import Passage, cut_passages, split_sentences, word_count

from .simsite import make_site

STOP = frozenset({"for", "the", "in", "a", "of", "and", "are"})

PAGE = """<!doctype html><html><head><title>Black shoes | Shop</title><style>p {color: red}</style></head>
<body><header><nav><a href="/">Shop nav words</a></nav></header>
<main><p class="eyebrow"><a href="/category/shoes/">Shoes</a> · 12 images</p>
<h1>Black formal shoes</h1>
<p class="lead">12 items for “black formal shoes”, all in Shoes. The most common colours are black (10 items)
and brown (2 items).</p>
<dl class="facts"><div><dt>Category</dt><dd><a href="/category/shoes/">Shoes</a></dd></div>
<div><dt>Colour</dt><dd>black</dd></div></dl>
<script>var hidden = "script words";</script>
<h2>Related collections</h2><ul><li><a href="/topic/red-shoes/">Red shoes</a></li></ul>
<h2>Sizes</h2><table><tr><th>Size</th><td>42</td></tr></table>
<h2>Guide</h2><p>One two three four five. Six seven eight nine ten. Eleven twelve.</p>
</main><footer>Footer words</footer></body></html>"""


def test_passages_are_the_quotable_text_of_main_by_section():
    ps = cut_passages(PAGE, "/topic/black-formal-shoes/", "collection", title="Black shoes | Shop",
                      h1="Black formal shoes", max_words=7)
    text = " ".join(p.text for p in ps)
    for absent in ("nav words", "Footer", "script words", "color", "Red shoes", "Category"):
        assert absent not in text  # header, footer, scripts, styles, link text, a term whose value is a link
    assert [p.sentences for p in ps] == [
        ("· 12 images",),
        ("Black formal shoes",),  # the h1 is the first sentence of the text under it; the lead is 13 words
        ("12 items for “black formal shoes”, all in Shoes.",),
        ("The most common colours are black (10 items) and brown (2 items).",),
        ("Colour: black",),
        ("Sizes", "Size 42"),  # "Related collections" holds only links: dropped
        ("Guide", "One two three four five."),
        ("Six seven eight nine ten.", "Eleven twelve."),
    ]
    assert all(p.page == "/topic/black-formal-shoes/" and p.kind == "collection" for p in ps)
    assert len({p.path for p in ps}) == len(ps) and ps[1].path.startswith("/topic/black-formal-shoes/#p")
    assert [p.section for p in ps] == ["", "", "", "", "", "Sizes", "Guide", "Guide"]
    assert ps[2].heading() == "Black formal shoes" and ps[6].heading() == "Black formal shoes: Guide"
    assert ps[6].bm25_text() == "Black shoes | Shop Guide Guide One two three four five."
    assert ps[6].dense_text() == "Black shoes | Shop. Guide. Guide One two three four five."


def test_sentences_and_words():
    assert split_sentences("Red shoes. 12 items! “Why?” Asked twice.  e.g. size 42") == \
        ["Red shoes.", "12 items!", "“Why?”", "Asked twice.  e.g. size 42".replace("  ", " ")]
    assert split_sentences("  ") == []
    assert word_count("12 items for “black shoes” — all · in") == 7


def _passage(page: str, kind: str, *sentences: str) -> Passage:
    return Passage(path=f"{page}#p1", page=page, kind=kind, title="", h1="", section="", sentences=sentences)


def test_the_answer_quotes_the_sentences_holding_most_query_words_best_first():
    a = _passage("/topic/a/", "collection", "Black formal shoes for men.", "Brown belts.", "Black socks.")
    b = _passage("/_baseline/shoes/", "baseline", "Acme Men Black Formal Shoes", "Black formal shoes for men.")
    answer = extract_answer("black formal shoes for men", [a, b], STOP)
    # shares of {black, formal, shoe, men}: 1, 0, 1/4 | 1, 1 (a repeat); ties go to the better-ranked passage
    assert [(q.text, q.page, q.score) for q in answer.quotes] == [
        ("Black formal shoes for men.", "/topic/a/", 1.0),
        ("Acme Men Black Formal Shoes", "/_baseline/shoes/", 1.0),
        ("Black socks.", "/topic/a/", 0.25)]
    assert answer.text == "Black formal shoes for men. Acme Men Black Formal Shoes Black socks."
    short = extract_answer("black formal shoes for men", [a, b], STOP, max_words=6)
    assert len(short.quotes) == 2  # 5 words, then 5 more reach the budget
    assert len(extract_answer("black formal shoes for men", [a, b], STOP, max_sentences=1).quotes) == 1
    # no sentence holds a query word: the first sentence of each passage, in rank order
    fallback = extract_answer("oxfords", [b, a], STOP)
    assert [q.text for q in fallback.quotes] == ["Acme Men Black Formal Shoes", "Black formal shoes for men."]
    assert extract_answer("oxfords", [], STOP).quotes == ()


def _quote(text: str, page: str, kind: str = "collection") -> Quote:
    return Quote(text, page, kind, page + "#p1", 1.0)


def test_pawc_weights_each_page_s_words_by_position():
    answer = Answer("q", (_quote("one two three four", "/a/"), _quote("five six", "/b/"),
                          _quote("seven eight nine ten eleven twelve", "/a/")))
    assert position_weights(3) == pytest.approx([1.0, 0.606531, 0.367879], abs=1e-6)
    # /a/: 4 * 1 + 6 * e^-1 = 6.207277; /b/: 2 * e^-0.5 = 1.213061; total 7.420338
    assert pawc(answer) == pytest.approx({"/a/": 0.836522, "/b/": 0.163478}, abs=1e-6)
    assert word_share(answer) == pytest.approx({"/a/": 10 / 12, "/b/": 2 / 12})
    assert pawc(Answer("q", (_quote("just this", "/a/"),))) == {"/a/": 1.0}
    assert pawc(Answer("q", ())) == {}


def test_shares_are_averaged_over_the_answered_queries_by_group():
    answers = [Answer("q1", (_quote("one two three four", "/topic/a/"), _quote("five six", "/_baseline/x/", "baseline"),
                             _quote("seven eight nine ten eleven twelve", "/topic/a/"))),
               Answer("q2", (_quote("one two", "/item/i/", "item"),)),
               Answer("q3", ())]
    agg = _aggregate(answers)
    assert agg["answered"] == 2
    assert agg["pawc"] == {"collection": round(0.836522 / 2, 4), "baseline": round(0.163478 / 2, 4),
                           "item": 0.5, "hub": 0.0, "other": 0.0}
    assert agg["word_count"]["collection"] == round(10 / 12 / 2, 4)
    assert agg["cited"] == {"collection": 0.5, "baseline": 0.5, "item": 0.5, "hub": 0.0, "other": 0.0}
    assert [group_of(k) for k in ("collection", "hub", "item", "home", "page", "baseline")] == \
        ["collection", "hub", "item", "other", "other", "baseline"]


def _item(n: int, title: str, category: str) -> Item:
    return Item(id=str(n), title=title, image="", image_sha="", width=1, height=1, category=category)


def test_the_baseline_is_one_plain_listing_per_category():
    pages = baseline_pages([_item(1, "Acme Black Shoes", "Shoes"), _item(2, "Tee <b>", "T & Shirts"),
                            _item(3, "Acme Brown Shoes", "Shoes"), _item(4, "No category", "")])
    assert [(p, t) for p, t, _ in pages] == [("/_baseline/shoes/", "Shoes"), ("/_baseline/t-shirts/", "T & Shirts")]
    ps = cut_passages(pages[0][2], pages[0][0], "baseline", title="Shoes", h1="Shoes")
    assert [p.sentences for p in ps] == [("Shoes", "Acme Black Shoes", "Acme Brown Shoes")]
    assert "Tee &lt;b&gt;" in pages[1][2] and "<title>T &amp; Shirts</title>" in pages[1][2]


def test_the_held_out_queries_are_the_simulator_s_hidden_demand():
    from sitegen.learn.geo.evaluate import heldout_queries
    from sitegen.learn.simulate.demand import draw_population

    from .simsite import rows

    items = [Item(id=r["id"], title=r["title"], image="", image_sha="", width=1, height=1,
                  category=r["article_type"], attributes=tuple((k, r[k]) for k in ("base_colour", "usage")))
             for r in rows()]
    asked = heldout_queries(items, n=25, seed=3)
    intents = draw_population(items, seed=3, n_intents=25, searches=1.0).intents
    assert [q.text for q in asked] == [i.text for i in intents] and len(asked) == 25
    assert [q.category for q in asked] == [i.values[0][1] for i in intents]
    assert all(q.facets.startswith("category") for q in asked)
    assert {q.facets for q in asked} > {"category"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from sitegen.core.config import load_config
    from sitegen.pipeline.build import build_site

    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    root = make_site(tmp_path_factory.mktemp("geosite"))
    cfg = load_config(root / "site.toml")
    return root, cfg, build_site(cfg, check=False)


def test_the_check_over_a_built_site_from_the_command_line(built):
    from sitegen.cli.main import main
    from sitegen.learn.geo.evaluate import GROUPS, format_geo

    root, cfg, result = built
    cwd = os.getcwd()
    os.chdir(root)
    try:
        out = CliRunner().invoke(main, ["eval", "--work-dir", "w", "geo", "--queries", "30", "--format", "json"])
        missing = CliRunner().invoke(main, ["eval", "geo", "-c", "site.toml", "--set", "build.output=nowhere"])
    finally:
        os.chdir(cwd)
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["queries"] == 30 and 0 < report["answered"] <= 30
    assert report["settings"]["items"] == len(result.site.items) and report["settings"]["seed"] == 0
    for metric in ("pawc", "word_count"):
        assert set(report[metric]) == set(GROUPS)
        assert sum(report[metric].values()) == pytest.approx(1.0, abs=1e-3)  # every answer shares 1
    assert report["pawc"]["collection"] > 0 and report["pawc"]["baseline"] > 0
    assert report["index"]["pages"]["baseline"] == 5  # the tiny catalog's five kinds
    assert report["index"]["pages"]["collection"] == result.summary.pages_by_kind["collection"]
    assert sum(v["queries"] for v in report["by_facets"].values()) == 30
    assert sum(v["queries"] for v in report["by_category"].values()) == 30
    assert set(report["by_category"]) <= {"Formal Shoes", "Casual Shoes", "Tshirts", "Shirts", "Kurtas"}
    for ex in report["examples"]:
        assert ex["answer"] and sum(ex["pawc"].values()) == pytest.approx(1.0, abs=1e-3)
    assert (root / "w" / "geo" / "embeddings.duckdb").is_file()
    table = format_geo(report)
    assert table.startswith("GEO visibility: 30 held-out queries")
    assert f"PAWC share: collection pages {report['pawc']['collection']:.3f} vs category-listing baseline " \
           f"{report['pawc']['baseline']:.3f}" in table
    assert missing.exit_code == 1 and "does not exist: run `sitegen build` first" in missing.output
