"""The cross-encoder teacher: training, saving, loading and predicting on a tiny random BERT built from a config
(no download), the `cross-encoder` judge, `sitegen train teacher` on a tiny site's store and on a labelled CSV,
and (slow, shared data) the teacher's kappa on CrowdFlower's held-out queries."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from sitegen.cli.main import main
from sitegen.core.config import load_config
from sitegen.core.errors import ModelError, SitegenError
from sitegen.core.models import Item, Judgment
from sitegen.learn.relevance import cross_encoder as ce
from sitegen.learn.relevance.judge import Pair, make_judge
from sitegen.learn.relevance.labels import read_labels_csv, split_by_query
from sitegen.store.db import Store

from .conftest import SHARED

WORDS = ["apple", "dog", "cat", "shoes", "dress", "flower", "bottle", "headphones"]
FAST = dict(epochs=4, batch_size=8, max_length=24, lr=5e-3)  # enough for the tiny model to learn the toy task


def toy_pairs():
    """Red things are relevant (4-5) to every query, blue ones are not (1-2): a rule the held-out queries share."""
    queries, texts, grades = [], [], []
    for i, q in enumerate(WORDS):
        for j, t in enumerate(WORDS):
            for colour, grade in (("red", 4 + (i + j) % 2), ("blue", 1 + (i * j) % 2)):
                queries.append(f"{q} clipart")
                texts.append(f"a {colour} {t} on a table")
                grades.append(float(grade))
    return queries, texts, np.array(grades)


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from sitegen.engines.tiny_bert import make_tiny_bert

    return make_tiny_bert(tmp_path_factory.mktemp("tiny-bert") / "bert")


@pytest.fixture(scope="module")
def trained(tiny_bert, tmp_path_factory):
    queries, texts, grades = toy_pairs()
    out = tmp_path_factory.mktemp("teacher") / "teacher"
    steps = []
    teacher = ce.train_cross_encoder(queries, texts, grades, out, scale=(1, 5), seed=0, base=tiny_bert,
                                     progress=lambda done, total: steps.append((done, total)), **FAST)
    return teacher, out, steps


def test_train_save_load_predict(trained, tiny_bert):
    teacher, out, steps = trained
    assert {"config.json", "model.safetensors", "tokenizer.json", "teacher.json"} <= {p.name for p in out.iterdir()}
    fp = json.loads((out / "teacher.json").read_text(encoding="utf-8"))
    assert fp["id"] == teacher.id and fp["id"].startswith("cross-encoder:")
    assert fp["base_model"].startswith("bert:") and fp["scale"] == [1, 5] and len(fp["data_hash"]) == 16
    assert fp["settings"]["head"] == "regression" and fp["settings"]["max_length"] == 24
    assert fp["validation_queries"] >= 1 and fp["train_pairs"] + fp["validation_pairs"] == fp["pairs"] == 128
    assert {"rmse", "accuracy", "qwk", "qwk_cutpoints", "auroc"} <= set(fp["metrics"])
    assert len(fp["cutpoints"]) == 4 and fp["cutpoints"] == sorted(fp["cutpoints"])
    assert steps[-1][0] <= steps[-1][1] and [s for s, _ in steps] == list(range(1, len(steps) + 1))

    queries = ["cat drawing", "bottle drawing", "cat drawing", "bottle drawing"]
    texts = ["a red dog on a table", "a red bottle on a table", "a blue dog on a table", "a blue bottle on a table"]
    first = teacher.predict(queries, texts)
    loaded = ce.CrossEncoderTeacher.load(out)
    again = loaded.predict(queries, texts, batch_size=3)
    assert first.dtype == np.float32 and first.shape == (4,)
    np.testing.assert_allclose(first, again, atol=1e-5)
    np.testing.assert_array_equal(again, loaded.predict(queries, texts, batch_size=3))
    assert ((1 <= again) & (again <= 5)).all()
    assert again[:2].min() > again[2:].max() + 1.0  # it learnt the rule, on queries it never saw
    assert loaded.levels(again).tolist()[:2] != loaded.levels(again).tolist()[2:]
    assert loaded.id == teacher.id and loaded.scale == (1, 5)


def test_training_is_deterministic_for_a_seed(trained, tiny_bert, tmp_path):
    teacher, _, _ = trained
    queries, texts, grades = toy_pairs()
    same = ce.train_cross_encoder(queries, texts, grades, tmp_path / "same", scale=(1, 5), seed=0, base=tiny_bert,
                                  **FAST)
    assert same.id == teacher.id
    other = ce.train_cross_encoder(queries, texts, grades, tmp_path / "other", scale=(1, 5), seed=1,
                                   base=tiny_bert, **FAST)
    assert other.id != teacher.id
    np.testing.assert_array_equal(same.predict(queries[:10], texts[:10]), teacher.predict(queries[:10], texts[:10]))


def test_classification_head_and_retraining_in_place(tiny_bert, tmp_path):
    queries, texts, grades = toy_pairs()
    grades = np.where(grades >= 4, grades - 0.5, grades)  # means of raters: 3.5, 4.5
    out = tmp_path / "teacher"
    first = ce.train_cross_encoder(queries, texts, grades, out, scale=(1, 5), base=tiny_bert, head="classification",
                                   **{**FAST, "epochs": 1})
    assert first.head == "classification" and first.fingerprint["settings"]["epochs"] == 1
    second = ce.train_cross_encoder(queries, texts, grades, out, scale=(1, 5), base=tiny_bert, **{**FAST, "epochs": 1})
    assert second.id != first.id and ce.read_fingerprint(out)["id"] == second.id  # replaced, nothing left beside
    assert sorted(p.name for p in tmp_path.iterdir()) == ["teacher"]
    loaded = ce.CrossEncoderTeacher.load(out)
    assert loaded.head == "regression"
    predicted = ce.CrossEncoderTeacher.load(out, quantize=True).predict(queries[:6], texts[:6])
    assert ((1 <= predicted) & (predicted <= 5)).all()


def test_training_refuses_bad_input(tiny_bert, tmp_path):
    queries, texts, grades = toy_pairs()
    with pytest.raises(SitegenError, match="too few grades to train the teacher: 10 graded pair"):
        ce.train_cross_encoder(queries[:10], texts[:10], grades[:10], tmp_path / "t", scale=(1, 5), base=tiny_bert)
    with pytest.raises(SitegenError, match="over 1 query"):
        ce.train_cross_encoder(queries[:16] * 2, texts[:16] * 2, np.tile(grades[:16], 2), tmp_path / "t",
                               scale=(1, 5), base=tiny_bert)
    with pytest.raises(SitegenError, match="grades must lie on the scale 1-4"):
        ce.train_cross_encoder(queries, texts, grades, tmp_path / "t", scale=(1, 4), base=tiny_bert)
    with pytest.raises(SitegenError, match="every grade is the same"):
        ce.train_cross_encoder(queries, texts, np.full(len(grades), 3.0), tmp_path / "t", scale=(1, 5),
                               base=tiny_bert)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SitegenError, match="holds other files"):
        ce.train_cross_encoder(queries, texts, grades, tmp_path / "busy", scale=(1, 5), base=tiny_bert)
    assert (tmp_path / "busy" / "notes.txt").read_text(encoding="utf-8") == "mine"
    with pytest.raises(ModelError, match="run `sitegen train teacher`"):
        ce.CrossEncoderTeacher.load(tmp_path / "nothing-here")


def test_metrics_cutpoints_and_the_guideline_mapping():
    assert ce.to_guideline(np.array([1.0, 2.0, 3.0, 4.0, 0.2, 4.9]), (1, 4)).tolist() == [1, 2, 4, 5, 1, 5]
    assert ce.to_guideline(np.array([1.4, 2.6, 5.0]), (1, 5)).tolist() == [1, 3, 5]
    truth = np.array([1, 2, 3, 4, 4, 4])
    assert ce.quadratic_weighted_kappa(truth, truth, (1, 4)) == pytest.approx(1.0)
    assert ce.quadratic_weighted_kappa(truth, 5 - truth, (1, 4)) < 0
    assert ce.auroc(np.array([0, 0, 1, 1], bool), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
    assert ce.auroc(np.array([0, 1], bool), np.array([0.5, 0.5])) == pytest.approx(0.5)
    m = ce.grade_metrics(np.array([1, 2, 4, 4]), np.array([1.2, 2.4, 3.6, 3.9]), (1, 4))
    assert m["accuracy"] == 1.0 and m["qwk"] == pytest.approx(1.0) and m["auroc"]["4"] == 1.0
    predicted = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    cuts = ce.fit_cutpoints(predicted, np.array([1, 1, 2, 2, 2, 3, 4, 4, 4, 4]), (1, 4))
    assert ce.apply_cutpoints(predicted, cuts, (1, 4)).tolist() == [1, 1, 2, 2, 2, 3, 4, 4, 4, 4]


def make_site(folder):
    """Sixteen items, a red and a blue one of each thing, in a catalog with images."""
    (folder / "img").mkdir(parents=True)
    rows = []
    for i in range(16):
        colour = "Red" if i % 2 == 0 else "Blue"
        Image.new("RGB", (56, 56), (200, 10 * i, 30)).save(folder / "img" / f"{i}.png")
        rows.append({"id": f"thing-{i}", "title": f"{colour} {WORDS[i // 2]}", "category": "Clipart",
                     "image": f"img/{i}.png"})
    with open(folder / "catalog.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    (folder / "site.toml").write_text('[site]\ntitle = "Things"\nbase_url = "https://t.example/"\n'
                                      '[catalog]\npath = "catalog.csv"\nimages_dir = "."\n', encoding="utf-8")
    return rows


def invoke(folder, *args):
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(cwd)


def test_train_teacher_command_on_the_store_then_the_judge(tiny_bert, tmp_path):
    rows = make_site(tmp_path)
    cfg = load_config(tmp_path / "site.toml")
    tiny = ("--base", str(tiny_bert), "--epochs", "4", "--batch-size", "8", "--max-length", "24", "--lr", "5e-3")

    refused = invoke(tmp_path, "train", "teacher", *tiny)
    assert refused.exit_code == 1 and "no human grades in the store" in refused.output

    with Store(cfg.store_path) as store:
        store.judgments.add([Judgment(f"{q} clipart", r["id"], 5 if r["title"].startswith("Red") else 1, "human",
                                      rater, "2026-01-01T00:00:00Z")
                             for q in WORDS for r in rows for rater in (["ann", "bo"] if q == "dog" else ["ann"])])
        store.judgments.add([Judgment("dog clipart", "thing-0", 4, "human", "bo", "2026-01-01T00:00:00Z"),
                             Judgment("dog clipart", "thing-1", 5, "catalog", "catalog")])  # not human: ignored
    done = invoke(tmp_path, "train", "teacher", *tiny, "-q")
    assert done.exit_code == 0, done.output
    assert "training the teacher on 128 graded pairs (8 queries, scale 1-5) from the store's 144 human grades" \
        in done.output
    assert "held-out (" in done.output and "qwk" in done.output and "auroc @2" in done.output
    folder = cfg.path(cfg.relevance.teacher_model)
    fp = ce.read_fingerprint(folder)
    assert f"saved: {folder} ({fp['id']})" in done.output and fp["pairs"] == 128

    judge = make_judge("cross-encoder", cfg)
    assert judge.rater == fp["id"]
    items = [Item(r["id"], r["title"], str(tmp_path / r["image"]), "", 56, 56, category="Clipart") for r in rows]
    grades = judge.grade([Pair("flower drawing", item) for item in items])
    assert [g.item_id for g in grades] == [r["id"] for r in rows]
    assert {g.source for g in grades} == {"cross-encoder"} and {g.rater for g in grades} == {fp["id"]}
    red = [g.grade for g, r in zip(grades, rows) if r["title"].startswith("Red")]
    blue = [g.grade for g, r in zip(grades, rows) if r["title"].startswith("Blue")]
    assert set(red + blue) <= {1, 2, 3, 4, 5} and min(red) > max(blue)
    assert judge.grade([]) == []

    with pytest.raises(ModelError, match=r"no cross-encoder teacher in .*nowhere: run `sitegen train teacher`"):
        make_judge("cross-encoder", load_config(tmp_path / "site.toml", {"relevance.teacher_model": "nowhere"}))


def write_labels(path):
    queries, texts, grades = toy_pairs()
    with open(path, "w", newline="", encoding="latin-1") as f:
        w = csv.writer(f)
        w.writerow(["id", "search", "name", "about", "median"])
        for n, (q, t, g) in enumerate(zip(queries, texts, grades)):
            about = "<p>Made in <b>caf\u00e9s</b> &amp; shops,\nline two</p>" if n % 3 == 0 else ""
            w.writerow([n, q, t, about, min(4, int(g))])
        w.writerow([999, "", "no query", "", 3])
        w.writerow([1000, "dog clipart", "a dog", "", "n/a"])


def test_train_teacher_command_on_a_labelled_csv(tiny_bert, tmp_path):
    make_site(tmp_path)
    write_labels(tmp_path / "labels.csv")
    pairs = read_labels_csv(tmp_path / "labels.csv", query_col="search", title_col="name", text_col="about",
                            grade_col="median", encoding="latin-1")
    assert len(pairs) == 128 and pairs.skipped == 2 and pairs.scale() == (1, 4)
    assert pairs.texts[0] == "a red apple on a table . Made in caf\u00e9s & shops, line two"
    assert pairs.texts[1] == "a blue apple on a table"
    kept, held = split_by_query(pairs.queries, 0.25, seed=0)
    assert not {pairs.queries[i] for i in kept} & {pairs.queries[i] for i in held}
    assert len({pairs.queries[i] for i in held}) == 2 and len(kept) + len(held) == 128

    args = ("train", "teacher", "--labels", "labels.csv", "--query-col", "search", "--title-col", "name",
            "--text-col", "about", "--grade-col", "median", "--encoding", "latin-1", "--out", "models/t",
            "--base", str(tiny_bert), "--epochs", "1", "--max-length", "24", "--seed", "3", "-q")
    done = invoke(tmp_path, *args)
    assert done.exit_code == 0, done.output
    assert "on 128 graded pairs (8 queries, scale 1-4) from labels.csv (2 rows without a query" in done.output
    assert 'use it with: relevance.teacher_model = "models/t"' in done.output
    fp = ce.read_fingerprint(tmp_path / "models" / "t")
    assert fp["scale"] == [1, 4] and fp["settings"]["seed"] == 3 and fp["settings"]["max_length"] == 24

    missing = invoke(tmp_path, "train", "teacher", "--labels", "labels.csv", "--query-col", "search")
    assert missing.exit_code == 2 and "--labels needs --title-col, --grade-col" in missing.output
    wrong = invoke(tmp_path, *args[:5], "query", *args[6:])
    assert wrong.exit_code == 1 and "no column 'query' (columns: id, search, name, about, median)" in wrong.output
    utf8 = invoke(tmp_path, *[a for a in args if a not in ("--encoding", "latin-1")])
    assert utf8.exit_code == 1 and "not utf-8 text" in utf8.output and "--encoding" in utf8.output


CROWDFLOWER = SHARED / "datasets" / "relevance" / "crowdflower" / "train.csv"


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.skipif(not CROWDFLOWER.is_file(), reason=f"{CROWDFLOWER} is not here")
def test_teacher_kappa_on_crowdflower_held_out_queries(tmp_path):
    pairs = read_labels_csv(CROWDFLOWER, query_col="query", title_col="product_title",
                            text_col="product_description", grade_col="median_relevance")
    train, test = split_by_query(pairs.queries, 0.2, seed=0)
    pick = lambda idx: ([pairs.queries[i] for i in idx], [pairs.texts[i] for i in idx])  # noqa: E731
    teacher = ce.train_cross_encoder(*pick(train), pairs.grades[train], tmp_path / "teacher", scale=(1, 4), seed=0,
                                     epochs=1)
    predicted = teacher.predict(*pick(test))
    kappa = ce.quadratic_weighted_kappa(np.rint(pairs.grades[test]), teacher.levels(predicted), (1, 4))
    assert kappa > 0.4, kappa
