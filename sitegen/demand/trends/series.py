"""Where a trend is in its lifecycle: ``stage_of`` for a series, ``calendar_stage`` for ranked and listed trends.

A series (``Trend.points``, or ``(date, value)`` pairs) is read up to ``today``:

- **seasonal**: it peaks in the same weeks of the year in at least two years (and most of its years), and the
  year-on-year autocorrelation of its de-trended values agrees; ``peak`` is the last such peak, ``next_peak``
  the next date at the typical peak day after ``today``. A series of less than a year that ended more than a
  year ago, with demand all along (its lowest value at least a quarter of its highest, not a one-off spike), is
  one observed season: ``seasonal`` with ``seasons = 1``, its next peak projected on the same day of the year;
- **emerging**: its recent values are well above its own baseline and still rising;
- **evergreen**: steady demand, low variation;
- **peaking**: at or near its maximum now;
- **declining**: past a peak and well below it;
- **unknown**: too short, no interest, no clear direction, or data that ends long before ``today`` (the
  reason then says what the series was doing when it ended).

Ranked, related and trending-now trends have no series: ``calendar_stage`` (one term's entries) links the
dates their files state - the same term in files of several years, or, with a ``TrendCalendar`` of everything
read, files about the same theme (the same words in their names, sheets and categories); dates in the same weeks
of at least two years (``Halloween costumes`` every October) make it seasonal, with its next peak in those weeks;
a RISING related query (a Breakout, a growth) is emerging; a trending-now entry is emerging when it started
within two days, peaking while it lasts, declining once it is over. ``stages_of`` gives every trend its stage.
Nothing here knows a holiday: every date comes from the data. Each stage carries a one-line reason naming its
numbers; ``lead_days`` says how far before its next peak ``today`` is.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Iterable, Sequence

from sitegen.core.models import Trend, TrendStage

MIN_POINTS = 6
MIN_DAYS = 21
PEAK_TOLERANCE_DAYS = 24  # peaks this close (in day of year) count as the same weeks; monthly data: 35
CALENDAR_TOLERANCE_DAYS = 31
TRENDING_FRESH_HOURS = 48
TRENDING_OVER_DAYS = 7

Points = Sequence[tuple[str, float]] | Sequence[tuple[date, float]]


def _day(value: str | date) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _series(trend_or_points: Trend | Points, today: date) -> list[tuple[date, float]]:
    points = trend_or_points.points if isinstance(trend_or_points, Trend) else trend_or_points
    by_day: dict[date, float] = {}
    for when, value in points:
        day = _day(when)
        if day is None or day > today or value is None or not math.isfinite(float(value)):
            continue
        by_day[day] = max(by_day.get(day, float("-inf")), float(value))
    return sorted(by_day.items())


def _fmt(day: date) -> str:
    return day.isoformat()


def _md(day_of_year: int) -> str:
    return (date(2001, 1, 1) + timedelta(days=day_of_year - 1)).strftime("%b %d")


def stage_of(trend_or_points: Trend | Points, today: date) -> TrendStage:
    """The lifecycle stage of a series at ``today`` (see the module docstring)."""
    pts = _series(trend_or_points, today)
    if not pts:
        return TrendStage("unknown", "no data up to today")
    span = (pts[-1][0] - pts[0][0]).days
    if len(pts) < MIN_POINTS or span < MIN_DAYS:
        return TrendStage("unknown", f"too short: {len(pts)} point(s) over {span} day(s)")
    values = [v for _, v in pts]
    if max(values) <= 0:
        return TrendStage("unknown", f"no interest: all {len(values)} values are 0")
    gaps = [(b[0] - a[0]).days for a, b in zip(pts, pts[1:])]
    step = max(1, int(statistics.median(gaps)))
    season = _seasonal(pts, step, today)
    if season is not None:
        return season
    shape = _shape(pts)
    gap = (today - pts[-1][0]).days
    if gap <= max(45, 3 * step):
        return shape
    if shape.stage == "evergreen" and span >= 365:
        return TrendStage("evergreen", f"{shape.reason}; data ends {_fmt(pts[-1][0])}", shape.peak)
    single = _one_season(pts, today, span, gap)
    if single is not None:
        return single
    return TrendStage("unknown", f"data ends {_fmt(pts[-1][0])}, {gap} days before {_fmt(today)}; "
                                 f"then {shape.stage}: {shape.reason}", shape.peak)


# -- seasonality ---------------------------------------------------------------------------------------------

def _rolling_ratio(pts: list[tuple[date, float]], half_window: int = 182, edge: int = 42) -> list[float]:
    """Each value over the mean of the values within half a year on both sides of it (the window narrows
    towards the ends of the series, to ``edge`` days at least, so a first or last value is not lifted by a
    trend): the series without its trend."""
    import bisect
    ords = [d.toordinal() for d, _ in pts]
    sums = [0.0]
    for _, v in pts:
        sums.append(sums[-1] + v)
    out = []
    for i, o in enumerate(ords):
        hw = max(edge, min(half_window, o - ords[0], ords[-1] - o))
        lo = bisect.bisect_left(ords, o - hw)
        hi = bisect.bisect_right(ords, o + hw)
        mean = (sums[hi] - sums[lo]) / (hi - lo)
        out.append(pts[i][1] / mean if mean > 0 else 0.0)
    return out


def _circular_distance(a: int, b: int) -> int:
    d = abs(a - b) % 365
    return min(d, 365 - d)


def _yearly_acf(pts: list[tuple[date, float]], ratio: list[float], step: int) -> float | None:
    index = {d: r for (d, _), r in zip(pts, ratio)}
    days = [d for d, _ in pts]
    pairs = []
    for d, r in zip(days, ratio):
        for shift in range(0, step // 2 + 2):
            for target in (d + timedelta(days=365 + shift), d + timedelta(days=365 - shift)):
                if target in index:
                    pairs.append((r, index[target]))
                    break
            else:
                continue
            break
    if len(pairs) < 8:
        return None
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    sx, sy = statistics.pstdev(xs), statistics.pstdev(ys)
    if sx == 0 or sy == 0:
        return 0.0
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / (len(xs) * sx * sy)


def _seasonal(pts: list[tuple[date, float]], step: int, today: date) -> TrendStage | None:
    """Yearly peaks in the same weeks (two years or more, most of the years) with a positive yearly
    autocorrelation of the de-trended series; None when the series is not seasonal."""
    if (pts[-1][0] - pts[0][0]).days < 600 or step > 40:
        return None
    ratio = _rolling_ratio(pts)
    by_year: dict[int, list[int]] = defaultdict(list)
    for i, (d, _) in enumerate(pts):
        by_year[d.year].append(i)
    peaks: list[tuple[int, date, float]] = []  # (year, date, strength)
    for year, idx in sorted(by_year.items()):
        if len(idx) * step < 0.75 * 365:
            continue  # a year seen only in part
        best = max(idx, key=lambda i: ratio[i])
        peaks.append((year, pts[best][0], ratio[best]))
    strong = [p for p in peaks if p[2] >= 1.15]
    if len(strong) < 2:
        return None
    tol = 35 if step >= 25 else PEAK_TOLERANCE_DAYS
    doys = [p[1].timetuple().tm_yday for p in strong]
    centre = max(doys, key=lambda c: (sum(_circular_distance(c, x) <= tol for x in doys),
                                      -sum(_circular_distance(c, x) for x in doys)))
    aligned = [p for p, x in zip(strong, doys) if _circular_distance(centre, x) <= tol]
    if len(aligned) < 2 or len(aligned) < 0.6 * len(peaks):
        return None
    acf = _yearly_acf(pts, ratio, step)
    if acf is not None and acf < 0.25:
        return None
    angles = [2 * math.pi * (p[1].timetuple().tm_yday - 1) / 365 for p in aligned]
    mean_angle = math.atan2(sum(math.sin(a) for a in angles), sum(math.cos(a) for a in angles))
    typical = int(round((mean_angle % (2 * math.pi)) * 365 / (2 * math.pi))) % 365 + 1
    nxt = _next_on(typical, today)
    last = aligned[-1][1]
    lift = statistics.fmean(p[2] for p in aligned)
    years = ", ".join(_fmt(p[1]) for p in aligned[-4:])
    acf_text = f", yearly autocorrelation {acf:.2f}" if acf is not None else ""
    reason = (f"peaks every year around {_md(typical)} ({len(aligned)} of {len(peaks)} years, "
              f"{lift:.1f}x its yearly average: {years}{acf_text}); next peak {_fmt(nxt)}, "
              f"{(nxt - today).days} days after {_fmt(today)}")
    return TrendStage("seasonal", reason, _fmt(last), _fmt(nxt), seasons=len(aligned))


def _next_on(day_of_year: int, today: date) -> date:
    """The first date on or after ``today`` that falls on ``day_of_year`` (Feb 29 aside)."""
    for year in (today.year, today.year + 1):
        candidate = date(year, 1, 1) + timedelta(days=day_of_year - 1)
        if candidate.year != year:
            candidate = date(year, 12, 31)
        if candidate >= today:
            return candidate
    return date(today.year + 1, 1, 1) + timedelta(days=day_of_year - 1)


ONE_SEASON_GAP = 120  # days since a single season's data ended before it is projected to the next year


def _one_season(pts: list[tuple[date, float]], today: date, span: int, gap: int) -> TrendStage | None:
    """A window of less than a year, past for a season's length at least (``ONE_SEASON_GAP`` days), with demand
    throughout: a season seen once, expected again on the same days (so a summer seen last year is proposed
    before this summer's peak)."""
    if span >= 330 or gap < ONE_SEASON_GAP:
        return None
    values = [v for _, v in pts]
    top = max(values)
    low = min(values)
    if low < 0.25 * top:
        return None
    peak_day = max(pts, key=lambda p: p[1])[0]
    nxt = _next_on(peak_day.timetuple().tm_yday, today)
    median = statistics.median(values)
    reason = (f"one season seen ({_fmt(pts[0][0])} to {_fmt(pts[-1][0])}): peak {top:.0f} on {_fmt(peak_day)}, "
              f"never below {low:.0f} (median {median:.0f}), not a one-off spike; expected again around "
              f"{peak_day.strftime('%b %d')}: next {_fmt(nxt)}, {(nxt - today).days} days after {_fmt(today)} "
              f"(one year of data: not confirmed)")
    return TrendStage("seasonal", reason, _fmt(peak_day), _fmt(nxt), seasons=1)


# -- the shape of a non-seasonal series ----------------------------------------------------------------------

def _shape(pts: list[tuple[date, float]]) -> TrendStage:
    values = [v for _, v in pts]
    n = len(values)
    k = min(12, max(3, round(n * 0.1)))
    recent, rest = values[-k:], values[:-k]
    base = statistics.median(rest)
    now = statistics.fmean(recent)
    top = max(values)
    at = max(range(n), key=lambda i: (values[i], i))
    peak_day = pts[at][0]
    half = k // 2
    first, second = statistics.fmean(recent[:half] or recent), statistics.fmean(recent[half:])
    momentum = second / first if first > 0 else (2.0 if second > 0 else 1.0)
    mean = statistics.fmean(values)
    cv = statistics.pstdev(values) / mean if mean > 0 else 0.0
    floor = max(base, 0.05 * top, 1.0)
    median = statistics.median(values)
    last_k = f"the last {k} values average {now:.0f}"
    if now >= 1.5 * floor and now - base >= 0.15 * top and momentum >= 1.1:
        return TrendStage("emerging", f"{last_k}, {now / floor:.1f}x its baseline {base:.0f}, and still rising "
                                      f"({(momentum - 1) * 100:+.0f}% within them)", _fmt(peak_day))
    if cv <= 0.2 and top <= 1.6 * max(median, 1e-9):
        return TrendStage("evergreen", f"steady: values {min(values):.0f} to {top:.0f}, median {median:.0f}, "
                                       f"variation {cv:.2f}", _fmt(peak_day))
    if now >= 0.8 * top and at >= n - 2 * k:
        return TrendStage("peaking", f"{last_k}, {now / top * 100:.0f}% of its maximum {top:.0f} "
                                     f"({_fmt(peak_day)}); baseline {base:.0f}", _fmt(peak_day))
    if at < n - k and now <= 0.75 * top and top >= 1.3 * max(base, 1.0):
        return TrendStage("declining", f"past its peak of {top:.0f} on {_fmt(peak_day)}: {last_k}, "
                                       f"{(1 - now / top) * 100:.0f}% below it (baseline {base:.0f})",
                          _fmt(peak_day))
    if now >= 1.5 * floor and momentum >= 1.0:
        return TrendStage("emerging", f"{last_k}, {now / floor:.1f}x its baseline {base:.0f}, not falling",
                          _fmt(peak_day))
    return TrendStage("unknown", f"no clear direction: {last_k} against a baseline of {base:.0f}, maximum "
                                 f"{top:.0f}, variation {cv:.2f}", _fmt(peak_day))


def lead_days(stage: TrendStage, today: date) -> int | None:
    """Days from ``today`` to the stage's next peak (seasonal), ``0`` while emerging or peaking, None when no
    peak is ahead (declining, evergreen, unknown)."""
    if stage.next_peak:
        nxt = _day(stage.next_peak)
        return (nxt - today).days if nxt else None
    if stage.stage in ("emerging", "peaking"):
        return 0
    return None


# -- trends without a series ---------------------------------------------------------------------------------

def stages_of(trends: Sequence[Trend], today: date) -> list[TrendStage]:
    """The stage of every trend, in order: ``stage_of`` for a series, ``calendar_stage`` (with the calendar of
    all of ``trends``) for the others."""
    calendar = TrendCalendar(trends)
    cache: dict[tuple[str, str, bool, str], TrendStage] = {}
    out = []
    for t in trends:
        if t.points:
            out.append(stage_of(t, today))
            continue
        key = (t.source, _term_key(t.term), t.rising, t.started)
        if key not in cache:
            cache[key] = calendar_stage([t], today, calendar)
        out.append(cache[key])
    return out


def calendar_stage(trends: Sequence[Trend], today: date, calendar: "TrendCalendar | None" = None) -> TrendStage:
    """The stage of a term from its entries without a series (rankings, related queries, geo, trending now;
    several files or one). In order: an entry trending now (started within two days: emerging; lasting:
    peaking); a term whose files are dated in the same weeks of two or more years, or, with ``calendar`` (built
    from every trend read), a file whose theme recurs so: seasonal; a rising related query: emerging; a
    trending-now entry that is over: declining; a top related query: evergreen; else unknown."""
    entries = [t for t in trends if not t.points]
    if not entries:
        return TrendStage("unknown", "no entries without a series")
    trending = sorted((_trending(t, today) for t in entries if t.kind == "trending_now"),
                      key=lambda s: ({"emerging": 0, "peaking": 1, "declining": 2}.get(s.stage, 3), s.peak))
    if trending and trending[0].stage in ("emerging", "peaking"):
        return trending[0]
    own = calendar or TrendCalendar(entries)
    for t in entries:
        if t.kind != "trending_now":
            stage = own.stage(t, today)
            if stage.stage == "seasonal":
                return stage
    rising = [t for t in entries if t.rising and t.kind != "trending_now"]
    if rising:
        t = max(rising, key=lambda t: t.score)
        growth = "Breakout (more than +5000%)" if t.score >= 5000 else (
            f"+{t.score:.0f}%" if t.score else "listed as rising")
        when = f" in a file dated {t.dated}" if t.dated else ""
        return TrendStage("emerging", f"a rising query: {growth}{when}")
    if trending:
        return trending[0]
    top = [t for t in entries if t.kind == "related"]
    if top:
        t = max(top, key=lambda t: t.score)
        return TrendStage("evergreen", f"a top related query (score {t.score:.0f}) of {t.category or 'its term'}: "
                                       "steady demand over the file's period")
    t = entries[0]
    when = f"dated {t.dated}" if t.dated else "without a date"
    files = len({e.source for e in entries})
    return TrendStage("unknown", f"a {t.kind} entry {when} ({files} file(s)); no file about it recurs in the same "
                                 "weeks of two or more years")


def _term_key(term: str) -> str:
    from sitegen.ingest.trendvalues import fold
    return " ".join(w for w in fold(term).replace("-", " ").split())


def _trending(t: Trend, today: date) -> TrendStage:
    start = _stamp(t.started)
    if start is None:
        return TrendStage("unknown", "a trending-now entry without a start time")
    end = _stamp(t.ended)
    now = datetime.combine(today, datetime.max.time())
    if start.date() > today:
        return TrendStage("unknown", f"trending from {t.started[:16]}, after {_fmt(today)}")
    snapshot = _day(t.dated) if t.dated else None
    last_seen = end or (datetime.combine(snapshot, datetime.max.time()) if snapshot else now)
    if (now - last_seen).days > TRENDING_OVER_DAYS:
        what = f"ended {t.ended[:16]}" if end else f"still trending in the file of {t.dated}"
        return TrendStage("declining", f"trending since {t.started[:16]}, {what}: over for "
                                       f"{(now - last_seen).days} days", t.started[:10])
    if end and end <= now:
        return TrendStage("declining", f"trending from {t.started[:16]} to {t.ended[:16]}: ended "
                                       f"{max(0, (now - end).days)} day(s) before {_fmt(today)}", t.started[:10])
    hours = (min(now, last_seen) - start).total_seconds() / 3600
    volume = f", {t.score:,.0f}+ searches" if t.score else ""
    if hours <= TRENDING_FRESH_HOURS:
        return TrendStage("emerging", f"trending since {t.started[:16]} ({hours:.0f} h){volume}", t.started[:10])
    return TrendStage("peaking", f"trending for {hours / 24:.0f} days since {t.started[:16]}, not ended{volume}",
                      t.started[:10])


def _stamp(text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        day = _day(text)
        return datetime.combine(day, datetime.min.time()) if day else None
    return moment.replace(tzinfo=None)


class TrendCalendar:
    """Dated files grouped by theme (a word of their names, sheets and categories) and by the terms they share:
    built once from every trend read, it tells whether a trend's file or term recurs in the same weeks of the
    year."""

    def __init__(self, trends: Iterable[Trend]):
        from sitegen.ingest.trendtext import theme_words
        self.dates: dict[str, date] = {}
        self.words: dict[str, set[str]] = {}
        by_word: dict[str, set[str]] = defaultdict(set)
        by_term: dict[str, set[str]] = defaultdict(set)
        for t in trends:
            if t.source not in self.dates:
                day = _day(t.dated) if t.dated else None
                if day is None:
                    continue
                self.dates[t.source] = day
                words = theme_words(t.source.split("#")[0].rsplit("/", 1)[-1], t.source.partition("#")[2],
                                    t.category)
                self.words[t.source] = words
                for w in words:
                    by_word[w].add(t.source)
            if t.kind in ("ranking", "related", "geo"):
                by_term[_term_key(t.term)].add(t.source)
        self.by_word = by_word
        self.by_term = by_term
        self._memo: dict[tuple[str, ...], tuple | None] = {}

    def stage(self, t: Trend, today: date) -> TrendStage:
        groups = [("the term " + repr(t.term), self.by_term.get(_term_key(t.term), set()))]
        for w in sorted(self.words.get(t.source, ()), key=lambda w: len(self.by_word[w])):
            groups.append((f"files about {w!r}", self.by_word[w]))
        own = self.dates.get(t.source)
        for label, sources in groups:
            found = self._recurring(tuple(sorted(s for s in sources if s in self.dates)))
            if found is None or own not in found[1]:
                continue  # no recurrence, or one this trend's own file is not part of
            typical, dates, years = found
            nxt = _next_on(typical, today)
            shown = ", ".join(_fmt(d) for d in dates[-6:])
            reason = (f"recurs every year around {_md(typical)}: {label} dated {shown} ({years} years); "
                      f"next peak {_fmt(nxt)}, {(nxt - today).days} days after {_fmt(today)}")
            return TrendStage("seasonal", reason, _fmt(dates[-1]), _fmt(nxt), seasons=years)
        when = f"dated {t.dated}" if t.dated else "without a date"
        return TrendStage("unknown", f"a {t.kind} entry {when}; no file about it recurs in the same weeks of "
                                     "two or more years")

    def _recurring(self, sources: tuple[str, ...]) -> tuple[int, list[date], int] | None:
        """(typical day of year, the dates in the cluster, years) when the files' dates fall in the same weeks
        of at least two years spanning at least 300 days, and most of the files and years do."""
        if len(sources) < 2:
            return None
        if sources in self._memo:
            return self._memo[sources]
        dates = sorted({self.dates[s] for s in sources})
        result = None
        doys = [d.timetuple().tm_yday for d in dates]
        best = None
        for c in doys:
            inside = [d for d, x in zip(dates, doys) if _circular_distance(c, x) <= CALENDAR_TOLERANCE_DAYS]
            key = (len({d.year for d in inside}), len(inside))
            if best is None or key > best[0]:
                best = (key, inside)
        if best is not None:
            (years, count), inside = best
            all_years = len({d.year for d in dates})
            if years >= 2 and (inside[-1] - inside[0]).days >= 300 and years >= 0.6 * all_years \
                    and count >= 0.6 * len(dates):
                angles = [2 * math.pi * (d.timetuple().tm_yday - 1) / 365 for d in inside]
                mean = math.atan2(sum(math.sin(a) for a in angles), sum(math.cos(a) for a in angles))
                typical = int(round((mean % (2 * math.pi)) * 365 / (2 * math.pi))) % 365 + 1
                result = (typical, inside, years)
        self._memo[sources] = result
        return result
