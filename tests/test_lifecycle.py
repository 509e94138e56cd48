"""The page lifecycle: the decisions (sitegen.demand.lifecycle), the redirect formats (sitegen.publish.redirects),
and a real site losing, redirecting and getting back a collection page (build -> remove items -> build)."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest

from sitegen.core import urls
from sitegen.core.config import Config, LifecycleSection, load_config
from sitegen.core.models import Alias, Collection, LivePage, Reward, RetiredPage, RewardTable
from sitegen.demand.lifecycle import decide
from sitegen.publish import redirects

from .conftest import EPOCH, ROOT
from .sitetools import all_pages, internal, parse_page, sitemap_urls
from .test_collect import embed


def coll(topic: str, items=("a", "b", "c", "d", "e", "f"), aliases=()) -> Collection:
    return Collection(slug=urls.slugify(topic), topic=topic, category="description", hub="Shoes",
                      item_ids=tuple(items), aliases=tuple(aliases))


def live(topic: str, items=("a", "b", "c", "d", "e", "f"), below: int = 0) -> LivePage:
    return LivePage(urls.collection_url(urls.slugify(topic)), topic, tuple(items), below, 1)


def path(topic: str) -> str:
    return urls.collection_url(urls.slugify(topic))


CFG = LifecycleSection(reward_floor=0.5, floor_builds=2, min_impressions=100)


def run(previous, current, retired=(), **kw):
    return decide({p.path: p for p in previous}, {r.path: r for r in retired}, current, embed,
                  kw.pop("cfg", CFG), run_id=kw.pop("run_id", 2), now="2026-01-02T00:00:00Z", **kw)


def by_path(records):
    return {r.path: r for r in records}


def test_a_page_that_lost_support_redirects_to_the_closest_live_topic_or_is_gone():
    previous = [live("black formal shoes"), live("red kurtas"), live("brown casual shoes")]
    current = [coll("formal shoes"), coll("brown casual shoes")]
    d = run(previous, current, dropped={"black formal shoes": ("thin", "3 item(s) score >= 0.5 (need 6)")})
    retired = by_path(d.retired)
    assert retired[path("black formal shoes")].status == 301
    assert retired[path("black formal shoes")].target == path("formal shoes")
    assert retired[path("black formal shoes")].reason == "lost_support"
    assert "3 item(s)" in retired[path("black formal shoes")].detail
    assert retired[path("red kurtas")].status == 410 and retired[path("red kurtas")].target == ""
    assert "no item proposes" in retired[path("red kurtas")].detail
    assert [c.topic for c in d.collections] == ["formal shoes", "brown casual shoes"] and not d.removed
    events = {(e.event, e.path) for e in d.events}
    assert ("created", path("formal shoes")) in events and ("retired", path("red kurtas")) in events
    assert {p.path for p in d.live} == {path("formal shoes"), path("brown casual shoes")}
    assert d.key() and d.counts()["lifecycle_retired"] == 2


def test_nothing_retired_nothing_to_write():
    previous = [live("black formal shoes")]
    d = run(previous, [coll("black formal shoes", items=("a", "b", "c", "d", "e", "g"))])
    assert d.retired == [] and d.key() == ""
    assert [(e.event, e.detail) for e in d.events] == [("refreshed", "1 added, 1 removed, 6 shown")]


def test_a_new_page_remembers_the_newest_signal_day_and_a_live_one_keeps_its_own():
    previous = [LivePage(path("black formal shoes"), "black formal shoes", ("a",), 0, 1, "2026-05-03")]
    d = run(previous, [coll("black formal shoes"), coll("red kurtas")], through="2026-05-31")
    assert {p.path: p.through for p in d.live} == {path("black formal shoes"): "2026-05-03",
                                                   path("red kurtas"): "2026-05-31"}


def test_a_page_merged_into_another_redirects_to_its_line_there():
    alias = Alias("black shoes", "black-shoes", "black-shoes", "description", "duplicate", 0.8)
    d = run([live("black shoes")], [coll("black formal shoes", aliases=[alias])])
    r = by_path(d.retired)[path("black shoes")]
    assert (r.status, r.reason, r.target) == (301, "merged", "/topic/black-formal-shoes/#black-shoes")
    d = run([live("black shoes"), live("blue shirts")], [coll("black formal shoes"), coll("blue casual shirts")],
            dropped={"blue shirts": ("merged_into:black formal shoes", "topic cosine 0.95")})
    assert by_path(d.retired)[path("blue shirts")].target == path("black formal shoes")  # not the closest: merged


def test_a_topic_published_at_another_url_redirects_there():
    d = run([LivePage("/topic/blue-shirts-2/", "blue shirts")], [coll("blue shirts")])
    r = by_path(d.retired)["/topic/blue-shirts-2/"]
    assert (r.status, r.reason, r.target) == (301, "merged", path("blue shirts"))


def test_budget_reason():
    d = run([live("blue shirts")], [coll("blue casual shirts")],
            dropped={"blue shirts": ("max_collections", "collect.max_collections = 1")})
    assert by_path(d.retired)[path("blue shirts")].reason == "budget"


def rewards(**pages) -> RewardTable:
    return RewardTable(pages={path(t.replace("_", " ")): Reward(path(t.replace("_", " ")), r, n, r * n)
                              for t, (r, n) in pages.items()}, average=0.1)


def test_reward_below_the_floor_for_n_builds_in_a_row_retires_and_takes_the_page_out():
    current = [coll("blue shirts"), coll("brown casual shoes"), coll("black formal shoes"), coll("red kurtas")]
    previous = [live("blue shirts", below=1), live("brown casual shoes", below=0), live("black formal shoes", below=1),
                live("red kurtas", below=1)]
    table = rewards(blue_shirts=(0.02, 500), brown_casual_shoes=(0.02, 500), black_formal_shoes=(0.2, 500),
                    red_kurtas=(0.01, 50))
    d = run(previous, current, rewards=table)
    below = {p.path: p.below for p in d.live}
    assert path("blue shirts") not in below and d.removed == {"blue-shirts"}  # second build below 0.5 x 0.1
    assert [c.topic for c in d.collections] == ["brown casual shoes", "black formal shoes", "red kurtas"]
    r = by_path(d.retired)[path("blue shirts")]
    assert r.reason == "reward" and r.status == 410 and "2 builds in a row" in r.detail  # no close topic left
    assert below[path("brown casual shoes")] == 1  # the first build below the floor
    assert below[path("black formal shoes")] == 0  # at or above the floor: the count starts again
    assert below[path("red kurtas")] == 1  # too few impressions: the count stays as it was
    # the floor is off by default
    d = run(previous, current, rewards=table, cfg=LifecycleSection())
    assert not d.retired and not d.removed


def test_a_page_retired_for_its_reward_or_trend_stays_out_until_a_trend_proposes_it():
    gone = RetiredPage(path("blue shirts"), "blue shirts", 301, path("black formal shoes"), "reward", "low", "t", 1)
    current = [coll("blue shirts"), coll("black formal shoes")]
    d = run([live("black formal shoes")], current, retired=[gone])
    assert d.removed == {"blue-shirts"} and by_path(d.retired)[gone.path] == gone
    assert not [e for e in d.events if e.path == gone.path]
    d = run([live("black formal shoes")], current, retired=[gone], proposed=["Blue shirts"])
    assert not d.retired and not d.removed
    created = [e for e in d.events if e.event == "created"]
    assert [(e.path, e.reason.split(":")[0]) for e in created] == [(gone.path, "returned")]


def test_an_expired_trend_retires_its_page():
    d = run([live("blue shirts"), live("black formal shoes")], [coll("blue shirts"), coll("black formal shoes")],
            expired={"blue shirts"})
    r = by_path(d.retired)[path("blue shirts")]
    assert r.reason == "trend" and d.removed == {"blue-shirts"}
    # a topic whose trend expired gets no page, even one never published
    d = run([], [coll("blue shirts")], expired={"blue shirts"})
    assert d.collections == [] and d.retired == [] and d.events == []


def test_redirects_are_reaimed_never_chained_and_a_returning_topic_gets_its_url_back():
    old = RetiredPage(path("black shoes"), "black shoes", 301, path("black formal shoes"), "lost_support", "", "t", 1)
    gone = RetiredPage(path("formal kurtas"), "formal kurtas", 410, "", "lost_support", "", "t", 1)
    previous = [live("black formal shoes")]
    d = run(previous, [coll("formal shoes")], retired=[old, gone],
            dropped={"black formal shoes": ("thin", "2 items")})
    retired = by_path(d.retired)
    assert retired[old.path].target == path("formal shoes")  # its target went: aimed at the live page, no chain
    assert retired[path("black formal shoes")].target == path("formal shoes")
    assert retired[gone.path].status == 301 and retired[gone.path].target == path("formal shoes")  # close now
    assert {e.path for e in d.events if e.event == "reaimed"} == {old.path, gone.path}
    # the retired topic has a page again: its URL is back, the redirect gone
    d = run([live("formal shoes")], [coll("formal shoes"), coll("black shoes")], retired=[old])
    assert d.retired == [] and {p.path for p in d.live} == {path("formal shoes"), old.path}


RETIRED = [RetiredPage("/topic/a/", "a", 301, "/topic/b/#x", "merged"),
           RetiredPage("/topic/c/", "c", 410, "", "lost_support")]


def test_redirect_formats():
    net = redirects.netlify(RETIRED).splitlines()
    assert "/topic/a/ /topic/b/#x 301!" in net and "/topic/a /topic/b/#x 301!" in net
    assert "/topic/c/ /topic/c/index.html 410!" in net and "/topic/c /topic/c/index.html 410!" in net
    cf = [line for line in redirects.cloudflare(RETIRED).splitlines() if not line.startswith("#")]
    assert cf == ["/topic/a/ /topic/b/#x 301", "/topic/a /topic/b/#x 301"]  # no 410 rule, no forcing on Pages
    ng = [line for line in redirects.nginx(RETIRED).splitlines() if not line.startswith("#")]
    assert ng == ['"/topic/a/" "/topic/b/#x";', '"/topic/a" "/topic/b/#x";', '"/topic/c/" "410";', '"/topic/c" "410";']


def test_write_redirects_as_configured(tmp_path):
    cfg = Config(root=tmp_path)
    assert redirects.write_redirects([], cfg, tmp_path, {}) == []
    written = redirects.write_redirects(RETIRED, cfg, tmp_path, {"/topic/b/": "bee topic"})
    assert written == ["_redirects", "nginx-redirects.map", "topic/a/index.html", "topic/c/index.html"]
    moved = parse_page(tmp_path / "topic/a/index.html")
    assert moved.meta["robots"] == "noindex" and moved.meta["sitegen:status"] == "301"
    assert moved.canonical == ["https://example.org/topic/b/"] and "/topic/b/#x" in moved.links
    assert 'http-equiv="refresh" content="0; url=/topic/b/#x"' in (tmp_path / "topic/a/index.html").read_text()
    gone = parse_page(tmp_path / "topic/c/index.html")
    assert gone.meta["sitegen:status"] == "410" and gone.links == ["/"] and not gone.canonical
    cfg.lifecycle.redirects = ["netlify"]  # no html stubs, but Netlify serves the gone page with its 410
    out = tmp_path / "n"
    out.mkdir()
    assert redirects.write_redirects(RETIRED, cfg, out, {}) == ["_redirects", "topic/c/index.html"]
    cfg.lifecycle.redirects = ["cloudflare", "nginx"]
    out = tmp_path / "c"
    out.mkdir()
    assert redirects.write_redirects(RETIRED, cfg, out, {}) == ["_redirects", "nginx-redirects.map"]


def test_redirect_formats_are_checked(tmp_path):
    from sitegen.core.errors import ConfigError

    (tmp_path / "site.toml").write_text('[lifecycle]\nredirects = ["netlify", "cloudflare", "apache"]\n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "site.toml")
    message = str(err.value)
    assert "lifecycle.redirects[2]: unknown format 'apache'" in message and "choose one" in message


# -- a real site: build, remove items so a collection falls below tau, build again -------------------------------

def write_site(dest: Path, drop: set[str] = frozenset()) -> list[dict]:
    with open(ROOT / "content" / "catalog.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["category"] == "Animals" and r["id"] not in drop]
    (dest / "content").mkdir(parents=True, exist_ok=True)
    if not (dest / "content" / "images").exists():
        shutil.copytree(ROOT / "content" / "images" / "animals", dest / "content" / "images" / "animals")
    with open(dest / "content" / "catalog.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    shutil.copy(ROOT / "site.toml", dest / "site.toml")
    return rows


def build(site: Path, day: int, **kw):
    from sitegen.pipeline.build import build_site

    os.environ["SOURCE_DATE_EPOCH"] = str(int(EPOCH) + 86400 * day)
    try:
        return build_site(load_config(site / "site.toml"), **kw)
    finally:
        os.environ["SOURCE_DATE_EPOCH"] = EPOCH


DOG = "/topic/dog-clipart/"


@pytest.fixture(scope="module")
def retired_site(tmp_path_factory):
    """The Animals hub of the example site, built; then four of its seven dogs removed (the dog collection falls
    below tau = collect.min_items) and built again. (site, first result, second result, dog ids removed)."""
    site = tmp_path_factory.mktemp("lifecycle")
    rows = write_site(site)
    first = build(site, 0)
    dogs = [r["id"] for r in rows if "dog" in r["keywords"].split(";")]
    assert DOG in {urls.collection_url(c.slug) for c in first.site.collections} and len(dogs) == 7
    write_site(site, drop=set(dogs[:4]))
    second = build(site, 1)
    return site, first, second, dogs[:4]


def test_a_collection_below_tau_is_retired_with_a_redirect_in_every_format(retired_site):
    site, first, second, _ = retired_site
    out = site / "build"
    with_dog = second.summary.counters
    assert with_dog["lifecycle_retired"] >= 1
    from sitegen.store.db import Store

    with Store(site / ".sitegen" / "site.duckdb") as store:
        r = store.lifecycle.retired()[DOG]
        events = {e.path: e for e in store.lifecycle.events(second.run_id)}
    # the three dogs left propose no "dog clipart" any more (or too few of them score >= the threshold)
    assert r.reason == "lost_support" and events[DOG].event == "retired"
    assert "need 6" in r.detail or "(3 of the 7 items it showed are left)" in r.detail
    live = {urls.collection_url(c.slug) for c in second.site.collections}
    assert DOG not in live
    if r.status == 301:
        assert urls.page_path(r.target) in live
        assert f"{DOG} {r.target} 301!" in (out / "_redirects").read_text().splitlines()
        assert f'"{DOG}" "{r.target}";' in (out / "nginx-redirects.map").read_text().splitlines()
        stub = parse_page(out / "topic/dog-clipart/index.html")
        assert stub.meta["robots"] == "noindex" and stub.canonical == [urls.absolute(
            "https://clipart.example.org/", urls.page_path(r.target))]
    else:
        assert f"{DOG} /topic/dog-clipart/index.html 410!" in (out / "_redirects").read_text().splitlines()
        assert f'"{DOG}" "410";' in (out / "nginx-redirects.map").read_text().splitlines()
    assert parse_page(out / "topic/dog-clipart/index.html").meta["sitegen:status"] == str(r.status)
    # the URL leaves the sitemaps; no page of the site links to it
    assert not [u for u in sitemap_urls(out) if u.endswith(DOG)]
    for p, f in all_pages(out).items():
        if p != DOG:
            assert DOG not in {internal(h) for h in parse_page(f).links}, p
    # removed pages are reported as removed and as retired, with the reason
    assert DOG in second.summary.pages_removed
    report = (site / ".sitegen" / "report" / "index.html").read_text(encoding="utf-8")
    assert 'id="demand"' in report and "dog clipart" in report and "lost support" in report


def test_sitegen_check_finds_no_broken_link_orphan_or_link_to_the_retired_page(retired_site):
    import json

    from click.testing import CliRunner

    from sitegen.audit.check import audit
    from sitegen.cli.main import main

    site, _, second, _ = retired_site
    cfg = load_config(site / "site.toml")
    result = CliRunner().invoke(main, ["check", "-c", str(site / "site.toml"), "--format", "json", "--strict"],
                                env={"SOURCE_DATE_EPOCH": str(int(EPOCH) + 86400)})
    assert result.exit_code == 0, result.output
    findings = json.loads(result.output)["findings"]
    assert json.loads(result.output)["counts"]["error"] == 0 and not [f for f in second.findings
                                                                     if f.severity == "error"]
    assert not [f for f in findings if f["code"] in ("broken_link", "orphan_page", "link_to_retired",
                                                     "canonical_other", "redirect_broken", "not_in_sitemap")]
    # a page that still linked the retired URL would be reported
    copy = site / "audit-copy"
    shutil.copytree(site / "build", copy)
    home = copy / "index.html"
    home.write_text(home.read_text(encoding="utf-8").replace("</main>", f'<a href="{DOG}">dogs</a></main>', 1),
                    encoding="utf-8")
    codes = {(f.code, f.page) for f in audit(copy, cfg, now="2026-01-03T00:00:00Z")}
    assert ("link_to_retired", "/") in codes


def redirected(out: Path) -> set[str]:
    """The source paths of the _redirects rules."""
    f = out / "_redirects"
    lines = f.read_text().splitlines() if f.exists() else []
    return {line.split()[0] for line in lines if line and not line.startswith("#")}


def test_the_topic_returning_revives_its_url_and_a_retired_url_never_goes_to_another_topic(retired_site):
    from sitegen.store.db import Store

    site, first, second, dogs = retired_site
    out, db = site / "build", site / ".sitegen" / "site.duckdb"
    # the dogs are back: the dog topic gets its URL back, the redirect and the stub go
    write_site(site)
    third = build(site, 2, check=False)
    assert {c.topic: c.slug for c in third.site.collections}["dog clipart"] == "dog-clipart"
    assert DOG not in redirected(out) and not parse_page(out / "topic/dog-clipart/index.html").meta.get("sitegen:status")
    assert "https://clipart.example.org" + DOG in sitemap_urls(out)
    with Store(db) as store:
        assert DOG not in store.lifecycle.retired()
        assert [(e.event, e.reason.split(":")[0]) for e in store.lifecycle.events(third.run_id)
                if e.path == DOG] == [("created", "returned")]
    # retired again; then suppose the URL had been published for another topic: the dog topic, back once more,
    # gets a new URL, and the retired one stays retired
    write_site(site, drop=set(dogs))
    fourth = build(site, 3, check=False)
    with Store(db) as store:
        retired = store.lifecycle.retired()
        was = retired[DOG]
        retired[DOG] = RetiredPage(DOG, "dog's clip art", was.status, was.target, was.reason, was.detail,
                                   was.retired_at, was.run_id)
        store.lifecycle.record(fourth.run_id, store.lifecycle.live().values(), retired.values(),
                               store.lifecycle.events(fourth.run_id))
    write_site(site)
    fifth = build(site, 4, check=False)
    slugs = {c.topic: c.slug for c in fifth.site.collections}
    assert slugs["dog clipart"] == "dog-clipart-2" and "dog-clipart" not in slugs.values()
    assert DOG in redirected(out) and parse_page(out / "topic/dog-clipart/index.html").meta["sitegen:status"]
    assert "https://clipart.example.org" + DOG not in sitemap_urls(out)
