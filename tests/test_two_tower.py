"""The VASE two-tower: pairs, training, the saved model, the ``two_tower`` annotator and the evaluation report,
on a tiny catalog built in code (word vectors as the text embedder; no model is loaded or downloaded)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from sitegen.core.config import Config, TwoTowerSection, load_config
from sitegen.core.errors import ConfigError, ModelError
from sitegen.core.models import Collection, Item
from sitegen.engines.stage import Embedded
from sitegen.learn.evaluate import Truth
from sitegen.learn.twotower.model import OUT, item_inputs, load_model, query_inputs, save_model
from sitegen.learn.twotower.pairs import SiteData, make_pairs
from sitegen.learn.twotower.train import fit

COLOURS = ("red", "blue", "green", "black")
KINDS = ("shirts", "shoes", "watches")
GENDER = ("men", "women")
CATEGORY = {"shirts": "description", "shoes": "style", "watches": "use_case"}
DIM = 384


def unit(x):
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


class WordEmbedder:
    """A deterministic bag-of-words embedder: a fixed random vector per word, summed and normalised."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.words: dict[str, np.ndarray] = {}

    def vector(self, word: str) -> np.ndarray:
        if word not in self.words:
            self.words[word] = self.rng.standard_normal(DIM).astype(np.float32)
        return self.words[word]

    def __call__(self, texts):
        return unit([sum(self.vector(w) for w in t.lower().split()) for t in texts]).reshape(len(texts), DIM)


def tiny_site(n_per: int = 6, seed: int = 0):
    """Items of every colour x kind x gender; a collection per colour x kind and per kind x gender; their rows."""
    rng = np.random.default_rng(seed)
    enc = WordEmbedder(seed)
    items, rows = [], []
    for c in COLOURS:
        for k in KINDS:
            for g in GENDER:
                for n in range(n_per):
                    iid = f"{c}-{k}-{g}-{n}"
                    title = f"Brand{n} {g.title()} {c.title()} {k.title()}"
                    items.append(Item(id=iid, title=title, image="", image_sha="", width=60, height=80,
                                      category=k.title(), attributes=(("base_colour", c.title()),), slug=iid))
                    rows.append({"id": iid, "title": title, "master_category": "Apparel", "sub_category": k,
                                 "article_type": k.title(), "base_colour": c.title(), "usage": "Casual",
                                 "image": ""})
    text = unit(enc([i.title for i in items]) + 0.3 * rng.standard_normal((len(items), DIM)) / np.sqrt(DIM))
    collections, topic_vectors = [], {}
    for c in COLOURS:
        for k in KINDS:
            topic = f"{c} {k}"
            members = tuple(i.id for i in items if i.id.startswith(f"{c}-{k}-"))
            collections.append(Collection(slug=f"{c}-{k}", topic=topic, category=CATEGORY[k], hub=k.title(),
                                          item_ids=members, scores=(0.9,) * len(members)))
    for k in KINDS:
        for g in GENDER:
            topic = f"{k} for {g}"
            members = tuple(i.id for i in items if f"-{k}-{g}-" in i.id)[:10]
            collections.append(Collection(slug=f"{k}-for-{g}", topic=topic, category="use_case", hub=k.title(),
                                          item_ids=members, scores=(0.8,) * len(members)))
    for coll in collections:
        topic_vectors[coll.slug] = enc([coll.topic])[0]
    pos_of = {i.id: n for n, i in enumerate(items)}
    scored = []
    for coll in collections:  # the scorer saw the collection's members and a few items of a neighbouring kind
        other = [pos_of[i.id] for i in items if i.id not in coll.item_ids][:8]
        cands = np.array([pos_of[i] for i in coll.item_ids] + other, np.int64)
        scored.append((coll.topic, cands, np.array([0.9] * len(coll.item_ids) + [0.2] * len(other), np.float32)))
    quality = rng.random(len(items)).astype(np.float32)
    data = SiteData(items, Embedded(text, text_vectors=text), collections, topic_vectors, scored, 0.5, quality, enc)
    return data, Truth(rows)


def settings(**kw) -> TwoTowerSection:
    return replace(TwoTowerSection(), **{"epochs": 30, "batch_size": 64, "holdout": 0.2, "device": "cpu", **kw})


def inputs(data, pairs):
    return (item_inputs(data.embedded.texts, data.embedded.image_vectors, data.quality),
            query_inputs(pairs.corpus.vectors, pairs.corpus.texts))


@pytest.fixture(scope="module")
def trained():
    data, truth = tiny_site()
    s = settings()
    pairs = make_pairs(data, holdout=s.holdout, hard_share=s.hard_negatives, seed=s.seed)
    item_x, query_x = inputs(data, pairs)
    return data, truth, pairs, item_x, query_x, fit(pairs, item_x, query_x, s)


def test_pairs_hold_items_out_and_negatives_are_never_known_relevant():
    data, _ = tiny_site()
    pairs = make_pairs(data, holdout=0.2, hard_share=0.5, seed=1)
    assert pairs.sources == {"membership": sum(len(c.item_ids) for c in data.collections)}
    held = pairs.heldout_items
    assert 0 < held.sum() < len(data.items)
    assert not held[pairs.train[:, 0]].any() and held[pairs.heldout[:, 0]].all()
    assert not pairs.is_known(pairs.heldout[:, 0], pairs.heldout[:, 2]).any()
    negs = pairs.negatives(pairs.train[:, 0], np.random.default_rng(0))
    assert not pairs.is_known(pairs.train[:, 0], negs).any()
    assert pairs.corpus.targets == len(data.collections)


def test_training_lowers_the_loss_and_ranks_held_out_positives(trained):
    data, _truth, pairs, item_x, query_x, result = trained
    assert result.losses[-1] < 0.5 * result.losses[0]
    from sitegen.learn.twotower.evaluate import ranking_metrics

    m = ranking_metrics(result.model.encode_items(item_x), result.model.encode_queries(query_x), pairs)
    assert m["correct_rank"] > 0.8


def test_a_few_steps_lower_the_loss():
    data, _ = tiny_site(seed=2)
    s = settings(epochs=4, batch_size=32, seed=2)
    pairs = make_pairs(data, holdout=0.1, hard_share=0.5, seed=2)
    a = fit(pairs, *inputs(data, pairs), s, max_steps=1)
    b = fit(pairs, *inputs(data, pairs), s, max_steps=20)
    assert a.steps == 1 and b.steps == 20
    assert b.losses[-1] < a.first_loss


def test_saved_model_loads_back_with_the_same_scores(trained, tmp_path):
    _data, _truth, _pairs, item_x, query_x, result = trained
    folder = save_model(result.model, tmp_path / "tt")
    loaded = load_model(folder)
    assert loaded.fingerprint == result.model.fingerprint and loaded.threshold == result.model.threshold
    u, v = loaded.encode_items(item_x), loaded.encode_queries(query_x)
    assert u.shape == (len(item_x), OUT)
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(u @ v.T, result.model.encode_items(item_x) @ result.model.encode_queries(query_x).T,
                               atol=1e-6)
    spec = json.loads((folder / "two_tower.json").read_text())
    spec["threshold"] = 0.99
    (folder / "two_tower.json").write_text(json.dumps(spec))
    with pytest.raises(ModelError, match="fingerprint"):
        load_model(folder)
    with pytest.raises(ModelError, match="no two-tower model"):
        load_model(tmp_path / "missing")


def test_torch_and_numpy_towers_agree(trained):
    import torch

    from sitegen.learn.twotower.train import _net

    _data, _truth, _pairs, item_x, query_x, result = trained
    net = _net(0.1)
    net.load_state_dict({k: torch.from_numpy(v) for k, v in result.model.weights.items()})
    net.eval()
    with torch.no_grad():
        expected = net.item(torch.from_numpy(item_x[:20])).numpy()
    np.testing.assert_allclose(result.model.encode_items(item_x[:20]), expected, atol=1e-5)


def test_config_errors_name_the_key(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text('[two_tower]\nepochs = 0\nlr = -1.0\nbatch_size = "big"\ndropout = 1.5\nmargin = 0\n'
                    'hard_negatives = 2\nholdout = 1.0\ndevice = "tpu"\nseed = "x"\nmodel = 3\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    keys = sorted(e.split(":", 1)[0] for e in info.value.errors)
    assert keys == sorted(f"two_tower.{k}" for k in ("epochs", "lr", "batch_size", "dropout", "margin",
                                                      "hard_negatives", "holdout", "device", "seed", "model"))
    path.write_text('[two_tower]\nepochs = 3\nmargin = 0.5\n[link]\nannotator = "two_tower"\n', encoding="utf-8")
    cfg = load_config(path)
    assert cfg.two_tower.epochs == 3 and cfg.two_tower.margin == 0.5 and cfg.two_tower.model.endswith("two-tower")


def test_the_annotator_ranks_by_the_towers_and_falls_back_without_a_model(trained, tmp_path):
    from sitegen.core import registry
    from sitegen.distribute.stage import similarity_annotator

    data, _truth, _pairs, _ix, _qx, result = trained
    annotator = registry.get("annotator", "two_tower")
    cfg = replace(Config(root=tmp_path), two_tower=replace(TwoTowerSection(), model="tt"))
    baseline = similarity_annotator(data.items, data.collections, data.embedded.item_vectors, data.topic_vectors,
                                    cfg, embed=data.encode)
    untrained = annotator(data.items, data.collections, data.embedded.item_vectors, data.topic_vectors, cfg,
                          embed=data.encode, embedded=data.embedded)
    assert untrained == baseline
    save_model(result.model, tmp_path / "tt")
    ann = annotator(data.items, data.collections, data.embedded.item_vectors, data.topic_vectors, cfg,
                    embed=data.encode, embedded=data.embedded)
    assert set(ann) == {i.id for i in data.items}
    assert all(cfg.link.annotations_min <= len(v) <= cfg.link.annotations_max for v in ann.values())
    members = {c.slug: set(c.item_ids) for c in data.collections}
    # memberships first, and every item links its own colour-and-kind collection
    for item_id, slugs in ann.items():
        flags = [item_id in members.get(s, ()) for s in slugs]
        assert flags == sorted(flags, reverse=True)
        colour, kind = item_id.split("-")[:2]
        assert f"{colour}-{kind}" in slugs


def test_eval_report_shape(tmp_path):
    from sitegen.learn.twotower.evaluate import compare_annotators, format_report

    data, truth = tiny_site(n_per=4, seed=3)
    cfg = replace(Config(root=tmp_path), two_tower=settings(epochs=8, seed=3))
    report = json.loads(json.dumps(compare_annotators(cfg, data, truth=truth)))
    assert list(report) == ["annotators"]
    assert list(report["annotators"]) == ["similarity", "two_tower"]
    for name, figures in report["annotators"].items():
        for key in ("correct_rank", "recall@5", "precision"):
            assert 0.0 <= figures[key] <= 1.0, (name, key)
        assert set(figures["query_mix"]) == {"description", "style", "use_case"}
    assert report["annotators"]["two_tower"]["train_seconds"] > 0
    assert "correct rank" in format_report(report)


def test_image_quality_prefers_sharp_contrasty_large_images(tmp_path):
    from PIL import Image, ImageFilter

    from sitegen.ingest.quality import file_quality, image_quality

    rng = np.random.default_rng(0)
    sharp = Image.fromarray((rng.random((400, 300)) > 0.5).astype(np.uint8) * 255)
    sharp.save(tmp_path / "sharp.png")
    sharp.filter(ImageFilter.GaussianBlur(6)).save(tmp_path / "blurred.png")
    sharp.resize((60, 80)).save(tmp_path / "small.png")
    Image.new("L", (400, 300), 128).save(tmp_path / "flat.png")
    q = {n: file_quality(str(tmp_path / f"{n}.png")) for n in ("sharp", "blurred", "small", "flat")}
    assert all(0.0 <= v <= 1.0 for v in q.values())
    assert q["sharp"] > q["blurred"] > q["flat"] and q["sharp"] > q["small"]
    assert file_quality(str(tmp_path / "missing.png")) == 0.0
    items = [Item(id="a", title="A", image=str(tmp_path / "sharp.png"), image_sha="s1", width=400, height=300)]
    np.testing.assert_allclose(image_quality(items), [q["sharp"]], atol=1e-6)


@pytest.mark.slow
def test_cli_trains_and_evaluates_the_example_site(example_site_copy):
    from click.testing import CliRunner

    from sitegen.cli.main import main

    site = example_site_copy()
    runner = CliRunner()
    config = str(site / "site.toml")
    res = runner.invoke(main, ["train", "two-tower", "-c", config, "-q", "--set", "two_tower.epochs=3"])
    assert res.exit_code == 0, res.output
    assert "saved:" in res.output and (site / ".sitegen" / "models" / "two-tower" / "two_tower.json").is_file()
    res = runner.invoke(main, ["eval", "annotations", "-c", config, "--format", "json",
                               "--set", "two_tower.epochs=3"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output[res.output.index("{"):])
    assert set(report["annotators"]) == {"similarity", "two_tower"}
