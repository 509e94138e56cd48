"""The load stage: catalog files + images -> Items and Rejections. Fixtures are built from code (Pillow, fixed seeds)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import random
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

from sitegen.core.config import CatalogSection
from sitegen.core.errors import CatalogError
from sitegen.ingest.load import LoadResult, load_catalog

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "fashion-44k"
HEADER = ["id", "title", "description", "keywords", "category", "date", "image"]


# -- helpers -----------------------------------------------------------------------------------------------------
def png_bytes(w: int = 8, h: int = 6, seed: int = 0, fmt: str = "PNG") -> bytes:
    rng = random.Random(seed)
    im = Image.new("RGB", (w, h))
    im.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(w * h)])
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()


def write_image(folder: Path, name: str, **kw) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(**kw))
    return path


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def row(id="1", title="Red apple", description="", keywords="", category="", date="", image="a.png"):
    return [id, title, description, keywords, category, date, image]


def load(site: Path, **cfg) -> LoadResult:
    cfg.setdefault("path", "catalog.csv")
    cfg.setdefault("images_dir", "images")
    return load_catalog(CatalogSection(**cfg), site, image_cache_dir=site / ".cache" / "images")


def by_source(result: LoadResult) -> dict[str, str]:
    return {r.source: r.reason for r in result.rejections}


@pytest.fixture
def load_site(tmp_path: Path) -> Path:
    """A site folder with images/a.png (8x6) and images/b.jpg (10x5)."""
    write_image(tmp_path / "images", "a.png")
    write_image(tmp_path / "images", "b.jpg", w=10, h=5, seed=1, fmt="JPEG")
    return tmp_path


# -- formats -----------------------------------------------------------------------------------------------------
def test_csv_with_column_mapping_and_attributes(load_site):
    write_csv(load_site / "catalog.csv", ["sku", "colour", "name", "image", "cat", "kw", "size", "notes"], [
        ["A1", "red", "  Red   apple ", "a.png", "Fruit", "Crisp; SWEET ;crisp;; red", "M", ""],
        ["B2", "", "Blue bowl", "b.jpg", "", "", "", ""],
    ])
    result = load(load_site, columns={"id": "sku", "title": "name", "category": "cat", "keywords": "kw"})
    assert result.rows_read == 2 and result.rejections == []
    a, b = result.items
    assert (a.id, a.title, a.category, a.keywords) == ("A1", "Red apple", "Fruit", ("crisp", "sweet", "red"))
    assert a.attributes == (("colour", "red"), ("size", "M"))  # header order, empty values skipped
    assert a.source == "catalog.csv:2" and b.source == "catalog.csv:3"
    assert Path(a.image).is_absolute() and a.image == str(load_site / "images" / "a.png")
    assert a.image_sha == hashlib.sha256((load_site / "images" / "a.png").read_bytes()).hexdigest()
    assert (a.width, a.height, b.width, b.height) == (8, 6, 10, 5)
    assert b.attributes == () and b.keywords == ()


def test_csv_with_bom_crlf_and_quoted_newlines(load_site):
    text = ("\ufeffid,title,description,image\r\n"
            '1,Apple,"two\r\nlines",a.png\r\n'
            "2,Bowl,,missing.png\r\n")
    (load_site / "catalog.csv").write_bytes(text.encode("utf-8"))
    result = load(load_site)
    assert [i.id for i in result.items] == ["1"]
    assert result.items[0].description == "two\nlines"
    # the second row starts on physical line 4 because the first one spans lines 2-3
    assert [(r.source, r.reason) for r in result.rejections] == [("catalog.csv:4", "missing_image")]


def test_jsonl_lists_numbers_and_inline_bytes(load_site):
    raw = png_bytes(3, 2, seed=5)
    lines = [
        {"id": 7, "title": "Seven", "keywords": ["A", "b", "a"], "image": "a.png", "price": 9.5, "tags": ["x"]},
        {"id": "8", "title": "Eight", "image": {"bytes": base64.b64encode(raw).decode()}},
        {"id": "9", "title": "Nine", "image": "data:image/png;base64," + base64.b64encode(raw).decode()},
    ]
    path = load_site / "catalog.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n", encoding="utf-8")
    result = load(load_site, path="catalog.jsonl")
    assert result.rejections == [] and result.rows_read == 3
    seven, eight, nine = result.items
    assert seven.id == "7" and seven.keywords == ("a", "b")
    assert seven.attributes == (("price", "9.5"), ("tags", "x"))  # a list: one attribute per value, never JSON text
    sha = hashlib.sha256(raw).hexdigest()
    cached = load_site / ".cache" / "images" / f"{sha}.png"
    assert eight.image == nine.image == str(cached) and cached.read_bytes() == raw
    assert (eight.image_sha, eight.width, eight.height) == (sha, 3, 2)
    assert eight.source == "catalog.jsonl:2"


def test_jsonl_bad_lines_are_rejected_with_line_numbers(load_site):
    path = load_site / "catalog.ndjson"
    path.write_bytes(b'{"id": "1", "title": "One", "image": "a.png"}\n'
                     b"\n"
                     b"{not json\n"
                     b'["a", "list"]\n'
                     b'{"id": "5", "title": "\xff\xfe", "image": "a.png"}\n'
                     b'{"id": "6", "title": "Six", "image": "a.png"}\n')
    result = load(load_site, path="catalog.ndjson")
    assert [i.source for i in result.items] == ["catalog.ndjson:1", "catalog.ndjson:6"]
    assert by_source(result) == {"catalog.ndjson:3": "bad_row", "catalog.ndjson:4": "bad_row",
                                 "catalog.ndjson:5": "bad_row"}
    assert result.rows_read == 5


def test_parquet_bytes_column_lists_and_row_sources(load_site):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    images = [png_bytes(4, 4, seed=1), png_bytes(5, 3, seed=2, fmt="JPEG"), b"not an image", png_bytes(4, 4, seed=1)]
    table = pa.table({
        "id": pa.array([1, 2, 3, 4], pa.int64()),
        "title": ["One", "Two", "Three", "Four"],
        "keywords": pa.array([["Red", "red", " big "], [], None, ["x"]], pa.list_(pa.string())),
        "image": pa.array(images, pa.binary()),
        "brand": ["acme", None, "acme", ""],
    })
    pq.write_table(table, load_site / "catalog.parquet", row_group_size=2)
    result = load(load_site, path="catalog.parquet")
    assert [i.id for i in result.items] == ["1", "2", "4"]
    one, two, four = result.items
    assert one.keywords == ("red", "big") and one.attributes == (("brand", "acme"),)
    assert one.image.endswith(".png") and two.image.endswith(".jpg") and one.image == four.image
    assert (two.width, two.height) == (5, 3)
    assert [(r.source, r.reason, r.item_id) for r in result.rejections] == [
        ("catalog.parquet:row 3", "corrupt_image", "3")]
    files = sorted(p.name for p in (load_site / ".cache" / "images").iterdir())
    assert files == sorted({Path(one.image).name, Path(two.image).name})


def test_parquet_struct_image_column(load_site):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    raw = png_bytes(2, 2, seed=9)
    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    table = pa.table({"id": ["a", "b"], "title": ["A", "B"],
                      "image": pa.array([{"bytes": raw, "path": "x.png"}, {"bytes": None, "path": "a.png"}],
                                        image_type)})
    pq.write_table(table, load_site / "cat.parquet")
    result = load(load_site, path="cat.parquet")
    assert result.rejections == []
    assert result.items[0].image_sha == hashlib.sha256(raw).hexdigest()
    assert result.items[1].image == str(load_site / "images" / "a.png")


def test_format_by_extension_and_explicit(load_site):
    write_csv(load_site / "catalog.txt", ["id", "title", "image"], [["1", "A", "a.png"]])
    with pytest.raises(CatalogError, match=r"catalog.txt.*catalog.format"):
        load(load_site, path="catalog.txt")
    assert len(load(load_site, path="catalog.txt", format="csv").items) == 1


def test_missing_catalog_file(tmp_path):
    with pytest.raises(CatalogError, match=r"catalog file not found: .*nope\.csv"):
        load(tmp_path, path="content/nope.csv")


def test_missing_mapped_columns_are_named(load_site):
    write_csv(load_site / "catalog.csv", ["sku", "name", "picture"], [["1", "A", "a.png"]])
    with pytest.raises(CatalogError) as info:
        load(load_site, columns={"id": "sku", "description": "desc"})
    msg = str(info.value)
    assert "catalog.columns.title" in msg and "catalog.columns.image" in msg and "catalog.columns.description" in msg
    assert "catalog.columns.id" not in msg
    assert "'sku', 'name', 'picture'" in msg  # the available columns
    # unmapped optional columns may be absent
    assert len(load(load_site, columns={"id": "sku", "title": "name", "image": "picture"}).items) == 1


def test_empty_csv_is_a_catalog_error(load_site):
    (load_site / "catalog.csv").write_text("", encoding="utf-8")
    with pytest.raises(CatalogError, match="empty"):
        load(load_site)


def test_catalog_folder_reads_every_file_in_order(load_site):
    (load_site / "cat").mkdir()
    write_csv(load_site / "cat" / "1.csv", ["id", "title", "image"], [["1", "A", "a.png"], ["2", "B", "a.png"]])
    (load_site / "cat" / "2.jsonl").write_text('{"id": "1", "title": "again", "image": "a.png"}\n'
                                               '{"id": "3", "title": "C", "image": "b.jpg"}\n', encoding="utf-8")
    result = load(load_site, path="cat")
    assert [i.id for i in result.items] == ["1", "2", "3"]
    assert [(r.source, r.reason) for r in result.rejections] == [("2.jsonl:1", "duplicate_id")]


# -- rejections --------------------------------------------------------------------------------------------------
def test_every_rejection_reason_with_its_source_line(load_site):
    imgs = load_site / "images"
    good = (imgs / "a.png").read_bytes()
    (imgs / "truncated.png").write_bytes(good[: len(good) // 2])
    (imgs / "random.png").write_bytes(random.Random(3).randbytes(300))
    write_image(imgs, "big.png", w=40, h=40)  # 1600 pixels > max_image_pixels below
    (imgs / "heavy.png").write_bytes(png_bytes(30, 30, seed=4))
    Image.new("RGB", (4, 4)).save(imgs / "pic.bmp")
    (imgs / "folder.png").mkdir()
    rows = [
        row(id="ok"),                                                     # 2
        row(id="  "),                                                     # 3 missing_id
        row(id="x" * 201),                                                # 4 too_long
        row(id="bell\x07"),                                               # 5 control_chars
        row(id="<b>id</b>"),                                              # 6 markup
        row(id="ok", title=""),                                           # 7 duplicate_id (before title)
        row(id="t", title="   "),                                         # 8 missing_title
        row(id="s", title="<script>alert(1)</script>"),                   # 9 markup
        row(id="d", description="a <b>bold</b> claim"),                   # 10 markup
        row(id="k", keywords="fine;<img src=x onerror=alert(1)>"),        # 11 markup
        row(id="c", category="<i>x</i>"),                                 # 12 markup
        row(id="cc", description="bell \x07 here"),                       # 13 control_chars
        row(id="c1", category="x\x85y"),                                  # 14 control_chars (C1)
        row(id="tab", title="a\tb"),                                      # 15 control_chars (tab in title)
        row(id="long", description="y" * 301),                            # 16 too_long
        row(id="date1", date="2024-13-40"),                               # 17 bad_date
        row(id="date2", date="yesterday"),                                # 18 bad_date
        row(id="noimg", image=""),                                        # 19 missing_image
        row(id="gone", image="nope/x.png"),                               # 20 missing_image
        row(id="http", image="https://example.org/a.png"),                # 21 remote_image
        row(id="trunc", image="truncated.png"),                           # 22 corrupt_image
        row(id="rand", image="random.png"),                               # 23 corrupt_image
        row(id="pixels", image="big.png"),                                # 24 oversized_image
        row(id="bytes", image="heavy.png"),                               # 25 oversized_image
        row(id="bmp", image="pic.bmp"),                                   # 26 unsupported_image
        row(id="dir", image="folder.png"),                                # 27 missing_image
        ["short", "row"],                                                 # 28 bad_row
        row(id="ok2", date="2024-02-29T10:30:00Z"),                       # 29 accepted
    ]
    size_limit = len((imgs / "heavy.png").read_bytes()) - 1
    assert size_limit > len(good)
    write_csv(load_site / "catalog.csv", HEADER, rows)
    result = load(load_site, max_field_chars=300, max_image_pixels=1000, max_image_bytes=size_limit)
    expected = {3: "missing_id", 4: "too_long", 5: "control_chars", 6: "markup", 7: "duplicate_id",
                8: "missing_title", 9: "markup", 10: "markup", 11: "markup", 12: "markup", 13: "control_chars",
                14: "control_chars", 15: "control_chars", 16: "too_long", 17: "bad_date", 18: "bad_date",
                19: "missing_image", 20: "missing_image", 21: "remote_image", 22: "corrupt_image",
                23: "corrupt_image", 24: "oversized_image", 25: "oversized_image", 26: "unsupported_image",
                27: "missing_image", 28: "bad_row"}
    assert by_source(result) == {f"catalog.csv:{n}": reason for n, reason in expected.items()}
    assert [i.id for i in result.items] == ["ok", "ok2"]
    assert result.items[1].date.startswith("2024-02-29T10:30:00")
    assert result.rows_read == len(result.items) + len(result.rejections) == 28
    details = {r.source: r for r in result.rejections}
    assert "catalog.csv:2" in details["catalog.csv:7"].detail  # names the first occurrence
    assert details["catalog.csv:7"].item_id == "ok"
    assert details["catalog.csv:20"].detail == "image not found: nope/x.png"
    assert "not fetched" in details["catalog.csv:21"].detail
    assert details["catalog.csv:3"].item_id == ""
    assert all("\n" not in r.detail and r.detail for r in result.rejections)


def test_invalid_utf8_csv_row_is_bad_row(load_site):
    (load_site / "catalog.csv").write_bytes(b"id,title,image\n1,Caf\xe9,a.png\n2,Ok,a.png\n")
    result = load(load_site)
    assert [i.id for i in result.items] == ["2"]
    assert [(r.source, r.reason) for r in result.rejections] == [("catalog.csv:2", "bad_row")]


# -- hostile and odd input ---------------------------------------------------------------------------------------
def test_hostile_text(load_site):
    nfd = unicodedata.normalize("NFD", "Crème brûlée")
    rows = [
        row(id="1", title="Tom & Jerry \"quotes\" 'single'"),
        row(id="../../etc/passwd", title="Path-like id"),
        row(id="3", title=f"{nfd} 🍮 東京  \u00a0 Çà"),
        row(id="4", title="3 < 5 and 7 > 2", description="1<2, x > y, a<3"),
        row(id="5", title="emoji only 🎉", keywords="Ünïcode; ÜNÏCODE ;日本"),
    ]
    write_csv(load_site / "catalog.csv", HEADER, rows)
    result = load(load_site)
    assert result.rejections == []
    titles = {i.id: i.title for i in result.items}
    assert titles["1"] == "Tom & Jerry \"quotes\" 'single'"
    assert titles["../../etc/passwd"] == "Path-like id"
    assert titles["3"] == "Crème brûlée 🍮 東京 Çà" and unicodedata.is_normalized("NFC", titles["3"])
    assert titles["4"] == "3 < 5 and 7 > 2"
    assert result.items[4].keywords == ("ünïcode", "日本")


def test_empty_and_huge_fields(load_site):
    huge = "z" * 200_000  # larger than the csv module's default field limit
    write_csv(load_site / "catalog.csv", HEADER, [
        row(id="1", title=huge),
        row(id="2", description=huge),
        row(id="3", title="", description="", keywords="", category="", date="", image=""),
        ["", "", "", "", "", "", ""],
        row(id="5"),
    ])
    result = load(load_site)
    assert [r.reason for r in result.rejections] == ["too_long", "too_long", "missing_title", "missing_id"]
    assert [i.id for i in result.items] == ["5"]
    assert len(result.rejections[0].detail) < 200


def test_tiny_image_and_other_formats(load_site):
    imgs = load_site / "images"
    Image.new("RGB", (1, 1), (255, 0, 0)).save(imgs / "one.png")
    Image.new("P", (3, 3)).save(imgs / "anim.gif")
    Image.new("RGB", (5, 5)).save(imgs / "pic.webp")
    write_csv(load_site / "catalog.csv", HEADER, [row(id="1", image="one.png"), row(id="2", image="anim.gif"),
                                                 row(id="3", image="pic.webp"), row(id="4", image="b.jpg")])
    result = load(load_site)
    assert result.rejections == []
    assert [(i.width, i.height) for i in result.items] == [(1, 1), (3, 3), (5, 5), (10, 5)]


def test_paths_outside_the_images_folder(load_site):
    write_image(load_site, "outside.png")
    absolute = write_image(load_site / "elsewhere", "abs.png")
    write_csv(load_site / "catalog.csv", HEADER, [
        row(id="1", image="../outside.png"),
        row(id="2", image="../../../../nonexistent.png"),
        row(id="3", image=str(absolute)),
        row(id="4", image="bad\x00name.png"),
        row(id="5", image="x" * 5000 + ".png"),
        row(id="6", image="ftp://example.org/a.png"),
    ])
    result = load(load_site)
    assert [i.id for i in result.items] == ["1", "3"]
    assert result.items[0].image == str(load_site / "outside.png")
    assert [(r.item_id, r.reason) for r in result.rejections] == [
        ("2", "missing_image"), ("4", "missing_image"), ("5", "missing_image"), ("6", "remote_image")]


def test_bad_inline_images(load_site):
    lines = [
        {"id": "1", "title": "A", "image": "data:image/png;base64,@@@"},
        {"id": "2", "title": "B", "image": "data:text/html;base64,PGI+"},
        {"id": "3", "title": "C", "image": {"bytes": base64.b64encode(b"<svg xmlns='x'/>").decode()}},
        {"id": "4", "title": "D", "image": {"bytes": ""}},
        {"id": "5", "title": "E", "image": None},
    ]
    (load_site / "c.jsonl").write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    result = load(load_site, path="c.jsonl")
    assert [r.reason for r in result.rejections] == ["corrupt_image", "unsupported_image", "unsupported_image",
                                                     "missing_image", "missing_image"]
    assert not (load_site / ".cache" / "images").exists()


# -- cache, limit, accounting, progress --------------------------------------------------------------------------
def test_image_cache_skips_reopening_unchanged_images(load_site, monkeypatch):
    imgs = load_site / "images"
    (imgs / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    write_csv(load_site / "catalog.csv", HEADER, [row(id="1"), row(id="2", image="b.jpg"),
                                                 row(id="3", image="broken.png")])
    cfg = CatalogSection(path="catalog.csv", images_dir="images")
    opens = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: opens.append(1) or real_open(*a, **k))
    first = load_catalog(cfg, load_site, image_cache_dir=load_site / "c")
    assert len(opens) >= 3 and len(first.image_meta) == 3
    opens.clear()
    second = load_catalog(cfg, load_site, image_cache_dir=load_site / "c", image_meta=first.image_meta)
    assert opens == []
    assert second.items == first.items and second.rejections == first.rejections
    # a changed file is read again
    write_image(imgs, "a.png", w=2, h=2, seed=11)
    st = (imgs / "a.png").stat()
    os.utime(imgs / "a.png", ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    third = load_catalog(cfg, load_site, image_cache_dir=load_site / "c", image_meta=second.image_meta)
    assert len(opens) >= 1 and (third.items[0].width, third.items[0].height) == (2, 2)


def test_cache_from_the_store_round_trips(load_site, tmp_path_factory):
    write_csv(load_site / "catalog.csv", HEADER, [row(id="1"), row(id="2", image="b.jpg")])
    first = load(load_site)
    pytest.importorskip("duckdb")
    from sitegen.store.db import Store

    with Store(tmp_path_factory.mktemp("store") / "s.duckdb") as store:
        store.media.put_image_meta(first.image_meta)
        meta = store.media.image_meta()
    assert meta == first.image_meta


def test_limit_reads_only_the_first_rows(load_site):
    write_csv(load_site / "catalog.csv", HEADER, [row(id=str(n)) for n in range(10)])
    result = load(load_site, limit=4)
    assert result.rows_read == 4 and [i.id for i in result.items] == ["0", "1", "2", "3"]


def test_nothing_vanishes_on_a_mixed_file(load_site):
    rng = random.Random(42)
    choices = [row(), row(title=""), row(image="missing.png"), row(title="<b>x</b>"), ["bad"],
               row(date="2020-02-30"), row(id=""), row(image="b.jpg")]
    rows = []
    for n in range(300):
        r = list(rng.choice(choices))
        if len(r) == len(HEADER) and r[0]:
            r[0] = str(rng.randrange(250))  # some duplicates too
        rows.append(r)
    write_csv(load_site / "catalog.csv", HEADER, rows)
    seen = []
    result = load_catalog(CatalogSection(path="catalog.csv", images_dir="images"), load_site,
                          image_cache_dir=load_site / "c", progress=lambda d, t: seen.append((d, t)))
    assert result.rows_read == 300 == len(result.items) + len(result.rejections)
    sources = [i.source for i in result.items] + [r.source for r in result.rejections]
    assert sorted(sources, key=lambda s: int(s.split(":")[1])) == [f"catalog.csv:{n}" for n in range(2, 302)]
    assert {r.reason for r in result.rejections} >= {"missing_title", "missing_image", "markup", "bad_row",
                                                     "bad_date", "missing_id", "duplicate_id"}
    assert seen and seen[-1] == (300, 300)


# -- the real catalog --------------------------------------------------------------------------------------------
@pytest.mark.shared
def test_fashion_44k_first_500_rows(tmp_path):
    if not (SHARED / "catalog.csv").is_file():
        pytest.skip(f"shared dataset not found at {SHARED} (the fashion-44k catalog is outside this checkout)")
    cfg = CatalogSection(path=str(SHARED / "catalog.csv"), images_dir=str(SHARED), limit=500,
                         columns={"category": "master_category"})
    result = load_catalog(cfg, tmp_path, image_cache_dir=tmp_path / "cache")
    assert result.rows_read == 500 and len(result.items) == 500, result.rejections[:5]
    item = result.items[0]
    assert item.category and item.width > 0 and Path(item.image).is_file()
    assert {name for name, _ in item.attributes} >= {"sub_category", "article_type", "base_colour", "usage"}


def _png_header_only(w: int, h: int) -> bytes:
    """A PNG that claims w x h pixels but holds no image data (a decompression bomb's header)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


def test_decompression_bombs_are_oversized_not_crashes(load_site, recwarn):
    imgs = load_site / "images"
    (imgs / "bomb.png").write_bytes(_png_header_only(30_000, 30_000))  # beyond Pillow's own guard
    (imgs / "wide.png").write_bytes(_png_header_only(10_000, 10_000))  # beyond catalog.max_image_pixels
    Image.new("RGB", (20, 20)).save(imgs / "jpeg.jpg", quality=95)
    data = (imgs / "jpeg.jpg").read_bytes()
    (imgs / "cut.jpg").write_bytes(data[: len(data) // 2])
    write_csv(load_site / "catalog.csv", HEADER, [row(id="1", image="bomb.png"), row(id="2", image="wide.png"),
                                                 row(id="3", image="cut.jpg")])
    result = load(load_site)
    assert [r.reason for r in result.rejections] == ["oversized_image", "oversized_image", "corrupt_image"]
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def test_pixel_limit_is_applied_to_cached_images(load_site):
    write_image(load_site / "images", "big.png", w=40, h=40)
    write_csv(load_site / "catalog.csv", HEADER, [row(id="1", image="big.png")])
    cfg = CatalogSection(path="catalog.csv", images_dir="images", max_image_pixels=1000)
    first = load_catalog(cfg, load_site, image_cache_dir=load_site / "c")
    assert [r.reason for r in first.rejections] == ["oversized_image"]
    cfg.max_image_pixels = 10_000  # raising the limit re-checks the image instead of trusting the cache
    second = load_catalog(cfg, load_site, image_cache_dir=load_site / "c", image_meta=first.image_meta)
    assert [i.id for i in second.items] == ["1"]
    cfg.max_image_pixels = 1000
    third = load_catalog(cfg, load_site, image_cache_dir=load_site / "c", image_meta=second.image_meta)
    assert [r.reason for r in third.rejections] == ["oversized_image"]


def test_progress_is_reported_about_every_1000_rows(load_site):
    write_csv(load_site / "catalog.csv", HEADER, [row(id=str(n)) for n in range(2500)])
    seen = []
    result = load_catalog(CatalogSection(path="catalog.csv", images_dir="images"), load_site,
                          image_cache_dir=load_site / "c", progress=lambda d, t: seen.append((d, t)))
    assert len(result.items) == 2500
    assert seen == [(1000, 2500), (2000, 2500), (2500, 2500)]


def test_size_is_reported_after_exif_orientation(load_site):
    im = Image.new("RGB", (10, 4), (0, 128, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    im.save(load_site / "images" / "turned.jpg", exif=exif)
    write_csv(load_site / "catalog.csv", HEADER, [row(id="1", image="turned.jpg")])
    item = load(load_site).items[0]
    assert (item.width, item.height) == (4, 10)
