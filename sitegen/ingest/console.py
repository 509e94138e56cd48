"""Search Console exports: the one reader every stage uses (represent's console queries, learn's training data).

Accepted files (header names matched case-insensitively, a UTF-8 byte-order mark ignored):

- a "Performance" export's ``Queries.csv`` (``Top queries,Clicks,Impressions,CTR,Position``) or ``Pages.csv``
  (``Top pages,...``; its rows have an empty query);
- a query + page export such as the API's ``Date,Page,Query,Clicks,Impressions,CTR,Position`` or a joined
  ``query,page,clicks,impressions,ctr,position`` CSV (``page`` a page URL, URL path or image id).

Numbers: clicks, impressions and position may use thousands separators (``1,204``) and non-breaking spaces.
CTR is always returned as a fraction: ``45%``, ``45`` and ``0.45`` all mean 0.45 - a value with ``%`` is a
percentage, and so is a bare number above 1; a comma in a CTR is a decimal comma (``33,33%``). ``-`` or an empty
cell is 0. A row without a query (in a file that has a query column) is skipped.

``read_table`` is the file layer every export reader shares (this one and ``sitegen.ingest.signals``): CSV in
UTF-8 (a byte-order mark ignored) or UTF-16 with a byte-order mark, comma, semicolon or tab separated (read from the
header line), quoted cells that span lines, comment lines (``# Start date: 20260501``, as GA4 writes them) before
the header kept apart, blank lines skipped; or a Parquet file (pyarrow).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitegen.core.errors import CatalogError


@dataclass(frozen=True, slots=True)
class ConsoleRow:
    query: str
    page: str  # page URL, URL path or image id; '' for a query-only export
    clicks: int
    impressions: int
    ctr: float  # a fraction, 0..1
    position: float


COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "query": ("query", "top queries", "queries", "top query", "search query", "keyword"),
    "page": ("page", "top pages", "pages", "url", "landing page", "image", "image_id", "item_id", "id"),
    "clicks": ("clicks",),
    "impressions": ("impressions",),
    "ctr": ("ctr", "url ctr", "click through rate"),
    "position": ("position", "avg position", "average position", "avg. position"),
}


def parse_ctr(value: object) -> float:
    """CTR as a fraction: ``'33.33%'`` -> 0.3333, ``'0.25'`` -> 0.25, ``'45'`` -> 0.45 (a bare number above 1
    is a percentage), ``'33,33%'`` -> 0.3333; empty or ``-`` -> 0. Raises ValueError for anything else."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        return number / 100.0 if number > 1.0 else number
    text = str(value if value is not None else "").strip().replace("\u00a0", "").replace(" ", "")
    if text in ("", "-"):
        return 0.0
    text = text.replace(",", ".")
    if text.endswith("%"):
        return float(text[:-1]) / 100.0
    number = float(text)
    return number / 100.0 if number > 1.0 else number


def parse_number(value: object) -> float:
    """A count or position: thousands separators and non-breaking spaces ignored; empty or ``-`` -> 0."""
    text = str(value if value is not None else "").strip().replace(",", "").replace("\u00a0", "")
    return float(text) if text not in ("", "-") else 0.0


@dataclass(frozen=True)
class Table:
    """An export's header and data rows, as ``read_table`` found them."""

    header: list[str]
    rows: list[tuple[int, list[Any]]]  # (line number in the file, or row number of a Parquet file; the cells)
    preamble: list[str] = field(default_factory=list)  # comment lines before the header, without the "#"
    unit: str = "line"  # what the numbers count: "line" (CSV) or "row" (Parquet)


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def read_table(path: str | Path) -> Table:
    """The header and the non-blank rows of a CSV or Parquet export (see the module docstring). Raises
    ``ValueError`` with one line saying why the file cannot be read (the caller names the file)."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".parq", ".pq"):
        try:
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        except Exception as exc:  # pyarrow raises its own error types for a damaged or foreign file
            raise ValueError(f"cannot read the Parquet file: {str(exc).splitlines()[0] if str(exc) else exc}"
                             ) from exc
        columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
        return Table(list(table.column_names), [(n, list(cells)) for n, cells in enumerate(zip(*columns), 1)],
                     unit="row")
    try:
        text = _decode(path.read_bytes())
    except (OSError, UnicodeError) as exc:
        raise ValueError(f"cannot read: {exc}") from exc
    lines = text.splitlines(keepends=True)
    preamble: list[str] = []
    first = 0
    while first < len(lines) and (not lines[first].strip() or lines[first].lstrip().startswith("#")):
        if lines[first].strip():
            preamble.append(lines[first].strip().lstrip("#").strip())
        first += 1
    if first == len(lines):
        return Table([], [], preamble)
    head = lines[first]
    delimiter = max((",", ";", "\t"), key=lambda d: (head.count(d), d == ","))
    reader = csv.reader(io.StringIO("".join(lines[first:]), newline=""), delimiter=delimiter)
    header = next(reader)
    rows: list[tuple[int, list[Any]]] = []
    end = reader.line_num
    for rec in reader:
        start, end = end + 1, reader.line_num  # a quoted cell may hold a line break: the record's first line
        if rec and any(c.strip() for c in rec):
            rows.append((first + start, rec))
    return Table(header, rows, preamble)


def read_console_export(path: str | Path) -> list[ConsoleRow]:
    """Every row of a Search Console export (see the module docstring for the accepted files). Raises
    ``CatalogError`` naming the file (and line) when it cannot be read, has neither a query nor a page column, or
    holds a value that is not a number."""
    path = Path(path)
    try:
        table = read_table(path)
    except ValueError as exc:
        raise CatalogError(f"{path}: cannot read the Search Console export: {exc}") from exc
    header = table.header
    if not header:
        return []
    names = [" ".join(str(h).strip().lower().split()) for h in header]
    index: dict[str, int] = {}
    for key, aliases in COLUMN_ALIASES.items():
        found = next((names.index(a) for a in aliases if a in names), None)
        if found is not None:
            index[key] = found
    if "query" not in index and "page" not in index:
        raise CatalogError(f"{path}: not a Search Console export (no 'Top queries', 'Query' or 'Page' column; "
                           f"header is {', '.join(header)})")
    rows: list[ConsoleRow] = []
    for n, rec in table.rows:
        value = {key: str(rec[i] if rec[i] is not None else "").strip() for key, i in index.items() if i < len(rec)}
        query = value.get("query", "")
        if "query" in index and not query:
            continue
        try:
            rows.append(ConsoleRow(query=query, page=value.get("page", ""),
                                   clicks=int(parse_number(value.get("clicks"))),
                                   impressions=int(parse_number(value.get("impressions"))),
                                   ctr=parse_ctr(value.get("ctr")), position=parse_number(value.get("position"))))
        except ValueError as exc:
            raise CatalogError(f"{path}:{n}: not a number: {exc}") from exc
    return rows


def console_queries(path: str | Path) -> list[str]:
    """The query texts of an export, in file order (a ``Pages.csv`` has none)."""
    return [row.query for row in read_console_export(path) if row.query]
