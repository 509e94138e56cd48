"""traindata.py: export reading, the paper's retain rule, top-30 cut, stratified 30/30/40 sampling, JSONL."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from sitegen.core.models import Item
from sitegen.ingest.console import ConsoleRow, parse_ctr, read_console_export
from sitegen.represent.parse import classify_query
from sitegen.represent.prompt import SYSTEM_PROMPT
from sitegen.learn.vlm_train import read_jsonl
from sitegen.learn.traindata import (
    build_training_data,
    category_quota,
    index_items,
    record_queries,
    resolve_page,
    retain,
    split_holdout,
    stratified_sample,
    top_queries,
    write_jsonl,
    write_training_files,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
EXPORTS = SHARED / "fixtures" / "real-exports"
needs_shared = pytest.mark.skipif(not EXPORTS.is_dir(), reason="../shared/fixtures/real-exports is absent")


def row(query="q", page="i1", impressions=100, ctr=0.0, position=50.0, clicks=0) -> ConsoleRow:
    return ConsoleRow(query=query, page=page, clicks=clicks, impressions=impressions, ctr=ctr, position=position)


def items(n: int = 8) -> list[Item]:
    return [Item(id=f"img{k}", title=f"Item {k}", image=f"/img/{k}.jpg", image_sha=f"s{k}", width=10, height=10,
                 slug=f"item-{k}") for k in range(n)]


@pytest.mark.parametrize("impressions,ctr,position,kept", [
    (1001, 0.0, 80.0, True), (1000, 0.0, 80.0, False),
    (11, 0.8, 80.0, True), (11, 0.79, 80.0, False), (10, 1.0, 1.0, False),
    (11, 0.0, 10.0, True), (11, 0.0, 10.01, False), (500, 0.1, 9.5, True), (0, 0.0, 1.0, False),
])
def test_vlm_retain_rule_exact(impressions, ctr, position, kept):
    assert retain(row(impressions=impressions, ctr=ctr, position=position)) is kept


@pytest.mark.parametrize("text,value", [("33.33%", 0.3333), ("0%", 0.0), ("100%", 1.0), ("0.25", 0.25),
                                        ("45", 0.45), ("", 0.0), (0.8, 0.8)])
def test_vlm_parse_ctr(text, value):
    assert parse_ctr(text) == pytest.approx(value)


def test_vlm_join_by_id_path_url_and_slug():
    by_key = index_items(items())
    assert resolve_page("img3", by_key).id == "img3"
    assert resolve_page("https://example.org/item/item-4/", by_key).id == "img4"
    assert resolve_page("/item/item-5", by_key).id == "img5"
    assert resolve_page("https://cdn.example.org/images/img6.jpg", by_key).id == "img6"
    assert resolve_page("https://example.org/topic/other/", by_key) is None
    assert resolve_page("", by_key) is None


def test_vlm_top_queries_cut_and_order():
    rows = [row(query=f"q{k}", impressions=100 + (k % 7), position=float(k % 5)) for k in range(50)]
    rows.append(row(query="Q0", impressions=1, position=1.0))  # duplicate of q0 with fewer impressions
    top = top_queries(rows, 30)
    assert len(top) == 30
    keys = [(-r.impressions, r.position) for r in top]
    assert keys == sorted(keys)
    assert top[0].impressions == 106 and [r.query.lower() for r in top].count("q0") <= 1


def test_vlm_category_quota_and_stratified_sample():
    assert category_quota(10) == {"description": 3, "style": 3, "use_case": 4}
    assert category_quota(7) == {"description": 2, "style": 2, "use_case": 3}
    assert sum(category_quota(5).values()) == 5
    pool = ([(f"thing {k}", "description") for k in range(10)] + [(f"red {k}", "style") for k in range(10)]
            + [(f"gift {k}", "use_case") for k in range(10)])
    pool = sorted(pool, key=lambda p: p[0][-1])  # interleave ranks
    sample = stratified_sample(pool, 10)
    assert Counter(c for _, c in sample) == {"description": 3, "style": 3, "use_case": 4}
    # the best-ranked of each category, grouped description -> style -> use_case
    assert [c for _, c in sample] == ["description"] * 3 + ["style"] * 3 + ["use_case"] * 4
    assert sample[0] == pool[[c for _, c in pool].index("description")]
    # where a category is short, the others fill in (best first)
    short = [("thing a", "description"), ("thing b", "description"), ("thing c", "description"),
             ("thing d", "description"), ("red e", "style")]
    got = stratified_sample(short, 4)
    assert len(got) == 4 and ("red e", "style") in got


def test_vlm_build_training_data_synthetic_mix_and_jsonl(tmp_path):
    its = items(10)
    rows = []
    for k, item in enumerate(its):
        page = f"https://example.org/item/{item.slug}/"
        for n in range(12):
            rows.append(row(query=f"{item.slug} thing {n}", page=page, impressions=2000 - n))
            rows.append(row(query=f"{item.slug} red look {n}", page=page, impressions=1500 - n))
            rows.append(row(query=f"{item.slug} gift ideas {n}", page=page, impressions=1200 - n))
        rows.append(row(query="ignored low impressions", page=page, impressions=5, position=1.0))
    rows.append(row(query="orphan", page="https://example.org/item/unknown/", impressions=5000))
    train, held, stats = build_training_data(rows, index_items(its), top_n=30, holdout=0.2, seed=3, sample_size=10)
    assert stats["rows_unmatched"] == 1 and stats["rows_dropped_by_rule"] == 10
    assert stats["images"] == 10 and len(train) == 8 and len(held) == 2
    assert stats["target_mix"] == {"description": 30, "style": 30, "use_case": 40}
    rec = train[0]
    assert rec["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert rec["messages"][1]["role"] == "user" and rec["messages"][1]["content"][0] == {"type": "image"}
    target = json.loads(rec["messages"][2]["content"])
    assert len(target) == 10 and {"query", "category"} == set(target[0])
    assert rec["image"].startswith("/img/")
    # deterministic split
    _, held2, _ = build_training_data(rows, index_items(its), holdout=0.2, seed=3, sample_size=10)
    assert [r["item_id"] for r in held2] == [r["item_id"] for r in held]
    assert {r["item_id"] for r in held} | {r["item_id"] for r in train} == {i.id for i in its}
    n = write_jsonl(train, tmp_path / "train.jsonl")
    back = read_jsonl(tmp_path / "train.jsonl")
    assert n == 8 and back == json.loads(json.dumps(train))
    assert record_queries(back[0]) == [(t["query"], t["category"]) for t in target]


def test_vlm_split_holdout_edges():
    recs = [{"item_id": f"x{k}"} for k in range(10)]
    train, held = split_holdout(recs, 0.1, 0)
    assert len(held) == 1 and len(train) == 9
    assert split_holdout(recs[:1], 0.5, 0) == (recs[:1], [])
    assert split_holdout(recs, 0.0, 0) == (recs, [])


@needs_shared
def test_vlm_read_real_search_console_exports():
    rows = read_console_export(EXPORTS / "gsc-site-b" / "Queries.csv")
    with open(EXPORTS / "gsc-site-b" / "Queries.csv", encoding="utf-8-sig", newline="") as fh:
        raw = list(csv.DictReader(fh))
    assert len(rows) == len(raw) > 700
    assert all(r.page == "" for r in rows)
    first = raw[0]
    assert rows[0].query == first["Top queries"] and rows[0].impressions == int(first["Impressions"])
    assert rows[0].ctr == pytest.approx(float(first["CTR"].rstrip("%")) / 100)
    pages = read_console_export(EXPORTS / "gsc-site-a" / "Pages.csv")
    assert pages and pages[0].query == "" and pages[0].page.startswith("https://")


@needs_shared
def test_vlm_real_export_rows_joined_to_items(tmp_path):
    """Queries.csv rows (real format and values) joined to synthetic item keys through a query,page CSV."""
    src = EXPORTS / "gsc-site-b" / "Queries.csv"
    with open(src, encoding="utf-8-sig", newline="") as fh:
        raw = list(csv.DictReader(fh))
    its = items(3)

    def which(k: int) -> int:  # nine rows in ten on one image (to exceed 30 retained), the rest on two more
        return 0 if k % 10 else 1 + (k // 10) % 2

    joined = tmp_path / "joined.csv"
    with open(joined, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["query", "page", "clicks", "impressions", "ctr", "position"])
        for k, r in enumerate(raw):
            slug = its[which(k)].slug
            w.writerow([r["Top queries"], f"https://example.org/item/{slug}/", r["Clicks"], r["Impressions"],
                        r["CTR"], r["Position"]])
    rows = read_console_export(joined)
    assert len(rows) == len(raw)

    def keep(r):  # the rule, re-stated on the raw strings
        imp, ctr, pos = int(r["Impressions"]), float(r["CTR"].rstrip("%")) / 100, float(r["Position"])
        return imp > 1000 or (imp > 10 and ctr >= 0.8) or (imp > 10 and pos <= 10)

    expected_kept = sum(keep(r) for r in raw)
    train, _, stats = build_training_data(rows, index_items(its), top_n=30, holdout=0.0, sample_size=7,
                                             min_queries=1)
    assert stats["rows_retained"] == expected_kept and stats["rows_unmatched"] == 0
    assert stats["rows_dropped_by_rule"] == len(raw) - expected_kept
    main_rows = [r for k, r in enumerate(raw) if which(k) == 0 and keep(r)]
    assert len(main_rows) > 30  # the top-30 cut applies to this image
    pool_size = sum(stats["pool_mix"].values())
    per_image = Counter()
    for k, r in enumerate(raw):
        if keep(r):
            per_image[which(k)] += 1
    assert pool_size == sum(min(30, v) for v in per_image.values())
    rec = next(r for r in train if r["item_id"] == its[0].id)
    target = json.loads(rec["messages"][2]["content"])
    assert len(target) == 7
    best30 = sorted(main_rows, key=lambda r: (-int(r["Impressions"]), float(r["Position"])))[:30]
    best_texts = {" ".join(r["Top queries"].split()) for r in best30}
    assert {t["query"] for t in target} <= best_texts
    for t in target:
        assert t["category"] == classify_query(t["query"])
    # stratified where possible: categories present in the pool are represented up to their quota
    pool_cats = Counter(classify_query(" ".join(r["Top queries"].split())) for r in best30)
    got = Counter(t["category"] for t in target)
    for cat, quota in {"description": 2, "style": 2, "use_case": 3}.items():
        assert got[cat] >= min(quota, pool_cats[cat])


def test_vlm_write_training_files(tmp_path):
    its = items(4)
    export = tmp_path / "joined.csv"
    lines = ["query,page,clicks,impressions,ctr,position"]
    for item in its:
        for n, q in enumerate(["thing", "red look", "gift ideas", "poster"]):
            lines.append(f"{item.slug} {q},https://example.org/item/{item.slug}/,3,{1500 - n},12.5%,4.2")
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stats = write_training_files([export], its, tmp_path / "out", holdout=0.25, seed=1)
    assert stats["train"] == 3 and stats["heldout"] == 1 and stats["rows_retained"] == 16
    assert len(read_jsonl(stats["files"]["train"])) == 3 and len(read_jsonl(stats["files"]["heldout"])) == 1
    assert json.loads(Path(stats["files"]["stats"]).read_text())["images"] == 4
