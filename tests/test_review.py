"""The review app's JSON API on the served example build: grade, regrade, undo, several raters, the queue
(uncertain pairs first, a rater's graded pairs left out), validation, and a build holding the store."""

from __future__ import annotations

import dataclasses
import json
import time
import urllib.error
import urllib.request

import pytest

from sitegen.cli.serve import serve_in_thread
from sitegen.core.config import load_config
from sitegen.learn.relevance.queue import Candidate, candidate_pool, order_queue
from sitegen.store.db import Store

from .test_store import hold, release


@pytest.fixture(scope="module")
def app(example_site_copy):
    site = example_site_copy()
    cfg = load_config(site / "site.toml")
    server, base = serve_in_thread(cfg.output_dir, cfg=cfg)
    yield cfg, base
    server.shutdown()
    server.server_close()


def call(base: str, path: str, body: dict | None = None, headers: dict | None = None, method: str | None = None):
    data = None if body is None else json.dumps(body).encode()
    hdrs = {"Content-Type": "application/json"} if body is not None else {}
    hdrs.update(headers or {})
    req = urllib.request.Request(base + path, data=data, headers=hdrs, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def api(base: str, path: str, body: dict | None = None, **kw) -> tuple[int, dict]:
    status, _, raw = call(base, "/_review/api/" + path, body, **kw)
    return status, json.loads(raw)


def holder(path, brief: bool = False) -> str:
    """A process holding the store (closed at exit, as any sitegen command closes it)."""
    return (f"import atexit; from sitegen.store.db import Store; s = Store({str(path)!r}, brief={brief}); "
            "atexit.register(s.close)")


def stored(cfg, rater: str) -> dict[tuple[str, str], int]:
    with Store(cfg.store_path, brief=True) as store:
        return {(j.topic, j.item_id): j.grade for j in store.judgments.all(["human"]) if j.rater == rater}


def test_grade_regrade_and_undo(app):
    cfg, base = app
    status, q = api(base, "queue?rater=ann&limit=3")
    assert status == 200 and q["graded"] == 0 and q["total"] > 1000 and len(q["pairs"]) == 3
    p = q["pairs"][0]
    pair = {"rater": "ann", "topic": p["topic"], "item_id": p["item_id"]}

    status, r = api(base, "grade", {**pair, "grade": 4})
    assert status == 200 and r["previous"] is None and r["graded"] == 1 and r["total"] == q["total"]
    assert stored(cfg, "ann") == {(p["topic"], p["item_id"]): 4}

    status, r = api(base, "grade", {**pair, "grade": 2})  # regrade: replaces, answers the grade it replaced
    assert status == 200 and r["previous"]["grade"] == 4 and r["graded"] == 1
    assert stored(cfg, "ann") == {(p["topic"], p["item_id"]): 2}

    status, r = api(base, "undo", {**pair, "restore": r["previous"]})  # undo the regrade: the 4 is back
    assert status == 200 and r["restored"] == 4
    assert stored(cfg, "ann") == {(p["topic"], p["item_id"]): 4}

    status, r = api(base, "undo", {**pair, "restore": None})  # undo the first grade: nothing is left
    assert status == 200 and r["removed"] is True and r["graded"] == 0
    assert stored(cfg, "ann") == {}
    assert api(base, "undo", {**pair, "restore": None})[1]["removed"] is False


def test_queue_puts_uncertain_pairs_first_and_skips_graded_ones(app):
    cfg, base = app
    with Store(cfg.store_path, brief=True) as store:
        pool = candidate_pool(cfg, store)
    assert pool.scorer == "heuristic" and pool.note == ""
    assert any(not c.member for c in pool.candidates) and any(c.member for c in pool.candidates)
    # the recomputed scores of the members are the ones the build stored
    with Store(cfg.store_path, brief=True) as store:
        built = {(row.topic, i): s for row, scores in store.geo.scored_collections()
                 for i, s in zip(row.item_ids, scores)}
    members = [c for c in pool.candidates if c.member]
    assert len(members) == len(built)
    assert max(abs(built[(c.topic, c.item_id)] - c.score) for c in members) <= 1e-3

    status, q = api(base, "queue?rater=cy&limit=40")
    keys = [(p["topic"], p["item_id"]) for p in q["pairs"]]
    assert keys == [(c.topic, c.item_id) for c in order_queue(pool.candidates)][:40]
    assert q["pairs"][0]["uncertainty"] == min(c.uncertainty for c in pool.candidates)
    # the pairs nearest the threshold come long before the sure ones
    uncertain = sorted(c.uncertainty for c in pool.candidates)
    assert max(p["uncertainty"] for p in q["pairs"]) <= uncertain[len(uncertain) // 4]
    for p in q["pairs"]:
        assert p["uncertainty"] == pytest.approx(abs(p["score"] - cfg.collect.threshold), abs=2e-4)
        assert p["image"].startswith("/media/") and (cfg.output_dir / p["image"].lstrip("/")).is_file()

    for p in q["pairs"][:3]:
        assert api(base, "grade", {"rater": "cy", "topic": p["topic"], "item_id": p["item_id"], "grade": 3})[0] == 200
    _, after = api(base, "queue?rater=cy&limit=40")
    assert after["graded"] == 3 and after["remaining"] == q["remaining"] - 3
    again = [(p["topic"], p["item_id"]) for p in after["pairs"]]
    assert not set(keys[:3]) & set(again)
    assert again == [(c.topic, c.item_id) for c in order_queue(pool.candidates, set(keys[:3]))][:40]
    _, other = api(base, "queue?rater=dee&limit=3")  # another rater still gets them
    assert [(p["topic"], p["item_id"]) for p in other["pairs"]] == keys[:3]


def test_several_raters_and_their_agreement(app):
    cfg, base = app
    _, q = api(base, "queue?rater=eve&limit=60")
    pairs4 = q["pairs"][50:54]  # pairs no other test grades
    grades = {"eve": [5, 4, 2, 1], "finn": [5, 3, 2, 2]}
    for rater, gs in grades.items():
        for p, g in zip(pairs4, gs):
            assert api(base, "grade", {"rater": rater, "topic": p["topic"], "item_id": p["item_id"],
                                       "grade": g})[0] == 200
    assert sorted(stored(cfg, "eve").values()) == [1, 2, 4, 5]
    assert sorted(stored(cfg, "finn").values()) == [2, 2, 3, 5]
    status, stats = api(base, "stats")
    assert status == 200
    pairs = {tuple(p["raters"]): p for p in stats["agreement"]["human"]["pairs"]}
    from sitegen.learn.relevance.agreement import quadratic_weighted_kappa

    assert pairs[("eve", "finn")]["n"] == 4
    assert pairs[("eve", "finn")]["qwk"] == pytest.approx(quadratic_weighted_kappa([5, 4, 2, 1], [5, 3, 2, 2]),
                                                          abs=1e-4)
    raters = {r["rater"] for s in stats["sources"] if s["source"] == "human" for r in s["raters"]}
    assert {"eve", "finn"} <= raters
    # the human judge answers the median of the two (halves rounded up)
    from sitegen.learn.relevance.judge import Pair, make_judge
    from sitegen.learn.relevance.queue import item_from_data

    with Store(cfg.store_path, brief=True) as store:
        items = {row.id: item_from_data(row.data) for row in store.items.all()}
    got = make_judge("human", cfg).grade([Pair(p["topic"], items[p["item_id"]]) for p in pairs4])
    assert [j.grade for j in got] == [5, 4, 2, 2]  # medians 5, 3.5, 2, 1.5


def test_bad_requests_are_refused(app):
    cfg, base = app
    _, q = api(base, "queue?rater=gus&limit=1")
    p = q["pairs"][0]
    pair = {"rater": "gus", "topic": p["topic"], "item_id": p["item_id"]}
    assert api(base, "grade", {**pair, "grade": 6})[0] == 400
    assert api(base, "grade", {**pair, "grade": True})[0] == 400
    assert api(base, "grade", {**pair, "grade": "4"})[0] == 400
    assert api(base, "grade", {**pair, "item_id": "no-such-item", "grade": 3})[1]["error"].startswith("unknown item")
    assert api(base, "grade", {**pair, "rater": " ", "grade": 3})[0] == 400
    assert api(base, "grade", {**pair, "rater": "median", "grade": 3})[0] == 400
    assert api(base, "queue?limit=1")[0] == 400  # no rater
    assert call(base, "/_review/api/grade", {**pair, "grade": 3}, {"Content-Type": "text/plain"})[0] == 415
    assert call(base, "/_review/api/grade", {**pair, "grade": 3}, {"Origin": "http://evil.example"})[0] == 403
    assert call(base, "/_review/api/grade", {**pair, "grade": 3}, {"Host": "evil.example:80"})[0] == 403
    assert call(base, "/_review/api/grade")[0] == 405  # GET on a write
    assert call(base, "/_review/api/nothing")[0] == 404
    assert call(base, "/sitemap.xml", {"x": 1})[0] == 501  # nothing else accepts a POST
    assert stored(cfg, "gus") == {}


def test_pages_and_assets_are_served(app, tmp_path):
    cfg, base = app
    status, headers, body = call(base, "/_review/")
    html = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    for grade in range(1, 6):
        assert f'data-grade="{grade}"' in html and f"<kbd>{grade}</kbd>" in html
    assert "highly relevant" in html and "irrelevant" in html and "/_review/review.js" in html
    assert call(base, "/_review/review.js")[1]["Content-Type"].startswith("text/javascript")
    assert call(base, "/_review/review.css")[0] == 200
    assert call(base, "/_review/../site.toml")[0] == 404
    assert call(base, "/_review")[0] == 200  # redirected to /_review/
    _, guide = api(base, "guideline")
    assert [g["grade"] for g in guide["grades"]] == [1, 2, 3, 4, 5] and guide["relevant"] == 4
    assert not (cfg.output_dir / "_review").exists()  # served, never published
    # the catalog image, for an item the build has no thumbnail of
    _, q = api(base, "queue?rater=hal&limit=1")
    item_id = q["pairs"][0]["item_id"]
    status, headers, body = call(base, f"/_review/image/{item_id}")
    assert status == 200 and headers["Content-Type"] == "image/png" and body[:4] == b"\x89PNG"
    assert call(base, "/_review/image/no-such-item")[0] == 404
    # a server without the site's config has no review app
    server, plain = serve_in_thread(cfg.output_dir)
    try:
        assert call(plain, "/_review/")[0] == 404
    finally:
        server.shutdown()
        server.server_close()


def test_while_a_build_holds_the_store(app):
    cfg, base = app
    _, before = api(base, "queue?rater=ivy&limit=2")
    p = before["pairs"][0]
    proc = hold(cfg.store_path, holder(cfg.store_path))
    try:
        status, headers, raw = call(base, "/_review/api/grade", {"rater": "ivy", "topic": p["topic"],
                                                                 "item_id": p["item_id"], "grade": 5})
        assert status == 503 and headers["Retry-After"] == "3"
        assert f"pid {proc.pid}" in json.loads(raw)["message"]
        status, q = api(base, "queue?rater=ivy&limit=2")  # the queue still answers, from the last pool
        assert status == 200 and f"pid {proc.pid}" in q["busy"] and q["pairs"] == before["pairs"]
    finally:
        release(proc)
    assert api(base, "grade", {"rater": "ivy", "topic": p["topic"], "item_id": p["item_id"], "grade": 5})[0] == 200
    assert stored(cfg, "ivy") == {(p["topic"], p["item_id"]): 5}


def test_a_build_waits_for_a_brief_holder(app):
    cfg, _ = app
    path = cfg.store_path
    proc = hold(path, holder(path, brief=True))
    try:
        started = time.monotonic()
        import threading

        threading.Timer(0.6, release, [proc]).start()
        with Store(path) as store:  # as a build opens it
            assert store.runs.last() is not None
        assert time.monotonic() - started >= 0.5
    finally:
        if proc.poll() is None:
            release(proc)


def test_pool_falls_back_to_the_heuristic_when_the_scorer_cannot_score(app):
    cfg, _ = app
    odd = dataclasses.replace(cfg, collect=dataclasses.replace(cfg.collect, scorer="student"))
    with Store(cfg.store_path, brief=True) as store:
        pool = candidate_pool(odd, store)
        plain = candidate_pool(cfg, store)
    assert pool.scorer == "heuristic" and "'student'" in pool.note
    assert [(c.topic, c.item_id, c.score) for c in pool.candidates] == \
        [(c.topic, c.item_id, c.score) for c in plain.candidates]


def test_order_groups_a_topic_while_it_stays_uncertain():
    def c(topic, item, u):
        return Candidate(topic, item, "description", "Hub", topic, 0.5 - u, False, u)

    pairs = [c("a", "1", 0.01), c("a", "2", 0.05), c("a", "3", 0.30), c("b", "1", 0.02), c("b", "2", 0.03),
             c("a", "4", 0.06), c("a", "5", 0.07), c("a", "6", 0.08), c("a", "7", 0.09)]
    order = [(x.topic, x.item_id) for x in order_queue(pairs, group=5, band=0.1)]
    # a's five most uncertain together (the first is the most uncertain of all), then b, then a's rest
    assert order == [("a", "1"), ("a", "2"), ("a", "4"), ("a", "5"), ("a", "6"), ("b", "1"), ("b", "2"),
                     ("a", "7"), ("a", "3")]
    # without grouping: strictly by uncertainty; graded pairs left out
    flat = order_queue(pairs, graded={("a", "1")}, group=1)
    assert [x.uncertainty for x in flat] == sorted(x.uncertainty for x in pairs if x.item_id != "1" or x.topic != "a")
