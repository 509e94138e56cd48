"""The review app's trends page: its JSON API (list, approve, reject, validation, origin checks) resuming the trend
agent's waiting graph, and a person approving one proposal and rejecting another in Chromium (Playwright,
Debian's chromium; screenshot in test-artifacts/trends-review.png)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sitegen.cli.review import ReviewApp
from sitegen.demand.trends.agent import TrendAgent, run_agent
from sitegen.store.db import Store

from .test_browser import ARTIFACTS, CHROMIUM, browser  # noqa: F401  (the browser fixture)
from .trendtools import Stager, make_cfg, make_toolbox

HEADERS = {"Content-Type": "application/json", "Host": "127.0.0.1:8000"}


@pytest.fixture
def proposed(tmp_path):
    """A tiny site whose agent run left three proposals waiting (the store closed again, as after a build)."""
    cfg = make_cfg(tmp_path)
    with Store(cfg.store_path) as store:
        run = run_agent(cfg, store, toolbox=make_toolbox(cfg, store), stager=Stager())
    return cfg, {p.trend: p.id for p in run.pending}, run.thread_id


def call(app: ReviewApp, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    resp = app.handle(method, path, headers or HEADERS, data)
    return resp.status, json.loads(resp.body) if resp.content_type.startswith("application/json") else resp.body


def test_the_trends_api_lists_and_decides(proposed):
    cfg, ids, thread = proposed
    app = ReviewApp(cfg)
    status, page = call(app, "GET", "/_review/trends")
    assert status == 200 and b"<title>Trend proposals" in page and b"trends.js" in page
    assert call(app, "GET", "/_review/trends.js")[0] == 200
    status, data = call(app, "GET", "/_review/api/trends")
    assert status == 200 and [p["trend"] for p in data["pending"]] == ["Sunglasses", "Rain jacket", "Sun hat"]
    sun = data["pending"][0]
    assert sun["stage"] == "seasonal" and sun["next_peak"] == "2019-07-15" and sun["reason"].startswith("seasonal")
    assert sun["topics"][1] == {"text": "sunglasses for men", "hub": "Sunglasses"}
    assert data["decided"] == [] and data["last_run"]["status"] == "waiting" and data["last_run"]["proposals"] == 3

    status, got = call(app, "POST", "/_review/api/trends/decide",
                       {"proposal": ids["Sunglasses"], "decision": "approved", "rater": "Rita", "note": " good  one "})
    assert status == 200 and got["proposal"]["status"] == "approved" and got["proposal"]["decided_by"] == "Rita"
    assert got["proposal"]["note"] == "good one"
    status, got = call(app, "POST", "/_review/api/trends/decide",
                       {"proposal": ids["Sunglasses"], "decision": "rejected", "rater": "Sam"})
    assert status == 409 and "already approved" in got["error"]
    for body, code in [({"proposal": ids["Sun hat"], "decision": "maybe", "rater": "Rita"}, 400),
                       ({"proposal": ids["Sun hat"], "decision": "approved"}, 400),
                       ({"proposal": "nope", "decision": "approved", "rater": "Rita"}, 409)]:
        assert call(app, "POST", "/_review/api/trends/decide", body)[0] == code
    body = {"proposal": ids["Sun hat"], "decision": "rejected", "rater": "Rita"}
    assert call(app, "POST", "/_review/api/trends/decide", body, {**HEADERS, "Origin": "http://evil.example"})[0] == 403
    assert call(app, "POST", "/_review/api/trends/decide", body, {**HEADERS, "Content-Type": "text/plain"})[0] == 415
    assert call(app, "GET", "/_review/api/trends/decide")[0] == 405
    assert call(app, "POST", "/_review/api/trends/decide", body)[0] == 200

    status, data = call(app, "GET", "/_review/api/trends")
    assert [p["trend"] for p in data["pending"]] == ["Rain jacket"]
    assert {p["trend"]: p["status"] for p in data["decided"]} == {"Sunglasses": "approved", "Sun hat": "rejected"}
    with Store(cfg.store_path, brief=True) as store:
        assert list(TrendAgent(cfg, store).waiting(thread)) == [ids["Rain jacket"]]  # the graph waits for the last




@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")
def test_approve_and_reject_in_chromium(proposed, browser, tmp_path):  # noqa: F811
    from sitegen.cli.serve import serve_in_thread
    from sitegen.publish.render import packaged_templates

    cfg, ids, thread = proposed
    (cfg.output_dir / "assets").mkdir(parents=True)
    shutil.copy(packaged_templates() / "assets" / "favicon.svg", cfg.output_dir / "assets" / "favicon.svg")
    server, base = serve_in_thread(cfg.output_dir, cfg=cfg)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(base + "/_review/trends", wait_until="load")
        page.wait_for_function("document.body.dataset.pending === '3'")
        card = page.locator(f'#pending .proposal[data-id="{ids["Sunglasses"]}"]')
        assert card.locator(".trend").inner_text() == "Sunglasses"
        assert "sunglasses for men" in card.locator(".topics").inner_text()
        assert "seasonal" in card.locator(".meta").inner_text()
        card.locator("button.approve").click()  # no name yet: nothing is sent
        page.wait_for_function("document.getElementById('status').textContent.startsWith('Type your name')")
        page.fill("#rater-input", "Rita")
        card.locator("button.approve").click()
        page.wait_for_function("document.body.dataset.pending === '2'")
        page.locator(f'#pending .proposal[data-id="{ids["Sun hat"]}"] .note').fill("not this summer")
        page.locator(f'#pending .proposal[data-id="{ids["Sun hat"]}"] button.reject').click()
        page.wait_for_function("document.body.dataset.pending === '1'")
        decided = page.locator("#decided .proposal")
        assert decided.count() == 2
        assert page.locator(f'#decided .proposal[data-id="{ids["Sunglasses"]}"]').get_attribute("data-status") == "approved"
        outcome = page.locator(f'#decided .proposal[data-id="{ids["Sun hat"]}"] .outcome').inner_text()
        assert outcome.startswith("rejected by Rita") and "not this summer" in outcome
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "trends-review.png"), full_page=True)
        page.reload(wait_until="load")  # the name is remembered
        page.wait_for_function("document.body.dataset.pending === '1'")
        assert page.input_value("#rater-input") == "Rita"
        assert errors == []
    finally:
        page.close()
        server.shutdown()
        server.server_close()
    with Store(cfg.store_path, brief=True) as store:
        status = {p.trend: (p.status, p.decided_by) for p in store.trends.proposals()}
        assert status == {"Sunglasses": ("approved", "Rita"), "Sun hat": ("rejected", "Rita"),
                          "Rain jacket": ("pending", "")}
        assert [e[1] for e in store.trends.exemplars()] == ["Sunglasses"]
        assert list(TrendAgent(cfg, store).waiting(thread)) == [ids["Rain jacket"]]
