"""A simulated week written as the exports a site owner downloads.

- **Search Console** (``write_console_export``): the Search Analytics API's query x page export, header
  ``Date,Page,Query,Clicks,Impressions,CTR,Position``; ``Page`` the absolute URL on ``site.base_url``, ``CTR``
  clicks / impressions as a fraction, ``Position`` the average position (1 = top). ``rows = "day"`` (the
  default) writes one row per day, query and page, as the API does with the ``date`` dimension; ``"week"`` one
  row per query and page for the whole week, dated the week's first day. Rows with no impression are not
  written (Search Console has none); the rows are sorted by date, query and position.
- **GA4** (``write_ga4_export``, optional): landing pages of organic sessions, header
  ``date,channel,pagePath,activeUsers,screenPageViews,sessions,engagementRate`` (the columns of a GA4
  exploration export), channel ``Organic Search``. Every click is one session of one user; a session is
  engaged with probability 0.2 + 0.7 x the page's satisfaction of the searcher's intent, and an engaged session
  views 2 pages, another 1.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Literal, Sequence

import numpy as np

from sitegen.core import urls
from sitegen.learn.simulate.clicks import Row

CONSOLE_HEADER = ("Date", "Page", "Query", "Clicks", "Impressions", "CTR", "Position")
GA4_HEADER = ("date", "channel", "pagePath", "activeUsers", "screenPageViews", "sessions", "engagementRate")
ENGAGED_BASE, ENGAGED_SLOPE = 0.2, 0.7


def weekly(rows: Iterable[Row], start: str) -> list[Row]:
    """The rows summed per query and page, dated ``start`` (position: impression-weighted mean)."""
    acc: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
    for r in rows:
        a = acc[(r.query, r.path)]
        a[0] += r.clicks
        a[1] += r.impressions
        a[2] += r.position * r.impressions
        a[3] = r.satisfaction
    return [Row(start, q, p, int(c), int(i), pos / i if i else 0.0, sat)
            for (q, p), (c, i, pos, sat) in sorted(acc.items())]


def write_console_export(rows: Sequence[Row], path: Path, base_url: str, *,
                         granularity: Literal["day", "week"] = "day", week_start: str = "") -> Path:
    """Write the Search Console export (see the module docstring); returns ``path``."""
    if granularity == "week":
        rows = weekly(rows, week_start or (rows[0].day if rows else ""))
    out = sorted((r for r in rows if r.impressions > 0), key=lambda r: (r.day, r.query, r.position, r.path))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(CONSOLE_HEADER)
        for r in out:
            w.writerow([r.day, urls.absolute(base_url, r.path), r.query, r.clicks, r.impressions,
                        repr(r.clicks / r.impressions), repr(round(r.position, 4))])
    tmp.replace(path)
    return path


def write_ga4_export(rows: Sequence[Row], path: Path, *, seed: int) -> Path:
    """Write the GA4 landing-page export of the rows' clicks (see the module docstring); returns ``path``."""
    rng = np.random.default_rng([seed, 4])
    acc: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in sorted(rows, key=lambda r: (r.day, r.query, r.path)):
        if r.clicks:
            engaged = int(rng.binomial(r.clicks, ENGAGED_BASE + ENGAGED_SLOPE * r.satisfaction))
            a = acc[(r.day, r.path)]
            a[0] += r.clicks
            a[1] += engaged
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(GA4_HEADER)
        for (day, page), (sessions, engaged) in sorted(acc.items()):
            w.writerow([day, "Organic Search", page, sessions, sessions + engaged, sessions,
                        repr(round(engaged / sessions, 6))])
    tmp.replace(path)
    return path
