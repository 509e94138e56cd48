"""The catalog image encoder (sitegen.engines.image, sitegen.learn.image_train) and image fusion in the embed
stage (sitegen.engines.fusion): training on a tiny generated catalog of coloured shapes, saving and loading,
config validation, and weak-text items placed by their images.

The text targets come from the packaged all-MiniLM-L6-v2 (loaded once per session); nothing is downloaded.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sitegen.core.config import load_config
from sitegen.core.errors import ConfigError
from sitegen.core.text import file_name_title, item_text, weak_text
from sitegen.engines.image import CatalogEncoder, EncoderSettings, cached_encode, colour_histograms, load_pixels

COLOURS = {"red": (220, 30, 30), "blue": (30, 60, 220), "green": (30, 170, 60), "yellow": (235, 210, 30)}
SHAPES = ("circle", "square")
PER = 6  # items per colour x shape
WEAK = 8  # items of the catalog whose title is a file name (one per colour x shape)
TINY = EncoderSettings(width=8, epochs=12, batch_size=16, lr=5e-3, holdout=0.15, patience=12, seed=0)


def _draw(path: Path, colour: tuple[int, int, int], shape: str, n: int) -> None:
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (30, 40), (255, 255, 255))
    d = ImageDraw.Draw(im)
    box = (2 + n, 6 + n, 20 + n + n % 2, 22 + n)  # every image of a colour and shape a little different
    (d.ellipse if shape == "circle" else d.rectangle)(box, fill=colour)
    im.save(path)


def make_catalog(root: Path) -> Path:
    """A site folder: 48 generated images of coloured circles and squares, titled by colour and shape; one item
    of each colour x shape has a camera file name for a title and no other text."""
    (root / "content" / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    n = 0
    for colour, rgb in COLOURS.items():
        for shape in SHAPES:
            for k in range(PER):
                n += 1
                image = f"images/{colour}-{shape}-{k}.png"
                _draw(root / "content" / image, rgb, shape, k)
                if k == PER - 1:
                    rows.append({"id": f"w{n}", "title": f"IMG_{1000 + n}", "category": "", "keywords": "",
                                 "image": image})
                else:
                    rows.append({"id": f"s{n}", "title": f"{colour.title()} {shape}",
                                 "category": f"{shape}s", "keywords": f"{colour} {shape};{shape};{colour}",
                                 "image": image})
    with open(root / "content" / "catalog.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["id", "title", "category", "keywords", "image"])
        w.writeheader()
        w.writerows(rows)
    (root / "site.toml").write_text('[site]\ntitle = "Shapes"\nbase_url = "https://shapes.example/"\n'
                                    '[catalog]\npath = "content/catalog.csv"\nimages_dir = "content"\n'
                                    '[build]\nprogress = false\n[embed]\nimage_encoder = "catalog"\n',
                                    encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def embedder():
    from sitegen.engines.embed import Embedder

    # float32: the tiny encoder trained here calibrates its fields on a few dozen votes, so these tests pin the
    # reference vectors rather than whatever precision this CPU would take
    e = Embedder(device="cpu", precision="fp32")
    e.encode(["warm up"])
    return e


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """The tiny site gathered as a build gathers it: (config, site)."""
    from sitegen.pipeline.gather import gather_site
    from sitegen.store.db import Store

    root = make_catalog(tmp_path_factory.mktemp("shapes"))
    cfg = load_config(root / "site.toml")
    with Store(cfg.store_path) as store:
        site = gather_site(cfg, store).site
    return cfg, site


# -- settings -------------------------------------------------------------------------------------------------

def test_config_errors_name_the_key(tmp_path):
    (tmp_path / "site.toml").write_text('[embed]\nimage_encoder = "bogus"\nimage_weight = 1.5\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "site.toml")
    text = str(err.value)
    assert "embed.image_encoder: must be 'none', 'catalog' or a local CLIP-style model folder" in text
    assert "embed.image_weight: must be between 0 and 1 (got 1.5)" in text
    (tmp_path / "notclip").mkdir()
    (tmp_path / "notclip" / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="embed.image_encoder: 'notclip' is not a CLIP-style model folder"):
        load_config(tmp_path / "site.toml", {"embed.image_encoder": "notclip", "embed.image_weight": 0.5})
    (tmp_path / "clip").mkdir()
    (tmp_path / "clip" / "config.json").write_text('{"model_type": "clip"}', encoding="utf-8")
    cfg = load_config(tmp_path / "site.toml", {"embed.image_encoder": "clip", "embed.image_weight": 0.0})
    assert cfg.embed.image_encoder == "clip" and cfg.embed.image_weight == 0.0
    assert load_config(tmp_path / "site.toml",
                       {"embed.image_encoder": "none", "embed.image_weight": 1}).embed.image_weight == 1.0


def test_weak_text_is_a_file_name_and_nothing_else(shapes):
    for title in ("IMG_1234", "DSC_0001.jpg", "PXL_20230101_120000", "1234.png", "scan0003", ""):
        assert file_name_title(title), title
    for title in ("Red circle", "Image of a dog", "2024 calendar", "photo booth props"):
        assert not file_name_title(title), title
    _cfg, items = shapes[0], shapes[1].items
    weak = [i for i in items if weak_text(i)]
    assert {i.id for i in weak} == {i.id for i in items if i.id.startswith("w")} and len(weak) == WEAK
    # the pixel colours the build adds to an untitled item are not text about it
    assert all(all(k == "colour" for k, _ in i.attributes) for i in weak)
    assert any(i.attributes for i in weak)
    named = replace(weak[0], keywords=("red circle",))
    assert not weak_text(named)


# -- training -----------------------------------------------------------------------------------------------

def test_training_lowers_the_loss_and_the_saved_model_reloads(shapes, embedder, tmp_path):
    from sitegen.learn.image_train import saved_fingerprint, train_catalog_encoder, training_items
    from sitegen.store.db import Store

    _cfg, items = shapes[0], shapes[1].items
    result = train_catalog_encoder(items, embedder.encode, tmp_path / "model", text_model_id=embedder.model_id,
                                   settings=TINY)
    assert result.pairs == len(training_items(items)) == len(items) - WEAK
    assert result.train_losses[-1] < result.train_losses[0]
    assert result.best_loss < result.initial_loss
    assert saved_fingerprint(tmp_path / "model") == result.fingerprint
    enc = CatalogEncoder(tmp_path / "model")
    vecs = enc.encode([i.image for i in items])
    assert vecs.shape == (len(items), 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    again = CatalogEncoder(tmp_path / "model").encode([i.image for i in items])
    assert np.array_equal(vecs, again)
    # cached by image hash: a second pass reads the store and encodes nothing
    with Store(tmp_path / "s.duckdb") as store:
        first, n_first = cached_encode(enc, items, store)
        second, n_second = cached_encode(CatalogEncoder(tmp_path / "model"), items, store)
    assert n_first == len({i.image_sha for i in items}) and n_second == 0
    assert np.array_equal(first, second) and np.allclose(first, vecs, atol=1e-6)
    # each image is nearer its own colour's texts than the other colours'
    texts = embedder.encode([item_text(i) for i in items])
    colour_of = [next(c for c in COLOURS if c in i.image) for i in items]
    sims = vecs @ texts.T
    same = np.array([[a == b for b in colour_of] for a in colour_of])
    assert (sims * same).sum() / same.sum() > (sims * ~same).sum() / (~same).sum()


def test_the_fingerprint_follows_the_pairs_and_settings(shapes):
    from sitegen.learn.image_train import fingerprint, training_items

    _cfg, items = shapes[0], shapes[1].items
    chosen = training_items(items)
    texts = [item_text(i) for i in chosen]
    fp = fingerprint(chosen, texts, "m", TINY)
    assert fp == fingerprint(chosen, texts, "m", TINY)
    assert fp != fingerprint(chosen, texts, "m", replace(TINY, epochs=13))
    assert fp != fingerprint(chosen[1:], texts[1:], "m", TINY)
    assert fp != fingerprint(chosen, texts, "other-text-model", TINY)


def test_colour_histograms_ignore_the_white_background(shapes):
    _cfg, items = shapes[0], shapes[1].items
    red = next(i for i in items if "red-circle" in i.image)
    hist = colour_histograms(load_pixels([red.image], 48, 64), 4)[0]
    assert hist.argmax() == (3 * 4 + 0) * 4 + 0  # the red cell, not white
    assert abs(float((hist ** 2).sum()) - 1.0) < 1e-5


# -- the embed stage ------------------------------------------------------------------------------------------

def test_weak_text_items_are_placed_by_their_images(shapes, embedder, tmp_path):
    from sitegen.core.stage import StageContext
    from sitegen.engines.image import catalog_model_dir
    from sitegen.engines.fusion import WEAK_IMAGE, neighbour_weights
    from sitegen.engines.stage import embed
    from sitegen.learn.image_train import train_catalog_encoder
    from sitegen.store.db import Store

    cfg, site = shapes
    items = site.items
    cfg = replace(cfg, build=replace(cfg.build, store=str(tmp_path / "store" / "site.duckdb")))
    train_catalog_encoder(items, embedder.encode, catalog_model_dir(cfg), text_model_id=embedder.model_id,
                          settings=TINY)
    with Store(cfg.store_path) as store:
        ctx = StageContext(cfg, store, _embedder=embedder)
        out = embed(ctx, site)
    weak = np.array([weak_text(i) for i in items])
    assert out.weak is not None and np.array_equal(out.weak, weak)
    assert out.image_vectors.shape == out.text_vectors.shape == out.item_vectors.shape == (len(items), 384)
    # a weak-text item's own text plays no part: its image and its image neighbours' texts
    rows, nbrs, sims = out.neighbours
    borrowed = np.einsum("nk,nkd->nd", neighbour_weights(sims), out.text_vectors[nbrs])
    borrowed /= np.linalg.norm(borrowed, axis=1, keepdims=True)
    expect = WEAK_IMAGE * out.image_vectors[rows] + (1 - WEAK_IMAGE) * borrowed
    assert np.allclose(out.item_vectors[rows], expect / np.linalg.norm(expect, axis=1, keepdims=True), atol=1e-5)
    assert not np.isin(nbrs, rows).any()  # neighbours are items with text
    w = cfg.embed.image_weight
    fused = (1 - w) * out.text_vectors[~weak] + w * out.image_vectors[~weak]
    fused /= np.linalg.norm(fused, axis=1, keepdims=True)
    assert np.allclose(out.item_vectors[~weak], fused, atol=1e-5)
    assert ctx.counters["items_weak_text"] == WEAK
    # a weak-text item reads as the catalog fields most of its image neighbours agree on: its shape and colour
    assert sorted(out.evidence) == sorted(rows.tolist()) == np.flatnonzero(weak).tolist()
    right = 0
    for r in rows.tolist():
        colour, shape = Path(items[r].image).stem.split("-")[:2]
        ev = out.evidence[r]
        assert ev.id == items[r].id and ev.image == items[r].image and "IMG" not in ev.title
        assert all(k != "colour" or v in COLOURS for k, v in ev.attributes)
        right += ev.category == f"{shape}s" and colour in ev.keywords and colour in ev.title.split()
    assert right >= WEAK // 2
    # items with text read as themselves
    assert [i for n, i in enumerate(out.evidence_items(items)) if not weak[n]] == [i for i in items if not weak_text(i)]


def test_the_build_trains_the_catalog_encoder_on_first_use(shapes, embedder, tmp_path):
    from sitegen.core.stage import StageContext
    from sitegen.engines.image import CONFIG_FILE, MODEL_FILE, catalog_model_dir
    from sitegen.engines.stage import embed
    from sitegen.store.db import Store

    cfg, site = shapes
    cfg = replace(cfg, build=replace(cfg.build, store=str(tmp_path / "store" / "site.duckdb")))
    with Store(cfg.store_path) as store:
        ctx = StageContext(cfg, store, _embedder=embedder)
        first = embed(ctx, site)
        assert ctx.counters["image_encoder_trained"] > 0
        assert (catalog_model_dir(cfg) / MODEL_FILE).is_file() and (catalog_model_dir(cfg) / CONFIG_FILE).is_file()
        again = StageContext(cfg, store, _embedder=embedder)
        second = embed(again, site)
    assert "image_encoder_trained" not in again.counters and again.counters["images_encoded"] == 0
    assert np.array_equal(first.image_vectors, second.image_vectors)


def test_weak_text_items_join_collections_and_get_annotations(shapes, embedder, tmp_path):
    """The whole GEO pipeline on the tiny catalog with a trained catalog encoder."""
    from sitegen.engines.image import catalog_model_dir
    from sitegen.learn.image_train import train_catalog_encoder
    from sitegen.pipeline.geo import run_geo
    from sitegen.store.db import Store

    cfg, site = shapes
    items = site.items
    cfg = replace(cfg, build=replace(cfg.build, store=str(tmp_path / "store" / "site.duckdb")),
                  collect=replace(cfg.collect, min_items=4))
    train_catalog_encoder(items, embedder.encode, catalog_model_dir(cfg), text_model_id=embedder.model_id,
                          settings=TINY)
    with Store(cfg.store_path) as store:
        geo = run_geo(cfg, store, site, reuse=False)
    weak_ids = {i.id for i in items if weak_text(i)}
    members = {i for c in geo.site.collections for i in c.item_ids}
    assert len(weak_ids & members) >= WEAK // 2
    for c in geo.site.collections:  # a weak-text item joins only collections of its own colour and shape
        for i in weak_ids.intersection(c.item_ids):
            colour, shape = Path(next(it.image for it in items if it.id == i)).stem.split("-")[:2]
            assert all(w in (colour, shape, shape + "s") for w in c.topic.split()), (c.topic, i)
    assert all(geo.site.annotations.get(i) for i in weak_ids)
    image_queries = [q for q in geo.queries if q.item_id in weak_ids]
    assert image_queries and all(q.source == "image" for q in image_queries)


def test_a_local_clip_folder_is_mapped_into_the_text_space(shapes, embedder, tmp_path):
    """A tiny random transformers CLIPModel saved to disk (nothing downloaded): its image features go through
    the ridge head fitted on the catalog's pairs."""
    import torch
    from transformers import CLIPConfig, CLIPModel

    from sitegen.core.stage import StageContext
    from sitegen.engines.stage import embed
    from sitegen.store.db import Store

    torch.manual_seed(0)
    config = CLIPConfig(text_config={"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
                                     "num_attention_heads": 2, "vocab_size": 99, "max_position_embeddings": 16},
                        vision_config={"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
                                       "num_attention_heads": 2, "image_size": 32, "patch_size": 8},
                        projection_dim=24)
    CLIPModel(config).save_pretrained(tmp_path / "tiny-clip")
    cfg, site = shapes
    cfg = load_config(cfg.root / "site.toml", {"embed.image_encoder": str(tmp_path / "tiny-clip"),
                                               "build.store": str(tmp_path / "store" / "site.duckdb")})
    with Store(cfg.store_path) as store:
        ctx = StageContext(cfg, store, _embedder=embedder)
        out = embed(ctx, site)
        again = StageContext(cfg, store, _embedder=embedder)
        second = embed(again, site)
    assert out.image_vectors.shape == (len(site.items), 384)
    assert np.allclose(np.linalg.norm(out.image_vectors, axis=1), 1.0, atol=1e-5)
    assert ctx.counters["images_encoded"] == len(site.items) and again.counters["images_encoded"] == 0
    assert np.allclose(out.image_vectors, second.image_vectors, atol=1e-6)
