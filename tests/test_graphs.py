"""Correct graphs and rules: the home ItemList names the hubs and collections themselves, robots.txt reads the
same in a first-match parser (urllib.robotparser) and a longest-match one (Protego, as Google), and hreflang
alternates (head and sitemap xhtml:link) when the site declares translations."""

from __future__ import annotations

import json
import random
import xml.etree.ElementTree as ET
from urllib.robotparser import RobotFileParser

from protego import Protego

from sitegen.audit.check import parse_robots, robots_allows
from sitegen.core import urls
from sitegen.publish.feeds import order_rules, write_robots, write_sitemaps

from .test_render import build, graph_of, make_site, nodes, read

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "xhtml": "http://www.w3.org/1999/xhtml"}


def robots_text(rules: list[tuple[bool, str]]) -> str:
    return "User-agent: *\n" + "".join(f"{'Allow' if a else 'Disallow'}: {p}\n" for a, p in rules)


def verdicts(text: str, paths: list[str], host: str = "https://example.org") -> list[tuple[str, bool, bool]]:
    """(path, urllib.robotparser's answer, Protego's answer) for every path."""
    python = RobotFileParser()
    python.parse(text.splitlines())
    protego = Protego.parse(text)
    return [(p, python.can_fetch("AnyBot", host + p), protego.can_fetch(host + p, "AnyBot")) for p in paths]


# -- robots.txt ---------------------------------------------------------------------------------------------
def test_the_wrong_order_is_read_two_ways():
    """What the ordering prevents: ``Allow: /`` before ``Disallow: /_report/``."""
    text = robots_text([(True, "/"), (False, "/_report/")])
    (_, python, protego), = verdicts(text, ["/_report/"])
    assert python is True and protego is False
    (_, python, protego), = verdicts(robots_text(order_rules([(True, "/"), (False, "/_report/")])), ["/_report/"])
    assert python is False and protego is False


def test_ordered_rules_read_alike_in_every_parser():
    """Random sets of plain-prefix rules, ordered by ``order_rules``: urllib.robotparser (first match),
    Protego and the audit's RFC 9309 matcher (longest match, Allow on a tie) agree on every path."""
    rng = random.Random(7)
    segments = ["a", "ab", "b", "_report", "x", "item", "it"]
    prefixes = sorted({"/" + "/".join(rng.choice(segments) for _ in range(rng.randint(0, 3))) +
                       rng.choice(["", "/"]) for _ in range(200)} - {"//"})  # as sitegen writes paths
    paths = sorted({p + rng.choice(["", "x", "/", "/y/", "b/"]) for p in prefixes})
    for trial in range(150):
        rules = [(rng.random() < 0.5, rng.choice(prefixes)) for _ in range(rng.randint(1, 6))]
        text = robots_text(order_rules(rules))
        parsed, _ = parse_robots(text)
        for path, python, protego in verdicts(text, paths):
            google = robots_allows(parsed, path)
            assert python == protego == google, (trial, rules, path, python, protego, google)


def test_robots_txt_under_a_base_path(tmp_path):
    site, cfg = make_site(tmp_path, n_items=3, pages=False)
    write_robots(cfg, tmp_path)
    text = (tmp_path / "robots.txt").read_text()
    assert text.startswith("User-agent: *\nDisallow: /shop/_report/\nAllow: /shop/\n\n")
    assert "Sitemap: https://example.org/shop/sitemap.xml" in text


def test_example_site_robots_parsers_agree_on_every_url(example_build):
    site, _ = example_build
    out = site / "build"
    text = (out / "robots.txt").read_text(encoding="utf-8")
    files = sorted("/" + p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    pages = sorted({f[: -len("index.html")] for f in files if f.endswith("/index.html")})
    report = ["/_report/", "/_report/index.html", "/_report/pages.html", "/_report"]
    paths = files + pages + report
    results = verdicts(text, paths, "https://clipart.example.org")
    disagree = [(p, a, b) for p, a, b in results if a != b]
    assert disagree == []
    allowed = {p: a for p, a, _ in results}
    assert all(allowed[p] for p in files + pages) and len(pages) > 500
    assert not allowed["/_report/"] and not allowed["/_report/index.html"] and not allowed["/_report/pages.html"]


# -- the home ItemList ---------------------------------------------------------------------------------------
def test_example_home_item_list_points_at_the_pages_themselves(example_build):
    site, _ = example_build
    out = site / "build"
    home = graph_of(read(out, "/")[1])
    (item_list,) = nodes(home, "ItemList")
    assert item_list["numberOfItems"] == len(item_list["itemListElement"]) > 10
    assert not [n for n in json.dumps(home).split('"@type":') if n.startswith('"ImageObject"') and "#logo" not in n]
    base = "https://clipart.example.org"
    for entry in item_list["itemListElement"]:
        node = entry["item"]
        assert node["@id"] == node["url"] == entry["url"] and node["name"] == entry["name"]
        path = node["url"][len(base):]
        target = graph_of(read(out, path)[1])
        (own,) = [n for n in target["@graph"] if n.get("@id") == node["@id"]]
        assert own["@type"] == node["@type"] == "CollectionPage"
        assert node["description"] == own["description"]


# -- hreflang ------------------------------------------------------------------------------------------------
def test_hreflang_alternates_in_head_and_sitemaps(tmp_path):
    site, cfg = make_site(tmp_path)
    cfg.site.translations = {"de": "https://de.example.org/", "fr": "https://example.org/fr/"}
    _, _, plan, records = build(tmp_path, site_cfg=(site, cfg))
    for pp in plan.pages:
        _, page = read(tmp_path / "out", pp.path)
        got = sorted((a["hreflang"], a["href"]) for a in page.find("link", rel="alternate"))
        assert got == [("de", "https://de.example.org" + pp.path), ("en", "https://example.org/shop" + pp.path),
                       ("fr", "https://example.org/fr" + pp.path)]
    write_sitemaps(records, cfg, tmp_path / "maps")
    seen = 0
    for f in sorted((tmp_path / "maps").glob("sitemap-*.xml")):
        root = ET.parse(f).getroot()
        for u in root.findall("s:url", NS):
            loc = u.findtext("s:loc", namespaces=NS)
            path = loc[len("https://example.org/shop"):]
            links = sorted((e.get("hreflang"), e.get("href")) for e in u.findall("xhtml:link", NS))
            assert all(e.get("rel") == "alternate" for e in u.findall("xhtml:link", NS))
            assert links == [("de", "https://de.example.org" + path), ("en", loc), ("fr", "https://example.org/fr" + path)]
            # the sitemap schema's order: loc, lastmod, then the extension elements
            tags = [c.tag.split("}")[1] for c in u]
            assert tags[0] == "loc" and all(t in ("image", "link") for t in tags[1 + (tags[1:2] == ["lastmod"]):])
            seen += 1
    assert seen == len(records)


def test_no_translations_no_alternates(tmp_path):
    site, cfg, plan, records = build(tmp_path, n_items=3, pages=False)
    for pp in plan.pages:
        text, page = read(tmp_path / "out", pp.path)
        assert not page.find("link", rel="alternate") and "hreflang" not in text
    write_sitemaps(records, cfg, tmp_path / "maps")
    for f in (tmp_path / "maps").glob("sitemap*.xml"):
        assert "xhtml" not in f.read_text()


def test_translations_are_validated_by_key(tmp_path):
    from sitegen.core.config import load_config
    from sitegen.core.errors import ConfigError

    (tmp_path / "site.toml").write_text('[site]\nlanguage = "en"\nbase_url = "https://example.org/"\n'
                                        '[site.translations]\nen = "https://en.example.org/"\n'
                                        'deutsch = "https://de.example.org/"\nfr = "example.org/fr"\n'
                                        'es = "https://example.org/"\n')
    try:
        load_config(tmp_path / "site.toml")
        raise AssertionError("no error")
    except ConfigError as exc:
        errors = exc.errors
    assert any(e.startswith("site.translations.en: the site's own language") for e in errors)
    assert any(e.startswith("site.translations.deutsch: not a language code") for e in errors)
    assert any(e.startswith("site.translations.fr: must be the translated site's absolute") for e in errors)
    assert any(e.startswith("site.translations.es: is this site's own base_url") for e in errors)
    (tmp_path / "site.toml").write_text('[site.translations]\npt-BR = "https://example.org/pt"\n')
    assert load_config(tmp_path / "site.toml").site.translations == {"pt-BR": "https://example.org/pt/"}
    assert urls.alternates("https://example.org/", "en", {}, "/a/") == []
