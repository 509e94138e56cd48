"""media.py: WebP renditions, cache, no upscaling, deterministic bytes, alpha."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from PIL import Image

from sitegen.publish.media import ImageSet, make_thumbnails, publish_media, rendition_sizes
from sitegen.core.models import Item


def _item(tmp: Path, name: str, size: tuple[int, int], mode: str = "RGB", fill=(200, 30, 60)) -> Item:
    path = tmp / "src" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new(mode, size, fill)
    for x in range(size[0]):
        img.putpixel((x, x * size[1] // size[0]), (0, 0, 0, 255)[: len(mode)])
    img.save(path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return Item(id=name, title=name, image=str(path), image_sha=sha, width=size[0], height=size[1], slug=f"{name}-slug")


def test_rendition_sizes_never_upscale():
    assert rendition_sizes(1000, 500, [160, 320, 640]) == [(160, 80), (320, 160), (640, 320)]
    assert rendition_sizes(500, 1000, [160, 320, 640]) == [(160, 320), (320, 640), (500, 1000)]
    assert rendition_sizes(320, 100, [160, 320, 640]) == [(160, 50), (320, 100)]
    assert rendition_sizes(60, 80, [160, 320, 640]) == [(60, 80)]
    assert rendition_sizes(640, 640, [160, 320, 640]) == [(160, 160), (320, 320), (640, 640)]
    assert rendition_sizes(0, 10, [160]) == []


def test_thumbnails_are_webp_of_the_planned_sizes(tmp_path):
    items = [_item(tmp_path, "big", (900, 600)), _item(tmp_path, "small", (60, 80))]
    sets = make_thumbnails(items, [160, 320, 640], tmp_path / "cache")
    assert [r.width for r in sets["big"].renditions] == [160, 320, 640]
    assert [(r.width, r.height) for r in sets["small"].renditions] == [(60, 80)]
    assert sets["big"].renditions[0].url == "/media/big-slug-160.webp"
    for image_set in sets.values():
        for r in image_set.renditions:
            with Image.open(tmp_path / "cache" / r.file) as img:
                assert img.format == "WEBP" and img.size == (r.width, r.height)


def test_thumbnail_bytes_are_deterministic(tmp_path):
    item = _item(tmp_path, "a", (700, 500))
    first = make_thumbnails([item], [160, 320], tmp_path / "c1")
    second = make_thumbnails([item], [160, 320], tmp_path / "c2")
    assert first == second
    for r in first["a"].renditions:
        assert (tmp_path / "c1" / r.file).read_bytes() == (tmp_path / "c2" / r.file).read_bytes()


def test_cache_is_reused_without_opening_images(tmp_path, monkeypatch):
    items = [_item(tmp_path, f"i{n}", (400 + n, 300)) for n in range(3)]
    first = make_thumbnails(items, [160, 320], tmp_path / "cache")
    mtimes = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*.webp")}

    def boom(*args, **kwargs):
        raise AssertionError("an image was opened")

    monkeypatch.setattr(Image, "open", boom)
    progress = []
    second = make_thumbnails(items, [160, 320], tmp_path / "cache", progress=lambda d, t: progress.append((d, t)))
    assert second == first and progress[-1] == (3, 3)
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*.webp")} == mtimes


def test_alpha_is_kept(tmp_path):
    item = _item(tmp_path, "alpha", (400, 400), "RGBA", (10, 200, 30, 90))
    sets = make_thumbnails([item], [160], tmp_path / "cache")
    with Image.open(tmp_path / "cache" / sets["alpha"].renditions[0].file) as img:
        assert img.mode == "RGBA"
        assert 60 <= img.getpixel((10, 100))[3] <= 120


def test_unreadable_image_is_left_out(tmp_path):
    good = _item(tmp_path, "good", (200, 200))
    bad = Item(id="bad", title="bad", image=str(tmp_path / "missing.png"), image_sha="f" * 64, width=200,
               height=200, slug="bad")
    sets = make_thumbnails([good, bad], [160], tmp_path / "cache")
    assert set(sets) == {"good"}


def test_publish_media_hard_links(tmp_path):
    items = [_item(tmp_path, "a", (500, 400)), _item(tmp_path, "b", (100, 100))]
    sets = make_thumbnails(items, [160, 320], tmp_path / "cache")
    placed = publish_media(sets, tmp_path / "cache", tmp_path / "out")
    assert placed == 3
    r = sets["a"].renditions[1]
    dest = tmp_path / "out" / "media" / "a-slug-320.webp"
    assert dest.is_file() and os.stat(dest).st_ino == os.stat(tmp_path / "cache" / r.file).st_ino
    assert publish_media(sets, tmp_path / "cache", tmp_path / "out") == 3  # idempotent


def test_image_set_helpers():
    s = ImageSet("x", ())
    assert s.largest is None and s.srcset() == ""


@pytest.mark.parametrize("mode", ["L", "P"])
def test_other_modes_encode(tmp_path, mode):
    path = tmp_path / f"{mode}.png"
    Image.new(mode, (300, 200), 5).save(path)
    item = Item(id=mode, title=mode, image=str(path), image_sha=hashlib.sha256(path.read_bytes()).hexdigest(),
                width=300, height=200, slug=mode.lower())
    sets = make_thumbnails([item], [160], tmp_path / "cache")
    assert [r.width for r in sets[mode].renditions] == [160]  # 300 > the largest width: not published


def test_items_sharing_one_image_are_encoded_once(tmp_path, monkeypatch):
    from sitegen.publish import media

    a = _item(tmp_path, "a", (500, 400))
    twins = [a] + [Item(id=f"twin{n}", title="t", image=a.image, image_sha=a.image_sha, width=500, height=400,
                        slug=f"twin-{n}") for n in range(5)]
    calls = []
    original = media.encode_renditions
    monkeypatch.setattr(media, "encode_renditions", lambda path, targets: calls.append(path) or original(path, targets))
    sets = make_thumbnails(twins, [160, 320], tmp_path / "cache", workers=4)
    assert len(calls) == 1 and set(sets) == {i.id for i in twins}
    assert sets["twin3"].renditions[0].url == "/media/twin-3-160.webp"
    assert publish_media(sets, tmp_path / "cache", tmp_path / "out") == 12


def test_the_background_warmer_fills_the_cache_and_stops_between_images(tmp_path, monkeypatch):
    import threading

    from sitegen.publish import media
    from sitegen.publish.media import ThumbnailWarmer

    items = [_item(tmp_path, f"w{i}", (400, 300), fill=(20 * i, 90, 160)) for i in range(6)]
    ThumbnailWarmer(items, [160, 320], tmp_path / "warm").wait()
    cold = make_thumbnails(items, [160, 320], tmp_path / "cold")
    for s in cold.values():
        for r in s.renditions:  # what it wrote is what the thumbnails stage writes
            assert (tmp_path / "warm" / r.file).read_bytes() == (tmp_path / "cold" / r.file).read_bytes()

    gate, encoded = threading.Event(), []
    real = media.encode_renditions

    def slow(path, targets):
        encoded.append(path)
        gate.wait(5)
        real(path, targets)

    monkeypatch.setattr(media, "encode_renditions", slow)
    warmer = ThumbnailWarmer(items, [160, 320], tmp_path / "partial")
    while not encoded:
        threading.Event().wait(0.01)
    warmer._stop.set()
    gate.set()
    warmer.stop()
    assert len(encoded) == 1  # stopped after the image it was encoding
    monkeypatch.setattr(media, "encode_renditions", real)
    done = make_thumbnails(items, [160, 320], tmp_path / "partial")  # the stage does the rest
    assert done == cold
