"""The input policy: every text value of a row (nested ones too) gets the same checks, wrong types are rejected,
invisible-only and bidi text is caught, and image messages name the path and the configured limit."""

from __future__ import annotations

import json
import random

import pytest
from PIL import Image

from sitegen.core.errors import CatalogError
from sitegen.distribute.slugs import make_hubs
from sitegen.ingest.images import DEFERRED, LARGE_PIXELS, inspect_image, reduced
from sitegen.ingest.policy import category_key, visible

from .test_load import HEADER, _png_header_only, by_source, load, row, write_csv, write_image


@pytest.fixture
def load_site(tmp_path):
    """A site folder with images/a.png (8x6) and images/b.jpg (10x5), as in test_load.py."""
    write_image(tmp_path / "images", "a.png")
    write_image(tmp_path / "images", "b.jpg", w=10, h=5, seed=1, fmt="JPEG")
    return tmp_path


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def base(id, **kw):
    return {"id": id, "title": f"Item {id}", "image": "a.png", **kw}


def test_nested_jsonl_values_get_every_check_and_wrong_types_are_rejected(load_site):
    rows = [
        base("ok", keywords=["Red", "big"], tags=["x", "y"], price=9.5),
        base("list-markup", tags=["fine", "<script>alert(1)</script>"]),
        base("list-del", notes=["a\x7fb"]),
        base("struct-attr", meta={"a": "b"}),
        base("nested-list", tags=[["deep"]]),
        {"id": "list-title", "title": ["a", "list", "title"], "image": "a.png"},
        base("struct-desc", description={"text": "hi"}),
        base("list-category", category=["Animals"]),
        base("kw-nested", keywords=[{"k": "v"}]),
        base("attr-markup", colour="<b>red</b>"),
        base("attr-name", **{"<i>colour</i>": "red"}),
    ]
    write_jsonl(load_site / "catalog.jsonl", rows)
    result = load(load_site, path="catalog.jsonl")
    assert [i.id for i in result.items] == ["ok"]
    ok = result.items[0]
    assert ok.keywords == ("red", "big")
    assert ok.attributes == (("tags", "x"), ("tags", "y"), ("price", "9.5"))  # one attribute per list value
    reasons = {r.item_id: r.reason for r in result.rejections}
    assert reasons == {"list-markup": "markup", "list-del": "control_chars", "struct-attr": "bad_type",
                       "nested-list": "bad_type", "list-title": "bad_type", "struct-desc": "bad_type",
                       "list-category": "bad_type", "kw-nested": "bad_type", "attr-markup": "markup",
                       "attr-name": "markup"}
    details = {r.item_id: r.detail for r in result.rejections}
    assert details["list-title"] == 'title is a list (["a", "list", "title"]), expected text'
    assert details["list-del"] == "notes contains control character U+007F"
    assert details["struct-attr"].startswith("meta is a struct")


def test_csv_attribute_markup_is_rejected_unless_kept(load_site):
    write_csv(load_site / "catalog.csv", ["id", "title", "image", "colour"],
              [["1", "Red thing", "a.png", "<b>red</b>"], ["2", "Blue thing", "a.png", "blue"]])
    result = load(load_site)
    assert by_source(result) == {"catalog.csv:2": "markup"}
    assert "colour contains markup: <b>" in result.rejections[0].detail
    kept = load(load_site, markup="keep")
    assert kept.rejections == [] and kept.items[0].attributes == (("colour", "<b>red</b>"),)


def test_parquet_nested_values(load_site):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({
        "id": ["1", "2", "3", "4"],
        "title": ["One", "Two", "Three", "Four"],
        "image": ["a.png"] * 4,
        "tags": pa.array([["a"], ["<script>x</script>"], ["ok\x7f"], None], pa.list_(pa.string())),
        "meta": pa.array([None, None, None, {"k": "v"}], pa.struct([("k", pa.string())])),
    })
    pq.write_table(table, load_site / "cat.parquet")
    result = load(load_site, path="cat.parquet")
    assert [i.id for i in result.items] == ["1"] and result.items[0].attributes == (("tags", "a"),)
    assert {r.item_id: r.reason for r in result.rejections} == {"2": "markup", "3": "control_chars",
                                                                 "4": "bad_type"}


def test_invisible_only_text(load_site):
    rows = [
        row(id="zw", title="\u200b\u200b"),
        row(id="mixed", title=" \u200b\u2060\ufeff\u00ad\u3164 "),
        row(id="joined", title="Rose\u200dgold ring", category="\u200b", description="\u2060"),
        row(id="\u200b", title="Invisible id"),
        row(id="edges", title="\u200bTulip\u200b", keywords="\u200b;tulip"),
    ]
    write_csv(load_site / "catalog.csv", HEADER, rows)
    result = load(load_site)
    assert by_source(result) == {"catalog.csv:2": "missing_title", "catalog.csv:3": "missing_title",
                                 "catalog.csv:5": "missing_id"}
    assert result.rejections[0].detail == "title shows nothing (only invisible characters)"
    joined, edges = result.items
    assert joined.title == "Rose\u200dgold ring" and joined.category == "" and joined.description == ""
    assert edges.title == "Tulip" and edges.keywords == ("tulip",)
    assert not visible("\u200b \u2060") and visible("a\u200b")


def test_bidi_controls_are_rejected_everywhere(load_site):
    rows = [
        row(id="t", title="\u202egnp.exe"),
        row(id="c", category="Animals\u202e"),
        row(id="d", description="left \u2066isolate\u2069 right"),
        row(id="k", keywords="a;\u202db"),
        row(id="ok", title="שלום עולם", category="Animals"),
    ]
    write_csv(load_site / "catalog.csv", HEADER, rows)
    result = load(load_site)
    assert {r.item_id: r.reason for r in result.rejections} == {"t": "control_chars", "c": "control_chars",
                                                                 "d": "control_chars", "k": "control_chars"}
    assert result.rejections[0].detail == "title contains bidirectional control U+202E"
    assert [i.id for i in result.items] == ["ok"]


def test_categories_equal_after_normalisation_are_one_hub(load_site):
    cats = ["Animals", "animals", "Animals", "ANIMALS\u200b", "Ani\u200bmals", "Ａｎｉｍａｌｓ", "Plants"]
    rows = [row(id=str(n), title=f"Thing {n}", category=c) for n, c in enumerate(cats)]
    write_csv(load_site / "catalog.csv", HEADER, rows)
    first = load(load_site)
    assert {i.category for i in first.items} == {"Animals", "Plants"}  # the most common spelling
    hubs = make_hubs(first.items)
    assert [(h.slug, h.name, len(h.item_ids)) for h in hubs] == [("animals", "Animals", 6), ("plants", "Plants", 1)]
    random.Random(1).shuffle(rows)
    write_csv(load_site / "catalog.csv", HEADER, rows)
    again = load(load_site)
    assert {i.id: i.category for i in again.items} == {i.id: i.category for i in first.items}
    assert category_key("Ａｎｉ\u200bＭＡＬＳ ") == "animals"


def test_duplicate_columns_are_a_catalog_error(load_site):
    write_csv(load_site / "catalog.csv", ["id", "title", "image", "colour", "size", "colour"],
              [["1", "A", "a.png", "red", "M", "blue"]])
    with pytest.raises(CatalogError, match=r"catalog\.csv: duplicate column\(s\) in the header: 'colour'"):
        load(load_site)


def test_header_only_catalog_has_no_rows(load_site):
    write_csv(load_site / "catalog.csv", HEADER, [])
    with pytest.raises(CatalogError) as info:
        load(load_site)
    assert str(info.value.message) == f"{load_site / 'catalog.csv'}: the catalog has no rows"
    (load_site / "catalog.jsonl").write_text("\n\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="the catalog has no rows"):
        load(load_site, path="catalog.jsonl")


def test_image_messages_name_the_path_and_the_configured_limit(load_site):
    imgs = load_site / "images"
    (imgs / "rand.png").write_bytes(random.Random(3).randbytes(300))
    (imgs / "bomb.png").write_bytes(_png_header_only(30_000, 30_000))
    good = (imgs / "a.png").read_bytes()
    (imgs / "cut.png").write_bytes(good[: len(good) // 2])
    write_csv(load_site / "catalog.csv", HEADER, [row(id="r", image="rand.png"), row(id="b", image="bomb.png"),
                                                 row(id="c", image="cut.png")])
    result = load(load_site)
    details = {r.item_id: (r.reason, r.detail) for r in result.rejections}
    assert details["r"] == ("corrupt_image", "not a readable image rand.png")
    assert details["b"] == ("oversized_image",
                            "image is 900000000 pixels, more than catalog.max_image_pixels (40000000)")
    assert details["c"][0] == "corrupt_image" and "cut.png" in details["c"][1]
    assert not any("BytesIO" in d or "178956970" in d for _, d in details.values())


def _two_halves(path, w, h, fmt="PNG"):
    im = Image.new("RGB", (w, h), (220, 20, 30))
    im.paste((30, 90, 200), (w // 2, 0, w, h))
    im.save(path, fmt, **({"quality": 90} if fmt == "JPEG" else {}))


def test_large_images_are_checked_reduced_and_still_right(load_site):
    from sitegen.ingest.colours import image_traits
    from sitegen.publish.media import make_thumbnails

    imgs = load_site / "images"
    w, h = 2600, 2000
    assert w * h > LARGE_PIXELS
    _two_halves(imgs / "big.png", w, h)
    _two_halves(imgs / "big.jpg", w, h, "JPEG")
    data = (imgs / "big.jpg").read_bytes()
    (imgs / "cut.jpg").write_bytes(data[: len(data) // 2])
    rows = [row(id=f"p{n}", image="big.png") for n in range(5)] + [row(id="j", image="big.jpg"),
                                                                   row(id="cut", image="cut.jpg")]
    for n in range(8):  # enough distinct images for the loader's thread pool
        write_image(imgs, f"small{n}.png", seed=n)
    rows += [row(id=f"s{n}", image=f"small{n}.png") for n in range(8)]
    write_csv(load_site / "catalog.csv", HEADER, rows)
    result = load(load_site)
    assert by_source(result) == {"catalog.csv:8": "corrupt_image"}  # a cut JPEG fails at a reduced scale too
    big = {i.id: i for i in result.items}
    assert (big["p0"].width, big["p0"].height) == (w, h) and (big["j"].width, big["j"].height) == (w, h)
    with open(imgs / "big.png", "rb") as fh:  # a pool thread leaves large images to one thread
        data = fh.read()
    assert inspect_image(data, 40_000_000, large=False)[3] == DEFERRED
    assert inspect_image(data, 40_000_000) == ("PNG", w, h, "")
    for name in ("big.png", "big.jpg"):
        assert [c for c, _ in image_traits(str(imgs / name)).colours] in (["red", "blue"], ["blue", "red"])
    with Image.open(imgs / "big.png") as im:
        small = reduced(im, 320, 320)
        assert small.size == (867, 667)  # shrunk by a whole factor (3), still twice the target both ways
    sets = make_thumbnails([big["p0"], big["j"]], [160, 640], load_site / "thumbs", workers=4)
    for item_id in ("p0", "j"):
        sizes = [(r.width, r.height) for r in sets[item_id].renditions]
        assert sizes == [(160, 123), (640, 492)]
        for r in sets[item_id].renditions:
            with Image.open(load_site / "thumbs" / r.file) as out:
                assert out.size == (r.width, r.height)
                assert out.getpixel((5, r.height // 2))[0] > 150 and out.getpixel((r.width - 5, 5))[2] > 150
