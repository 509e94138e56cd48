"""Image pages worth visiting: the largest rendition at its own size, the original file to view and download,
licence metadata on every ImageObject (catalog columns, else the [site] defaults), og:image and the Twitter
card, og:locale, twitter:site and the Organization logo."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import replace
from pathlib import Path

import pytest

from sitegen.core import urls
from sitegen.core.config import load_config
from sitegen.core.errors import ConfigError
from sitegen.core.models import Site
from sitegen.publish.media import make_thumbnails, publish_media, rendition_widths, with_originals

from .test_load import load, write_csv, write_image
from .test_render import build, graph_of, make_image, make_site, nodes, read

CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"
BASE = "https://example.org/shop"


def image_objects(graph: dict) -> list[dict]:
    """Every ImageObject of a graph, at any depth (ListItem.item, primaryimage, logo)."""
    out = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("@type") == "ImageObject":
                out.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(graph)
    return out


def with_big_item(root: Path, site: Site, width: int = 1600, height: int = 1000) -> Site:
    """``site`` with its first item's image replaced by a ``width`` x ``height`` one."""
    first = site.items[0]
    path = root / "images" / "big.png"
    sha = make_image(path, (width, height), (200, 40, 40))
    items = [replace(first, image=str(path), image_sha=sha, width=width, height=height), *site.items[1:]]
    return replace(site, items=items)


@pytest.fixture(scope="module")
def rights_site(tmp_path_factory):
    """The small test site with [site] rights defaults, one item with its own catalog rights, one large image."""
    root = tmp_path_factory.mktemp("rights")
    site, cfg = make_site(root)
    site = with_big_item(root, site)
    own = site.items[1]
    items = [replace(i, license="https://example.com/licence-b/", license_page="/terms/", credit="Studio B",
                     copyright="© 2023 Studio B") if i.id == own.id else i for i in site.items]
    site = replace(site, items=items)
    cfg.site.license, cfg.site.license_page = CC0, "/licence/"
    cfg.site.credit, cfg.site.copyright = "Test Gallery", "Public domain"
    cfg.site.locale, cfg.site.twitter_site = "en_GB", "@testgallery"
    logo = root / "logo.png"
    make_image(logo, (300, 200), (10, 80, 70))
    cfg.site.logo = str(logo)
    _, _, plan, records = build(root, site_cfg=(site, cfg))
    return root, site, cfg, plan


def test_every_image_object_carries_licence_metadata(rights_site):
    root, site, cfg, plan = rights_site
    own = site.items[1]
    seen = logos = 0
    for pp in plan.pages:
        _, page = read(root / "out", pp.path)
        graph = graph_of(page)
        for node in image_objects(graph):
            if node.get("@id", "").endswith("#logo"):  # the site's own image: the site's licence
                assert node["license"] == CC0 and node["acquireLicensePage"] == BASE + "/licence/"
                assert (node["creditText"], node["copyrightNotice"]) == ("Test Gallery", "Public domain")
                logos += 1
                continue
            seen += 1
            if node["url"] == BASE + urls.item_url(own.slug):  # the catalog's own values win
                assert node["license"] == "https://example.com/licence-b/"
                assert node["acquireLicensePage"] == BASE + "/terms/"
                assert (node["creditText"], node["copyrightNotice"]) == ("Studio B", "© 2023 Studio B")
            else:
                assert node["license"] == CC0 and node["acquireLicensePage"] == BASE + "/licence/"
                assert (node["creditText"], node["copyrightNotice"]) == ("Test Gallery", "Public domain")
    assert seen >= len(site.items) * 2  # item pages and the cards of hubs and collections
    assert logos == (len(plan.pages) if cfg.site.logo else 0)


def test_no_rights_settings_no_rights_keys(tmp_path):
    site, cfg, plan, records = build(tmp_path)
    for pp in plan.pages:
        _, page = read(tmp_path / "out", pp.path)
        for node in image_objects(graph_of(page)):
            assert not {"license", "acquireLicensePage", "creditText", "copyrightNotice"} & set(node)


def test_item_page_shows_the_largest_rendition_and_links_the_original(rights_site):
    root, site, cfg, plan = rights_site
    for item in site.items:
        text, page = read(root / "out", urls.item_url(item.slug))
        img = page.find("img")[0]
        widths = [int(w.rsplit(" ", 1)[1][:-1]) for w in img["srcset"].split(", ")]
        assert int(img["width"]) == max(widths) == min(item.width, cfg.build.large_width)
        assert img["src"].endswith(f"-{img['width']}.webp")
        slots = [int(v) for v in re.findall(r"(\d+)px\)?(?:,|$)", img["sizes"].replace(" ", ""))]
        assert slots and max(slots) <= int(img["width"]), img["sizes"]  # never shown wider than it is
        links = {a["href"]: a for a in page.find("a") if a["href"].startswith("/media/")}
        original = f"/media/original/{item.slug}.png"
        assert set(links) == {original} and links[original]["download"] == f"{item.slug}.png"
        assert f"View the original ({item.width} × {item.height} px)" in text and "Download PNG" in text


def test_originals_are_published_byte_for_byte(tmp_path):
    site, cfg = make_site(tmp_path, n_items=3, pages=False)
    sets = with_originals(site.items, make_thumbnails(site.items, rendition_widths([160], 1200), tmp_path / "c"))
    publish_media(sets, tmp_path / "c", tmp_path / "out")
    for item in site.items:
        original = sets[item.id].original
        assert original.mime == "image/png" and original.bytes == Path(item.image).stat().st_size
        assert (tmp_path / "out" / original.url.lstrip("/")).read_bytes() == Path(item.image).read_bytes()


def test_without_originals_the_download_is_the_largest_rendition(tmp_path):
    site, cfg = make_site(tmp_path, n_items=3, pages=False)
    cfg.build.originals = False
    build(tmp_path, site_cfg=(site, cfg))
    item = site.items[0]
    _, page = read(tmp_path / "out", urls.item_url(item.slug))
    (link,) = [a for a in page.find("a") if a["href"].startswith("/media/")]
    assert link["href"] == page.find("img")[0]["src"] and link["download"].endswith(".webp")


def test_og_image_is_large_when_the_source_allows_else_a_summary_card(rights_site):
    root, site, cfg, plan = rights_site
    big, small = site.items[0], site.items[2]
    _, page = read(root / "out", urls.item_url(big.slug))
    assert page.find("meta", property="og:image:width")[0]["content"] == "1200"
    assert page.find("meta", property="og:image:height")[0]["content"] == "750"
    assert page.find("meta", property="og:image")[0]["content"].endswith("-1200.webp")
    assert page.find("meta", name="twitter:card")[0]["content"] == "summary_large_image"
    _, page = read(root / "out", urls.item_url(small.slug))
    assert int(page.find("meta", property="og:image:width")[0]["content"]) == small.width < 1200
    assert page.find("meta", name="twitter:card")[0]["content"] == "summary"


def test_og_locale_twitter_site_and_logo(rights_site, tmp_path):
    root, site, cfg, plan = rights_site
    _, page = read(root / "out", "/")
    assert page.find("meta", property="og:locale")[0]["content"] == "en_GB"
    assert page.find("meta", name="twitter:site")[0]["content"] == "@testgallery"
    (org,) = nodes(graph_of(page), "Organization")
    assert org["logo"]["url"] == BASE + "/assets/logo.png" and (org["logo"]["width"], org["logo"]["height"]) == (300, 200)
    assert (root / "out" / "assets" / "logo.png").read_bytes() == Path(cfg.site.logo).read_bytes()
    # defaults: og:locale from the language, no twitter:site
    s2, c2 = make_site(tmp_path, n_items=3, pages=False)
    c2.site.language = "pt-br"
    build(tmp_path, site_cfg=(s2, c2))
    _, page = read(tmp_path / "out", "/")
    assert page.find("meta", property="og:locale")[0]["content"] == "pt_BR"
    assert not page.find("meta", name="twitter:site")
    assert "logo" not in nodes(graph_of(page), "Organization")[0]


def test_rights_settings_are_validated_by_key(tmp_path):
    (tmp_path / "site.toml").write_text(
        '[site]\nlicense = "CC0"\nlicense_page = "licence"\ncredit = 3\nlocale = "english"\n'
        'twitter_site = "no handle"\n[catalog]\ncolumns = { license = "rights_url", colour = "c" }\n')
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path / "site.toml")
    errors = exc.value.errors
    for key in ("site.license:", "site.license_page:", "site.credit:", "site.locale:", "site.twitter_site:",
                "catalog.columns.colour:"):
        assert any(e.startswith(key) for e in errors), (key, errors)
    assert not any(e.startswith("catalog.columns.license") for e in errors)  # a rights field can be mapped
    (tmp_path / "site.toml").write_text(f'[site]\nlicense = "{CC0}"\nlicense_page = "/licence/"\n')
    assert load_config(tmp_path / "site.toml").site.license == CC0


def test_rights_columns_from_the_catalog(tmp_path):
    write_image(tmp_path / "images", "a.png")
    write_csv(tmp_path / "catalog.csv", ["id", "title", "image", "rights_url", "credit", "copyright", "license_page"], [
        ["1", "Apple", "a.png", "https://example.com/l/", " Ann  Lee ", "© Ann", "/terms/"],
        ["2", "Pear", "a.png", "", "", "", ""],
        ["3", "Plum", "a.png", "not a url", "", "", ""],
        ["4", "Fig", "a.png", "", "", "", "terms page"],
    ])
    result = load(tmp_path, columns={"license": "rights_url"})
    a, b = result.items
    assert (a.license, a.license_page, a.credit, a.copyright) == ("https://example.com/l/", "/terms/", "Ann Lee", "© Ann")
    assert (b.license, b.credit) == ("", "")
    assert a.attributes == ()  # rights columns are not item attributes (nor text for queries and embeddings)
    assert sorted((r.item_id, r.reason) for r in result.rejections) == [("3", "bad_url"), ("4", "bad_url")]
    assert {f.name for f in dataclasses.fields(a)} >= {"license", "license_page", "credit", "copyright"}


def test_example_site_every_image_object_is_cc0(example_build):
    site, _ = example_build
    out = site / "build"
    count = 0
    for html in sorted(out.rglob("index.html")):
        text = html.read_text(encoding="utf-8")
        m = re.search(r'<script type="application/ld\+json">(.*?)</script>', text, re.S)
        if not m:
            continue
        import json

        for node in image_objects(json.loads(m.group(1))):
            if node.get("@id", "").endswith("#logo"):
                continue
            count += 1
            assert node["license"] == CC0, html
            assert node["acquireLicensePage"] == "https://clipart.example.org/licence/"
            assert node["creditText"] and node["copyrightNotice"]
    assert count > 465  # every item page and every card on hubs and collections
    assert (out / "licence" / "index.html").is_file()
    assert "CC0" in (out / "licence" / "index.html").read_text(encoding="utf-8")
