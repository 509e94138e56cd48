"""One table of a Google Trends data file and the reading of its layout (``trendtables`` finds the tables).

``Table(header, rows, context, label, decimal_comma).read()`` tells its layout from its content - a wide or long
``series``, places with numbers (``geo``) or with ranked columns (``ranking`` per place), ranks down the side and
places across, a term column with a rank, a score or a growth (``ranking``, ``related``) - and gives its trends;
``outcome`` maps each row it used to ``""`` and each row it rejected to the reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sitegen.core.models import Trend
from sitegen.ingest.regions import region_of_header, resolve, resolve_code
from sitegen.ingest.trendtext import (header_term, is_growth_header, is_rank_header, is_rising, is_title_line,
                                      rank_label, subject)
from sitegen.ingest.trendvalues import BREAKOUT, clean, date_kind, fold, parse_number

PLACE_LEVEL = {  # header words -> how specific the place is (0 country ... 2 city)
    "country": 0, "countries": 0, "pais": 0, "land": 0, "nation": 0,
    "state": 1, "states": 1, "region": 1, "regions": 1, "regiao": 1, "province": 1, "provincia": 1, "estado": 1,
    "territory": 1, "department": 1, "departement": 1, "bundesland": 1, "county se": 1, "county eng": 1,
    "subregion": 1, "us state": 1, "ranking state": 1,
    "city": 2, "cities": 2, "cidade": 2, "ciudad": 2, "ville": 2, "dma": 2, "metro": 2, "metropolitan area": 2,
    "county": 2, "countyname": 2, "district": 2, "capital": 2, "municipality": 2, "municipio": 2, "place": 2,
    "location": 2, "geo": 2, "uk city": 2, "landkreis name": 2, "place combined": 3,
}
_CODE_WORDS = ("fips", "code", "iso", "lat", "long", "id no", "zip", "geotype", "dma id")
_NOT_INTEREST = ("year", "release", "gdp", "population", "gold", "silver", "bronze", "medal", "votes", "ano ")
_SAMPLE = 120  # cells looked at to tell a column's kind


@dataclass
class Context:
    """Where a grid comes from and what its workbook or file already says."""

    source: str  # Trend.source
    name: str  # the file name (its date, its subject)
    sheet: str = ""
    region: str = ""  # the file's region ("" = worldwide or not stated)
    dated: str = ""
    titles: list[str] = field(default_factory=list)  # titles seen so far (an earlier section, an Info sheet)
    prefix: str = ""  # "explore-" for Explore exports


Row = tuple[int, list[str]]  # (row number in the grid, cells)


def nonempty(cells: list[str]) -> list[str]:
    return [c for c in cells if c]


def number(cell: str, decimal_comma: bool = False) -> float | None:
    try:
        return parse_number(cell, decimal_comma)
    except ValueError:
        return None


def header_dates(header: list[str]) -> list[int]:
    """Indexes of header cells that are dates (a wide series); bare years count when three or more follow."""
    years = sum(1 for c in header[1:] if c.isdigit() and 1900 <= int(c) <= 2100) >= 3
    return [j for j, c in enumerate(header) if j and c and date_kind(c, years=years)[0] == "date"]


class Table:
    """One block: header cells, data rows, and the reading of its layout."""

    def __init__(self, header: list[str], body: list[Row], ctx: Context, label: str, decimal_comma: bool):
        self.header, self.body, self.ctx, self.label = header, body, ctx, label
        self.decimal_comma = decimal_comma
        self.outcome: dict[int, str] = {}
        self.layout = "table"
        notes = [nonempty(r)[0] for _, r in body if len(nonempty(r)) == 1 and is_title_line(nonempty(r)[0])]
        self.subject = subject(ctx.titles + notes[:2], ctx.name)
        self.width = max([len(header)] + [len(r) for _, r in body])
        self._kinds: dict[int, str] = {}
        self._numeric: dict[int, bool] = {}
        self._years: set[int] = set()
        self._context: dict[int, str] = {}

    # -- outcomes and cells ----------------------------------------------------------------------------------

    def use(self, i: int) -> None:
        self.outcome[i] = ""

    def skip(self, i: int, reason: str) -> None:
        self.outcome.setdefault(i, reason)

    def cell(self, r: list[str], j: int) -> str:
        return r[j] if j < len(r) else ""

    def head(self, j: int) -> str:
        return self.header[j] if j < len(self.header) else ""

    def sample(self, j: int) -> list[str]:
        out = []
        for _, r in self.body:
            c = self.cell(r, j)
            if c:
                out.append(c)
                if len(out) >= _SAMPLE:
                    break
        return out

    def share(self, j: int, test) -> float:
        cells = self.sample(j)
        return sum(1 for c in cells if test(c)) / len(cells) if cells else 0.0

    def numeric(self, j: int) -> bool:
        if j not in self._numeric:
            self._numeric[j] = self.share(j, lambda c: number(c, self.decimal_comma) is not None) >= 0.6
        return self._numeric[j]

    def kind(self, j: int) -> str:
        """``date``, ``time``, ``noyear``, ``number``, ``text`` or ``empty``: what a column holds."""
        if j not in self._kinds:
            self._kinds[j] = self._kind(j)
        return self._kinds[j]

    def _kind(self, j: int) -> str:
        cells = self.sample(j)
        if not cells:
            return "empty"
        years = fold(self.head(j)) in ("year", "ano", "jahr", "annee") or (
            j == 0 and sum(c.isdigit() and 1900 <= int(c) <= 2100 for c in cells) >= 0.8 * len(cells)
            and len(set(cells)) >= 3)
        if years:
            self._years.add(j)
            return "date"
        if self.numeric(j):
            return "number"
        counts = Counter(date_kind(c)[0] for c in cells)
        for kind in ("date", "time", "noyear"):
            if counts[kind] >= 0.7 * len(cells):
                return kind
        return "text"

    def is_code(self, j: int) -> bool:
        h = fold(self.head(j))
        return any(w in h for w in _CODE_WORDS)

    # -- reading ---------------------------------------------------------------------------------------------

    def read(self) -> list[Trend]:
        heads = [fold(c) for c in self.header]
        if any(heads):
            for i, r in self.body:
                if r and r[0] == self.header[0] and [fold(c) for c in r[: len(self.header)]] == heads:
                    self.skip(i, "repeated header")
        dates = header_dates(self.header)
        if len(dates) >= 2:
            return self.wide_series(dates)
        for j in range(self.width):
            kind = self.kind(j)
            if kind in ("date", "time", "noyear"):
                return self.long_series(j, kind)
            if kind == "text":
                break
        places = self.place_columns()
        if self.transposed_ranks():
            return self.rank_matrix_transposed()
        key = next((j for j in range(self.width) if self.kind(j) == "text" and not self.is_code(j)), None)
        if key is None:
            for i, _ in self.body:
                self.skip(i, "no term or place column")
            return []
        if places and (key in places or all(self.kind(x) != "text" or self.is_code(x) or rank_label(self.head(x))
                                            for x in range(min(places)))):
            return self.by_place(places)
        return self.by_term(key)

    def place_columns(self) -> list[int]:
        """Columns of place names, most general first (country, state, city). A column counts when most of its
        names resolve, or when its header names a place and it comes before (or instead of) such a column."""
        strong, weak = [], []
        for j in range(self.width):
            head = fold(self.head(j))
            if "iso" in head and self.share(j, lambda c: bool(resolve_code(c))) >= 0.6:
                strong.append((-1, j))
                continue
            if self.is_code(j) or self.kind(j) != "text" or rank_label(self.head(j)):
                continue
            h = head.replace("_", " ").replace("/", " ").replace(".x", "").strip()
            level = PLACE_LEVEL.get(h)
            if level is None and h and len(h.split()) <= 3:
                level = next((v for k, v in PLACE_LEVEL.items() if h.endswith(" " + k) or h.startswith(k + " ")),
                             None)
            known = self.share(j, lambda c: resolve(c, self.ctx.region)[1])
            if not self.ctx.region:  # a column of Brazilian states: "Federal District" is BR-DF there
                heads = Counter(resolve(c)[0].split(":")[0].split("-")[0] for c in self.sample(j))
                top, n = heads.most_common(1)[0] if heads else ("", 0)
                if top and n >= 0.6 * len(self.sample(j)) and any("-" in resolve(c)[0] for c in self.sample(j)):
                    self._context[j] = top
                    known = self.share(j, lambda c: resolve(c, top)[1])
            if known >= 0.6 or (level is not None and known >= 0.3):
                strong.append((level if level is not None else 1, j))
            elif level is not None:
                weak.append((level, j))
        first_strong = min((j for _, j in strong), default=None)
        keep = strong + [(lv, j) for lv, j in weak if first_strong is None or j < first_strong]
        return [j for _, j in sorted(keep)]

    def place_of(self, r: list[str], places: list[int]) -> str:
        where, name = self.ctx.region, ""
        for j in places:
            c = self.cell(r, j)
            if not c:
                continue
            if "iso" in fold(self.head(j)):
                code = resolve_code(c)
                if code:
                    where = code
                    continue
            region, known = resolve(c, where.split(":")[0] or self._context.get(j, ""))
            if known and (not where or region.startswith(where.split(":")[0]) or "-" not in region):
                where = region
            else:
                name = c
        if name and ":" not in where:
            return f"{where}:{name}" if where else name
        return where

    def header_term_region(self, j: int) -> tuple[str, str]:
        """A value column's term and region: ``house pet: (Canada)``; a column named for a place (``Alabama
        [us-al]``, ``France``, ``World (excl. France)``) is the subject's interest there."""
        h = self.head(j)
        term = header_term(h)
        region = region_of_header(h) if h.rstrip().endswith(")") and ":" in h else ""
        if term and not region:
            place, known = resolve(term, self.ctx.region)
            if known and not any(ch.isdigit() for ch in term) and len(term) > 1:
                return self.subject, place
        return (term or self.subject), (region or self.ctx.region)

    def wide_series(self, dates: list[int]) -> list[Trend]:
        self.layout = "series"
        iso = {j: date_kind(self.head(j), years=True)[1] for j in dates}
        texts = [j for j in range(self.width) if j not in iso and self.kind(j) == "text"]
        key = texts[0] if texts else 0
        category = texts[1] if len(texts) > 1 else None
        out = []
        for i, r in self.body:
            if i in self.outcome:
                continue
            term = self.cell(r, key)
            points, text_cells = [], 0
            for j in dates:
                c = self.cell(r, j)
                value = number(c, self.decimal_comma) if c else None
                if value is not None:
                    points.append((iso[j], value))
                elif c:
                    text_cells += 1
            if not term:
                self.skip(i, "no term")
            elif not points:
                self.skip(i, "text under date columns (a top item per date), not interest" if text_cells
                          else "no value")
            else:
                cat = self.cell(r, category) if category is not None else self.label
                out.append(self.trend(term, "series", points=tuple(sorted(points)), category=cat))
                self.use(i)
        return out

    def long_series(self, key: int, kind: str) -> list[Trend]:
        self.layout = "series"
        if kind != "date":
            why = "time of day without a date" if kind == "time" else "day without a year"
            for i, _ in self.body:
                self.skip(i, why)
            return []
        values = [j for j in range(self.width) if j != key and self.numeric(j) and self.kind(j) == "number"]
        if not values:
            self.layout = "table"
            for i, _ in self.body:
                self.skip(i, "a dated table of text, no search values")
            return []
        years = key in self._years
        series: dict[int, list[tuple[str, float]]] = {j: [] for j in values}
        for i, r in self.body:
            if i in self.outcome:
                continue
            c = self.cell(r, key)
            iso = date_kind(c, years=years)[1] if c else ""
            if not iso:
                self.skip(i, f"not a date: {c[:30]!r}" if c else "no date")
                continue
            got = False
            for j in values:
                value = number(self.cell(r, j), self.decimal_comma) if self.cell(r, j) else None
                if value is not None:
                    series[j].append((iso, value))
                    got = True
            if got:
                self.use(i)
            else:
                self.skip(i, "no value")
        out = []
        for j, points in series.items():
            if points:
                term, region = self.header_term_region(j)
                out.append(self.trend(term, "series", region=region, points=tuple(sorted(points))))
        return out

    def transposed_ranks(self) -> bool:
        """Ranks down the first column and places across (``Ranking/State | ACT | NSW ...``)."""
        if self.width < 3 or self.kind(0) != "number":
            return False
        heads = [self.head(j) for j in range(1, self.width)]
        known = sum(1 for h in heads if resolve(h, self.ctx.region)[1])
        return known >= 0.6 * len(heads) and all(self.kind(j) == "text" for j in range(1, self.width))

    def rank_matrix_transposed(self) -> list[Trend]:
        self.layout = "ranking"
        out = []
        for i, r in self.body:
            rank = number(self.cell(r, 0))
            if rank is None:
                self.skip(i, "no rank")
                continue
            for j in range(1, len(r)):
                if r[j]:
                    region = resolve(self.head(j), self.ctx.region)[0]
                    out.append(self.trend(r[j], "ranking", region=region, rank=int(rank),
                                          category=self.label or self.subject))
                    self.use(i)
        return out

    def by_place(self, places: list[int]) -> list[Trend]:
        others = [j for j in range(self.width) if j not in places]
        ranked = [(j, rank_label(self.head(j))) for j in others if self.kind(j) == "text"]
        ranked = [(j, r) for j, r in ranked if r]
        rank_cols = [j for j in others if is_rank_header(self.head(j)) and self.numeric(j)]
        values = [j for j in others if j not in rank_cols and self.kind(j) == "number" and not self.is_code(j)
                  and not rank_label(self.head(j)) and not fold(self.head(j)).startswith(_NOT_INTEREST)]
        scores_of: dict[str, int] = {}
        if ranked and values:  # "FIRST .. TENTH" and a column per term: the numbers score the ranked terms
            scores_of = {fold(self.head(j)): j for j in values}
            values = []
        rank_only = not values and bool(rank_cols)  # "country, Rank of interest in Fifa": the rank is the value
        if rank_only:
            values, rank_cols = rank_cols[:1], []
        texts = [] if ranked or values else [j for j in others if not self.is_code(j) and self.kind(j) == "text"]
        terms = {j: self.header_term_region(j)[0] for j in values}
        self.layout = ("geo+ranking" if ranked else "geo") if values else "ranking"
        out = []
        for i, r in self.body:
            if i in self.outcome:
                continue
            if not any(self.cell(r, j) for j in places):
                self.skip(i, "no place")
                continue
            region = self.place_of(r, places)
            rank = int(number(self.cell(r, rank_cols[0])) or 0) if rank_cols else 0
            got = False
            for j, rk in ranked:
                c = self.cell(r, j)
                if c and number(c) is None:
                    col = scores_of.get(fold(c))
                    score = (number(self.cell(r, col), self.decimal_comma) or 0.0) if col is not None else 0.0
                    out.append(self.trend(c, "ranking", region=region, rank=rk, score=score,
                                          category=self.label or self.subject))
                    got = True
            for j in values:
                c = self.cell(r, j)
                value = number(c, self.decimal_comma) if c else None
                if value is None:
                    continue
                term = terms[j]
                if rank_only:
                    out.append(self.trend(term, "geo", region=region, rank=int(value), category=self.label))
                else:
                    out.append(self.trend(term, "geo", region=region, score=value, rank=rank, category=self.label))
                got = True
            for j in texts:
                c = self.cell(r, j)
                if c:
                    cat = (header_term(self.head(j)) if len(texts) > 1 else "") or self.label or self.subject
                    out.append(self.trend(c, "ranking", region=region, rank=1, category=cat))
                    got = True
            if got:
                self.use(i)
            else:
                self.skip(i, "no value" if values else "no ranked term")
        return out

    def by_term(self, key: int) -> list[Trend]:
        others = [j for j in range(self.width) if j != key]
        growth = [j for j in others if is_growth_header(self.head(j))
                  and self.share(j, lambda c: number(c, self.decimal_comma) is not None) >= 0.5]
        rank_cols = [j for j in others if j not in growth and self.numeric(j) and (
            is_rank_header(self.head(j)) or (j < key and not header_term(self.head(j))))]
        by_region: list[tuple[int, str]] = []
        scores: list[int] = []
        for j in others:
            if j in growth or j in rank_cols or not self.numeric(j) or self.is_code(j):
                continue
            h = (header_term(self.head(j)) or "").replace("_", " ").strip()
            place, known = resolve(h, self.ctx.region) if h else ("", False)
            if known and not any(ch.isdigit() for ch in h) and fold(h) not in ("all", "total"):
                by_region.append((j, place))
            elif not fold(self.head(j)).startswith(_NOT_INTEREST):
                scores.append(j)
        kind = "related" if growth else "ranking"
        self.layout = kind
        texts = [j for j in others if self.kind(j) == "text"]
        if not (growth or rank_cols or scores or by_region) and len(texts) >= 2:
            self.layout = "table"
            for i, _ in self.body:
                self.skip(i, "a table of text, no search values")
            return []
        rising = bool(growth) or is_rising(" ".join(self.ctx.titles + [self.label]))
        sheet = self.ctx.sheet if self.ctx.sheet and not fold(self.ctx.sheet).startswith(
            ("sheet", "pagina", "planilha", "feuil", "tabelle")) else ""
        category = self.label or sheet or self.subject
        out, position = [], 0
        for i, r in self.body:
            if i in self.outcome:
                continue
            term = self.cell(r, key)
            if not term:
                self.skip(i, "no term")
                continue
            if term.endswith(":") or (len(nonempty(r)) == 1 and is_title_line(term)):
                self.skip(i, "note line")
                continue
            rank = position + 1
            if rank_cols and number(self.cell(r, rank_cols[0])) is not None:
                rank = int(number(self.cell(r, rank_cols[0])))
            if growth:
                c = self.cell(r, growth[0])
                value = number(c, self.decimal_comma) if c else None
                if value is None:
                    self.skip(i, f"not a number: {c[:20]!r}" if c else "no value")
                    continue
                out.append(self.trend(term, "related", score=value, rank=rank, rising=True, category=category))
                position += 1
                self.use(i)
                continue
            got = False
            for j, place in by_region:
                c = self.cell(r, j)
                value = number(c, self.decimal_comma) if c else None
                if value is not None:
                    out.append(self.trend(term, kind, region=place, score=value, rank=rank, rising=rising,
                                          category=category))
                    got = True
            if not got:
                cells = [self.cell(r, j) for j in scores if self.cell(r, j)]
                values = [v for v in (number(c, self.decimal_comma) for c in cells) if v is not None]
                if scores and not values and not rank_cols:
                    self.skip(i, f"not a number: {cells[0][:20]!r}" if cells else "no value")
                    continue
                out.append(self.trend(term, kind, score=values[0] if values else 0.0, rank=rank, rising=rising,
                                      category=category))
            position += 1
            self.use(i)
        return out

    def trend(self, term: str, kind: str, region: str | None = None, points: tuple = (), score: float = 0.0,
              rank: int = 0, rising: bool = False, category: str = "") -> Trend:
        return Trend(term=clean(term), source=self.ctx.source, kind=kind,  # type: ignore[arg-type]
                     region=self.ctx.region if region is None else region, points=points, score=float(score),
                     rank=int(rank), rising=rising or (kind == "related" and score >= BREAKOUT),
                     category=clean(category), dated=self.ctx.dated)
