"""Search Console and GA4 exports, read row by row: every data row is either a signal or rejected with a reason.

Three kinds of file (``kind``; ``auto`` tells them apart by their header, an explicit kind is checked against it):

- ``gsc``: a Search Console "Performance" export from the UI, one file per dimension: ``Queries.csv`` (``Top
  queries``), ``Pages.csv`` (``Top pages``), ``Dates.csv`` (or ``Chart.csv``: site totals per day),
  ``Countries.csv``, ``Devices.csv``, ``Search appearance.csv``, each with ``Clicks, Impressions, CTR, Position``;
  ``Filters.csv`` (the export's settings, ``Filter, Value``) is recognised and its rows rejected as
  ``export_setting``. Only ``Dates.csv`` has dates: the others cover the export's period (the caller decides it,
  see ``sitegen.demand.signals``).
- ``gsc-api``: query x page rows from the Search Analytics API (``date, query, page, clicks, impressions, ctr,
  position``, optionally ``country``, ``device``) or the BigQuery bulk export (``data_date, url, query,
  impressions, clicks, sum_position`` or the site table's ``sum_top_position``; position = sum_position /
  impressions + 1; ``is_anonymized_query`` rows have no query), CSV or Parquet.
- ``ga4``: GA4 landing-page exports: a page column (``pagePath``, ``landingPage``, ``Landing page``, ``Page path
  + query string`` ...), ``sessions`` and ``engagedSessions`` and/or ``engagementRate`` (engaged = sessions x rate
  when the count is absent), optionally ``date`` (``20260501`` or ISO) and ``hostName``; other columns (channel,
  users, views ...) are ignored. A UI export's ``# Start date: 20260501`` / ``# End date:`` comment lines give
  its period when it has no date column.

Header names are matched ignoring case, spaces and punctuation (``Top queries``, ``top_queries``, ``pagePath``).
Numbers use the shared Search Console rules (``sitegen.ingest.console``: thousands separators, ``-`` = 0, CTR and
engagement rate as ``45%``, ``45`` or ``0.45``).

Row rejections (reason codes): ``total_row`` (a first or last row whose key is ``Total``, ``Totals`` or ``Grand
total``), ``no_query`` / ``no_page`` / ``no_date`` / ``no_country`` / ``no_device`` / ``no_appearance`` (the
file's key column is empty; ``(not set)`` counts as empty), ``anonymized_query`` (a bulk-export site row whose
query Google withheld), ``bad_number`` (not a number, negative or not finite), ``bad_date`` (not ``YYYY-MM-DD``
or ``YYYYMMDD``), ``export_setting`` (a ``Filters.csv`` line). Page matching (``unknown_page``, ``other_host``)
is the caller's: it needs the site's pages.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sitegen.core.errors import SignalsError
from sitegen.ingest.console import parse_ctr, parse_number, read_table

KINDS = ("gsc", "gsc-api", "ga4")
EXTENSIONS = (".csv", ".tsv", ".parquet", ".parq", ".pq")
LABELS = {"gsc": "Search Console UI export", "gsc-api": "Search Console query x page export (API or bulk export)",
          "ga4": "GA4 landing-page export"}

# normalised header name (lowercase letters and digits only) -> field
ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("date", "datadate", "day"),
    "query": ("query", "topqueries", "queries", "topquery", "searchquery", "keyword"),
    "page": ("page", "toppages", "pages", "url", "landingpage", "landingpagequerystring", "pagepath",
             "pagepathquerystring", "pagepathandscreenclass", "pagepathquerystringandscreenclass",
             "pagelocation", "fullpageurl"),
    "clicks": ("clicks", "urlclicks"),
    "impressions": ("impressions",),
    "ctr": ("ctr", "urlctr", "clickthroughrate"),
    "position": ("position", "avgposition", "averageposition"),
    "sum_position": ("sumposition", "sumtopposition"),
    "country": ("country", "countries"),
    "device": ("device", "devices", "devicecategory"),
    "appearance": ("searchappearance",),
    "sessions": ("sessions",),
    "engaged": ("engagedsessions",),
    "engagement_rate": ("engagementrate",),
    "host": ("hostname", "host"),
    "anonymized": ("isanonymizedquery",),
    "filter": ("filter",),
    "value": ("value",),
}
TOTAL_KEYS = frozenset({"total", "totals", "grand total", "(total)"})
NOT_SET = frozenset({"", "(not set)", "(other)", "-"})


@dataclass(frozen=True, slots=True)
class RawSignal:
    """One usable row of an export, before its page is matched to the site (``page`` as the file wrote it)."""

    line: int
    date: str = ""  # ISO day; "" = the file has no dates (a UI export)
    query: str = ""
    page: str = ""
    host: str = ""  # a GA4 hostName column
    clicks: float = 0.0
    impressions: float = 0.0
    position: float = 0.0
    sessions: float = 0.0
    engaged: float = 0.0
    country: str = ""
    device: str = ""
    appearance: str = ""


@dataclass
class SignalFile:
    """An export as read: its kind and dimension, its signals and its rejected rows."""

    path: Path
    kind: str
    dimension: str  # query, page, query_page, date, country, device, appearance, filter
    rows: int = 0  # data rows (blank lines and comment lines before the header are not rows)
    signals: list[RawSignal] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, reason, detail)
    dated: bool = False  # rows carry their own dates
    period: tuple[str, str] | None = None  # the period the file states (GA4 comment lines), if any
    unit: str = "line"  # "line" (CSV) or "row" (Parquet) for the numbers above


def header_key(name: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def columns(header: list[str]) -> dict[str, int]:
    """field -> column index, for the fields of ``ALIASES`` the header has (the first matching column)."""
    names = [header_key(h) for h in header]
    out: dict[str, int] = {}
    for key, aliases in ALIASES.items():
        found = next((names.index(a) for a in aliases if a in names), None)
        if found is not None:
            out[key] = found
    return out


def detect(cols: dict[str, int]) -> tuple[str, str] | None:
    """(kind, dimension) of a file with these columns, or None when it is not an export sitegen reads."""
    if "sessions" in cols and "page" in cols:
        return "ga4", "page"
    if "filter" in cols and "value" in cols:
        return "gsc", "filter"
    has_q, has_p = "query" in cols, "page" in cols
    bulk = "sum_position" in cols
    if (has_q or has_p) and ("date" in cols or bulk or (has_q and has_p)):
        return "gsc-api", "query_page" if has_q and has_p else "query" if has_q else "page"
    if "impressions" not in cols and "clicks" not in cols:
        return None
    for dim in ("query", "page", "country", "device", "appearance", "date"):
        if dim in cols:
            return "gsc", dim
    return None


def parse_day(value: Any) -> str:
    """An ISO day from ``2026-05-01``, ``20260501``, ``2026-05-01T00:00:00`` / ``2026-05-01 00:00:00`` or a
    date / datetime value; raises ValueError otherwise."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value if value is not None else "").strip()
    if re.fullmatch(r"\d{8}", text):
        return date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?", text)
    if m:
        return date.fromisoformat(m.group(1)).isoformat()
    raise ValueError(f"not a date: {text!r}")


def _count(value: Any, name: str) -> float:
    """A non-negative finite number; raises ValueError naming the column."""
    if isinstance(value, bool):
        raise ValueError(f"{name}: {value!r}")
    try:
        number = float(value) if isinstance(value, (int, float)) else parse_number(value)
    except ValueError:
        raise ValueError(f"{name}: {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name}: {value!r}")
    return number


def _rate(value: Any, name: str) -> float:
    try:
        rate = parse_ctr(value)
    except ValueError:
        raise ValueError(f"{name}: {value!r}") from None
    if not math.isfinite(rate) or rate < 0:
        raise ValueError(f"{name}: {value!r}")
    return rate


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes")


def _preamble_period(preamble: list[str]) -> tuple[str, str] | None:
    found: dict[str, str] = {}
    for line in preamble:
        m = re.fullmatch(r"(start|end)\s*date\s*:\s*(\S+)", line.strip(), re.IGNORECASE)
        if m:
            try:
                found[m.group(1).lower()] = parse_day(m.group(2))
            except ValueError:
                continue
    if "start" in found and "end" in found and found["start"] <= found["end"]:
        return found["start"], found["end"]
    return None


def read_signals(path: str | Path, kind: str = "auto") -> SignalFile:
    """Every data row of one export, as a signal or a rejection (see the module docstring). Raises
    ``SignalsError`` naming the file when it cannot be read, is not an export of a known kind (or not of the
    ``kind`` asked for), or lacks a column that kind needs."""
    path = Path(path)
    if kind != "auto" and kind not in KINDS:
        raise SignalsError(f"unknown signals kind {kind!r} (use auto, {', '.join(KINDS)})")
    try:
        table = read_table(path)
    except ValueError as exc:
        raise SignalsError(f"{path}: {exc}") from None
    if not table.header:
        raise SignalsError(f"{path}: empty file: not a Search Console or GA4 export")
    cols = columns(table.header)
    found = detect(cols)
    shown = ", ".join(str(h) for h in table.header[:12])
    if found is None:
        wanted = LABELS[kind] if kind != "auto" else "Search Console or GA4 export"
        raise SignalsError(f"{path}: not a {wanted} (header: {shown})")
    if kind != "auto" and found[0] != kind:
        raise SignalsError(f"{path}: not a {LABELS[kind]}: its header ({shown}) is a {LABELS[found[0]]} "
                           f"(--kind {found[0]} or auto)")
    kind, dimension = found
    out = SignalFile(path, kind, dimension, rows=len(table.rows), unit=table.unit,
                     period=_preamble_period(table.preamble))
    if dimension == "filter":
        out.rejected = [(n, "export_setting", " = ".join(_text(c) for c in rec[:2])) for n, rec in table.rows]
        return out
    if kind == "ga4":
        if "engaged" not in cols and "engagement_rate" not in cols:
            raise SignalsError(f"{path}: a GA4 export needs an engagedSessions or engagementRate column "
                               f"(header: {shown})")
    elif "impressions" not in cols:
        raise SignalsError(f"{path}: no Impressions column (header: {shown})")
    elif "clicks" not in cols and "ctr" not in cols:
        raise SignalsError(f"{path}: no Clicks or CTR column (header: {shown})")
    out.dated = "date" in cols
    last = len(table.rows) - 1
    for pos, (n, rec) in enumerate(table.rows):
        cell = {key: rec[i] if i < len(rec) else None for key, i in cols.items()}
        reason = _row(out, n, cell, pos in (0, last))
        if reason is not None:
            out.rejected.append((n, *reason))
    return out


def _row(out: SignalFile, n: int, cell: dict[str, Any], edge: bool) -> tuple[str, str] | None:
    """Append the row's signal to ``out``, or return (reason, detail) for a rejected row."""
    kind, dimension = out.kind, out.dimension
    key_field = "page" if kind == "ga4" else dimension if dimension != "query_page" else "query"
    key = _text(cell.get(key_field))
    if edge and key.lower() in TOTAL_KEYS:
        return "total_row", key
    query = _text(cell.get("query")) if "query" in cell else ""
    page = str(cell.get("page") or "").strip() if "page" in cell else ""
    if kind == "ga4" and page.lower() in NOT_SET:
        return "no_page", "empty or (not set)"
    if dimension == "query_page":
        if not query and not page:
            return "no_query", "neither a query nor a page"
    elif dimension in ("query", "page") or kind == "gsc":
        value = {"query": query, "page": page}.get(dimension, key)
        if value.lower() in NOT_SET:
            if dimension == "query" and _flag(cell.get("anonymized")):
                return "anonymized_query", "the bulk export withholds this query"
            return f"no_{dimension}", "empty"
    day = ""
    if "date" in cell:
        try:
            day = parse_day(cell["date"])
        except ValueError:
            return "bad_date", _text(cell["date"]) or "empty"
    try:
        if kind == "ga4":
            sessions = _count(cell.get("sessions"), "sessions")
            if "engaged" in cell and cell["engaged"] not in (None, ""):
                engaged = _count(cell["engaged"], "engagedSessions")
            else:
                engaged = sessions * _rate(cell.get("engagement_rate"), "engagementRate")
            if engaged > sessions + 1e-9:
                return "bad_number", f"engaged sessions {engaged:g} > sessions {sessions:g}"
            out.signals.append(RawSignal(n, day, page=page, host=_text(cell.get("host")), sessions=sessions,
                                         engaged=engaged, country=_text(cell.get("country")),
                                         device=_text(cell.get("device"))))
            return None
        impressions = _count(cell.get("impressions"), "impressions")
        if "clicks" in cell:
            clicks = _count(cell.get("clicks"), "clicks")
        else:
            clicks = float(round(_rate(cell.get("ctr"), "ctr") * impressions))
        if "ctr" in cell:
            _rate(cell.get("ctr"), "ctr")  # a CTR that is not a number marks a damaged row
        if "sum_position" in cell:
            total = _count(cell.get("sum_position"), "sum_position")
            position = total / impressions + 1.0 if impressions else 0.0
        else:
            position = _count(cell.get("position"), "position") if "position" in cell else 0.0
    except ValueError as exc:
        return "bad_number", str(exc)
    out.signals.append(RawSignal(n, day, query=query, page=page, clicks=clicks, impressions=impressions,
                                 position=position, country=_text(cell.get("country")),
                                 device=_text(cell.get("device")), appearance=_text(cell.get("appearance"))))
    return None


def export_files(path: str | Path) -> list[Path]:
    """The export files a path names: the file itself, or a folder's ``.csv`` / ``.tsv`` / ``.parquet`` files
    (not its subfolders), by name. Raises ``SignalsError`` for a path that does not exist."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS)
    if path.is_file():
        return [path]
    raise SignalsError(f"{path}: no such file or folder")


def folder_period(folder: Path) -> tuple[str, str] | None:
    """The first and last day of a UI export folder's ``Dates.csv`` (or ``Chart.csv``); None without one."""
    for name in ("Dates.csv", "Chart.csv", "dates.csv", "chart.csv"):
        candidate = folder / name
        if candidate.is_file():
            try:
                read = read_signals(candidate)
            except SignalsError:
                continue
            days = sorted(s.date for s in read.signals if s.date)
            if read.dimension == "date" and days:
                return days[0], days[-1]
    return None
