"""Google Trends files: a tolerant reader for every kind the trend agent reads (``read_trends``).

Accepted (a folder is read recursively; ``.zip`` members are read as files of a folder):

- Explore exports: ``multiTimeline.csv`` / ``searchTimeline.csv`` (a ``Category:`` line, a blank line, then
  ``Week|Month|Day|Time,term: (Region),...``) -> one ``series`` trend per term; ``geoMap.csv`` and DMA / region /
  city breakdowns (``Country|Region|DMA|City,term: (dates)``) -> ``geo`` trends per place; ``relatedQueries.csv``
  (``TOP`` and ``RISING`` blocks; ``"+3,700%"``, ``Breakout``) -> ``related`` trends (RISING ones ``rising``,
  Breakout read as +5000%), the queried term as their category;
- "Trending now" exports (English header ``"Trends","Search volume","Started","Ended","Trend breakdown",
  "Explore link"`` or the localised ones, e.g. Portuguese ``Tendências, Volume de pesquisa, Iniciado,
  Finalizada ...``): one ``trending_now`` trend per row, the volume (``200K+``, ``2 mil+``) as its score, the
  region from the explore link's ``geo``, started and ended as ISO times, the breakdown as ``related``;
- the official data files (CSV, XLSX - every sheet -, a ``.zip`` of them): any layout, read by content
  (``sitegen.ingest.trendtables``): title lines before the header, trailing commas, CR-only line endings,
  UTF-8 or Windows-1252, git merge-conflict markers (the first side is kept).

Values: ``<1`` is 0.5; a file's date comes from its name (``Trend.dated``); regions are ISO codes
(``sitegen.ingest.regions``). Nothing raises for a bad file: each file (each sheet of a workbook, each member of a
zip) gets a ``TrendFile`` with its layout, its non-empty rows, the rows used and the others counted by reason,
and an ``error`` when it gave no trend.
"""

from __future__ import annotations

import csv
import io
import re
import urllib.parse
import zipfile
from pathlib import Path

from sitegen.core.models import Trend, TrendFile, TrendRead
from sitegen.ingest.regions import region_in_text, region_matches, region_of_header, resolve
from sitegen.ingest.trendtables import Context, Tally, read_grid
from sitegen.ingest.trendvalues import BREAKOUT, clean, file_date, fold, parse_number, parse_timestamp, \
    parse_volume, period_end

__all__ = ["read_trends", "region_matches", "summary", "DATA_SUFFIXES"]

DATA_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xlsm", ".zip")
_TRENDING_HEADERS = {  # folded header -> field
    "trends": "term", "tendencias": "term", "tendances": "term", "trends ": "term", "suchtrends": "term",
    "search volume": "volume", "volume de pesquisa": "volume", "volumen de busqueda": "volume",
    "volume de recherche": "volume", "suchvolumen": "volume",
    "started": "started", "iniciado": "started", "iniciada": "started", "inicio": "started", "debut": "started",
    "gestartet": "started", "ended": "ended", "finalizada": "ended", "finalizado": "ended", "fin": "ended",
    "finalizacion": "ended", "beendet": "ended",
    "trend breakdown": "breakdown", "detalhamento da tendencia": "breakdown", "desglose de la tendencia": "breakdown",
    "repartition de la tendance": "breakdown", "trendaufschlusselung": "breakdown",
    "explore link": "link",
}
_CATEGORY_LINE = re.compile(r"^(category|categoria|categoría|catégorie|kategorie)\s*:", re.I)


def read_trends(path: str | Path) -> TrendRead:
    """Every trend in a folder (recursively) or one file of Google Trends files (see the module docstring).
    Never raises for a file's content: a file that gives nothing is reported in ``files`` with its reason."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        root = path
    else:
        files, root = [path], path.parent
    trends: list[Trend] = []
    reports: list[TrendFile] = []
    for file in files:
        rel = file.relative_to(root).as_posix()
        try:
            data = file.read_bytes()
        except OSError as exc:
            reports.append(TrendFile(rel, "unreadable", error=f"cannot read: {exc.strerror or exc}"))
            continue
        got, files_read = _read_bytes(rel, data)
        trends += got
        reports += files_read
    return TrendRead(trends=trends, files=reports)


def _read_bytes(rel: str, data: bytes) -> tuple[list[Trend], list[TrendFile]]:
    suffix = Path(rel).suffix.lower()
    if suffix == ".zip":
        return _read_zip(rel, data)
    if suffix not in DATA_SUFFIXES:
        why = "not a data file" + (f" ({suffix})" if suffix else "")
        return [], [TrendFile(rel, "skipped", error=why)]
    try:
        if suffix in (".xlsx", ".xlsm"):
            return _read_workbook(rel, data)
        tally = Tally()
        trends = _read_text(rel, data, tally)
        return trends, [_report(rel, tally, trends)]
    except Exception as exc:  # a reader bug must not stop the other files: report it on this file
        return [], [TrendFile(rel, "unreadable", error=f"cannot read: {type(exc).__name__}: {exc}"[:300])]


def _report(rel: str, tally: Tally, trends: list[Trend], error: str = "") -> TrendFile:
    layout = "+".join(tally.layouts) or ("empty" if not tally.rows else "table")
    if not trends and not error:
        if not tally.rows:
            error = "empty file"
        else:
            top = tally.rejected.most_common(1)
            error = "no trend: " + (f"{top[0][0]} ({top[0][1]} of {tally.rows} rows)" if top else "nothing usable")
    return TrendFile(rel, layout, tally.rows, tally.used, dict(tally.rejected), error)


def _read_zip(rel: str, data: bytes) -> tuple[list[Trend], list[TrendFile]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        return [], [TrendFile(rel, "unreadable", error=f"not a readable zip: {exc}")]
    trends: list[Trend] = []
    reports: list[TrendFile] = []
    for info in names:
        inner = f"{rel}/{info.filename}"
        try:
            member = archive.read(info)
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            reports.append(TrendFile(inner, "unreadable", error=f"cannot read the zip member: {exc}"))
            continue
        got, files = _read_bytes(inner, member)
        trends += got
        reports += files
    if not names:
        reports.append(TrendFile(rel, "empty", error="empty zip"))
    return trends, reports


# -- text files ----------------------------------------------------------------------------------------------

def decode(data: bytes) -> str:
    """UTF-8 (a byte-order mark dropped), else Windows-1252, else Latin-1."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _unconflict(text: str, tally: Tally) -> str:
    """A file committed with git merge-conflict markers: keep the first side, count the rest as rejected."""
    if "<<<<<<<" not in text:
        return text
    lines = re.split(r"\r\n|\r|\n", text)
    out, side = [], 0
    for line in lines:
        if line.startswith("<<<<<<<"):
            side = 1
            tally.rows += 1
            tally.reject("merge-conflict marker")
        elif line.startswith("=======") and side == 1:
            side = 2
            tally.rows += 1
            tally.reject("merge-conflict marker")
        elif line.startswith(">>>>>>>") and side:
            side = 0
            tally.rows += 1
            tally.reject("merge-conflict marker")
        elif side == 2:
            if line.strip(" ,\t"):
                tally.rows += 1
                tally.reject("merge conflict: the other side, not read")
        else:
            out.append(line)
    return "\n".join(out)


def _grid(text: str) -> list[list[str]]:
    """CSV rows; the delimiter is the one most lines hold (a comma unless tabs or semicolons clearly win)."""
    lines = [line for line in re.split(r"\r\n|\r|\n", text[:20000]) if line.strip()][:50]
    counts = {d: sum(1 for line in lines if d in line) for d in (",", "\t", ";")}
    delimiter = max((",", "\t", ";"), key=lambda d: (counts[d], d == ","))
    if counts[","] * 2 >= len(lines):
        delimiter = ","
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _read_text(rel: str, data: bytes, tally: Tally) -> list[Trend]:
    text = _unconflict(decode(data).replace("\r\r\n", "\n"), tally)
    cells = _grid(text)
    first = next(([clean(c) for c in r] for r in cells if any(c.strip() for c in r)), [])
    name = rel.rsplit("/", 1)[-1]
    if first and _trending_fields(first):
        return _read_trending_now(rel, name, cells, tally)
    if first and _CATEGORY_LINE.match(first[0]):
        return _read_explore(rel, name, cells, tally)
    ctx = Context(source=rel, name=name, region=region_in_text(name), dated=file_date(name))
    trends = read_grid(cells, ctx, tally)
    if ctx.titles:
        _refine(trends, ctx, name)
    return trends


def _refine(trends: list[Trend], ctx: Context, name: str) -> None:
    """A title that names the region or the month of a year-only file name corrects what the name alone said."""
    title = " ".join(ctx.titles[:3])
    dated = file_date(name, title)
    region = region_in_text(title) or ctx.region
    if dated == ctx.dated and region == ctx.region:
        return
    for i, t in enumerate(trends):
        changes = {}
        if not t.dated and dated:
            changes["dated"] = dated
        if region != ctx.region and t.region == ctx.region:
            changes["region"] = region
        if changes:
            trends[i] = _replace(t, **changes)


def _replace(t: Trend, **changes) -> Trend:
    from dataclasses import replace
    return replace(t, **changes)


# -- Explore exports -----------------------------------------------------------------------------------------

def _read_explore(rel: str, name: str, cells: list[list[str]], tally: Tally) -> list[Trend]:
    rows = [[clean(c) for c in r] for r in cells]
    markers = [fold(r[0]) for r in rows if r and r[0]]
    if any(m in ("top", "rising", "principais", "em ascensao", "principales", "en aumento") for m in markers) \
            or "related" in fold(name) or "relacionad" in fold(name):
        return _read_related(rel, name, rows, tally)
    ctx = Context(source=rel, name=name, region="", dated=file_date(name), prefix="explore-")
    out = read_grid(rows, ctx, tally)
    return out


def _read_related(rel: str, name: str, rows: list[list[str]], tally: Tally) -> list[Trend]:
    """``relatedQueries.csv``: the queried term's header, then ``TOP`` and ``RISING`` blocks of query, value."""
    tally.layout("explore-related")
    parent, region, dated = "", "", file_date(name)
    block, rank = "top", 0
    out: list[Trend] = []
    for row in rows:
        cells = [c for c in row if c]
        if not cells:
            continue
        tally.rows += 1
        head = fold(cells[0])
        if _CATEGORY_LINE.match(cells[0]):
            tally.reject("title or note line")
            if len(cells) > 1:  # Category: All categories,"term: (dates, Region)"
                parent, region, dated = _related_header(cells[1], dated)
            continue
        if head in ("top", "principais", "principales", "rising", "em ascensao", "en aumento") and len(cells) == 1:
            block, rank = ("rising" if head in ("rising", "em ascensao", "en aumento") else "top"), 0
            tally.reject("title or note line")
            continue
        if len(cells) == 1 and cells[0].endswith(")") and ":" in cells[0]:
            parent, region, dated = _related_header(cells[0], dated)
            tally.reject("title or note line")
            continue
        if len(cells) < 2:
            tally.reject("note line")
            continue
        try:
            value = parse_number(cells[1])
        except ValueError:
            tally.reject(f"not a number: {cells[1][:20]!r}")
            continue
        if value is None:
            tally.reject("no value")
            continue
        rank += 1
        out.append(Trend(term=cells[0], source=rel, kind="related", region=region, score=value, rank=rank,
                         rising=block == "rising" or value >= BREAKOUT, category=parent, dated=dated))
        tally.used += 1
    return out


def _related_header(cell: str, dated: str) -> tuple[str, str, str]:
    term = re.sub(r":\s*\([^()]*\)\s*$", "", clean(cell)).strip()
    return term, region_of_header(cell), dated or period_end(cell)


# -- Trending now --------------------------------------------------------------------------------------------

def _trending_fields(header: list[str]) -> dict[str, int]:
    found = {}
    for j, h in enumerate(header):
        key = _TRENDING_HEADERS.get(fold(h))
        if key is None and fold(h).startswith(("acesse a pagina", "explore", "explorar", "link")):
            key = "link"
        if key and key not in found:
            found[key] = j
    return found if {"term", "volume", "started"} <= set(found) else {}


def _read_trending_now(rel: str, name: str, cells: list[list[str]], tally: Tally) -> list[Trend]:
    tally.layout("trending-now")
    rows = [[clean(c) for c in r] for r in cells if any(c.strip() for c in r)]
    fields = _trending_fields(rows[0])
    tally.rows += len(rows)
    tally.reject("header row")
    dated = file_date(name)
    named = re.search(r"trending_([A-Za-z]{2}(?:-[A-Za-z0-9]+)?|\d+)_", name)
    default_region = named.group(1).upper() if named else region_in_text(name)
    out = []

    def cell(row: list[str], key: str) -> str:
        j = fields.get(key)
        return row[j] if j is not None and j < len(row) else ""

    for row in rows[1:]:
        term = cell(row, "term")
        if not term:
            tally.reject("no term")
            continue
        try:
            volume = parse_volume(cell(row, "volume")) if cell(row, "volume") else 0.0
            started = parse_timestamp(cell(row, "started"))
            ended = parse_timestamp(cell(row, "ended"))
        except ValueError as exc:
            tally.reject(str(exc).split(":")[0])
            continue
        region = default_region
        link = cell(row, "link")
        if link:
            geo = urllib.parse.parse_qs(urllib.parse.urlparse(link).query).get("geo", [""])[0]
            if geo:
                region = geo.upper()
        related = tuple(dict.fromkeys(t.strip() for t in cell(row, "breakdown").split(",") if t.strip()))
        out.append(Trend(term=term, source=rel, kind="trending_now", region=region, score=volume, rising=True,
                         started=started, ended=ended, dated=dated, related=related))
        tally.used += 1
    return out


# -- workbooks -----------------------------------------------------------------------------------------------

def _cell_text(value: object) -> str:
    from datetime import date, datetime
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if (value.hour, value.minute) == (0, 0) else value.isoformat(
            timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _read_workbook(rel: str, data: bytes) -> tuple[list[Trend], list[TrendFile]]:
    import warnings
    import openpyxl
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken workbook
            return [], [TrendFile(rel, "unreadable", error=f"not a readable workbook: {type(exc).__name__}")]
        sheets = [(ws.title, [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)])
                  for ws in book.worksheets]
        book.close()
    name = rel.rsplit("/", 1)[-1]
    region, dated, titles = region_in_text(name), file_date(name), []
    info = [(title, grid) for title, grid in sheets if _is_info(grid)]
    for _, grid in info:
        for row in grid:
            cells = [clean(c) for c in row if clean(c)]
            if len(cells) == 1:
                titles.append(cells[0])
            elif len(cells) >= 2:
                key = fold(cells[0]).rstrip(":")
                if key in ("regions", "region", "country", "location") and resolve(cells[1])[1]:
                    region = resolve(cells[1])[0]
                elif key in ("period", "time frame") and not dated:
                    dated = period_end(cells[1]) or (cells[1][:10] if re.match(r"\d{4}-\d\d-\d\d", cells[1]) else "")
    trends: list[Trend] = []
    reports: list[TrendFile] = []
    for title, grid in sheets:
        path = f"{rel}#{title}"
        tally = Tally()
        if (title, grid) in info:
            n = sum(1 for r in grid if any(clean(c) for c in r))
            tally.rows, tally.layouts = n, ["info"]
            tally.reject("workbook information line", n)
            reports.append(_report(path, tally, [], "workbook information (title, region, period), no data"))
            continue
        own, known = resolve(title)
        ctx = Context(source=path, name=name, sheet=title, region=own if known and ":" not in own else region,
                      dated=dated, titles=list(titles))
        try:
            got = read_grid(grid, ctx, tally)
        except Exception as exc:  # a reader bug must not stop the other sheets
            reports.append(TrendFile(path, "unreadable", error=f"cannot read: {type(exc).__name__}: {exc}"[:300]))
            continue
        if ctx.titles and ctx.titles != titles:
            _refine(got, ctx, name)
        trends += got
        reports.append(_report(path, tally, got))
    if not sheets:
        reports.append(TrendFile(rel, "empty", error="a workbook without sheets"))
    return trends, reports


def _is_info(grid: list[list[str]]) -> bool:
    """A workbook's "Info" sheet: a title and ``Period`` / ``Regions`` / ``Search interest`` lines only."""
    rows = [[clean(c) for c in r if clean(c)] for r in grid]
    rows = [r for r in rows if r]
    if not rows or len(rows) > 8:
        return False
    keys = [fold(r[0]).rstrip(":") for r in rows if len(r) >= 2]
    return bool(keys) and all(k in ("period", "regions", "region", "country", "location", "search interest",
                                    "more info can be found here", "time frame", "methodology", "source")
                              for k in keys)


def summary(read: TrendRead) -> dict:
    """Counts for a report: files, files with trends, trends by kind, files without trends by reason."""
    from collections import Counter
    without = Counter(re.sub(r"\s*\(\d+ of \d+ rows\)$", "", f.error) for f in read.files if f.error)
    return {"files": len(read.files), "with_trends": sum(1 for f in read.files if not f.error),
            "trends": dict(Counter(t.kind for t in read.trends)), "without": dict(without.most_common())}
