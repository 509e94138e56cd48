"""`sitegen train-data`, `sitegen train vlm` and `sitegen eval queries` from the command line, on a tiny
Qwen2-VL built from a config (no download)."""

from __future__ import annotations

import csv
import json
import os

from click.testing import CliRunner
from PIL import Image

from sitegen.cli.main import main

QUERIES = [("red apple clipart", 5000), ("shiny red apple", 3000), ("cartoon apple drawing", 2500),
           ("apple for teacher card", 2000), ("healthy snack ideas for kids", 1500), ("back to school clipart", 1200),
           ("apple brand phone", 5)]  # the last one fails the retain rule


def make_site(folder):
    (folder / "img").mkdir(parents=True)
    rows = []
    for i in range(10):
        Image.new("RGB", (56, 56), (200, 20 * i, 30)).save(folder / "img" / f"{i}.png")
        rows.append({"id": f"apple-{i}", "title": f"Red Apple {i}", "category": "Food", "image": f"img/{i}.png"})
    with open(folder / "catalog.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with open(folder / "export.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["query", "page", "clicks", "impressions", "ctr", "position"])
        for row in rows:
            for query, impressions in QUERIES:
                w.writerow([query, row["id"], impressions // 20, impressions, "5.00%", 4.2])
    (folder / "site.toml").write_text('[site]\ntitle = "Apples"\nbase_url = "https://a.example/"\n'
                                      '[catalog]\npath = "catalog.csv"\nimages_dir = "."\n', encoding="utf-8")


def invoke(folder, *args):
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(cwd)


def test_train_data_train_vlm_and_eval_queries(tmp_path):
    from sitegen.engines.tiny import make_tiny_qwen2vl

    make_site(tmp_path)
    result = invoke(tmp_path, "train-data", "export.csv", "--out", "data", "--holdout", "0.2")
    assert result.exit_code == 0, result.output
    assert "rows: 70" in result.output and "rows_retained: 60" in result.output
    assert "rows_dropped_by_rule: 10" in result.output
    train = [json.loads(line) for line in (tmp_path / "data" / "train.jsonl").read_text().splitlines()]
    held = (tmp_path / "data" / "heldout.jsonl").read_text().splitlines()
    assert len(train) == 8 and len(held) == 2
    assert "apple brand phone" not in json.dumps(train)

    model = make_tiny_qwen2vl(tmp_path / "tiny")
    result = invoke(tmp_path, "train", "vlm", "data/train.jsonl", "--out", "adapter", "--model", str(model),
                    "--epochs", "1", "--lr", "0.005", "--batch-size", "2", "--grad-accum", "1")
    assert result.exit_code == 0, result.output
    assert "adapter: adapter" in result.output and (tmp_path / "adapter" / "adapter_config.json").is_file()

    result = invoke(tmp_path, "eval", "queries", "data/heldout.jsonl", "--generated", "data/heldout.jsonl",
                    "--json", "eval.json")
    assert result.exit_code == 0, result.output
    for category in ("description", "style", "use_case", "overall"):
        assert category in result.output
    report = json.loads((tmp_path / "eval.json").read_text())
    assert report  # written, with the side-by-side list


def test_train_data_that_joins_nothing_is_an_error(tmp_path):
    make_site(tmp_path)
    (tmp_path / "other.csv").write_text("query,page,clicks,impressions,ctr,position\nx,https://elsewhere/p,1,2000,1%,3\n")
    result = invoke(tmp_path, "train-data", "other.csv", "--out", "data")
    assert result.exit_code == 1
    assert "no row joined an item page" in result.output


def test_eval_queries_without_a_model_says_what_to_do(tmp_path):
    make_site(tmp_path)
    (tmp_path / "h.jsonl").write_text("")
    result = invoke(tmp_path, "eval", "queries", "h.jsonl")
    assert result.exit_code == 1
    assert "vlm.model is not set" in result.output
