"""Tables of the official Google Trends data files, whatever their layout (``sitegen.ingest.trends`` calls this).

A grid of cells (a CSV file, a sheet) is cut into side-by-side groups at empty columns and into sections at blank
rows; each section's title lines and ``Period`` / ``Location`` lines are read off, its header found (a second
header row of categories, as in Black Friday's ``Electronics | Apparel | ...``, is kept as each block's category)
and its layout read from its content:

- a date column and term columns, or a term column and date columns: ``series``;
- a place column (countries, states, cities, DMAs) and numbers: ``geo`` (the term is the column's header or the
  file's subject); a place column and columns ranked ``1``, ``#2``, ``SECOND``, ``Most searched``: ``ranking``
  per place; ranks down the side and places across: the same;
- a term column with a rank or a score: ``ranking``; with a growth (``Crescimento``, ``% change``): ``related``
  (rising); blocks repeating side by side (``Rank | Item | Interest | Item | Interest``): one ranking per block;
- a single column: a ``ranking`` list in its order (``1. ...`` numbers kept), or ``text`` when it is prose.

Every non-empty row gets one outcome: used, or rejected with its reason (title line, header, note, not a number).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from sitegen.core.models import Trend
from sitegen.ingest.regions import region_in_text, resolve
from sitegen.ingest.trendlayouts import Context, Row, Table, header_dates, nonempty, number
from sitegen.ingest.trendtext import is_prose, is_rising, is_title_line, subject
from sitegen.ingest.trendvalues import clean, date_kind, fold, period_end

_META_KEYS = {"period", "periodo", "location", "regions", "region", "country", "time frame", "search interest",
              "more info can be found here", "methodology", "source", "fonte", "timeframe", "date range", "local"}
_DECIMAL_COMMA_WORDS = ("crescimento", "pesquisa", "buscas", "busca", "participacao", "em %", "indexwert",
                        "suchinteresse", "intensite", "recherches", "busquedas")


@dataclass
class Tally:
    """What one file (or sheet) gave: its non-empty rows, one outcome each (``""`` = used, else the reason)."""

    rows: int = 0
    used: int = 0
    rejected: Counter = field(default_factory=Counter)
    layouts: list[str] = field(default_factory=list)
    marks: dict[int, str] = field(default_factory=dict)

    def reject(self, reason: str, n: int = 1) -> None:
        if n:
            self.rejected[reason] += n

    def mark(self, row: int, reason: str = "") -> None:
        """Row ``row``'s outcome; being used wins over any reason, else the first reason stays."""
        if reason == "" or row not in self.marks:
            self.marks[row] = reason

    def layout(self, name: str) -> None:
        if name not in self.layouts:
            self.layouts.append(name)

    def settle(self) -> None:
        """Fold the marked rows into the counts (each grid row once)."""
        for reason in self.marks.values():
            if reason:
                self.rejected[reason] += 1
            else:
                self.used += 1
        self.marks = {}


def read_grid(grid: list[list[str]], ctx: Context, tally: Tally) -> list[Trend]:
    """Every trend of a grid (see the module docstring); each non-empty row gets its outcome in ``tally``."""
    rows: list[Row] = [(i, _trim(r)) for i, r in enumerate(grid)]
    while any(r for _, r in rows) and all(not r or not r[0] for _, r in rows):
        rows = [(i, r[1:]) for i, r in rows]
    rows = [(i, r) for i, r in rows if nonempty(r)]
    tally.rows += len(rows)
    trends: list[Trend] = []
    for group in _column_groups(rows):
        for table in _sections(group):
            trends += _read_table(table, ctx, tally)
    for i, _ in rows:
        tally.mark(i, "not read")
    tally.settle()
    return trends


_ODD = re.compile(r"  |[\u00a0\u202f\u2009\n\r\"']")


def _trim(row: list[str]) -> list[str]:
    cells: list[str] = []
    for c in row:
        if "\t" in c and c.strip("\t "):  # a tab-separated row inside one cell
            cells += [clean(p) for p in re.split(r"\t+", c.strip())]
        else:
            c = c.strip()
            cells.append(clean(c) if c and _ODD.search(c) else c)
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _column_groups(rows: list[Row]) -> list[list[Row]]:
    """Side-by-side tables separated by columns empty in every row (cricket by country in 2015, 2011, 2007)."""
    width = max((len(r) for _, r in rows), default=0)
    used = [any(j < len(r) and r[j] for _, r in rows) for j in range(width)]
    spans, start = [], None
    for j, u in enumerate(used + [False]):
        if u and start is None:
            start = j
        elif not u and start is not None:
            spans.append((start, j))
            start = None
    if len(spans) < 2:
        return [rows]
    groups = []
    for a, b in spans:
        group = [(i, _trim(r[a:b])) for i, r in rows]
        groups.append([(i, r) for i, r in group if nonempty(r)])
    return groups


def _sections(rows: list[Row]) -> list[list[Row]]:
    """Blocks of consecutive rows (a blank row ends one); a block of data rows shaped like the table before it
    continues that table, and single lines before a table are its titles."""
    blocks: list[list[Row]] = []
    last = None
    for i, r in rows:
        if last is None or i != last + 1:
            blocks.append([])
        blocks[-1].append((i, r))
        last = i
    out: list[list[Row]] = []
    pending: list[Row] = []
    for block in blocks:
        width = max(len(nonempty(r)) for _, r in block)
        if out and not pending and _continues(out[-1], block):
            out[-1].extend(block)
            continue
        if width <= 1:
            if pending and _list_like(pending) and not _list_like(block):
                out.append(pending)
                pending = []
            pending.extend(block)
            continue
        out.append(pending + block)
        pending = []
    if pending:
        out.append(pending)
    return out


def _list_like(block: list[Row]) -> bool:
    return len(block) >= 3 and not all(is_title_line(nonempty(r)[0]) for _, r in block)


def _continues(table: list[Row], block: list[Row]) -> bool:
    width = max(len(r) for _, r in table)
    if width < 2:
        return False
    return all(len(nonempty(r)) >= 2 and len(r) <= width + 1 and not is_title_line(r[0]) for _, r in block) \
        and any(number(c) is not None for c in block[0][1][1:])


def _is_meta(cells: list[str]) -> bool:
    if len(cells) != 2:
        return False
    key = fold(cells[0]).rstrip(":").strip()
    if key not in _META_KEYS:
        return False
    if key in ("region", "regions", "country", "location", "local"):
        return resolve(cells[1])[1] or "," in cells[1]
    return True


def _read_table(rows: list[Row], ctx: Context, tally: Tally) -> list[Trend]:
    width = max(len(nonempty(r)) for _, r in rows)
    if width <= 1:
        return _read_list([(i, nonempty(r)[0]) for i, r in rows], ctx, tally)
    titles, region, dated = [], ctx.region, ctx.dated
    k = 0
    while k < len(rows):
        i, r = rows[k]
        cells = nonempty(r)
        if len(cells) == 1:
            titles.append(cells[0])
        elif _is_meta(cells):
            key = fold(cells[0]).rstrip(":")
            if key in ("region", "regions", "country", "location", "local") and resolve(cells[1])[1]:
                region = resolve(cells[1])[0]
            elif key in ("period", "periodo", "time frame", "timeframe", "date range"):
                dated = dated or period_end(cells[1])
        else:
            break
        tally.mark(i, "title or note line")
        k += 1
    if not titles and ctx.titles:
        titles = list(ctx.titles)
    elif titles:
        ctx.titles = titles
    if not region and titles:
        region = region_in_text(" ".join(titles[:2]))
    body = rows[k:]
    if not body:
        return []
    local = Context(ctx.source, ctx.name, ctx.sheet, region, dated, titles, ctx.prefix)
    lang = fold(" ".join([*titles, *body[0][1]]))
    decimal_comma = any(w in lang for w in _DECIMAL_COMMA_WORDS)
    header, groups, body = _header(body, tally)
    return _read_blocks(header, groups, body, local, tally, decimal_comma)


def _header(body: list[Row], tally: Tally) -> tuple[list[str], list[str], list[Row]]:
    """The header row (synthesised when the first row is data), a category row above it when there is one
    (a sparse row of group names over a full row of column names), and the data rows."""
    first = body[0][1]
    numbers = [j for j, c in enumerate(first) if j and c and number(c) is not None]
    later_numbers = {j for _, r in body[1:4] for j, c in enumerate(r) if c and number(c) is not None}
    looks_data = bool(numbers) and len(numbers) >= len(nonempty(first[1:])) * 0.5 and (
        len(body) == 1 or any(j in later_numbers for j in numbers)) and len(header_dates(first)) < 3
    if looks_data or (date_kind(first[0])[0] == "date" and not header_dates(first)):
        return [""] * max(len(r) for _, r in body), [], body  # no header: the first row is data
    tally.mark(body[0][0], "header row")
    if len(body) > 1:
        second = body[1][1]
        gaps = sum(1 for c in first[:len(second)] if not c)
        if gaps and len(nonempty(second)) > len(nonempty(first)) and not any(
                number(c) is not None for c in second if c) and not is_title_line(second[0] or "x"):
            tally.mark(body[1][0], "header row")
            groups, label = [], ""
            for j in range(len(second)):
                label = first[j] if j < len(first) and first[j] else label
                groups.append(label)
            return second, groups, body[2:]
    return first, [], body[1:]


def _blocks(header: list[str]) -> list[list[int]]:
    """Column blocks repeating side by side (``country | UK rank | country | US rank``, ``Rank | Item | Interest |
    Item | Interest``): one list of column indexes per block, shared leading columns in each; one block when
    the header does not repeat."""
    n = len(header)
    keys = [fold(h) for h in header]
    for shared in (0, 1):
        for period in (2, 3):
            span = n - shared
            if span < 2 * period or span % period:
                continue
            blocks = [list(range(shared + b * period, shared + (b + 1) * period)) for b in range(span // period)]
            same = [bool(keys[blocks[0][k]]) and all(keys[blk[k]] == keys[blocks[0][k]] for blk in blocks)
                    for k in range(period)]
            if any(same):
                return [list(range(shared)) + blk for blk in blocks]
    return [list(range(n))]


def _read_blocks(header: list[str], groups: list[str], body: list[Row], ctx: Context, tally: Tally,
                 decimal_comma: bool) -> list[Trend]:
    blocks = _blocks(header) if len(header_dates(header)) < 2 else [list(range(len(header)))]
    trends: list[Trend] = []
    for cols in blocks:
        label = next((groups[j] for j in cols if j < len(groups) and groups[j]), "") if groups else ""
        if not label and len(blocks) > 1:
            counts = Counter(fold(header[j]) for b in blocks for j in b)
            label = next((header[j] for j in cols if counts[fold(header[j])] == 1), "")
        place, known = resolve(label) if label else ("", False)
        local = ctx if not known or ":" in place else Context(ctx.source, ctx.name, ctx.sheet, place, ctx.dated,
                                                               ctx.titles, ctx.prefix)
        table = Table([header[j] if j < len(header) else "" for j in cols],
                       [(i, [r[j] if j < len(r) else "" for j in cols]) for i, r in body], local, label,
                       decimal_comma)
        trends += table.read()
        for i, why in table.outcome.items():
            tally.mark(i, why)
        tally.layout(ctx.prefix + table.layout)
    for i, r in body:
        tally.mark(i, "note line" if len(nonempty(r)) <= 1 else "no usable value")
    return trends


def _read_list(lines: list[tuple[int, str]], ctx: Context, tally: Tally) -> list[Trend]:
    """A single column: titles, ``Heading:`` lines, then one searched term per line."""
    titles, items, heading, title_rows = [], [], "", []
    for i, line in lines:
        numbered = re.match(r"^(\d{1,3})[.)]\s+(.+)$", line)
        if (not items and is_title_line(line) and not numbered) or line.endswith(":"):
            titles.append(line)
            title_rows.append(i)
            heading = line.rstrip(":").strip() if line.endswith(":") else heading
            continue
        items.append((i, int(numbered.group(1)) if numbered else 0, numbered.group(2) if numbered else line, heading))
    if not items and is_prose(titles):
        tally.layout(ctx.prefix + "text")
        for i in title_rows:
            tally.mark(i, "prose, not a list of searches")
        return []
    for i in title_rows:
        tally.mark(i, "title or note line")
    if not items:
        ctx.titles = titles or ctx.titles
        return []
    all_titles = [t for t in titles if not t.endswith(":")] or ctx.titles or titles
    if is_prose([text for _, _, text, _ in items]):
        tally.layout(ctx.prefix + "text")
        for i, *_ in items:
            tally.mark(i, "prose, not a list of searches")
        for i, line in lines:
            if is_prose([line]):
                tally.marks[i] = "prose, not a list of searches"
        return []
    tally.layout(ctx.prefix + "list")
    about = subject(all_titles, ctx.name)
    rising = is_rising(" ".join(titles))
    out, position, last = [], 0, None
    for i, rank, text, head in items:
        position = 1 if head != last else position + 1
        last = head
        out.append(Trend(term=clean(text), source=ctx.source, kind="related" if rising else "ranking",
                         region=ctx.region, rank=rank or position, rising=rising,
                         category=clean(head or ctx.sheet or about), dated=ctx.dated))
        tally.mark(i)
    return out
