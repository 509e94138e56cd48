"""Labelled query-product data (a CSV of human grades) as a catalog the scorers can read.

``read_labels`` reads the CSV (RFC 4180: quoted fields may span lines), strips HTML from the descriptions and
makes one ``Item`` per distinct product text (title + description), so a product graded for several queries is
one catalog item. ``LabelledCatalog`` embeds the items and queries with the packaged MiniLM and builds, per
query, the ``TopicEvidence`` a scorer gets at build time (cosine, lexical evidence through the collect
``Lexicon``), with the query's graded products as its candidates.
"""

from __future__ import annotations

import csv
import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from sitegen.aggregate.relevance import CatalogView, TopicEvidence
from sitegen.core.errors import CatalogError
from sitegen.core.models import Item
from sitegen.core.text import item_text

Progress = Callable[[int, int], None] | None


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr", "td", "table", "h1", "h2", "h3"):
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


_TAG = re.compile(r"<[a-zA-Z/!][^>]*>")
_CSS = re.compile(r"[.#]?[\w-]+\s*\{[^{}]*\}")  # stray style rules left without a <style> tag


def strip_html(text: str) -> str:
    """Plain text of a description that may hold HTML: tags, scripts and style rules removed, entities
    decoded, whitespace collapsed."""
    if not text:
        return ""
    if "<" in text and _TAG.search(text):
        parser = _Text()
        try:
            parser.feed(text)
            parser.close()
            text = "".join(parser.parts)
        except Exception:  # malformed markup: drop anything tag-like
            text = _TAG.sub(" ", text)
        text = _CSS.sub(" ", text)
    text = html.unescape(text)
    return " ".join(text.split())


@dataclass
class Labels:
    """Graded pairs: ``queries[i]`` graded ``grades[i]`` for item ``product[i]`` (a position in ``items``)."""

    queries: list[str]
    product: np.ndarray  # int64, per pair
    grades: np.ndarray  # float64, per pair (a mean of raters may be fractional)
    items: list[Item]
    scale: tuple[int, int]

    @property
    def query_ids(self) -> np.ndarray:
        """A group id per pair (same id = same query)."""
        ids: dict[str, int] = {}
        return np.array([ids.setdefault(q, len(ids)) for q in self.queries], np.int64)


def read_labels(path: str | Path, *, query_col: str, title_col: str, grade_col: str, text_col: str | None = None,
                encoding: str = "utf-8") -> Labels:
    """Read a labelled CSV. Rows with an empty query or title or a grade that is not a number are skipped.
    The scale is the integer levels the grades span (floor of the lowest to ceiling of the highest)."""
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"{path}: file not found")
    try:
        with path.open(newline="", encoding=encoding) as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            wanted = [c for c in (query_col, title_col, grade_col, text_col) if c]
            missing = [c for c in wanted if c not in header]
            if missing:
                raise CatalogError(f"{path}: no column {', '.join(repr(m) for m in missing)} "
                                  f"(columns: {', '.join(header)})")
            rows = list(reader)
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not {encoding} text ({exc.reason} at byte {exc.start}); "
                          "pass --encoding latin-1") from exc
    except csv.Error as exc:
        raise CatalogError(f"{path}: not a readable CSV ({exc})") from exc
    queries: list[str] = []
    product: list[int] = []
    grades: list[float] = []
    items: list[Item] = []
    by_text: dict[tuple[str, str], int] = {}
    for n, row in enumerate(rows, start=2):
        query = " ".join((row.get(query_col) or "").split())
        title = " ".join((row.get(title_col) or "").split())
        try:
            grade = float((row.get(grade_col) or "").strip())
        except ValueError:
            continue
        if not query or not title or not np.isfinite(grade):
            continue
        desc = strip_html(row.get(text_col) or "") if text_col else ""
        key = (title, desc)
        pos = by_text.get(key)
        if pos is None:
            pos = by_text[key] = len(items)
            items.append(Item(id=f"p{pos}", title=title, image="", image_sha="", width=0, height=0,
                              description=desc, source=f"{path.name}:{n}"))
        queries.append(query)
        product.append(pos)
        grades.append(grade)
    if not grades:
        raise CatalogError(f"{path}: no row has a query, a title and a numeric {grade_col!r}")
    g = np.asarray(grades, np.float64)
    scale = (int(np.floor(g.min())), int(np.ceil(g.max())))
    if scale[0] == scale[1]:
        raise CatalogError(f"{path}: every grade is {scale[0]}; a scale needs at least two levels")
    return Labels(queries, np.asarray(product, np.int64), g, items, scale)


def split_by_query(queries: Sequence[str], share: float, seed: int) -> np.ndarray:
    """A boolean mask of the test pairs: ``share`` of the distinct queries (seeded), never split."""
    distinct = sorted(set(queries))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(distinct))
    n_test = int(round(share * len(distinct)))
    if share > 0 and len(distinct) > 1:
        n_test = min(max(n_test, 1), len(distinct) - 1)
    test = {distinct[i] for i in order[:n_test]}
    return np.array([q in test for q in queries], bool)


@dataclass
class LabelledCatalog:
    """The items of a labelled file with their embeddings and the collect ``Lexicon``, and the query vectors."""

    catalog: CatalogView
    query_vectors: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def build(cls, items: Sequence[Item], queries: Sequence[str], embed: Callable[..., np.ndarray],
              progress: Callable[[str], Progress] = lambda _name: None) -> "LabelledCatalog":
        """``embed(texts, progress=...)`` is an ``Embedder.encode``."""
        from sitegen.aggregate.collect import Lexicon

        texts = [item_text(i) for i in items]
        vectors = embed(texts, progress=progress("items"))
        distinct = list(dict.fromkeys(queries))
        qv = embed(distinct, progress=progress("queries"))
        return cls(CatalogView(list(items), texts, np.asarray(vectors, np.float32), Lexicon(items), embed),
                   dict(zip(distinct, np.asarray(qv, np.float32))))

    def evidence(self, query: str, candidates: np.ndarray) -> TopicEvidence:
        """What a scorer gets for ``query`` and the items at ``candidates``, as collect would give it."""
        lex = self.catalog.lexicon
        cand = np.asarray(candidates, np.int64)
        checked, free = lex.analyse(query, "description")
        sims = (self.catalog.vectors[cand] @ self.query_vectors[query]).astype(np.float32)
        return TopicEvidence(sims, lex.evidence(checked, cand), np.zeros(len(cand), bool), len(checked), len(free),
                             query, "description", cand, checked, free, self.query_vectors[query])
