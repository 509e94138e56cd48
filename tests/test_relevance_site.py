"""The relevance loop on a site: the teacher grades candidate pairs, the student trains on them, a person's grades
change the retrained student's scores, and `sitegen eval relevance` compares the scorers on held-out topics."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from sitegen.cli.main import main
from sitegen.core.config import load_config
from sitegen.core.models import Judgment
from sitegen.learn.relevance.pairs import candidate_pass, grade_pairs, sample_pairs
from sitegen.learn.relevance.site import judged_rows, one_grade_per_pair, train_site_student
from sitegen.learn.relevance.student import Student
from sitegen.store.db import Store


def test_one_grade_per_pair_prefers_people_and_takes_the_median():
    js = [Judgment("t", "a", 2, "catalog"), Judgment("t", "a", 5, "human", "ann"), Judgment("t", "a", 4, "human", "bo"),
          Judgment("t", "a", 3, "human", "median"), Judgment("t", "b", 1, "llm", "m"), Judgment("t", "b", 5, "catalog")]
    assert one_grade_per_pair(js) == {("t", "a"): (4.5, "human"), ("t", "b"): (1.0, "llm")}


def test_human_grades_change_the_retrained_student(example_site_copy, tmp_path):
    site = example_site_copy()
    cfg = load_config(site / "site.toml", {"relevance.sample": 3000})
    with Store(cfg.store_path) as store:
        cands = candidate_pass(cfg, store)
        grade_pairs(cfg, store, sample_pairs(cands, cfg.relevance.sample), cands=cands)
        before, judged, _ = train_site_student(cfg, cands, store.judgments.all(["catalog"]), out_dir=tmp_path / "a")
        # a person disagrees with the ten pairs the student is surest are relevant
        rows = judged_rows(cands, store.judgments.all(["catalog"]))
        p0 = before.relevant_probability(rows.features)
        top = np.argsort(-p0)[:10]
        people = [Judgment(cands.topics[rows.rows[i][0]].topic.text, cands.items[int(
            cands.topics[rows.rows[i][0]].evidence.candidates[rows.rows[i][1]])].id, 1, "human", "ann") for i in top]
        store.judgments.add(people)
        after, judged2, _ = train_site_student(cfg, cands, store.judgments.all(["catalog", "human"]),
                                               out_dir=tmp_path / "b")
    assert judged2.sources["human"] == 10
    p1 = Student.load(tmp_path / "b").relevant_probability(rows.features)
    assert not np.allclose(p0[top], p1[top])
    assert p1[top].mean() < p0[top].mean()  # the retrained student believes them less


@pytest.mark.slow
def test_train_and_eval_relevance_commands(example_site_copy):
    site = example_site_copy()
    runner = CliRunner()
    args = ["-c", str(site / "site.toml"), "--set", "relevance.sample=2000"]
    got = runner.invoke(main, ["train", "relevance", *args])
    assert got.exit_code == 0, got.output
    assert "saved:" in got.output and (site / ".sitegen" / "models" / "relevance").is_dir()
    got = runner.invoke(main, ["eval", "relevance", *args, "--format", "json"])
    assert got.exit_code == 0, got.output
    report = json.loads(got.output)
    assert set(report["scorers"]) == {"bm25", "heuristic", "student"}
    for metrics in report["scorers"].values():
        assert set(metrics) == {"accuracy", "qwk", "auroc", "ndcg@20"}
        assert 0.0 <= metrics["ndcg@20"] <= 1.0
    assert report["n_train"] > 0 and report["n_test"] > 0 and report["teacher"] == "catalog"
    bad = runner.invoke(main, ["eval", "relevance", *args, "--labels", str(site / "site.toml")])
    assert bad.exit_code != 0 and "--query-col" in bad.output
