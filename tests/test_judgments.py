"""The judgments store and the shared 5-level guideline."""

from pathlib import Path

from sitegen.core.models import Judgment
from sitegen.learn.relevance.guideline import GRADES, guideline_text
from sitegen.store.db import Store


def test_judgments_add_replace_remove(tmp_path):
    with Store(tmp_path / "s.duckdb") as store:
        j = store.judgments
        assert j.add([Judgment("red dress", "a", 5, "human", "ann", "2026-01-01T00:00:00Z"),
                      Judgment("red dress", "b", 2, "human", "ann", "2026-01-01T00:00:00Z"),
                      Judgment("red dress", "a", 4, "catalog", "catalog")]) == 3
        j.add([Judgment("red dress", "a", 3, "human", "ann", "2026-01-02T00:00:00Z")])  # a regrade replaces
        human = j.all(["human"])
        assert [(x.item_id, x.grade) for x in human] == [("a", 3), ("b", 2)]
        assert j.counts() == {"catalog": 1, "human": 2}
        assert j.remove("red dress", "b", "human", "ann") and not j.remove("red dress", "b", "human", "ann")
        j.clear("catalog")
        assert [x.source for x in j.all()] == ["human"]
        assert "judgments" in j.DURABLE


def test_guideline_levels_are_in_the_readme():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert sorted(GRADES) == [1, 2, 3, 4, 5]
    for grade, (name, meaning) in GRADES.items():
        assert f"**{grade} — {name}**: {meaning}." in readme
        assert f"{grade} = {name}: {meaning}." in guideline_text()
