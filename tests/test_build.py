"""End-to-end: the example site, built as a user would, read as a crawler would."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from sitegen.core import urls
from sitegen.pipeline.build import build_site
from sitegen.core.config import load_config

from .conftest import EPOCH, ROOT
from .sitetools import (all_pages, crawl, internal, jsonld_graph, page_file, parse_page, sitemap_lastmods,
                        sitemap_urls, tree_hashes)


def catalog_rows():
    with open(ROOT / "content" / "catalog.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_accepted_item_and_category_has_a_page(example_build):
    site, result = example_build
    out = site / "build"
    s = result.summary
    assert s.items_read == len(catalog_rows())
    assert s.items_accepted + sum(s.rejected_by_reason.values()) == s.items_read
    pages = all_pages(out)
    assert sum(1 for p in pages if p.startswith("/item/")) == s.items_accepted
    categories = {r["category"] for r in catalog_rows()}
    hubs = {p for p in pages if p.startswith("/category/") and "/page/" not in p}
    assert hubs == {urls.hub_url(urls.slugify(c)) for c in categories}


def test_no_broken_links_and_everything_reachable(example_build):
    site, _ = example_build
    out = site / "build"
    pages = all_pages(out)
    for path, f in pages.items():
        parsed = parse_page(f)
        for href in parsed.links:
            target = internal(href)
            if target is not None:
                assert page_file(out, target).is_file(), f"{path} links to missing {target}"
        for img in parsed.images:
            assert img.get("alt"), f"{path}: image without alt"
            src = internal(img["src"])
            assert src is None or (out / src.lstrip("/")).is_file(), f"{path}: missing image {src}"
    depth = crawl(out)
    assert set(pages) <= set(depth), f"unreachable: {sorted(set(pages) - set(depth))[:5]}"


def test_sitemaps_parse_and_carry_images(example_build):
    site, result = example_build
    out = site / "build"
    entries = sitemap_urls(out)
    pages = all_pages(out)
    base = "https://clipart.example.org"
    assert set(entries) == {base + p for p in pages}
    item_entries = [v for k, v in entries.items() if "/item/" in k]
    assert item_entries and all(len(v) == 1 for v in item_entries)
    for images in entries.values():
        for loc in images:
            assert (out / loc.removeprefix(base + "/")).is_file()
    robots = (out / "robots.txt").read_text()
    assert f"Sitemap: {base}/sitemap.xml" in robots
    assert (out / "sitemap.xsl").is_file() and (out / "llms.txt").is_file()


def test_every_page_has_one_valid_jsonld_graph_and_unique_title(example_build):
    site, _ = example_build
    titles, descriptions = Counter(), Counter()
    for path, f in all_pages(site / "build").items():
        parsed = parse_page(f)
        graph = jsonld_graph(parsed)
        types = {node["@type"] for node in graph}
        assert {"WebSite", "Organization", "BreadcrumbList"} <= types, path
        assert types & {"WebPage", "CollectionPage"}, path
        for node in graph:
            if node["@type"] == "ItemList":
                assert node["numberOfItems"] == len(node["itemListElement"])
                assert [e["position"] for e in node["itemListElement"]] == list(
                    range(1, node["numberOfItems"] + 1))
        assert len(parsed.titles) == 1 and len(parsed.h1) == 1 and len(parsed.canonical) == 1, path
        assert parsed.canonical[0] == "https://clipart.example.org" + path
        assert parsed.scripts == 1, f"{path}: only the JSON-LD script is allowed"
        titles[parsed.titles[0]] += 1
        descriptions[parsed.meta.get("description")] += 1
    assert titles.most_common(1)[0][1] == 1
    assert descriptions.most_common(1)[0][1] == 1 and None not in descriptions


def test_collections_and_link_structure(example_build):
    site, result = example_build
    out = site / "build"
    pages = all_pages(out)
    collections = [p for p in pages if p.startswith("/topic/")]
    assert len(collections) >= 40
    for path in collections:
        graph = jsonld_graph(parse_page(pages[path]))
        item_list = next(n for n in graph if n["@type"] == "ItemList")
        assert item_list["numberOfItems"] >= 6, path
    depth = crawl(out)
    assert max(depth[p] for p in pages if p.startswith("/item/")) <= 3
    inbound = Counter()
    for path, f in pages.items():
        for href in set(parse_page(f).links):
            target = internal(href)
            if target and target != path:
                inbound[target] += 1
    orphans = [p for p in pages if p != "/" and inbound[p] == 0]
    assert orphans == []


def test_annotation_mix_is_30_30_40(example_build):
    from sitegen.store.db import Store

    site, _ = example_build
    with Store(site / ".sitegen" / "site.duckdb") as store:
        rows = store.geo.collections()
        links = store.geo.links("collection")
    category = {f"/topic/{c.slug}/": c.category for c in rows}
    category.update({f"/topic/{c.slug}/#{a['anchor']}": a["category"] for c in rows for a in c.aliases})
    mix = Counter(category[dst] for src, dst, _ in links if src.startswith("/item/") and dst in category)
    total = sum(mix.values())
    assert total > 0
    for category, share in (("description", 0.3), ("style", 0.3), ("use_case", 0.4)):
        assert abs(mix[category] / total - share) <= 0.05, (category, mix)


def test_aliases_are_lines_at_resolving_anchors_not_pages(example_build):
    """A topic that became an alias has no page, no sitemap or llms.txt entry and no hub slot; its line on the
    page it repeats has its anchor (unique there), and every link to an anchor finds it."""
    import re

    site, result = example_build
    out = site / "build"
    aliases = [(c, a) for c in result.site.collections for a in c.aliases]
    assert aliases, "the example has near-duplicate topics"
    listed = set(sitemap_urls(out)) | set(re.findall(r"\((https?://[^)]+)\)", (out / "llms.txt").read_text()))
    hub_slots = {s for h in result.site.hubs for s in h.collection_slugs}
    for c, a in aliases:
        assert not page_file(out, urls.collection_url(a.slug)).exists(), a.slug
        assert not [u for u in listed if f"/topic/{a.slug}/" in u] and a.slug not in hub_slots
        html = page_file(out, urls.collection_url(c.slug)).read_text(encoding="utf-8")
        assert html.count(f'id="{a.anchor}"') == 1, (c.slug, a.anchor)
    anchored = 0
    for path, f in all_pages(out).items():
        for href in parse_page(f).links:
            if href.startswith("/") and "#" in href:
                target, anchor = href.split("#", 1)
                assert f'id="{anchor}"' in page_file(out, target).read_text(encoding="utf-8"), (path, href)
                anchored += 1
    assert anchored > 0  # item pages link alias lines at their anchors


def test_second_build_changes_nothing(example_site_copy):
    site = example_site_copy()
    out = site / "build"
    before = tree_hashes(out)
    inodes = {p: f.stat().st_ino for p, f in all_pages(out).items()}
    os.environ["SOURCE_DATE_EPOCH"] = str(int(EPOCH) + 86400)  # a later day: lastmod must still not move
    result = build_site(load_config(site / "site.toml"))
    assert tree_hashes(out) == before
    assert {p: f.stat().st_ino for p, f in all_pages(out).items()} == inodes, "pages were rewritten"
    s = result.summary
    assert s.pages_written == 0 and s.pages_unchanged == sum(s.pages_by_kind.values())
    assert s.counters["texts_embedded"] == 0 and s.counters["index_rebuilt"] == 0
    forced = build_site(load_config(site / "site.toml"), force=True, check=False)
    assert forced.summary.pages_written == sum(forced.summary.pages_by_kind.values())
    assert tree_hashes(out) == before, "--force writes the same bytes"
    assert all(f.stat().st_ino != inodes[p] for p, f in all_pages(out).items())
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH


def test_retitle_moves_lastmod_of_only_affected_pages(example_site_copy):
    site = example_site_copy()
    out = site / "build"
    rows = catalog_rows()
    target = rows[0]
    before = sitemap_lastmods(out)
    old_html = {p: f.read_bytes() for p, f in all_pages(out).items()}
    rows[0] = dict(target, title=target["title"] + " Drawing")
    with open(site / "content" / "catalog.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(target))
        writer.writeheader()
        writer.writerows(rows)
    os.environ["SOURCE_DATE_EPOCH"] = str(int(EPOCH) + 86400)
    try:
        build_site(load_config(site / "site.toml"))
    finally:
        os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    after = sitemap_lastmods(out)
    new_html = {p: f.read_bytes() for p, f in all_pages(out).items()}
    changed_pages = {p for p in new_html if old_html.get(p) != new_html[p]}
    moved = {u.removeprefix("https://clipart.example.org") for u in after if after[u] != before.get(u)}
    assert moved == changed_pages
    item_pages = [p for p in changed_pages if p.startswith("/item/")]
    assert any(target["title"] + " Drawing" in new_html[p].decode() for p in item_pages)
    # every page that shows the item changed, its URL did not, and the change stays local. Pages that do not show
    # it may change too: the retitle moves the item's embedding, so a topic near the duplicate threshold can move
    # between a page of its own and an alias line, and the annotations' query mix is balanced site-wide
    shows = {p for p, html in new_html.items() if (target["title"] + " Drawing").encode() in html}
    assert shows and shows <= changed_pages
    own = [p for p in item_pages if f"<h1>{target['title']} Drawing</h1>".encode() in new_html[p]]
    assert len(own) == 1 and own[0] in old_html  # the item page kept its URL
    assert len(changed_pages) < len(new_html) / 4


def test_killed_build_leaves_previous_site_intact(example_site_copy):
    site = example_site_copy()
    out = site / "build"
    before = tree_hashes(out)
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH)
    # a new site title makes every page render again, so the kill lands while pages are being written
    proc = subprocess.Popen([sys.executable, "-m", "sitegen", "build", "-q", "--set", "site.title='Renamed'"],
                            cwd=site, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    killed_during_render = False
    while time.time() < deadline and proc.poll() is None:
        tmp = list(site.glob(".sitegen-build-*"))
        if tmp and any(tmp[0].glob("site/item/*/index.html")):
            proc.send_signal(signal.SIGKILL)
            killed_during_render = True
            break
        time.sleep(0.005)
    proc.wait()
    assert killed_during_render, "the build finished before it could be killed"
    assert tree_hashes(out) == before
    from sitegen.cli.serve import serve_in_thread
    import urllib.request

    server, base = serve_in_thread(out)
    try:
        with urllib.request.urlopen(base + "/", timeout=5) as resp:
            assert resp.status == 200 and b"Open Clipart Finder" in resp.read()
    finally:
        server.shutdown()
        server.server_close()
    # the next build cleans up the dead build's temporary folder
    build_site(load_config(site / "site.toml"), check=False)
    assert not _leftover_tmp(site)


def _leftover_tmp(site: Path, wait: float = 20.0) -> list[Path]:
    """sitegen's temporary folders still there once the background removal of replaced sites has had time."""
    deadline = time.time() + wait
    while (left := list(site.glob(".sitegen-build-*"))) and time.time() < deadline:
        time.sleep(0.1)
    return left


def _write_catalog(site: Path, rows: list[dict]) -> None:
    with open(site / "content" / "catalog.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize("point", ["render", "check", "swap", "swapped"])
def test_a_build_killed_at_any_point_keeps_urls_and_store_consistent(example_site_copy, point):
    """SIGKILL a build that adds an item at a chosen point (during render, during the audit before the store
    commit, after the commit before the swap, after the swap before it is recorded), then retitle items and
    build again: no URL drifts, the removed list is exactly the live pages that went, build/ serves."""
    site = example_site_copy()
    out = site / "build"
    before = tree_hashes(out)
    rows = catalog_rows()
    sheep = next(r for r in rows if r["id"] == "animals-sheep")
    ewe = dict(sheep, id="animals-ewe", title="Ewe")
    _write_catalog(site, rows + [ewe])
    flag = site.parent / f"{site.name}-paused"
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH, SITEGEN_DEBUG_PAUSE_AT=point, SITEGEN_DEBUG_PAUSE_FILE=str(flag))
    proc = subprocess.Popen([sys.executable, "-m", "sitegen", "build", "-q"], cwd=site, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None and not flag.exists():
        time.sleep(0.02)
    paused = flag.exists()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert paused, f"the build never reached {point}"
    live = set(all_pages(out))
    if point == "swapped":
        assert "/item/animals-ewe/" in live and tree_hashes(out) != before
    else:
        assert tree_hashes(out) == before, "a build killed before its swap leaves the previous site"
    from sitegen.cli.serve import serve_in_thread
    import urllib.request

    server, base = serve_in_thread(out)
    try:
        with urllib.request.urlopen(base + "/", timeout=5) as resp:
            assert resp.status == 200
    finally:
        server.shutdown()
        server.server_close()
    retitled = [dict(r, title="Fluffy " + r["title"]) if r["id"] == "animals-sheep" else r for r in rows]
    _write_catalog(site, retitled + [dict(ewe, title="Fluffy Ewe")])
    result = build_site(load_config(site / "site.toml"), check=False)
    final = set(all_pages(out))
    assert result.summary.pages_removed == sorted(live - final)
    assert {p for p in live if p.startswith("/item/")} <= final, "an item URL moved"
    assert "/item/animals-sheep/" in final
    if point in ("swap", "swapped"):  # its slug was committed with the pages, before the swap
        assert "/item/animals-ewe/" in final
    assert not _leftover_tmp(site)
    again = build_site(load_config(site / "site.toml"), check=False)
    assert again.summary.counters.get("output_unchanged") == 1 and again.summary.pages_removed == []


def test_hostile_title_renders_as_text_everywhere(tmp_path):
    from PIL import Image

    (tmp_path / "img").mkdir()
    rows = []
    for i in range(8):
        Image.new("RGB", (40, 40), (200, 30 * i, 30)).save(tmp_path / "img" / f"{i}.png")
        title = "<script>alert(1)</script> & \"quotes\" 'apostrophes'" if i == 0 else f"Red Apple {i}"
        rows.append({"id": f"a{i}", "title": title, "category": "Food", "keywords": "apple;fruit",
                     "image": f"img/{i}.png", "description": ""})
    with open(tmp_path / "catalog.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    (tmp_path / "site.toml").write_text('[site]\ntitle = "Hostile"\nbase_url = "https://h.example/"\n'
                                        '[catalog]\npath = "catalog.csv"\nimages_dir = "."\nmarkup = "keep"\n')
    build_site(load_config(tmp_path / "site.toml"), check=False)
    out = tmp_path / "build"
    for path, f in all_pages(out).items():
        html = f.read_text(encoding="utf-8")
        assert "<script>alert" not in html, path
        parsed = parse_page(f)
        graph = jsonld_graph(parsed)  # parses
        if "alert(1)" in html:
            assert parsed.scripts == 1
    hostile = "<script>alert(1)</script> & \"quotes\" 'apostrophes'"
    item = next(f for p, f in all_pages(out).items() if p.startswith("/item/") and parse_page(f).h1 == [hostile])
    parsed = parse_page(item)
    assert parsed.titles[0].startswith("<script>alert(1)</script>")
    names = [n.get("name") for n in jsonld_graph(parsed)]
    assert "<script>alert(1)</script> & \"quotes\" 'apostrophes'" in names
