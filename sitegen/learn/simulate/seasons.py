"""Seasonality of the hidden demand, from real Google Trends interest-over-time series.

**Reading.** Every ``*.csv`` of a folder of Google Trends files is read when it holds a series with at least
monthly resolution (files of rankings, geography or yearly values hold none and are skipped):

- one row per term, one column per date (``20180803_heatwave.csv``: "Search topic,Jun 4 2018,..." then
  "Sunglasses,73,66,...");
- one row per date, one column per term (Explore's ``multiTimeline.csv``: "Week,yeezy: (Worldwide)";
  ``Mois,ventilateur,Climatiseur``), or one column per region (``20160502_YogaByStateMonth.csv``): the regions
  are averaged into one series named after the file's title line ("search interest per month in yoga").

Title lines, trailing commas, CR-only line endings, ``<1`` (read as 0.5) and empty cells are tolerated. Dates:
ISO (``2018-06-04``, ``2004-01``), ``Jun 4 2018``, ``Jan 2004``.

**Multiplier.** An intent's searches on a day are its mean volume times the series' value for that day over
the series' mean: the day's value in a daily series, the week's in a weekly one, the month's in a monthly one;
for a day outside the series, the mean of that calendar month over the series' years when it spans at least two
years, else 1 (flat). A series only seasons intents it fits: the cosine of the all-MiniLM-L6-v2 embeddings of
the term and of the intent's category (the kind of thing: "Sunglasses", "Caps", "Swimwear") must be at least
``threshold`` (0.7; the best-fitting series wins), so every sunglasses intent follows "Sunglasses" and "Caps"
follows "Cap" while "Capris" (0.67) and "Ties" ("Tiesj Benoot", a cyclist, 0.61) stay flat; every other intent
is flat. Rankings (Halloween costumes, Black Friday products) have no time axis and give
no multiplier.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from sitegen.learn.simulate.demand import KIND, Population

THRESHOLD = 0.7
_REGION = re.compile(r"\[[a-z]{2}(-[a-z0-9]{1,3})?\]", re.I)
_TITLE_TERM = re.compile(r"interest (?:per \w+ )?in ([a-z][\w' &-]*?)(?:\s+and\b|[,.;]|$)", re.I)


@dataclass(frozen=True)
class Series:
    """One interest-over-time series."""

    term: str
    source: str  # file name
    points: tuple[tuple[str, float], ...]  # (ISO date, value), oldest first
    step: str  # day | week | month

    def multiplier(self, day: date) -> float:
        values = np.array([v for _, v in self.points], np.float64)
        mean = float(values.mean()) if len(values) else 0.0
        if mean <= 0:
            return 1.0
        got = self._value(day)
        return 1.0 if got is None else got / mean

    def _value(self, day: date) -> float | None:
        dates = [date.fromisoformat(d) for d, _ in self.points]
        first, last = dates[0], dates[-1]
        span = {"day": 1, "week": 7, "month": 31}[self.step]
        if first <= day and (day - last).days < span:
            if self.step == "month":
                for d, (_, v) in zip(dates, self.points):
                    if (d.year, d.month) == (day.year, day.month):
                        return v
                return None
            best = None
            for d, (_, v) in zip(dates, self.points):
                if d <= day:
                    best = v
            return best
        if last.year - first.year >= 1 and self.step in ("week", "month"):
            same = [v for d, (_, v) in zip(dates, self.points) if d.month == day.month]
            return float(np.mean(same)) if same else None
        return None


_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}(-\d{1,2})?|[A-Za-z]{3,9} \d{1,2} \d{4}|[A-Za-z]{3,9} \d{4}"
                        r"|\d{4}/\d{1,2}/\d{1,2}|\d{1,2}/\d{1,2}/\d{4}")
HEADER_ROWS = 20  # a date header is looked for in the first rows only


def _parse_date(text: str) -> date | None:
    text = " ".join(text.strip().replace(",", " ").split())
    if not _DATE_LIKE.fullmatch(text):
        return None
    for fmt in ("%Y-%m-%d", "%Y-%m", "%b %d %Y", "%B %d %Y", "%b %Y", "%B %Y", "%Y/%m/%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _parse_value(text: str) -> float | None:
    text = text.strip().replace(",", "")
    if text.startswith("<"):
        return 0.5
    try:
        return float(text)
    except ValueError:
        return None


def _step(dates: Sequence[date]) -> str:
    gaps = sorted((b - a).days for a, b in zip(dates, dates[1:]))
    gap = gaps[len(gaps) // 2] if gaps else 31
    return "day" if gap <= 1 else "week" if gap <= 8 else "month"


def _rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    rows = []
    for row in csv.reader(io.StringIO(text)):
        while row and not row[-1].strip():
            row.pop()
        rows.append(row)
    return rows


def _series(term: str, source: str, pairs: list[tuple[date, float]]) -> Series | None:
    pairs = sorted(pairs)
    if len(pairs) < 3:
        return None
    step = _step([d for d, _ in pairs])
    term = re.sub(r"^search interest in\s+", "", " ".join(term.split()), flags=re.I)
    return Series(term=term, source=source,
                  points=tuple((d.isoformat(), float(v)) for d, v in pairs), step=step)


def read_series_file(path: Path) -> list[Series]:
    """The series of one Google Trends CSV (none when it holds no dated series of monthly or finer steps)."""
    path = Path(path)
    try:
        rows = _rows(path)
    except OSError:
        return []
    out: list[Series] = []
    # one row per term, one column per date
    for h, row in enumerate(rows[:HEADER_ROWS]):
        dates = [_parse_date(c) for c in row[1:]]
        if sum(d is not None for d in dates) >= 3:
            for rec in rows[h + 1:]:
                if not rec or not rec[0].strip():
                    continue
                pairs = [(d, v) for d, c in zip(dates, rec[1:]) if d is not None
                         and (v := _parse_value(c)) is not None]
                s = _series(rec[0], path.name, pairs)
                if s is not None:
                    out.append(s)
            return out
    # one row per date
    data = [n for n, row in enumerate(rows) if row and _parse_date(row[0]) is not None]
    if len(data) < 3:
        return []
    start = data[0]
    before = rows[:start]
    header = max(reversed(before), key=lambda r: sum(bool(c.strip()) for c in r), default=[])
    titles = " ".join(r[0] for r in before if r and r is not header)
    columns = header[1:]
    body = [rows[n] for n in data]
    if columns and sum(bool(_REGION.search(c)) for c in columns) * 2 >= len(columns):
        m = _TITLE_TERM.search(titles)
        term = m.group(1) if m else re.split(r"By|_", path.stem.split("_", 1)[-1])[0]
        pairs = []
        for rec in body:
            vals = [v for c in rec[1:] if (v := _parse_value(c)) is not None]
            if vals:
                pairs.append((_parse_date(rec[0]), float(np.mean(vals))))
        s = _series(term, path.name, pairs)
        return [s] if s is not None else []
    for col, name in enumerate(columns, 1):
        term = name.split(":", 1)[0].strip()
        if not term:
            continue
        pairs = [(_parse_date(rec[0]), v) for rec in body if col < len(rec)
                 and (v := _parse_value(rec[col])) is not None]
        s = _series(term, path.name, pairs)
        if s is not None:
            out.append(s)
    return out


def read_series(folder: Path) -> list[Series]:
    """Every series of the CSV files of ``folder`` (sorted by file name; a term seen twice keeps its first)."""
    seen: dict[str, Series] = {}
    for path in sorted(Path(folder).glob("*.csv")):
        for s in read_series_file(path):
            seen.setdefault(s.term.lower(), s)
    return list(seen.values())


def assign_seasons(population: Population, series: Sequence[Series],
                   embed: Callable[[Sequence[str]], np.ndarray], threshold: float = THRESHOLD) -> Population:
    """Each intent gets the best-fitting series at cosine >= ``threshold`` (by its category), else none."""
    if not series or not population.intents:
        return population
    sv = embed([s.term for s in series])
    iv = embed([dict(i.values)[KIND] for i in population.intents])
    sims = iv @ sv.T
    intents = []
    for intent, row in zip(population.intents, sims):
        best = int(np.argmax(row))
        if row[best] >= threshold:
            intents.append(replace(intent, season=series[best].term, season_cosine=round(float(row[best]), 4)))
        else:
            intents.append(intent)
    return population.with_intents(intents)


def multipliers(population: Population, series: Sequence[Series], day: date) -> np.ndarray:
    """Each intent's multiplier on ``day`` (1.0 for a flat intent)."""
    by_term = {s.term: s for s in series}
    cache: dict[str, float] = {}
    out = np.ones(len(population.intents), np.float64)
    for n, intent in enumerate(population.intents):
        if intent.season and intent.season in by_term:
            if intent.season not in cache:
                cache[intent.season] = by_term[intent.season].multiplier(day)
            out[n] = cache[intent.season]
    return out
