"""Represent: colours from pixels, post-processing (every drop reason, the 30/30/40 mix), the retrieval
generator on a tiny synthetic catalog, the represent stage, and Search Console export parsing."""

from __future__ import annotations

import sys
import types
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from sitegen.ingest.colours import cached_traits, dominant_colours, image_traits, pixel_colours
from sitegen.core.config import Config, RepresentSection
from sitegen.core.errors import ConfigError
from sitegen.core.models import QUERY_CATEGORIES, Item
from sitegen.represent.base import Candidate, QueryGenerator
from sitegen.represent.postprocess import REASONS, PostProcessor, default_blocklist, language, normalise, quotas
from sitegen.represent.parse import classify_query
from sitegen.represent.retrieval import RetrievalGenerator
from sitegen.represent.run import make_generator, represent



# -- colours ---------------------------------------------------------------------------------------------------
def save(img: Image.Image, path: Path) -> str:
    img.save(path)
    return str(path)


def test_red_square_is_red(tmp_path):
    assert dominant_colours(save(Image.new("RGB", (100, 100), (220, 20, 30)), tmp_path / "r.png"))[0][0] == "red"


def test_transparent_background_is_ignored(tmp_path):
    img = Image.new("RGBA", (100, 100), (255, 0, 0, 0))  # fully transparent red
    ImageDraw.Draw(img).rectangle([30, 30, 70, 70], fill=(30, 90, 200, 255))
    assert dominant_colours(save(img, tmp_path / "t.png")) == [("blue", 1.0)]
    assert image_traits(str(tmp_path / "t.png")).transparent
    assert dominant_colours(save(Image.new("RGBA", (10, 10)), tmp_path / "empty.png")) == []


def test_white_product_background_is_ignored(tmp_path):
    img = Image.new("RGB", (200, 300), (252, 252, 252))
    draw = ImageDraw.Draw(img)
    draw.ellipse([50, 60, 150, 240], fill=(30, 140, 50))
    draw.rectangle([90, 120, 110, 180], fill=(255, 255, 255))  # white detail inside the object stays
    names = dominant_colours(save(img, tmp_path / "p.jpg"), k=3)
    assert names[0][0] == "green" and names[0][1] > 0.8
    assert not image_traits(str(tmp_path / "p.jpg")).transparent
    # A white object on white: the object is all there is, and it is white.
    white = save(Image.new("RGB", (50, 50), (250, 250, 250)), tmp_path / "w.png")
    assert dominant_colours(white)[0][0] == "white"


def test_colours_are_deterministic_and_tolerant(tmp_path):
    img = Image.new("RGB", (64, 64), (20, 30, 80))
    ImageDraw.Draw(img).rectangle([0, 0, 31, 63], fill=(255, 220, 0))
    path = save(img, tmp_path / "two.png")
    first = dominant_colours(path)
    assert first == dominant_colours(path)
    assert {name for name, _ in first} == {"navy", "yellow"}
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    assert dominant_colours(str(tmp_path / "broken.jpg")) == []
    assert dominant_colours(str(tmp_path / "missing.png")) == []


def test_traits_are_cached_in_the_store(tmp_path):
    from sitegen.store.db import Store

    img = save(Image.new("RGB", (40, 40), (220, 20, 30)), tmp_path / "red.png")
    items = [item("a", image=img, image_sha="sha-red"), item("b")]  # b has no image
    with Store(tmp_path / "s.duckdb") as store:
        assert pixel_colours(items, store) == {"a": ["red"]}
        Path(img).unlink()  # the second read comes from the cache, not the pixels
        assert cached_traits(items, store)["a"].colours[0][0] == "red"


# -- normalisation and checks ----------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, norm", [
    ("  Red  Apple, Clip-Art!! ", "red apple clip-art"),
    ("Men\u2019s T-Shirt", "men's t-shirt"),
    ("Black & White", "black & white"),
    ("\uff32\uff25\uff24 apple", "red apple"),  # NFKC folds full-width letters
    ("-edge- 'quotes'", "edge quotes"),
])
def test_normalise(raw, norm):
    assert normalise(raw) == norm


def test_language_tag():
    assert language("red apple") == "en"
    assert language("gâteau for kids") == "en"
    assert language("日本 猫") == "und"


def item(i: int | str = 1, **kw) -> Item:
    return Item(id=str(i), title=kw.pop("title", f"thing {i}"), image=kw.pop("image", ""),
                image_sha=kw.pop("image_sha", ""), width=1, height=1, **kw)


def cand(text: str, category: str = "description", score: float = 0.5) -> Candidate:
    return Candidate(text, category, "test", score)  # type: ignore[arg-type]


def test_every_drop_reason():
    cfg = RepresentSection(brands=["Acme"], blocklist=["durian"], max_words=5, max_chars=40, min_queries=1,
                           max_queries=2, mix={"description": 0.5, "style": 0.5, "use_case": 0.0})
    post = PostProcessor(cfg, None)
    cands = [
        cand("red apple", score=0.9), cand("green apple", "style", 0.8), cand("apple pie", "use_case", 0.7),
        cand("porn apple"), cand("durian fruit"), cand("x"), cand("!!"),
        cand("one two three four five six"), cand("a" * 41), cand("acme apple"), cand("for the"),
        cand("clipart image"), cand("Red  Apple!", score=0.1), cand("apple red", "style", 0.75),
    ]
    queries, dropped = post.process([item()], [cands])
    assert [(q.text, q.category) for q in queries] == [("red apple", "description"), ("green apple", "style")]
    reasons = {d.text: d.reason for d in dropped}
    assert reasons == {"porn apple": "blocklist", "durian fruit": "blocklist", "x": "too_short", "!!": "too_short",
                       "one two three four five six": "too_long", "a" * 41: "too_long", "acme apple": "brand",
                       "for the": "stopwords", "clipart image": "too_generic", "red apple": "duplicate",
                       "apple red": "near_duplicate", "apple pie": "surplus"}
    assert set(reasons.values()) == set(REASONS)
    assert all(d.item_id == "1" for d in dropped)
    assert len(queries) + len(dropped) == len(cands)


def test_blocklist_is_whole_word():
    post = PostProcessor(RepresentSection(), None)
    assert len(default_blocklist()) > 100
    for ok in ("glass vase", "class photo", "gore-tex jacket", "nude heels", "maine coon cat", "sussex chair"):
        assert post.check(ok)[1] is None, ok
    for bad in ("gore scene", "xxx video", "nsfw art"):
        assert post.check(bad)[1] == "blocklist", bad


def test_mix_converges_over_many_items():
    cfg = RepresentSection()  # 5..7 queries, 30/30/40
    post = PostProcessor(cfg, None)
    items = [item(f"item-{i}") for i in range(300)]
    cands = [[cand(f"{cat} query {j} for {i}", cat, 1.0 - j / 10) for cat in QUERY_CATEGORIES for j in range(5)]
             for i in range(300)]
    queries, _ = post.process(items, cands)
    per_item = Counter(q.item_id for q in queries)
    assert set(per_item.values()) == {7}
    shares = Counter(q.category for q in queries)
    for cat, want in cfg.mix.items():
        assert abs(shares[cat] / len(queries) - want) <= 0.03, (cat, shares)
    assert post.process(items, cands)[0] == queries  # deterministic


def test_quotas_round_by_item():
    mix = {"description": 0.3, "style": 0.3, "use_case": 0.4}
    for n in range(12):
        q = quotas(n, mix, "x")
        assert sum(q.values()) == n and all(abs(q[c] - n * mix[c]) < 1 for c in q)
    counts = Counter(tuple(quotas(6, mix, f"k{i}").values()) for i in range(500))
    assert len(counts) > 1  # 6 slots are not always 2/2/2


def test_missing_category_falls_back_to_others():
    post = PostProcessor(RepresentSection(), None)
    cands = [cand(f"desc {i}", "description", 0.5) for i in range(6)] + [cand("a use case", "use_case")]
    queries, _ = post.process([item()], [cands])
    assert len(queries) == 7 and Counter(q.category for q in queries) == {"description": 6, "use_case": 1}
    few, _ = post.process([item()], [[cand("only one query")]])
    assert [q.text for q in few] == ["only one query"]


# -- with the real embedding model ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def embedder():
    from sitegen.engines.embed import Embedder

    return Embedder(device="cpu")


def test_semantic_near_duplicates(embedder):
    post = PostProcessor(RepresentSection(dedup_cosine=0.9), embedder)
    cands = [cand("red apple clipart", score=0.9), cand("red apple clip art", score=0.8),
             cand("tabby cat", "style", 0.7), cand("healthy snack ideas", "use_case", 0.6)]
    queries, dropped = post.process([item()], [cands])
    assert [d.reason for d in dropped] == ["near_duplicate"]
    assert [q.text for q in queries] == ["red apple clipart", "tabby cat", "healthy snack ideas"]


def clipart_catalog(tmp_path: Path) -> list[Item]:
    rows = [
        ("Red apple clipart", "Food", "apple;fruit;clipart", (220, 20, 30)),
        ("Green apple clipart", "Food", "apple;fruit;clipart", (60, 170, 60)),
        ("Yellow banana clipart", "Food", "banana;fruit;clipart", (250, 225, 60)),
        ("Tabby cat sleeping clipart", "Animals", "cat;tabby cat;pet;clipart", (150, 100, 60)),
        ("Black cat drawing", "Animals", "cat;halloween;clipart", (20, 20, 20)),
        ("Blue whale illustration", "Animals", "whale;ocean;sea animal;clipart", (30, 90, 200)),
        ("Pink birthday cake clipart", "Party", "cake;birthday;party;clipart", (250, 150, 190)),
        ("Orange pumpkin clipart", "Holidays", "pumpkin;halloween;autumn;clipart", (255, 140, 0)),
    ]
    items = []
    for i, (title, category, keywords, rgb) in enumerate(rows):
        whale = "whale" in title.lower()  # a cut-out PNG: transparent background
        img = Image.new("RGBA", (80, 80), (255, 255, 255, 0 if whale else 255))
        ImageDraw.Draw(img).ellipse([15, 15, 65, 65], fill=(*rgb, 255))
        path = save(img, tmp_path / f"{i}.png")
        items.append(Item(id=f"c{i}", title=title, image=path, image_sha=f"sha{i}", width=80, height=80,
                          category=category, keywords=tuple(keywords.split(";"))))
    return items


def test_retrieval_generator_on_a_tiny_catalog(tmp_path, embedder):
    items = clipart_catalog(tmp_path)
    cfg = RepresentSection(use_cases={"fruit": ["healthy snack ideas"], "Halloween": ["{subject} party decor"]})
    gen = RetrievalGenerator(cfg, embedder, corpus=items, console_queries=["cat clipart for kids", "hci chairs"])
    assert gen.kind == "clipart"
    candidates = gen.generate(items)
    assert candidates == gen.generate(items)  # deterministic
    queries, dropped, stats = represent(items, gen, PostProcessor(cfg, embedder), batch_size=3)
    by_item: dict[str, list] = {}
    for q in queries:
        by_item.setdefault(q.item_id, []).append(q)
    for it in items:
        qs = by_item[it.id]
        assert 5 <= len(qs) <= 7, (it.title, qs)
        assert {q.category for q in qs} == set(QUERY_CATEGORIES), (it.title, qs)
    texts = {q.text for q in queries}
    all_cands = {c.text: c for cs in candidates for c in cs}
    assert "red apple clipart" in all_cands and "green apple" in all_cands
    assert all_cands["red apple clipart"].category == "style"  # colour + subject
    assert all_cands["red fruit clipart"].category == "style"  # shared by the other red fruit
    assert "apple clipart for kids" in all_cands  # one configured intent only: templates top it up
    assert "whale clipart transparent background" in {c.text for c in candidates[5]}
    assert all_cands["healthy snack ideas"].category == "use_case"
    assert "pumpkin party decor" in all_cands
    assert "cat clipart for kids" in {c.text for c in candidates[3]}  # console query matching the cat
    assert "hci chairs" not in all_cands
    assert all(c.score == pytest.approx(c.score) and -1 <= c.score <= 1 for c in all_cands.values())
    assert stats["items"] == 8 and stats["queries"] == len(queries) == sum(stats[c] for c in QUERY_CATEGORIES)
    assert stats["dropped"] == len(dropped) == sum(stats[f"dropped_{r}"] for r in REASONS)
    assert texts  # and nothing blocked or generic got through
    assert not texts & {"clipart", "image"}


def test_retrieval_uses_catalog_attributes(tmp_path, embedder):
    rows = [("Acme Men Black Formal Shoes", "Footwear", "Formal Shoes", "Black", "Formal", "Men"),
            ("Zeta Women Red Kurta", "Apparel", "Kurtas", "Red", "Ethnic", "Women")]
    items = [Item(id=str(i), title=t, image="", image_sha="", width=1, height=1, category=c,
                  attributes=(("article_type", a), ("base_colour", col), ("usage", u), ("gender", g)))
             for i, (t, c, a, col, u, g) in enumerate(rows)]
    gen = RetrievalGenerator(RepresentSection(brands=["Acme", "Zeta"]), embedder, corpus=items)
    texts = [{c.text for c in cs} for cs in gen.generate(items)]
    assert "black formal shoes for men" in texts[0] and "formal shoes for office wear" in texts[0]
    assert "red ethnic kurta for women" in texts[1] and "kurta for festivals" in texts[1]
    assert not any("acme" in t for t in texts[0])


def test_configured_intents_come_before_templates(tmp_path, embedder):
    items = clipart_catalog(tmp_path)
    intents = ["healthy snack ideas", "fruit salad recipe card", "farmers market sign", "fruit counting worksheet"]
    gen = RetrievalGenerator(RepresentSection(use_cases={"fruit": intents}), embedder, corpus=items)
    apple = {c.text: c for c in gen.generate(items[:1])[0] if c.category == "use_case"}
    # grounded in the key, so the catalog's own words can check it (unless the intent already names it)
    grounded = ["fruit clipart for healthy snack ideas", "fruit clipart for farmers market sign"]
    assert sorted(apple) == sorted(intents + grounded)
    assert all(c.source == "lexicon" for c in apple.values())
    assert max(apple.values(), key=lambda c: c.score).text in grounded


def test_classify():
    assert classify_query("black formal shoes for men") == "use_case"
    assert classify_query("navy kurta") == "style"
    assert classify_query("hci chairs") == "description"


# -- the stage ------------------------------------------------------------------------------------------------
class CountingGenerator(QueryGenerator):
    name = "counting"

    def __init__(self) -> None:
        self.batches: list[int] = []

    def generate(self, items):
        self.batches.append(len(items))
        return [[cand(f"{cat} {j} {it.id}", cat, 1 - j / 10) for cat in QUERY_CATEGORIES for j in range(3)]
                + [cand("porn"), cand("image")] for it in items]


def test_represent_streams_batches():
    gen = CountingGenerator()
    items = (item(i) for i in range(10))  # any iterable, not only a list
    seen = []
    _, _, stats = represent(items, gen, PostProcessor(RepresentSection(), None), batch_size=4,
                            progress=lambda d, t: seen.append(d))
    assert gen.batches == [4, 4, 2] and seen == [4, 8, 10]
    assert stats["items"] == 10 and stats["queries"] == 70 and stats["items_short"] == 0
    assert stats["dropped_blocklist"] == 10 and stats["dropped_too_generic"] == 10
    assert stats["dropped_surplus"] == 20


def test_make_generator(tmp_path, monkeypatch, embedder):
    cfg = Config(root=tmp_path)
    assert isinstance(make_generator(cfg, embedder, [item()], None), RetrievalGenerator)
    cfg.represent.console_export = "missing.csv"
    with pytest.raises(ConfigError, match="console_export"):
        make_generator(cfg, embedder, [item()], None)
    (tmp_path / "Queries.csv").write_text("Query,Clicks,Impressions,CTR,Position\nthing one,1,2,50%,3\n")
    cfg.represent.console_export = "Queries.csv"
    one = item(title="Thing one")
    gen = make_generator(cfg, embedder, [one], None)
    assert "thing one" in {c.text for c in gen.generate([one])[0]}
    calls = {}
    fake = types.ModuleType("sitegen.represent.vlm")

    def make_vlm_generator(cfg, *, store, fallback):
        calls.update(store=store, fallback=fallback)
        return fallback

    fake.make_vlm_generator = make_vlm_generator  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sitegen.represent.vlm", fake)
    cfg.represent.generator = "vlm"
    make_generator(cfg, embedder, [item()], None)
    assert isinstance(calls["fallback"], RetrievalGenerator) and calls["store"] is None


