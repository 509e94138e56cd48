"""The header in Chromium at a phone's and a laptop's width: every category is reachable from it (links, a
sideways-scrolling strip on a phone, the "More" menu, a <details> that needs no JavaScript), nothing overflows
the page horizontally (menu open or closed), the strip shows that it scrolls, and breadcrumbs wrap inside the
page. Screenshots go to test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.cli.serve import serve_in_thread

from .test_browser import ARTIFACTS, CHROMIUM, browser  # noqa: F401  (the browser fixture)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")]

WIDTHS = (375, 1280)


@pytest.fixture(scope="module")
def site(example_build):
    root = example_build[0] / "build"
    server, base = serve_in_thread(root)
    yield root, base
    server.shutdown()
    server.server_close()


def hub_paths(root: Path) -> list[str]:
    return sorted(f"/category/{d.name}/" for d in (root / "category").iterdir() if (d / "index.html").is_file())


def longest_collection(root: Path) -> str:
    return "/topic/" + max((d.name for d in (root / "topic").iterdir() if (d / "index.html").is_file()),
                           key=lambda n: (len(n), n)) + "/"


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def open_page(browser, url: str, width: int):
    """A page with JavaScript off: the header must work without it."""
    page = browser.new_page(viewport={"width": width, "height": 800}, java_script_enabled=False)
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, url
    return page


@pytest.mark.parametrize("width", WIDTHS)
def test_every_category_is_reachable_from_the_header(browser, site, width):
    root, base = site
    hubs = hub_paths(root)
    assert len(hubs) >= 2
    page = open_page(browser, base + longest_collection(root), width)
    header_targets = page.eval_on_selector_all("header a[href^='/category/']", "as => as.map(a => a.getAttribute('href'))")
    assert sorted(header_targets) == hubs, "the header must link every category, each once"
    for path in hubs:
        page.goto(base + longest_collection(root))
        link = page.locator(f"header a[href='{path}']")
        menu = page.locator("header details.nav-more")
        if menu.count() and menu.locator(f"a[href='{path}']").count():
            assert not link.is_visible(), f"{path} shows before the menu is opened"
            page.click("header details.nav-more summary")
        link.scroll_into_view_if_needed()
        assert link.is_visible(), f"{path} is not visible at {width} px"
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, f"{path} lies outside the page: {box}"
        assert overflow(page) <= 0, f"the page overflows horizontally at {width} px with the menu open"
        link.click()
        page.wait_for_url(base + path)
        assert page.locator("header [aria-current='page']").text_content().strip() == \
            page.locator("h1").text_content().strip()
    page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_overflows_and_screenshots(browser, site, width):
    root, base = site
    item = sorted(d.name for d in (root / "item").iterdir())[0]
    pages = {"home": "/", "hub": hub_paths(root)[0], "collection": longest_collection(root), "item": f"/item/{item}/"}
    ARTIFACTS.mkdir(exist_ok=True)
    for name, path in pages.items():
        page = open_page(browser, base + path, width)
        assert overflow(page) <= 0, f"{path} overflows horizontally at {width} px"
        crumbs = page.locator("nav.crumbs:not(.visually-hidden)")
        if crumbs.is_visible():
            assert page.evaluate("() => { const n = document.querySelector('nav.crumbs:not(.visually-hidden)'); "
                                 "return n.scrollWidth <= n.clientWidth; }"), f"{path}: breadcrumbs overflow"
            # every line box of every crumb (a long name wraps onto several) lies inside the trail
            outside = page.evaluate("""() => { const box = document.querySelector('nav.crumbs:not(.visually-hidden)').getBoundingClientRect();
                return [...document.querySelectorAll('nav.crumbs li')].flatMap(l => [...l.getClientRects()])
                    .filter(r => r.left < box.left - 0.5 || r.right > box.right + 0.5).length; }""")
            assert outside == 0, f"{path}: a breadcrumb leaves the trail at {width} px"
        page.screenshot(path=str(ARTIFACTS / f"nav-{name}-{width}.png"))
        if page.locator("details.nav-more").count():
            page.click("details.nav-more summary")
            assert page.locator(".nav-menu").is_visible()
            assert overflow(page) <= 0, f"{path} overflows at {width} px with the menu open"
            box = page.locator(".nav-menu").bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"the menu leaves the page: {box}"
            page.screenshot(path=str(ARTIFACTS / f"nav-{name}-{width}-menu.png"))
        page.close()


def test_the_phone_strip_shows_that_it_scrolls(browser, site):
    root, base = site
    page = open_page(browser, base + "/", 375)
    strip = page.locator("header .nav-strip")
    metrics = page.evaluate("""() => { const s = document.querySelector('header .nav-strip'), st = getComputedStyle(s);
        return {scroll: s.scrollWidth, client: s.clientWidth, overflowX: st.overflowX,
                image: st.backgroundImage, attachment: st.backgroundAttachment}; }""")
    if metrics["scroll"] <= metrics["client"]:
        pytest.skip("every header link fits at 375 px")
    assert metrics["overflowX"] == "auto"
    # the edge that has more shows a shadow: gradients that stay put (scroll) under covers that move with the
    # links (local), so the shadow appears only where links are hidden
    assert metrics["image"].count("gradient") == 4 and "local" in metrics["attachment"] and \
        "scroll" in metrics["attachment"], metrics
    right_edge = page.evaluate("""() => { const s = document.querySelector('header .nav-strip');
        return s.getBoundingClientRect().right; }""")
    summary = page.locator("details.nav-more summary")
    box = summary.bounding_box()
    assert box["x"] >= right_edge - 0.5 and box["x"] + box["width"] <= 375, "the More menu must stay in view"
    before = strip.screenshot()
    strip.evaluate("s => s.scrollLeft = s.scrollWidth")
    after = strip.screenshot()
    assert before != after
    page.close()


def test_the_menu_opens_from_the_keyboard(browser, site):
    page = open_page(browser, site[1] + "/", 1280)
    if not page.locator("details.nav-more").count():
        pytest.skip("every category fits in the header")
    page.focus("details.nav-more summary")
    page.keyboard.press("Enter")
    assert page.locator(".nav-menu").is_visible()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('.nav-menu') !== null")
    assert focused, "Tab after opening the menu moves into it"
    page.close()
