"""Collection copy on built pages: every number on a collection page (lead, facts, guide, related reasons) is the
count the test makes itself from the items, and every meta description is whole, short and unique."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sitegen.core import urls
from sitegen.core.models import Collection

from .test_render import build, make_site

NUMBER = re.compile(r"\d[\d,]*")


class CopyPage(HTMLParser):
    """The copy of a collection page: lead, facts (role -> [(value, n)], more, low/high), guide, related
    reasons, card links and the meta description."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.lead = self.guide = self.description = self.eyebrow = ""
        self.facts: dict[str, dict] = {}
        self.related: list[tuple[str, str]] = []
        self.cards: list[str] = []
        self._fact = self._value = None
        self._grab: str | None = None
        self._buf = ""
        self._in_card = False
        self._related_href = ""
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class", "")
        if tag == "meta" and a.get("name") == "description":
            self.description = a.get("content", "")
        if tag == "li" and "card" in cls.split():
            self._in_card = True
        if tag == "a" and self._in_card:
            self.cards.append(a["href"])
            self._in_card = False
        if tag == "div" and "data-fact" in a:
            self._fact = {"counts": [], "more": None, "times": []}
            self.facts[a["data-fact"]] = self._fact
        if self._fact is not None:
            if tag == "span" and cls == "fact-value":
                self._value = a["data-value"]
            elif tag == "span" and cls in ("fact-n", "fact-more"):
                self._start(cls)
            elif tag == "time":
                self._fact["times"].append(a["datetime"])
        if tag == "p" and cls in ("lead", "guide", "eyebrow") and not getattr(self, cls):
            self._start(cls)
        if tag == "a" and self._grab is None and "/topic/" in a.get("href", "") and not self._in_card:
            self._related_href = a["href"]
        if tag == "span" and cls == "why":
            self._start("why")

    def _start(self, what):
        self._grab, self._buf = what, ""

    def handle_endtag(self, tag):
        if self._grab is None:
            if tag == "div":
                self._fact = None
            return
        what, text = self._grab, " ".join(self._buf.split())
        if what in ("fact-n", "fact-more") and tag == "span":
            if what == "fact-n":
                self._fact["counts"].append((self._value, int(text.replace(",", ""))))
            else:
                self._fact["more"] = int(text.split()[0])
        elif what == "why" and tag == "span":
            self.related.append((self._related_href, text))
        elif what in ("lead", "guide", "eyebrow") and tag == "p":
            setattr(self, what, text)
        else:
            return
        self._grab = None

    def handle_data(self, data):
        if self._grab is not None:
            self._buf += data


def read(root: Path, path: str) -> CopyPage:
    return CopyPage((root / urls.output_file(path)).read_text(encoding="utf-8"))


def check_counts(shown: dict, expected: Counter, label: str) -> None:
    """The listed values with their counts are the most common ones, exactly counted; the rest is ``more``."""
    counts = shown["counts"]
    assert counts, label
    for value, n in counts:
        assert expected[value] == n, (label, value, n, expected)
    assert sorted((n for _, n in counts), reverse=True) == [n for _, n in counts], label
    assert min(n for _, n in counts) >= max([c for v, c in expected.items() if v not in dict(counts)] or [0]), label
    assert len(counts) + (shown["more"] or 0) == len(expected), (label, counts, shown["more"], expected)


def check_lead(lead: str, topic: str, members: list, categories: Counter, audiences: Counter) -> None:
    """Every number of the lead: the image count, a count per category (the rest "in other categories") and a
    count per audience."""
    numbers = [int(n.replace(",", "")) for n in NUMBER.findall(lead)]
    head = f"{len(members):,} image{'s' if len(members) != 1 else ''} for \u201c{topic}\u201d"
    assert lead.startswith(head), (lead, head)
    checked = [len(members)]
    body = lead[len(head):]
    if body.startswith(", all in "):
        (cat,) = categories
        assert body.startswith(f", all in {cat}") and categories[cat] == len(members)
    elif categories:
        listed = 0
        for cat, n in categories.items():
            m = re.search(rf"(?:: |, | and )(\d+) {re.escape(cat)}(?=,| and |\.)", body)
            if m:
                assert int(m.group(1)) == n, (lead, cat, n)
                checked.append(n)
                listed += n
        rest = re.search(r"(\d+) in other categories|(1) in another category", body)
        if rest:
            assert int(rest.group(1) or rest.group(2)) == len(members) - listed, lead
            checked.append(len(members) - listed)
    for value, n in audiences.items():
        m = re.search(rf"{re.escape(value)} \((\d+)\)", body)
        if m:
            assert int(m.group(1)) == n, (lead, value)
            checked.append(n)
    assert sorted(numbers) == sorted(checked), f"a number of the lead is not accounted for: {lead}"


# -- a site built from code, with audience, usage and size columns ---------------------------------------
USAGE = ("Formal", "Casual", "Formal", "Sports")
GENDER = ("Men", "Women", "Men")
SIZES = ("S, M", "M", "L", "M, L, XL")


@pytest.fixture(scope="module")
def wardrobe(tmp_path_factory):
    root = tmp_path_factory.mktemp("wardrobe")
    site, cfg = make_site(root, n_items=24, pages=False)
    site.items = [replace(i, attributes=i.attributes + (("gender", GENDER[n % 3]), ("usage", USAGE[n % 4]),
                                                         ("size", SIZES[n % 4])))
                  for n, i in enumerate(site.items)]
    work = tuple(i.id for i in site.items if i.category in ("Shoes", "Dresses"))[:10]
    site.collections.append(Collection("shoes-and-dresses-for-work", "shoes and dresses for work", "use_case",
                                       "Shoes", work, related=("red-and-black-looks", "how-to-style-bags")))
    for i in work:
        site.annotations[i] = site.annotations.get(i, ()) + ("shoes-and-dresses-for-work",)
    _, _, plan, records = build(root, site_cfg=(site, cfg))
    return root / "out", site, plan, records


def test_every_number_on_a_collection_page_is_the_catalogs(wardrobe):
    out, site, plan, _ = wardrobe
    by_path = {urls.item_url(i.slug): i for i in site.items}
    for slug, coll in plan.collections.items():
        page = read(out, urls.collection_url(slug))
        members = [by_path[href] for href in page.cards]
        assert sorted(m.id for m in members) == sorted(coll.item_ids)
        assert page.eyebrow.endswith(f"{len(members)} images")
        categories = Counter(m.category for m in members)
        colours = Counter(m.attr("colour").lower() for m in members)
        audiences = Counter(m.attr("gender") for m in members)
        usages = Counter(m.attr("usage") for m in members)
        sizes = Counter(s.strip() for m in members for s in m.attr("size").split(","))
        dates = sorted(m.date for m in members)
        if page.lead:
            check_lead(page.lead, coll.topic, members, categories, audiences)
        assert set(page.facts) == {"category", "colour", "audience", "usage", "size", "date"}
        for role, expected in (("category", categories), ("colour", colours), ("audience", audiences),
                               ("usage", usages), ("size", sizes)):
            check_counts(page.facts[role], expected, f"{slug} {role}")
        assert page.facts["date"]["times"] in ([dates[0], dates[-1]], [dates[0]] if dates[0] == dates[-1] else [])
        for href, reason in page.related:  # "N images in common"
            target = href.split("#")[0].rstrip("/").rsplit("/", 1)[-1]
            other = plan.collections[target] if target in plan.collections else None
            m = re.match(r"(\d+) images? in common", reason)
            if m and other:
                assert int(m.group(1)) == len(set(other.item_ids) & set(coll.item_ids)), (slug, href, reason)
            else:
                assert not NUMBER.search(reason), reason
    # the use-case guide: kinds of the members whose usage the purpose implies ("work" -> formal)
    page = read(out, "/topic/shoes-and-dresses-for-work/")
    members = [by_path[href] for href in page.cards]
    formal = [m for m in members if m.attr("usage") == "Formal"]
    assert page.guide.startswith("For work (usage Formal): ")
    parts = [(k, c1 or c2, n1 or n2, bool(c1)) for k, c1, n1, n2, c2 in re.findall(
        r"(Shoes|Dresses) (?:in ([a-z ]+?) \((\d+)\)|\((\d+)\), most often ([a-z ]+?)(?=; |[,;]? (?:and )?(?:Shoes|Dresses)|\.))",
        page.guide)]
    assert parts and sum(int(n) for _, _, n, _ in parts) == len(formal)
    for kind, colours, n, every in parts:
        of_kind = [m for m in formal if m.category == kind]
        assert int(n) == len(of_kind)
        named = set(re.split(r", | and ", colours))
        assert named <= {m.attr("colour") for m in of_kind}
        assert every == all(m.attr("colour") in named for m in of_kind)
    assert len(NUMBER.findall(page.guide)) == len(parts)


def test_json_ld_matches_the_copy(wardrobe):
    import json

    out, site, plan, records = wardrobe
    for slug, coll in plan.collections.items():
        text = (out / urls.output_file(urls.collection_url(slug))).read_text()
        graph = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', text, re.S).group(1))
        (web_page,) = [n for n in graph["@graph"] if n["@type"] == "CollectionPage"]
        page = read(out, urls.collection_url(slug))
        assert web_page["description"] == unescape(page.description)
        (item_list,) = [n for n in graph["@graph"] if n["@type"] == "ItemList"]
        assert item_list["numberOfItems"] == len(page.cards) == len(coll.item_ids)


# -- the example site ------------------------------------------------------------------------------------
def descriptions(build_dir: Path) -> dict[str, str]:
    out = {}
    for f in sorted(build_dir.rglob("index.html")):
        text = f.read_text(encoding="utf-8")
        if 'name="robots" content="noindex' in text:
            continue
        m = re.search(r'<meta name="description" content="([^"]*)"', text)
        out[str(f.relative_to(build_dir))] = unescape(m.group(1)) if m else ""
    return out


def test_example_meta_descriptions_are_whole_short_and_unique(example_build):
    site, _ = example_build
    descs = descriptions(site / "build")
    assert len(descs) > 500
    too_long = [d for d in descs.values() if len(d) > 155]
    cut = [d for d in descs.values() if "\u2026" in d or "..." in d or not d.endswith((".", "!", "?"))]
    assert not too_long and not cut, (too_long[:3], cut[:3])
    groups = Counter(d.casefold() for d in descs.values())
    assert not [d for d, n in groups.items() if n > 1]
    assert all(len(d) >= 40 for d in descs.values())


class ItemFacts(HTMLParser):
    """An item page's facts block: dt -> dd text."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.facts: dict[str, str] = {}
        self._dt = self._key = None
        self._in = ""
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag in ("dt", "dd"):
            self._in, self._buf = tag, ""

    def handle_endtag(self, tag):
        if tag == "dt" and self._in == "dt":
            self._key, self._in = self._buf.strip(), ""
        elif tag == "dd" and self._in == "dd":
            self.facts[self._key] = " ".join(self._buf.split())
            self._in = ""

    def handle_data(self, data):
        if self._in:
            self._buf += data


def test_example_collection_numbers_match_the_item_pages(example_build):
    """On the example site the categories, colours and dates of a collection page are counted here from its
    items' own pages."""
    site, _ = example_build
    out = site / "build"
    pages = sorted((out / "topic").glob("*/index.html"))
    assert len(pages) > 50
    for f in pages:
        path = "/" + str(f.parent.relative_to(out)) + "/"
        page = read(out, path)
        items = [ItemFacts((out / urls.output_file(href)).read_text(encoding="utf-8")).facts for href in page.cards]
        categories = Counter(i["Category"] for i in items if "Category" in i)
        colours = Counter(c.strip().lower() for i in items for k in ("Colour", "Colours") if k in i
                          for c in i[k].split(","))
        dates = sorted(i["Date"] for i in items if "Date" in i)
        check_counts(page.facts["category"], categories, f"{path} category")
        check_counts(page.facts["colour"], colours, f"{path} colour")
        assert page.facts["date"]["times"] in ([dates[0], dates[-1]], [dates[0]])
        topic = re.search(r"for \u201c(.+)\u201d", page.lead).group(1)
        check_lead(page.lead, topic, items, categories, Counter())
