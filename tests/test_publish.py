"""publish.py: sitemap index and children, image extension, splitting, XSL, robots.txt, llms.txt."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from sitegen.core.models import ImageEntry, PageRecord
from sitegen.publish.feeds import write_llms_txt, write_robots, write_sitemaps

from .test_render import build, make_site

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "image": "http://www.google.com/schemas/sitemap-image/1.1"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("pub")
    site, cfg, plan, records = build(root)
    records = [replace(r, lastmod=f"2024-01-{1 + n % 28:02d}T10:00:00+00:00") for n, r in enumerate(records)]
    return root, site, cfg, plan, records


def _parse(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n'
                           '<?xml-stylesheet type="text/xsl" href="/sitemap.xsl"?>')
    return ET.fromstring(text.encode("utf-8"))


def test_sitemap_index_and_children(built, tmp_path):
    root, site, cfg, plan, records = built
    names = write_sitemaps(records, cfg, tmp_path)
    assert names == ["sitemap.xml", "sitemap-pages.xml", "sitemap-hubs.xml", "sitemap-collections.xml",
                     "sitemap-items.xml", "sitemap.xsl"]
    index = _parse(tmp_path / "sitemap.xml")
    assert index.tag == f"{{{NS['s']}}}sitemapindex"
    locs = [e.findtext("s:loc", namespaces=NS) for e in index.findall("s:sitemap", NS)]
    assert locs == [f"https://example.org/shop/{n}" for n in names[1:-1]]
    by_kind = {"pages": {"home", "page"}, "hubs": {"hub"}, "collections": {"collection"}, "items": {"item"}}
    seen = []
    for entry in index.findall("s:sitemap", NS):
        name = entry.findtext("s:loc", namespaces=NS).rsplit("/", 1)[1]
        kind = name[len("sitemap-"):-len(".xml")]
        child = _parse(tmp_path / name)
        urls = child.findall("s:url", NS)
        paths = [u.findtext("s:loc", namespaces=NS)[len("https://example.org/shop"):] for u in urls]
        assert paths == sorted(paths)
        expected = [r for r in records if r.kind in by_kind[kind]]
        assert sorted(paths) == sorted(r.path for r in expected)
        assert entry.findtext("s:lastmod", namespaces=NS) == max(r.lastmod for r in expected)
        for u in urls:
            path = u.findtext("s:loc", namespaces=NS)[len("https://example.org/shop"):]
            record = next(r for r in records if r.path == path)
            assert u.findtext("s:lastmod", namespaces=NS) == record.lastmod
            images = [i.findtext("image:loc", namespaces=NS) for i in u.findall("image:image", NS)]
            assert images == [i.loc for i in record.images]
        seen += paths
    assert len(seen) == len(records)
    items = _parse(tmp_path / "sitemap-items.xml").findall("s:url", NS)
    assert all(len(u.findall("image:image", NS)) == 1 for u in items)
    hubs = _parse(tmp_path / "sitemap-hubs.xml").findall("s:url", NS)
    assert all(len(u.findall("image:image", NS)) >= 1 for u in hubs)


def test_sitemaps_are_deterministic(built, tmp_path):
    root, site, cfg, plan, records = built
    write_sitemaps(records, cfg, tmp_path / "a")
    write_sitemaps(list(reversed(records)), cfg, tmp_path / "b")
    for f in sorted((tmp_path / "a").iterdir()):
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes()


def test_sitemaps_split_at_max_urls_and_bytes(built, tmp_path):
    root, site, cfg, plan, records = built
    names = write_sitemaps(records, cfg, tmp_path / "n", max_urls=5)
    items = [r for r in records if r.kind == "item"]
    assert "sitemap-items-3.xml" in names and "sitemap-items-4.xml" not in names  # 12 items, 5 per file
    counts = [len(_parse(tmp_path / "n" / n).findall("s:url", NS)) for n in names if n.startswith("sitemap-items")]
    assert counts == [5, 5, 2] and sum(counts) == len(items)
    index = _parse(tmp_path / "n" / "sitemap.xml")
    assert len(index.findall("s:sitemap", NS)) == len(names) - 2

    names = write_sitemaps(records, cfg, tmp_path / "b", max_bytes=1200)
    for n in names:
        if n.startswith("sitemap-"):
            assert (tmp_path / "b" / n).stat().st_size <= 1200
            assert _parse(tmp_path / "b" / n).findall("s:url", NS)
    assert len([n for n in names if n.startswith("sitemap-items")]) > 2


def test_sitemaps_leave_out_pages_not_in_sitemap_and_empty_children(tmp_path):
    from sitegen.core.config import Config
    cfg = Config()
    records = [PageRecord("/", "home", "Home", "d", "h", (), "2024-01-01", True),
               PageRecord("/item/a/", "item", "A", "d", "h", (ImageEntry("https://example.org/media/a&b.webp"),),
                          "2024-02-01", True),
               PageRecord("/item/b/", "item", "B", "d", "h", (), "", False)]
    names = write_sitemaps(records, cfg, tmp_path)
    assert names == ["sitemap.xml", "sitemap-pages.xml", "sitemap-items.xml", "sitemap.xsl"]
    items = _parse(tmp_path / "sitemap-items.xml")
    assert [u.findtext("s:loc", namespaces=NS) for u in items.findall("s:url", NS)] == ["https://example.org/item/a/"]
    assert items.find("s:url/image:image/image:loc", NS).text == "https://example.org/media/a&b.webp"


def test_xsl_is_well_formed(built, tmp_path):
    root, site, cfg, plan, records = built
    write_sitemaps(records, cfg, tmp_path)
    xsl = ET.parse(tmp_path / "sitemap.xsl").getroot()
    assert xsl.tag == "{http://www.w3.org/1999/XSL/Transform}stylesheet" and xsl.get("version") == "1.0"
    text = (tmp_path / "sitemap.xsl").read_text()
    for needle in ("s:sitemapindex", "s:urlset/s:url", "image:image", "'/item/'", "'/topic/'", "'/category/'"):
        assert needle in text


def test_robots_txt(built, tmp_path):
    root, site, cfg, plan, records = built
    write_robots(cfg, tmp_path)
    lines = (tmp_path / "robots.txt").read_text().splitlines()
    # longest path first: first-match and longest-match parsers read the same (tests/test_robots.py)
    assert lines[:4] == ["User-agent: *", "Disallow: /shop/_report/", "Allow: /shop/", ""]
    assert "Sitemap: https://example.org/shop/sitemap.xml" in lines


def test_llms_txt(built, tmp_path):
    root, site, cfg, plan, records = built
    by_path = {r.path: r for r in records}
    write_llms_txt(plan, site, by_path, cfg, tmp_path)
    text = (tmp_path / "llms.txt").read_text()
    lines = text.splitlines()
    assert lines[0] == "# Test Gallery"
    assert lines[2] == "> A small gallery of shoes, bags and dresses, built for tests."
    assert "## Categories" in lines and "## Collections" in lines and "## Pages" in lines
    assert lines.index("## Categories") < lines.index("## Collections") < lines.index("## Pages")
    assert "- [Bags](https://example.org/shop/category/bags/): Collections such as how to style bags " \
           "(4 images, 1 collection)" in lines
    assert "- [How to style bags](https://example.org/shop/topic/how-to-style-bags/): Six images of shoes and bags " \
           "from the catalog, photographed in the studio." in lines
    assert any(line.startswith("- [Red and black looks](https://example.org/shop/topic/red-and-black-looks/): ")
               for line in lines)
    assert any(line.startswith("- [About us](https://example.org/shop/about/): Who makes") for line in lines)
    (tmp_path / "again").mkdir()
    write_llms_txt(plan, site, by_path, cfg, tmp_path / "again")
    assert (tmp_path / "again" / "llms.txt").read_text() == text


def test_llms_txt_escapes_link_text(tmp_path):
    site, cfg = make_site(tmp_path, hostile=True)
    from sitegen.distribute.plan import plan_site
    plan = plan_site(site)
    write_llms_txt(plan, site, {}, cfg, tmp_path)
    for line in (tmp_path / "llms.txt").read_text().splitlines():
        assert "\n" not in line


def test_llms_txt_escapes_markdown_and_links_only_to_the_site(tmp_path):
    import re

    from sitegen.distribute.plan import plan_site

    site, cfg = make_site(tmp_path)
    evil = "[click](javascript:alert(1)) `code` <b>x</b> http://evil.example"
    hubs = [replace(h, name=evil) if h.name == "Dresses" else h for h in site.hubs]  # a hub no collection names
    colls = [replace(c, summary=f"See [here](https://evil.example/) {evil}.") for c in site.collections]
    site = replace(site, hubs=hubs, collections=colls)
    write_llms_txt(plan_site(site), site, {}, cfg, tmp_path)
    text = (tmp_path / "llms.txt").read_text()
    assert "](javascript" not in text and "](https://evil" not in text and "<b>" not in text
    assert r"- [\[click\]\(javascript:alert\(1\)\) \`code\` \<b\>x\</b\> http\://evil.example]" in text
    targets = re.findall(r"(?<!\\)\]\((.*?)\)", text)  # every Markdown link target that is not escaped
    assert targets and all(t.startswith("https://example.org/shop/") for t in targets)


@pytest.mark.parametrize("base", ["https://x.org/\nDisallow: /", "https://x.org/ a", "javascript:alert(1)//"])
def test_feeds_refuse_a_base_url_that_would_inject_lines(built, tmp_path, base):
    from sitegen.core.errors import BuildError

    root, site, cfg, plan, records = built
    bad = replace(cfg, site=replace(cfg.site, base_url=base))
    with pytest.raises(BuildError, match="site.base_url: must be a plain absolute http"):
        write_robots(bad, tmp_path)
    with pytest.raises(BuildError, match="site.base_url"):
        write_sitemaps(records, bad, tmp_path)
    assert not (tmp_path / "robots.txt").exists()
