from dataclasses import replace

from sitegen.pipeline import cache as geocache
from sitegen.pipeline.geo import geo_key
from sitegen.core.config import load_config
from sitegen.core.models import Alias, Collection, Hub, Item, Site
from sitegen.store.db import Store


def site() -> Site:
    items = [Item(id=f"i{n}", title=f"Red Apple {n}", image="/x.png", image_sha="s", width=1, height=1,
                  category="Food", slug=f"red-apple-{n}") for n in range(3)]
    return Site(items=items, hubs=[Hub("food", "Food", tuple(i.id for i in items))], pages=[])


def test_round_trip_and_invalidation(tmp_path):
    (tmp_path / "site.toml").write_text("")
    cfg = load_config(tmp_path / "site.toml")
    s = site()
    key = geo_key(cfg, s)
    assert key == geo_key(cfg, site())
    assert key != geo_key(cfg, replace(s, items=[replace(s.items[0], title="Green Apple")] + s.items[1:]))
    cfg.collect.min_items = 7
    assert key != geo_key(cfg, s)

    aliases = (Alias("apples for kids", "apples-for-kids", "apples-for-kids", "use_case", "same_as_base", 0.8,
                     ("i1",)),)
    built = replace(s, collections=[Collection("red-apple", "red apple", "description", "Food", ("i0", "i1"),
                                               (0.9, 0.8), ("x",), "2 images.", aliases, "Fruit")],
                    hubs=[replace(s.hubs[0], collection_slugs=("red-apple",))],
                    annotations={"i0": ("red-apple",)}, featured=("red-apple",), pagerank={"/": 0.5})
    with Store(tmp_path / "site.duckdb") as store:
        assert geocache.load(store, key, s) is None
        geocache.save(store, key, built, {"links_added": {"related": 1}}, {"collections": 1})
        got, report, counters = geocache.load(store, key, s)
        assert got.collections == built.collections and got.hubs == built.hubs
        assert got.collections[0].aliases == aliases and got.collections[0].filed_from == "Fruit"
        assert got.annotations == built.annotations and got.featured == built.featured
        assert report == {"links_added": {"related": 1}} and counters == {"collections": 1}
        geocache.save(store, "other", built, {}, {})
        assert geocache.load(store, key, s) is None  # only the newest result is kept
