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
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

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


def read_console_export(path: str | Path) -> list[ConsoleRow]:
    """Every row of a Search Console export (see the module docstring for the accepted files). Raises
    ``CatalogError`` naming the file (and line) when it cannot be read, has neither a query nor a page column, or
    holds a value that is not a number."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read the Search Console export: {exc}") from exc
    reader = csv.reader(io.StringIO(text, newline=""))  # a quoted query may hold a line break
    header = next(reader, None)
    if not header:
        return []
    names = [" ".join(h.strip().lower().split()) for h in header]
    index: dict[str, int] = {}
    for key, aliases in COLUMN_ALIASES.items():
        found = next((names.index(a) for a in aliases if a in names), None)
        if found is not None:
            index[key] = found
    if "query" not in index and "page" not in index:
        raise CatalogError(f"{path}: not a Search Console export (no 'Top queries', 'Query' or 'Page' column; "
                           f"header is {', '.join(header)})")
    rows: list[ConsoleRow] = []
    for n, rec in enumerate(reader, 2):
        if not rec or all(not c.strip() for c in rec):
            continue
        value = {key: rec[i].strip() for key, i in index.items() if i < len(rec)}
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
