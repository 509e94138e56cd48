"""One simulated week of searches, impressions and clicks.

- **Searches**: each phrasing q of intent i is searched ``Poisson(volume_i x share_q x m_i(day) / 7)`` times
  a day, ``m_i`` the intent's seasonal multiplier (``seasons``).
- **Competitors**: the results page is not the site's alone. Each phrasing has ``competitors`` results of other
  sites (10 by default: a full page), each of quality ``N(mu_q, 0.05)`` with ``mu_q ~ U(0.60, 0.95)`` drawn once
  per phrasing (seeded by the seed and the query text: every week and both arms face the same competition). The
  site's results (the engine's, reranked) and the competitors' are ordered by quality - a site page's quality is
  the cosine of the query and its heading, so a page whose h1 is what was searched (cosine 1) ranks first, and a
  typical best page of the site (a collection or hub whose heading is close, about 0.87) a few places down; on
  equal quality the site's page comes first. ``competitors = 0``: the site has the whole results page.
- **Viewing (impressions)**: every search views the first results page, and every result on it - positions
  1-10 - gets one impression, scrolled into view or not: Search Console's own counting rule ("an impression is
  counted when a URL appears in a search result for a user"; results on later pages are only counted when
  the user opens them, which this model leaves out).
- **Clicks** follow the position-based click model (Richardson et al. 2007; Craswell et al. 2008): a result at
  position p is clicked with probability ``CTR(p) x satisfaction``, independently per result and search
  (``Binomial(searches, CTR(p) x satisfaction)``). ``CTR(p)`` is the average organic click-through rate by
  position measured by Backlinko and ClickFlow on 5,079,491 queries of 874,929 pages' Search Console data
  (Brian Dean, "We Analyzed 5 Million Google Search Results. Here's What We Learned About Organic Click Through
  Rate", backlinko.com, August 2019): 31.73, 24.71, 18.66, 13.60, 9.51, 6.23, 4.15, 3.12, 2.97 and 3.09 %.
- **Satisfaction** of a page for an intent: an item page 1 when its item satisfies the intent, else 0; a page
  listing items (collection, hub, home) the share of its listed items that satisfy it; a page listing none 0.
  The listed items are read from the built page (its JSON-LD ItemList) and mapped back to catalog ids by their
  URLs.

Everything is drawn from one generator seeded by (seed, the week's first day), in a fixed order, so a week
replays exactly.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable, Mapping, Sequence

import numpy as np

from sitegen.learn.simulate.demand import Population
from sitegen.learn.simulate.engine import Hit
from sitegen.learn.simulate.seasons import Series, multipliers

CTR_BY_POSITION = (0.3173, 0.2471, 0.1866, 0.1360, 0.0951, 0.0623, 0.0415, 0.0312, 0.0297, 0.0309)
CTR_SOURCE = ("Backlinko / ClickFlow 2019, 'We Analyzed 5 Million Google Search Results. Here's What We Learned "
              "About Organic Click Through Rate'")
DAYS = 7
COMPETITORS = 10
COMPETITION = (0.60, 0.95, 0.05)  # mu_q ~ U(lo, hi); each competitor ~ N(mu_q, sd)
PAGE_ONE = 10


@dataclass(frozen=True, slots=True)
class Row:
    """One Search Console row: a page's impressions and clicks for a query on a day."""

    day: str  # ISO date
    query: str
    path: str  # URL path of the page
    clicks: int
    impressions: int
    position: float  # 1-based
    satisfaction: float = 0.0  # the world's, for the GA4 export; never exported to Search Console


@dataclass
class Week:
    """A simulated week: its rows and totals."""

    start: date
    rows: list[Row] = field(default_factory=list)
    searches: int = 0
    impressions: int = 0
    clicks: int = 0
    queries: int = 0  # phrasings searched at least once
    answered: int = 0  # of those, with at least one of the site's pages on the first results page
    pages: int = 0  # distinct pages with an impression

    def summary(self) -> dict:
        return {"week": self.start.isoformat(), "searches": self.searches, "impressions": self.impressions,
                "clicks": self.clicks, "ctr": round(self.clicks / self.impressions, 5) if self.impressions else 0.0,
                "queries": self.queries, "queries_answered": self.answered, "pages_with_impressions": self.pages}


def ctr(position: int) -> float:
    return CTR_BY_POSITION[position - 1] if 1 <= position <= len(CTR_BY_POSITION) else 0.0


def competitor_scores(query: str, seed: int, n: int = COMPETITORS) -> np.ndarray:
    """The qualities of the other sites' results for ``query``, best first (the same for every week)."""
    if n <= 0:
        return np.zeros(0)
    lo, hi, sd = COMPETITION
    rng = np.random.default_rng([seed, zlib.crc32(query.encode("utf-8")), 3])
    mu = rng.uniform(lo, hi)
    return np.sort(rng.normal(mu, sd, n))[::-1]


def serp(hits: Sequence[Hit], competitors: np.ndarray) -> list[tuple[Hit, int]]:
    """The site's results with their positions on the first results page, among the competitors' (by quality; a
    tie goes to the site). Results pushed past position 10 are left out."""
    out = []
    for i, hit in enumerate(sorted(hits, key=lambda h: -h.score)):
        position = i + 1 + int(np.sum(competitors > hit.score))
        if position <= PAGE_ONE:
            out.append((hit, position))
    return out


def satisfaction(items: Sequence[str], ok: Callable[[str], bool]) -> float:
    """The share of ``items`` that satisfy (``ok``); 0 for none."""
    return sum(1 for i in items if ok(i)) / len(items) if items else 0.0


def simulate_week(population: Population, rankings: Mapping[str, Sequence[Hit]],
                  page_items: Mapping[str, Sequence[str]], start: date, *, seed: int,
                  series: Sequence[Series] = (), competitors: int = COMPETITORS) -> Week:
    """Searches, impressions and clicks of the week starting ``start`` (see the module docstring).
    ``rankings``: each phrasing's results; ``page_items``: URL path -> catalog ids of the items it lists."""
    rng = np.random.default_rng([seed, start.toordinal(), 2])
    days = [start + timedelta(days=d) for d in range(DAYS)]
    season = np.stack([multipliers(population, series, d) for d in days], axis=1)  # intents x days
    week = Week(start=start)
    cells: dict[tuple[int, str, str], list] = {}  # (day, query, path) -> [clicks, impressions, position, sat]
    sat_cache: dict[tuple[str, int], float] = {}
    pages: set[str] = set()
    for n, intent in enumerate(population.intents):
        for query, share in zip(intent.queries, intent.shares):
            lam = intent.volume * share * season[n] / DAYS
            searches = rng.poisson(lam)
            total = int(searches.sum())
            if not total:
                continue
            week.searches += total
            week.queries += 1
            shown = serp(rankings.get(query, ()), competitor_scores(query, seed, competitors))
            if shown:
                week.answered += 1
            for hit, position in shown:
                key = (hit.path, n)
                if key not in sat_cache:
                    sat_cache[key] = satisfaction(page_items.get(hit.path, ()),
                                                  lambda i: population.satisfies(i, intent))
                sat = sat_cache[key]
                clicks = rng.binomial(searches, ctr(position) * sat)
                pages.add(hit.path)
                for d in range(DAYS):
                    if searches[d]:
                        cell = cells.setdefault((d, query, hit.path), [0, 0, float(position), sat])
                        cell[0] += int(clicks[d])
                        cell[1] += int(searches[d])
    for (d, query, path), (c, imp, pos, sat) in sorted(cells.items()):
        week.rows.append(Row(days[d].isoformat(), query, path, c, imp, pos, round(sat, 4)))
        week.impressions += imp
        week.clicks += c
    week.pages = len(pages)
    return week
