"""The build gathers its own demand: ``signals.paths`` imported, rewards and console topics handed to the GEO
stages, the summary naming them; the same export imported again changes nothing."""

from __future__ import annotations


from sitegen.core.config import load_config
from sitegen.pipeline.build import build_site
from sitegen.store.db import Store


def test_a_build_imports_its_signals_and_feeds_rewards_and_console_topics(example_site_copy):
    site = example_site_copy()
    cfg = load_config(site / "site.toml")
    with Store(cfg.store_path) as store:
        collections = sorted(p for p, r in store.pages.published().items() if r.kind == "collection")
    assert len(collections) >= 2
    base = cfg.site.base_url.rstrip("/")
    good, poor = collections[0], collections[1]
    export = site / "gsc.csv"
    export.write_text("date,query,page,clicks,impressions,ctr,position\n"
                      f"2026-05-01,cats,{base}{good},40,100,0.4,1.2\n"
                      f"2026-05-01,cute cat clipart,{base}{good},30,90,0.33,1.5\n"
                      f"2026-05-01,something else,{base}{poor},0,400,0,7.0\n"
                      f"2026-05-01,cats,{base}/no/such/page/,3,10,0.3,4.0\n", encoding="utf-8")
    cfg = load_config(site / "site.toml", {"signals.paths": ["gsc.csv"]})
    result = build_site(cfg, check=False)
    c = result.summary.counters
    assert (c["signals_rows"], c["signals_used"]) == (4, 3)  # the unknown page's row is rejected
    assert c["reward_pages"] == 2 and c["reward_queries"] >= 2
    with Store(cfg.store_path) as store:
        from sitegen.demand.reward import reward_table

        rewards = reward_table(store, cfg)
    assert rewards.page(good) > rewards.average > rewards.page(poor)
    assert c["console_topics"] >= 1
    topics = {col.topic for col in result.site.collections} | {a.topic for col in result.site.collections
                                                                for a in col.aliases}
    assert "cats" in topics  # a query searchers used is a topic of the next build

    again = build_site(cfg, check=False).summary.counters
    assert again["signals_used"] == 0 and again["reward_pages"] == 2  # the same file imported again adds nothing
