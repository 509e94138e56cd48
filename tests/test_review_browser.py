"""The review app in Chromium: a rater grades 10 pairs with the keyboard only (one of them undone and graded
again), and the grades land in the store. Uses Debian's chromium through Playwright; screenshots go to
test-artifacts/ (review.png, review-guideline.png)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.cli.serve import serve_in_thread
from sitegen.core.config import load_config
from sitegen.store.db import Store

from .test_browser import ARTIFACTS, CHROMIUM, browser  # noqa: F401  (the browser fixture)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")]


def shown(page) -> tuple[str, str]:
    return tuple(page.eval_on_selector("#review", "m => [m.dataset.topic || '', m.dataset.item || '']"))


def wait_for_other_pair(page, before: tuple[str, str]) -> None:
    page.wait_for_function("([t, i]) => { const m = document.getElementById('review');"
                           " return m.dataset.item && (m.dataset.topic !== t || m.dataset.item !== i); }",
                           arg=list(before))


def test_grade_ten_pairs_with_the_keyboard(browser, example_site_copy):  # noqa: F811
    site = example_site_copy()
    cfg = load_config(site / "site.toml")
    server, base = serve_in_thread(cfg.output_dir, cfg=cfg)
    page = browser.new_page(viewport={"width": 1366, "height": 860})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(base + "/_review/", wait_until="load")
        page.wait_for_selector("#rater-dialog[open]")  # the name is asked once ...
        page.keyboard.type("Rita")
        page.keyboard.press("Enter")
        page.wait_for_selector("#review[data-item]")
        page.wait_for_load_state("networkidle")
        assert page.inner_text("#topic") == shown(page)[0]
        assert page.eval_on_selector("#image", "i => i.complete && i.naturalWidth > 0")
        assert page.locator(".grade").count() == 5
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "review.png"))

        expected: dict[tuple[str, str], int] = {}
        keys = ["4", "5", "3", "1", "2", "2", "5", "4", "3", "1"]
        for n, key in enumerate(keys):
            pair = shown(page)
            page.keyboard.press(key)
            wait_for_other_pair(page, pair)
            expected[pair] = int(key)
            if n == 4:  # undo the fifth grade: the pair is back, then it gets another grade
                page.keyboard.press("u")
                page.wait_for_function("([t, i]) => { const m = document.getElementById('review');"
                                       " return m.dataset.topic === t && m.dataset.item === i; }", arg=list(pair))
                del expected[pair]
                page.keyboard.press("4")
                wait_for_other_pair(page, pair)
                expected[pair] = 4
        assert len(expected) == 10
        skipped = shown(page)
        page.keyboard.press("s")  # a skip grades nothing ...
        wait_for_other_pair(page, skipped)
        page.keyboard.press("Control+z")  # ... and is undone like a grade
        page.wait_for_function("([t, i]) => { const m = document.getElementById('review');"
                               " return m.dataset.topic === t && m.dataset.item === i; }", arg=list(skipped))
        page.wait_for_function("document.body.dataset.pending === '0'")
        page.wait_for_function("document.getElementById('progress-text').textContent.startsWith('10 of ')")

        page.keyboard.press("?")
        assert page.is_visible("#guideline")
        page.screenshot(path=str(ARTIFACTS / "review-guideline.png"))
        page.keyboard.press("Escape")
        assert not page.is_visible("#guideline")

        with Store(cfg.store_path, brief=True) as store:
            got = {(j.topic, j.item_id): j.grade for j in store.judgments.all(["human"])}
            raters = {j.rater for j in store.judgments.all(["human"])}
        assert got == expected and raters == {"Rita"}
        assert skipped not in got

        page.reload(wait_until="load")  # the name is remembered; the graded pairs do not come back
        page.wait_for_selector("#review[data-item]")
        assert not page.is_visible("#rater-dialog")
        assert page.inner_text("#rater-name") == "Rita"
        assert shown(page) not in expected
        page.wait_for_function("document.getElementById('progress-text').textContent.startsWith('10 of ')")
        assert errors == []
    finally:
        page.close()
        server.shutdown()
        server.server_close()
