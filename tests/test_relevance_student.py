"""The learnt relevance student, the bm25 scorer, the offline metrics and `sitegen eval relevance`."""

from __future__ import annotations

import csv
import json
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from sitegen.aggregate.collect import Lexicon
from sitegen.aggregate.relevance import CatalogView, HeuristicScorer, TopicEvidence, make_scorer, scorer_name
from sitegen.core.config import CollectSection, load_config
from sitegen.core.errors import CatalogError, ModelError
from sitegen.core.models import Item
from sitegen.learn.relevance import metrics
from sitegen.learn.relevance.bm25 import Bm25Scorer
from sitegen.learn.relevance.features import SPEC, Features
from sitegen.learn.relevance.labelled import read_labels, split_by_query, strip_html
from sitegen.learn.relevance.offline import format_table
from sitegen.learn.relevance.student import Student, StudentScorer, grade_targets, relevant_level, train_student

from .conftest import SHARED


# -- metrics, against values computed by hand ---------------------------------------------------------------

def test_kappa_accuracy_and_rounding():
    # pred 1 1 2 3 vs true 1 2 2 3 on 1-3: sum(w*O) = 0.25, sum(w*E) = 1.25 -> 1 - 0.25 / 1.25
    assert metrics.quadratic_kappa(np.array([1, 1, 2, 3]), np.array([1, 2, 2, 3]), (1, 3)) == pytest.approx(0.8)
    assert metrics.quadratic_kappa(np.array([1, 2, 3]), np.array([1, 2, 3]), (1, 3)) == pytest.approx(1.0)
    # means of raters are rounded half up: 2.33 -> 2, 2.5 -> 3, 3.67 -> 4
    assert metrics.round_grades(np.array([2.33, 2.5, 3.67, 0.2]), (1, 4)).tolist() == [2, 3, 4, 1]
    assert metrics.accuracy(np.array([2, 3, 4]), np.array([2.33, 2.5, 3.0]), (1, 4)) == pytest.approx(2 / 3)


def test_auroc_at_thresholds():
    assert metrics.auroc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    assert metrics.auroc(np.array([0.5, 0.5]), np.array([0, 1])) == pytest.approx(0.5)  # a tie counts half
    assert metrics.auroc(np.array([0.1, 0.2]), np.array([1, 1])) is None
    got = metrics.auroc_at_thresholds(np.array([0.1, 0.2, 0.3, 0.4]), np.array([1, 2, 3, 3.6]), (1, 4))
    assert got == {"2": 1.0, "3": 1.0, "4": 1.0}
    got = metrics.auroc_at_thresholds(np.array([0.4, 0.3, 0.2, 0.1]), np.array([1, 2, 3, 3]), (1, 4))
    assert got == {"2": 0.0, "3": 0.0, "4": None}


def test_ndcg_on_raw_grades_with_ties():
    grades = np.array([3.0, 2.0, 1.0])  # gains 2^(g-1) - 1 = 3, 1, 0
    ideal = 3 + 1 / np.log2(3)
    worst = metrics.ndcg_at_k(np.array([0.1, 0.2, 0.3]), grades, (1, 3))
    assert worst == pytest.approx((1 / np.log2(3) + 3 / np.log2(4)) / ideal)
    assert metrics.ndcg_at_k(np.array([0.3, 0.2, 0.1]), grades, (1, 3)) == pytest.approx(1.0)
    # one tie of three: each item gets the mean discount of ranks 1-3
    tied = metrics.ndcg_at_k(np.zeros(3), grades, (1, 3))
    assert tied == pytest.approx(4 * (1 + 1 / np.log2(3) + 0.5) / 3 / ideal)
    assert metrics.ndcg_at_k(np.array([0.1, 0.2, 0.3]), grades, (1, 3), k=1) == pytest.approx(0.0)
    assert metrics.ndcg_at_k(np.array([0.1, 0.2]), np.array([1.0, 1.0]), (1, 3)) is None
    # the mean skips queries without an ideal DCG; fractional grades count as they are
    groups = np.array([0, 0, 0, 1, 1])
    mean = metrics.mean_ndcg(np.array([0.3, 0.2, 0.1, 0.5, 0.4]), np.array([3, 2, 1, 1, 1.0]), groups, (1, 3))
    assert mean == pytest.approx(1.0)
    frac = metrics.ndcg_at_k(np.array([0.1, 0.2]), np.array([2.5, 1.0]), (1, 3))
    assert frac == pytest.approx((2 ** 1.5 - 1) / np.log2(3) / (2 ** 1.5 - 1))


def test_grade_mapping_matches_the_training_distribution():
    scores = np.arange(10, dtype=float)
    grades = np.array([1, 1, 1, 2, 2, 2, 3, 3, 3, 3])
    mapping = metrics.GradeMapping.fit(scores, grades, (1, 3))
    assert mapping.cutpoints == pytest.approx((2.7, 5.4))
    assert mapping.predict(scores).tolist() == grades.tolist()
    # invariant to any increasing transform of the scores
    again = metrics.GradeMapping.fit(np.exp(scores), grades, (1, 3))
    assert again.predict(np.exp(scores)).tolist() == grades.tolist()
    report = metrics.report(scores, grades, np.zeros(10), (1, 3), mapping)
    assert report["qwk"] == pytest.approx(1.0) and report["accuracy"] == 1.0 and report["ndcg@20"] == 1.0
    assert set(report["auroc"]) == {"2", "3"}


# -- catalogs and features -----------------------------------------------------------------------------------

def _item(n: int, title: str, description: str = "", **attrs) -> Item:
    return Item(id=f"i{n}", title=title, image="", image_sha="", width=800, height=600, description=description,
                attributes=tuple(attrs.items()))


def _catalog(items):
    from sitegen.core.text import item_text

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(items), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return CatalogView(items, [item_text(i) for i in items], vectors, Lexicon(items))


def _evidence(catalog, query, cand=None):
    cand = np.arange(len(catalog.items)) if cand is None else np.asarray(cand)
    checked, free = catalog.lexicon.analyse(query)
    sims = np.linspace(0.6, 0.2, len(cand)).astype(np.float32)
    return TopicEvidence(sims, catalog.lexicon.evidence(checked, cand), np.zeros(len(cand), bool), len(checked),
                         len(free), query, "description", cand, checked, free)


ITEMS = [_item(0, "Blue denim jacket", "A jacket", colour="Blue"),
         _item(1, "Red leather handbag", "Genuine red leather, gold clasp", colour="Red"),
         _item(2, "Leather belt", "Brown leather belt", colour="Brown"),
         _item(3, "Red dress", "Summer dress in red", colour="Red"),
         _item(4, "Navy blue handbag", "", colour="Navy Blue")]


def test_bm25_scorer_ranks_the_exact_match_first():
    catalog = _catalog(ITEMS)
    scorer = make_scorer(CollectSection(scorer="bm25"))
    assert isinstance(scorer, Bm25Scorer)
    scorer.prepare(catalog)
    s = scorer.score(_evidence(catalog, "red leather handbag"))
    assert s.dtype == np.float32 and np.all((s >= 0) & (s <= 1))
    assert int(np.argmax(s)) == 1 and s[1] > 0.5 and s[0] == 0.0
    assert scorer.score(_evidence(catalog, "spaceship")).tolist() == [0.0] * 5


def test_features_follow_the_spec():
    catalog = _catalog(ITEMS)
    rows = Features(catalog).rows(_evidence(catalog, "blue handbag"))
    assert rows.shape == (5, len(SPEC.names)) and rows.dtype == np.float32 and np.isfinite(rows).all()
    col = {name: rows[:, n] for n, name in enumerate(SPEC.names)}
    assert col["title_share"].tolist() == [0.5, 0.5, 0.0, 0.0, 1.0]
    assert col["title_all"].tolist() == [0, 0, 0, 0, 1]
    # "blue" is a whole colour value: the blue jacket matches it, the red and navy blue items conflict
    assert col["attr_match"].tolist() == [1, 0, 0, 0, 0]
    assert col["attr_conflict"].tolist() == [0, 1, 1, 1, 1]
    assert col["has_text"].tolist() == [1, 1, 1, 1, 0]
    assert col["cosine_rank"][0] == 0.0 and col["cosine_rank"][-1] == 1.0
    assert np.allclose(col["image_quality"], np.log2(600) / 11)


# -- the student ---------------------------------------------------------------------------------------------

def _synthetic(n_queries=40, per_query=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_queries * per_query, len(SPEC.names))).astype(np.float32)
    latent = 1.5 * x[:, 0] + x[:, 3] - 0.7 * x[:, 12] + 0.4 * rng.normal(size=len(x))
    grades = np.digitize(latent, np.quantile(latent, [0.2, 0.4, 0.6, 0.8])) + 1.0
    groups = np.repeat(np.arange(n_queries), per_query)
    return x, grades, groups


@pytest.fixture(scope="module")
def trained():
    x, grades, groups = _synthetic()
    train = groups < 30
    student = train_student(x[train], grades[train], groups[train], SPEC, (1, 5), seed=0, members=2, epochs=40)
    return student, x[~train], grades[~train], groups[~train]


def test_student_beats_chance_on_held_out_queries(trained):
    student, x, grades, groups = trained
    expected = student.expected_grade(x)
    assert metrics.quadratic_kappa(expected, grades, (1, 5)) > 0.6
    assert metrics.mean_ndcg(expected, grades, groups, (1, 5)) > 0.8
    p = student.predict_proba(x)
    assert p.shape == (len(x), 5) and np.allclose(p.sum(axis=1), 1.0)
    relevant = student.relevant_probability(x)
    assert metrics.auroc(relevant, grades >= 4) > 0.85
    assert len(student.members) == 2 and student.stats["rows"] == 1200 and student.stats["queries"] == 30


def test_training_is_seeded_and_deterministic(trained):
    x, grades, groups = _synthetic()
    train = groups < 30
    again = train_student(x[train], grades[train], groups[train], SPEC, (1, 5), seed=0, members=2, epochs=40)
    student = trained[0]
    assert again.stats["data_hash"] == student.stats["data_hash"]
    for a, b in zip(again.members, student.members):
        for (wa, ba), (wb, bb) in zip(a, b):
            assert np.array_equal(wa, wb) and np.array_equal(ba, bb)


def test_save_load_round_trip_and_numpy_matches_torch(trained, tmp_path):
    import torch

    student, x, _grades, _groups = trained
    student.save(tmp_path / "model")
    meta = json.loads((tmp_path / "model" / "student.json").read_text())
    assert meta["features"] == {"names": list(SPEC.names), "version": SPEC.version} and meta["scale"] == [1, 5]
    assert meta["stats"]["data_hash"] == student.stats["data_hash"]
    loaded = Student.load(tmp_path / "model")
    assert np.array_equal(loaded.predict_proba(x), student.predict_proba(x))
    # the numpy forward pass equals torch's on the same weights
    layers = []
    for n, (w, b) in enumerate(loaded.members[0]):
        lin = torch.nn.Linear(*w.shape)
        lin.weight.data = torch.from_numpy(w.T.copy())
        lin.bias.data = torch.from_numpy(b.copy())
        layers += [lin, torch.nn.ReLU()] if n < len(loaded.members[0]) - 1 else [lin]
    with torch.no_grad():
        ref = torch.nn.Sequential(*layers)(torch.from_numpy((x - loaded.mean) / loaded.std)).numpy()
    assert np.allclose(loaded.logits(x)[0], ref, atol=1e-5)


def test_grade_targets_and_relevant_level():
    t = grade_targets(np.array([2.25, 4.0, 0.5]), (1, 4))
    assert np.allclose(t, [[0, 0.75, 0.25, 0], [0, 0, 0, 1], [1, 0, 0, 0]])
    assert relevant_level((1, 5)) == 4 and relevant_level((1, 4)) == 3 and relevant_level((0, 1)) == 1


def test_auto_picks_the_student_only_when_a_model_exists(trained, tmp_path):
    folder = tmp_path / "models" / "relevance"
    assert scorer_name("auto", folder) == "heuristic"
    assert isinstance(make_scorer(CollectSection(), folder), HeuristicScorer)
    assert CollectSection().scorer == "auto"
    trained[0].save(folder)
    assert scorer_name("auto", folder) == "student" and scorer_name("heuristic", folder) == "heuristic"
    scorer = make_scorer(CollectSection(), folder)
    assert isinstance(scorer, StudentScorer) and scorer.model_dir == folder
    catalog = _catalog(ITEMS)
    scorer.prepare(catalog)
    s = scorer.score(_evidence(catalog, "red handbag"))
    assert s.shape == (5,) and s.dtype == np.float32 and np.all((s >= 0) & (s <= 1))


def test_a_broken_model_is_one_line_naming_the_folder(trained, tmp_path):
    folder = tmp_path / "m"
    trained[0].save(folder)
    meta = json.loads((folder / "student.json").read_text())
    meta["features"]["version"] = 0
    (folder / "student.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=rf"relevance model {folder}: trained on feature spec v0"):
        make_scorer(CollectSection(), folder).prepare(_catalog(ITEMS))
    (folder / "student.json").write_text("{not json")
    with pytest.raises(ModelError) as err:
        Student.load(folder)
    assert str(folder) in str(err.value) and "\n" not in str(err.value)
    trained[0].save(folder)
    (folder / "student.npz").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="student.npz is missing or does not match"):
        Student.load(folder)
    with pytest.raises(ModelError, match="no student.json"):
        make_scorer(CollectSection(scorer="student"), tmp_path / "none").prepare(_catalog(ITEMS))


def test_a_retrained_model_changes_the_collect_and_annotate_keys(trained, tmp_path):
    from sitegen.aggregate.stage import COLLECT
    from sitegen.distribute.stage import ANNOTATE

    (tmp_path / "site.toml").write_text('[relevance]\nmodel = "models/rel"\n')
    cfg = load_config(tmp_path / "site.toml")
    before = COLLECT.key(cfg), ANNOTATE.key(cfg)
    trained[0].save(tmp_path / "models" / "rel")
    after = COLLECT.key(cfg), ANNOTATE.key(cfg)
    assert before[0] != after[0] and before[1] != after[1]
    (tmp_path / "site.toml").write_text('[relevance]\nmodel = "models/rel"\n[collect]\nscorer = "heuristic"\n')
    fixed = load_config(tmp_path / "site.toml")
    key = COLLECT.key(fixed)
    Student.save(trained[0], tmp_path / "models" / "rel2")
    assert COLLECT.key(fixed) == key


# -- the labelled CSV and `sitegen eval relevance` ---------------------------------------------------------

def test_read_labels_multiline_html_and_split(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text('query,title,desc,grade\n'
                    'red shoes,"Red shoe","<p>Bright <b>red</b></p>\n<style>.x {color: red}</style>second line",4\n'
                    'red shoes,Blue shoe,,1.5\n'
                    'blue shoes,Blue shoe,,3\n'
                    'blue shoes,Hat,&amp; more,x\n', encoding="utf-8")
    labels = read_labels(path, query_col="query", title_col="title", text_col="desc", grade_col="grade")
    assert labels.queries == ["red shoes", "red shoes", "blue shoes"] and labels.scale == (1, 4)
    assert labels.items[0].description == "Bright red second line" and len(labels.items) == 2
    assert labels.product.tolist() == [0, 1, 1] and labels.grades.tolist() == [4.0, 1.5, 3.0]
    assert strip_html("a &amp; b") == "a & b"
    latin = tmp_path / "latin.csv"
    latin.write_bytes("q,t,g\ncaf\xe9 chair,Caf\xe9 chair,3\ntea,Tea cup,1\n".encode("latin-1"))
    with pytest.raises(CatalogError, match="not utf-8 text .*pass --encoding latin-1"):
        read_labels(latin, query_col="q", title_col="t", grade_col="g")
    got = read_labels(latin, query_col="q", title_col="t", grade_col="g", encoding="latin-1")
    assert got.queries == ["caf\xe9 chair", "tea"] and got.items[0].description == ""
    queries = ["a", "a", "b", "c", "c", "d"]
    test = split_by_query(queries, 0.5, seed=0)
    held = {q for q, t in zip(queries, test) if t}
    assert len(held) == 2 and all(t == (q in held) for q, t in zip(queries, test))  # whole queries only
    assert split_by_query(queries, 0.5, seed=0).tolist() == test.tolist()
    assert split_by_query(queries, 0.01, seed=0).sum() >= 1  # at least one query, never all
    assert not split_by_query(queries, 0.99, seed=0).all()


def _labelled_csv(path: Path, n_queries=10, per_query=14, seed=0) -> None:
    rng = np.random.default_rng(seed)
    colours = ["red", "blue", "green", "black", "white"]
    kinds = ["shoes", "dress", "handbag", "jacket", "scarf"]
    rows = []
    queries = [(colours[i % 5], kinds[(i * 2 + i // 5) % 5]) for i in range(n_queries)]
    for colour, kind in queries:
        for _ in range(per_query):
            c, k = rng.choice(colours), rng.choice(kinds)
            if rng.random() < 0.4:
                c = colour
            if rng.random() < 0.5:
                k = kind
            grade = 1 + 2 * (k == kind) + (c == colour)
            desc = rng.choice(["", f"<p>A {c} {k}.</p>", f"Made of cotton.\nA lovely {k}"])
            rows.append([f"{colour} {kind}", f"{c.title()} {k} {int(rng.integers(100))}", desc, grade])
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["q", "title", "description", "median"])
        w.writerows(rows)


def test_cli_eval_relevance_json(tmp_path):
    from sitegen.cli.main import main

    path = tmp_path / "labels.csv"
    _labelled_csv(path)
    result = CliRunner().invoke(main, ["eval", "--work-dir", str(tmp_path / "work"), "relevance",
                                       "--labels", str(path), "--query-col", "q",
                                       "--title-col", "title", "--text-col", "description", "--grade-col", "median",
                                       "--split-by-query", "0.3", "--seed", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "work" / "relevance" / "embeddings.duckdb").is_file()  # the embeddings' cache
    report = json.loads(result.stdout)
    assert report["n_train"] + report["n_test"] == 140 and report["n_test"] == 3 * 14
    assert list(report["scorers"]) == ["bm25", "heuristic", "student"]
    for r in report["scorers"].values():
        assert set(r) == {"accuracy", "qwk", "auroc", "ndcg@20"} and set(r["auroc"]) == {"2", "3", "4"}
    assert report["scorers"]["student"]["qwk"] > 0.5  # the grades follow the words: the student learns them

    lines = format_table(report).splitlines()
    assert lines[1].split() == ["scorer", "accuracy", "qwk", "auroc@2", "auroc@3", "auroc@4", "ndcg@20"]
    assert [line.split()[0] for line in lines[2:]] == ["bm25", "heuristic", "student"]
    curve = {**report, "curve": [{"factor": f, "teacher_pairs": 98 * f, "rows": 98 * (f + 1),
                                  **report["scorers"]["student"]} for f in (0, 1, 10)]}
    lines = format_table(curve).splitlines()
    assert lines[6].startswith("learning curve") and [line.split()[0] for line in lines[8:]] == ["0x", "1x", "10x"]

    bad = CliRunner().invoke(main, ["eval", "--work-dir", str(tmp_path / "work"), "relevance", "--labels", str(path),
                                    "--query-col", "query",
                                    "--title-col", "title", "--grade-col", "median"])
    assert bad.exit_code == 1 and "no column 'query'" in bad.output


@pytest.mark.skipif(find_spec("sitegen.learn.relevance.cross_encoder") is not None,
                    reason="the cross-encoder teacher is installed")
def test_cli_teacher_without_the_cross_encoder_is_one_line(tmp_path):
    from sitegen.cli.main import main

    path = tmp_path / "labels.csv"
    _labelled_csv(path, n_queries=3, per_query=4)
    result = CliRunner().invoke(main, ["eval", "--work-dir", str(tmp_path / "work"), "relevance",
                                       "--labels", str(path), "--query-col", "q",
                                       "--title-col", "title", "--grade-col", "median", "--teacher", "cross-encoder"])
    assert result.exit_code == 1
    assert result.output.strip() == ("Error: --teacher cross-encoder needs the cross-encoder teacher "
                                     "(sitegen.learn.relevance.cross_encoder), which this sitegen does not include")


CROWDFLOWER = SHARED / "datasets" / "relevance" / "crowdflower" / "train.csv"


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.skipif(not CROWDFLOWER.is_file(), reason=f"{CROWDFLOWER} is not available")
def test_student_beats_the_baselines_on_crowdflower():
    from sitegen.engines.embed import Embedder
    from sitegen.learn.relevance.offline import evaluate_labels

    labels = read_labels(CROWDFLOWER, query_col="query", title_col="product_title", text_col="product_description",
                         grade_col="median_relevance")
    report = evaluate_labels(labels, Embedder().encode, test_share=0.2, seed=0)
    s = report["scorers"]
    for metric in ("qwk", "ndcg@20"):
        assert s["student"][metric] > s["bm25"][metric], (metric, s)
        assert s["student"][metric] > s["heuristic"][metric], (metric, s)


def test_scoring_with_a_saved_student_never_imports_torch(trained, tmp_path):
    import subprocess
    import sys

    from .conftest import ROOT

    trained[0].save(tmp_path / "m")
    code = ("import sys, numpy as np\n"
            "from sitegen.learn.relevance.student import Student\n"
            f"s = Student.load({str(tmp_path / 'm')!r})\n"
            f"p = s.relevant_probability(np.zeros((3, {len(SPEC.names)}), np.float32))\n"
            "assert p.shape == (3,)\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_title_and_description_cosines_use_the_site_embedder():
    from sitegen.engines.embed import Embedder
    from sitegen.learn.relevance.labelled import LabelledCatalog

    encode = Embedder().encode
    lc = LabelledCatalog.build(ITEMS, ["red handbag"], encode)
    rows = Features(lc.catalog).rows(lc.evidence("red handbag", np.arange(len(ITEMS))))
    col = {name: rows[:, n] for n, name in enumerate(SPEC.names)}
    q = encode(["red handbag"])[0]
    assert np.allclose(col["title_cosine"], encode([i.title for i in ITEMS]) @ q, atol=1e-5)
    texts = [i.description or i.title for i in ITEMS]
    assert np.allclose(col["text_cosine"], encode(texts) @ q, atol=1e-5)
    assert np.allclose(col["cosine"], lc.catalog.vectors @ q, atol=1e-5)
    assert int(np.argmax(col["title_cosine"])) == 1


@pytest.mark.slow
def test_the_example_site_builds_with_a_trained_student(example_build, example_site_copy):
    """A student trained on the example build's own collections (members 5, the other candidates 1) becomes the
    scorer of the next build (`auto`), and retraining it re-runs collect and annotate."""
    from sitegen.core.text import item_text
    from sitegen.engines.embed import Embedder
    from sitegen.pipeline.build import build_site

    _, first = example_build
    items = first.site.items
    encode = Embedder().encode
    catalog = CatalogView(items, [item_text(i) for i in items], encode([item_text(i) for i in items]),
                          Lexicon(items), encode)
    features = Features(catalog)
    pos = {item.id: n for n, item in enumerate(items)}
    xs, ys, gs = [], [], []
    for g, coll in enumerate(first.site.collections):
        q = encode([coll.topic])[0]
        sims = catalog.vectors @ q
        cand = np.argsort(-sims)[:60]
        checked, free = catalog.lexicon.analyse(coll.topic, coll.category)
        ev = TopicEvidence(sims[cand], catalog.lexicon.evidence(checked, cand), np.zeros(len(cand), bool),
                           len(checked), len(free), coll.topic, coll.category, cand, checked, free, q)
        members = {pos[i] for i in coll.item_ids}
        xs.append(features.rows(ev))
        ys.append(np.array([5.0 if c in members else 1.0 for c in cand.tolist()]))
        gs.append(np.full(len(cand), g))
    x, y, g = np.concatenate(xs), np.concatenate(ys), np.concatenate(gs)
    site = example_site_copy()
    folder = site / ".sitegen" / "models" / "relevance"
    train_student(x, y, g, SPEC, (1, 5), seed=0, members=2, epochs=30).save(folder)

    cfg = load_config(site / "site.toml")
    assert scorer_name(cfg.collect.scorer, cfg.path(cfg.relevance.model)) == "student"
    second = build_site(cfg, check=False)
    assert not second.summary.counters.get("geo_reused")
    colls = second.site.collections
    assert len(colls) >= len(first.site.collections) // 2
    assert all(min(c.scores) >= cfg.collect.threshold for c in colls)
    same = build_site(load_config(site / "site.toml"), check=False)
    assert same.summary.counters.get("geo_reused") == 1
    train_student(x, y, g, SPEC, (1, 5), seed=1, members=2, epochs=30).save(folder)
    third = build_site(load_config(site / "site.toml"), check=False)
    assert not third.summary.counters.get("geo_reused")
