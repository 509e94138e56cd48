"""A tiny fashion catalog and trends built in code for the trend agent's tests. The trends are ``Trend`` objects
with the lifecycle stage each one is given (``STAGES``): the agent's ``fetch`` and ``stager`` are injected, so
these tests exercise the agent's own decisions whatever the trend reader and the series stager do."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sitegen.core.config import load_config
from sitegen.core.models import Item, Trend, TrendStage
from sitegen.core.text import item_text, topic_key

KINDS = {"Sunglasses": ["Aviator Sunglasses", "Round Sunglasses", "Wayfarer Sunglasses", "Sports Sunglasses"],
         "Swimwear": ["Swimsuit", "Bikini Set", "Swim Shorts", "One Piece Swimsuit"],
         "Jackets": ["Rain Jacket", "Denim Jacket", "Puffer Jacket", "Leather Jacket"],
         "Caps": ["Baseball Cap", "Sun Hat", "Bucket Hat", "Visor Cap"]}
COLOURS = ("Black", "Brown", "Blue")
GENDERS = ("Men", "Women")


def fashion_items() -> list[Item]:
    """96 items: 4 categories x 4 kinds x 3 colours x 2 genders."""
    out, n = [], 0
    for category, kinds in KINDS.items():
        for kind in kinds:
            for colour in COLOURS:
                for gender in GENDERS:
                    n += 1
                    out.append(Item(id=f"i{n}", title=f"{gender} {colour} {kind}", image=f"/none/{n}.jpg",
                                    image_sha=f"sha{n}", width=60, height=80, category=category,
                                    attributes=(("base_colour", colour), ("usage", "Casual"))))
    return out


def series(term: str, source: str, *values: float, start: str = "2018-06-04") -> Trend:
    from datetime import date, timedelta

    day = date.fromisoformat(start)
    return Trend(term, source, "series", points=tuple(((day + timedelta(days=7 * i)).isoformat(), float(v))
                                                      for i, v in enumerate(values)))


TRENDS = [
    series("Sunglasses", "heatwave.csv", 60, 70, 100, 80),
    Trend("sunglasses", "related.csv", "related", rank=3, rising=True),  # the same term, another file
    Trend("Earthquake Los Angeles", "trending-now.csv", "trending_now", score=200000, rising=True),
    series("Sun hat", "heatwave.csv", 50, 60, 100, 70),
    series("Puffer jacket", "winter.csv", 20, 40, 100, 30),
    Trend("Cleveland Cavaliers", "nba.csv", "ranking", rank=1),
    Trend("Donald Trump", "politics.csv", "ranking", rank=1),
    Trend("Rain jacket", "related.csv", "related", rank=1, rising=True),
    Trend("Kitchen sink", "related.csv", "related", rank=2, rising=True),
]

STAGES = {  # what the series stager says of each term on 2019-06-01
    "sunglasses": TrendStage("seasonal", "peaks every summer", peak="2018-07-15", next_peak="2019-07-15"),
    "sun hat": TrendStage("seasonal", "peaks every summer", peak="2018-07-01", next_peak="2019-07-01"),
    "puffer jacket": TrendStage("seasonal", "peaks every winter", peak="2018-12-15", next_peak="2019-12-15"),
    "earthquake los angeles": TrendStage("emerging", "breakout"),
    "cleveland cavaliers": TrendStage("emerging", "rising fast"),
    "donald trump": TrendStage("peaking", "at its peak"),
    "rain jacket": TrendStage("emerging", "rising"),
    "kitchen sink": TrendStage("emerging", "rising"),
}


class Stager:
    """Stages from a table by term (``STAGES`` unless given), recording the groups it was asked about."""

    def __init__(self, stages: dict[str, TrendStage] | None = None):
        self.stages = dict(STAGES if stages is None else stages)
        self.asked: list[list[Trend]] = []

    def __call__(self, group, today) -> TrendStage:
        self.asked.append(list(group))
        return self.stages.get(topic_key(group[0].term), TrendStage("unknown", "no series, no calendar"))


def make_site(tmp_path: Path, extra: str = "", today: str = "2019-06-01") -> Path:
    (tmp_path / "trends").mkdir(parents=True, exist_ok=True)
    (tmp_path / "site.toml").write_text(f"""
[site]
title = "Tiny fashion"
[index]
backend = "exact"
[trends]
source = "trends"
today = "{today}"
{extra}
""", encoding="utf-8")
    return tmp_path / "site.toml"


def make_cfg(tmp_path: Path, extra: str = ""):
    return load_config(make_site(tmp_path, extra))


@lru_cache(maxsize=1)
def shared_embedder():
    """One MiniLM embedder for the tests of a session, without a store: its memory keeps every vector, so each
    text is embedded once however many tests use it (a toolbox given ``store_cache=True`` gets its own,
    cached in the store, as the agent's is)."""
    from sitegen.engines.embed import Embedder

    return Embedder()


def make_toolbox(cfg, store, trends=None, llm=None, *, store_cache: bool = False):
    from sitegen.demand.trends.tools import Toolbox, catalog_of
    from sitegen.engines.embed import Embedder
    from sitegen.engines.index import build_index

    items = fashion_items()
    embedder = Embedder(store=store) if store_cache else shared_embedder()
    vectors = embedder.encode([item_text(i) for i in items])
    catalog = catalog_of(items, vectors, build_index(vectors, cfg.index), store)
    chosen = list(TRENDS if trends is None else trends)
    return Toolbox(cfg, store, catalog, embedder=embedder, fetch=lambda _folder: chosen, llm=llm)
