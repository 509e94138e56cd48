"""Judgments to and from CSV, columns ``topic,item_id,grade,source,rater,at`` (``sitegen judgments export`` /
``import``).

Import checks every row and names each bad one by its line in the file (the header is line 1): an empty
topic, an item id the store does not know (items of the last build), a grade that is not a whole number
from 1 to 5, a human grade without a rater. ``source`` and ``rater`` given as options replace the file's
columns; without either, the column, then ``human`` for the source. An empty ``at`` keeps the time of the
same grade already stored (else the time of the import), so importing one file twice changes nothing. A
pair graded twice by one rater in the file keeps the last row.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, TextIO

from sitegen.core.errors import SitegenError
from sitegen.core.models import Judgment
from sitegen.learn.relevance.human import MEDIAN_RATER, SOURCE
from sitegen.learn.relevance.judge import now

COLUMNS = ["topic", "item_id", "grade", "source", "rater", "at"]
REQUIRED = ("topic", "item_id", "grade")


@dataclass(frozen=True)
class RowError:
    line: int  # line of the file the row starts on (the header is line 1)
    message: str


@dataclass
class CsvImport:
    judgments: list[Judgment] = field(default_factory=list)  # the valid rows, one per (topic, item, source, rater)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0  # data rows read
    repeated: int = 0  # rows that replaced an earlier row of the same pair and rater


def write_csv(judgments: Iterable[Judgment], out: TextIO) -> int:
    """Write the judgments with a header; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    n = 0
    for j in judgments:
        writer.writerow([j.topic, j.item_id, j.grade, j.source, j.rater, j.at])
        n += 1
    return n


def read_csv(path: str | Path, known_items: set[str], *, source: str | None = None, rater: str | None = None,
             existing: Iterable[Judgment] = (), encoding: str = "utf-8-sig") -> CsvImport:
    """Parse and check a judgments CSV (see the module docstring). ``existing``: the stored grades, for the
    time of an unchanged grade."""
    stored = {(j.topic, j.item_id, j.source, j.rater): j for j in existing}
    result = CsvImport()
    kept: dict[tuple[str, str, str, str], Judgment] = {}
    stamp = now()
    try:
        with open(path, newline="", encoding=encoding) as f:
            reader = csv.reader(f)
            try:
                header = next(reader)
            except StopIteration:
                raise SitegenError(f"{path}: the file is empty (expected the header {','.join(COLUMNS)})") from None
            names = [h.strip().lower() for h in header]
            missing = [c for c in REQUIRED if c not in names]
            if missing:
                raise SitegenError(f"{path}: line 1: no column {', '.join(missing)} (expected {','.join(COLUMNS)})")
            col = {c: names.index(c) for c in COLUMNS if c in names}
            line = reader.line_num + 1
            for row in reader:
                start, line = line, reader.line_num + 1
                if not any(cell.strip() for cell in row):
                    continue
                result.rows += 1
                got, problems = _row(row, col, known_items, source, rater)
                if problems:
                    result.errors.append(RowError(start, "; ".join(problems)))
                    continue
                topic, item_id, grade, src, who, at = got
                key = (topic, item_id, src, who)
                if not at:
                    old = stored.get(key)
                    at = old.at if old is not None and old.grade == grade and old.at else stamp
                if key in kept:
                    result.repeated += 1
                kept[key] = Judgment(topic, item_id, grade, src, who, at)
    except UnicodeDecodeError as exc:
        raise SitegenError(f"{path}: not {encoding} text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise SitegenError(f"{path}: line {reader.line_num}: {exc}") from None
    result.judgments = list(kept.values())
    return result


def _row(row: list[str], col: dict[str, int], known: set[str], source: str | None, rater: str | None
         ) -> tuple[tuple, list[str]]:
    def cell(name: str) -> str:
        i = col.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    problems = []
    topic, item_id, raw = cell("topic"), cell("item_id"), cell("grade")
    if not topic:
        problems.append("empty topic")
    if not item_id:
        problems.append("empty item_id")
    elif item_id not in known:
        problems.append(f"unknown item id {item_id!r}")
    grade = None
    try:
        grade = int(raw)
    except ValueError:
        pass
    if grade is None or not 1 <= grade <= 5:
        problems.append(f"grade must be a whole number from 1 to 5, not {raw!r}")
    src = source if source is not None else (cell("source") or SOURCE)
    who = rater if rater is not None else cell("rater")
    if src == SOURCE and not who:
        problems.append("a human grade needs a rater: add a rater column or pass --rater NAME")
    elif src == SOURCE and who == MEDIAN_RATER:
        problems.append(f"rater {MEDIAN_RATER!r} is reserved for the human judge's median grades")
    return (topic, item_id, grade, src, who, cell("at")), problems
