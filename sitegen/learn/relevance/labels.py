"""Graded query-item pairs from a labelled CSV (any relevance data set: a query column, an item title, an
optional description, a grade) and the split by query that every relevance evaluation uses.

The CSV is read as RFC 4180 (quoted fields may hold newlines and commas); HTML in the text columns is reduced to
its text (tags dropped, entities decoded, whitespace collapsed). An item's text is its title and its
description joined like ``sitegen.core.text.item_text`` joins an item's fields (" . "), the description cut to
``DESCRIPTION_CHARS`` characters (models read the first tokens only).
"""

from __future__ import annotations

import csv
import html
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sitegen.core.errors import SitegenError

DESCRIPTION_CHARS = 600
_TAG = re.compile(r"<[^>]{0,2000}>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class LabelledPairs:
    """Graded (query, item text) pairs, row order kept; ``grades`` are floats (means of raters allowed)."""

    queries: list[str]
    titles: list[str]
    texts: list[str]  # title . description
    grades: np.ndarray
    source: str = ""
    skipped: int = 0  # rows without a query, a title or a numeric grade

    def __len__(self) -> int:
        return len(self.queries)

    def scale(self) -> tuple[int, int]:
        """The integer grade range the data uses: (lowest, highest) level."""
        if not len(self.grades):
            raise SitegenError(f"{self.source or 'the labels'}: no graded rows")
        return int(math.floor(float(self.grades.min()))), int(math.ceil(float(self.grades.max())))


def clean_text(value: str) -> str:
    """Plain text from a catalog or label field that may hold HTML."""
    if "<" in value or "&" in value:
        value = html.unescape(_TAG.sub(" ", value))
    return _SPACE.sub(" ", value).strip()


def pair_text(title: str, description: str = "") -> str:
    """The one text a labelled item is read by: title . description (cut)."""
    title, description = clean_text(title), clean_text(description)[:DESCRIPTION_CHARS]
    return " . ".join(p for p in (title, description) if p)


def read_labels_csv(path: str | Path, *, query_col: str, title_col: str, grade_col: str, text_col: str = "",
                    encoding: str = "utf-8") -> LabelledPairs:
    """The graded pairs of a CSV file; a missing column or an unreadable file is one clear error."""
    path = Path(path)
    csv.field_size_limit(min(sys.maxsize, 1 << 30))
    queries: list[str] = []
    titles: list[str] = []
    texts: list[str] = []
    grades: list[float] = []
    skipped = 0
    try:
        with path.open(encoding=encoding, newline="") as fh:
            reader = csv.DictReader(fh)
            columns = reader.fieldnames or []
            wanted = [c for c in (query_col, title_col, grade_col, text_col) if c]
            missing = [c for c in wanted if c not in columns]
            if missing:
                raise SitegenError(f"{path}: no column {', '.join(repr(c) for c in missing)} "
                                   f"(columns: {', '.join(columns) or 'none'})")
            for row in reader:
                query = clean_text(row.get(query_col) or "")
                title = row.get(title_col) or ""
                try:
                    grade = float((row.get(grade_col) or "").strip())
                except ValueError:
                    grade = math.nan
                if not query or not clean_text(title) or not math.isfinite(grade):
                    skipped += 1
                    continue
                queries.append(query)
                titles.append(clean_text(title))
                texts.append(pair_text(title, (row.get(text_col) or "") if text_col else ""))
                grades.append(grade)
    except FileNotFoundError as exc:
        raise SitegenError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise SitegenError(f"{path}: not {encoding} text ({exc.reason} at byte {exc.start}); "
                           "pass --encoding (e.g. latin-1)") from exc
    except csv.Error as exc:
        raise SitegenError(f"{path}: not a readable CSV file: {exc}") from exc
    return LabelledPairs(queries, titles, texts, np.asarray(grades, dtype=np.float64), str(path), skipped)


def split_by_query(queries: list[str], share: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (kept, held out): a seeded ``share`` of the distinct queries, with all their rows, is held
    out, so no query is in both parts (the evaluation's split, ``labelled.split_by_query``)."""
    from sitegen.learn.relevance.labelled import split_by_query as held_out

    mask = held_out(queries, share, seed)
    return np.flatnonzero(~mask), np.flatnonzero(mask)
