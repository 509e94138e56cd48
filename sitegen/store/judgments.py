"""Relevance judgments: 1-5 grades of (topic, item) pairs from every judge (human raters, the LLM judge, the
cross-encoder teacher, the catalog's silver grades). One row per (topic, item, source, rater): grading a pair
again replaces the grade; ``remove`` is the undo. Human grades cannot be recomputed, so the table is durable."""

from __future__ import annotations

from typing import Iterable, Sequence

from sitegen.core.models import Judgment
from sitegen.store.repository import Repository

_COLUMNS = ["topic", "item_id", "grade", "source", "rater", "graded_at"]
_FIELDS = ["topic", "item_id", "grade", "source", "rater", "at"]


class Judgments(Repository):
    OWNER = "judgments"
    MIGRATIONS = [
        ["CREATE TABLE IF NOT EXISTS judgments (topic VARCHAR, item_id VARCHAR, grade INTEGER, source VARCHAR, "
         "rater VARCHAR, graded_at VARCHAR, PRIMARY KEY (topic, item_id, source, rater))"],
    ]
    DURABLE = ("judgments",)

    def add(self, judgments: Iterable[Judgment]) -> int:
        """Insert or replace these grades; returns how many were written."""
        rows = list(judgments)
        if rows:
            self.db.bulk_insert("judgments", _COLUMNS, [[getattr(j, f) for j in rows] for f in _FIELDS],
                                replace=True)
        return len(rows)

    def remove(self, topic: str, item_id: str, source: str, rater: str = "") -> bool:
        """Delete one grade (undo); True when there was one."""
        found = self.db.one("SELECT count(*) FROM judgments WHERE topic = ? AND item_id = ? AND source = ? "
                            "AND rater = ?", [topic, item_id, source, rater])[0]
        self.db.execute("DELETE FROM judgments WHERE topic = ? AND item_id = ? AND source = ? AND rater = ?",
                        [topic, item_id, source, rater])
        return bool(found)

    def clear(self, source: str) -> None:
        """Forget every grade of one source (a teacher's labels before it labels again)."""
        self.db.execute("DELETE FROM judgments WHERE source = ?", [source])

    def all(self, sources: Sequence[str] | None = None) -> list[Judgment]:
        """Every grade (of the given sources), in a stable order."""
        sql = f"SELECT {', '.join(_COLUMNS)} FROM judgments"
        params: list = []
        if sources is not None:
            if not sources:
                return []
            sql += f" WHERE source IN ({', '.join('?' * len(sources))})"
            params = list(sources)
        rows = self.db.rows(sql + " ORDER BY topic, item_id, source, rater", params)
        return [Judgment(t, i, int(g), s, r or "", a or "") for t, i, g, s, r, a in rows]

    def counts(self) -> dict[str, int]:
        """Number of grades per source."""
        return {s: int(n) for s, n in self.db.rows("SELECT source, count(*) FROM judgments GROUP BY source "
                                                  "ORDER BY source")}

    def get(self, topic: str, item_id: str, source: str, rater: str = "") -> Judgment | None:
        """One rater's grade of one pair, or None."""
        row = self.db.one(f"SELECT {', '.join(_COLUMNS)} FROM judgments WHERE topic = ? AND item_id = ? "
                          "AND source = ? AND rater = ?", [topic, item_id, source, rater])
        if row is None:
            return None
        t, i, g, s, r, a = row
        return Judgment(t, i, int(g), s, r or "", a or "")

    def graded(self, source: str, rater: str) -> set[tuple[str, str]]:
        """The (topic, item_id) pairs one rater of one source has graded."""
        return {(t, i) for t, i in self.db.rows("SELECT topic, item_id FROM judgments WHERE source = ? AND "
                                                "rater = ?", [source, rater])}

    def counts_by_rater(self) -> dict[tuple[str, str], int]:
        """Number of grades per (source, rater)."""
        return {(s, r or ""): int(n) for s, r, n in self.db.rows(
            "SELECT source, rater, count(*) FROM judgments GROUP BY source, rater ORDER BY source, rater")}
