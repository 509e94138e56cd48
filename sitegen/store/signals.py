"""Search and analytics signals (``sitegen.demand.signals``): one row per export row that was used, by day or
period, and the imports log keyed by the sha-256 of each file's bytes, so importing the same file again changes
nothing. Imported exports cannot be recomputed, so both tables are durable."""

from __future__ import annotations

import json
from typing import Literal, Sequence

from sitegen.core.models import SignalRow
from sitegen.store.repository import Repository

_COLUMNS = ["digest", "date", "start", "source", "dimension", "query", "page", "clicks", "impressions", "position",
            "sessions", "engaged", "country", "device", "appearance"]
_FIELDS = ["date", "start", "source", "dimension", "query", "page", "clicks", "impressions", "position",
           "sessions", "engaged", "country", "device", "appearance"]


class Signals(Repository):
    OWNER = "signals"
    MIGRATIONS = [
        ["CREATE TABLE IF NOT EXISTS signal_imports (digest VARCHAR PRIMARY KEY, seq INTEGER, path VARCHAR, "
         "kind VARCHAR, dimension VARCHAR, imported_at VARCHAR, first_day VARCHAR, last_day VARCHAR, report JSON)",
         "CREATE TABLE IF NOT EXISTS signals (digest VARCHAR, date VARCHAR, start VARCHAR, source VARCHAR, "
         "dimension VARCHAR, query VARCHAR, page VARCHAR, clicks DOUBLE, impressions DOUBLE, position DOUBLE, "
         "sessions DOUBLE, engaged DOUBLE, country VARCHAR, device VARCHAR, appearance VARCHAR)",
         "CREATE INDEX IF NOT EXISTS signals_date ON signals (date)"],
    ]
    DURABLE = ("signal_imports", "signals")

    # -- the imports log -------------------------------------------------------------------------------------
    def imported(self, digest: str) -> dict | None:
        """The logged import of the file with these bytes (path, kind, dimension, imported_at, first_day,
        last_day, report), or None."""
        row = self.db.one("SELECT path, kind, dimension, imported_at, first_day, last_day, report FROM "
                          "signal_imports WHERE digest = ?", [digest])
        if row is None:
            return None
        path, kind, dimension, at, first, last, report = row
        return {"digest": digest, "path": path, "kind": kind, "dimension": dimension, "imported_at": at,
                "first_day": first, "last_day": last, "report": json.loads(report or "{}")}

    def imports(self) -> list[dict]:
        """Every logged import, oldest first."""
        rows = self.db.rows("SELECT digest, path, kind, dimension, imported_at, first_day, last_day FROM "
                            "signal_imports ORDER BY seq")
        return [{"digest": d, "path": p, "kind": k, "dimension": dim, "imported_at": at, "first_day": f,
                 "last_day": la} for d, p, k, dim, at, f, la in rows]

    def overlapping(self, kind: str, dimension: str, first: str, last: str) -> list[str]:
        """Paths of earlier imports of the same kind and dimension whose days meet ``first`` .. ``last``."""
        return [r[0] for r in self.db.rows(
            "SELECT path FROM signal_imports WHERE kind = ? AND dimension = ? AND first_day <= ? AND last_day >= ? "
            "AND first_day <> '' ORDER BY seq", [kind, dimension, last, first])]

    def add(self, digest: str, path: str, kind: str, dimension: str, imported_at: str, report: dict,
            rows: Sequence[SignalRow]) -> bool:
        """Log one import and store its rows, all or nothing; False (nothing written) when these bytes were
        imported before."""
        days = [r.start or r.date for r in rows] + [r.date for r in rows]
        with self.db.transaction():
            if self.db.one("SELECT 1 FROM signal_imports WHERE digest = ?", [digest]) is not None:
                return False
            seq = int(self.db.one("SELECT coalesce(max(seq), 0) + 1 FROM signal_imports")[0])
            self.db.execute("INSERT INTO signal_imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [digest, seq, path, kind, dimension, imported_at, min(days, default=""),
                             max(days, default=""), json.dumps(report, sort_keys=True)])
            if rows:
                data = [[digest] * len(rows)]
                for name in _FIELDS:
                    if name == "start":
                        data.append([r.start or r.date for r in rows])
                    else:
                        data.append([getattr(r, name) for r in rows])
                self.db.bulk_insert("signals", _COLUMNS, data)
        return True

    # -- reading ---------------------------------------------------------------------------------------------
    def rows(self) -> list[SignalRow]:
        """Every stored signal, in a stable order."""
        fields = [c for c in _COLUMNS if c != "digest"]
        rows = self.db.rows(f"SELECT {', '.join(fields)} FROM signals ORDER BY date, start, source, dimension, "
                            "page, query, country, device, appearance, clicks, impressions, sessions")
        return [SignalRow(**dict(zip(fields, r))) for r in rows]

    def count(self) -> int:
        return int(self.db.one("SELECT count(*) FROM signals")[0])

    def date_range(self) -> tuple[str, str] | None:
        """The first and last day any stored signal covers."""
        row = self.db.one("SELECT min(start), max(date) FROM signals")
        return (row[0], row[1]) if row and row[0] else None

    def sums(self, by: Literal["page", "query"], since: str, until: str) -> list[tuple]:
        """(page or query, start, date, clicks, impressions, sessions, engaged) summed over the rows of each
        key and day / period that has a ``by`` and meets ``since`` .. ``until``."""
        column = {"page": "page", "query": "query"}[by]
        return [(k, s, d, float(c), float(i), float(se), float(e)) for k, s, d, c, i, se, e in self.db.rows(
            f"SELECT {column}, start, date, sum(clicks), sum(impressions), sum(sessions), sum(engaged) FROM signals "
            f"WHERE {column} <> '' AND date >= ? AND start <= ? GROUP BY {column}, start, date "
            f"ORDER BY {column}, start, date", [since, until])]

    def best_results(self, since: str, until: str) -> list[tuple]:
        """(query, start, date, searches, clicks, impressions) per query and day / period meeting ``since`` ..
        ``until``, from the rows that have both a query and a page (query x page exports): ``searches`` is the
        most impressions any one page had for the query (every search that showed the site counts one
        impression for each page it showed, so the most-shown page saw them all), summed over countries and
        devices; ``clicks`` and ``impressions`` are those of the query's best-placed page (lowest position)."""
        return [(q, s, d, float(n), float(c), float(i)) for q, s, d, n, c, i in self.db.rows(
            "SELECT query, start, date, sum(most), sum(best_clicks), sum(best_impressions) FROM ("
            "SELECT query, start, date, max(impressions) AS most, arg_min(clicks, (position, page)) AS best_clicks, "
            "arg_min(impressions, (position, page)) AS best_impressions FROM signals WHERE query <> '' AND page <> '' "
            "AND date >= ? AND start <= ? GROUP BY query, start, date, country, device) "
            "GROUP BY query, start, date ORDER BY query, start, date", [since, until])]

    def totals(self) -> list[tuple]:
        """(source, dimension, rows, clicks, impressions, sessions, engaged, first day, last day) per source
        and dimension."""
        return [(s, d, int(n), float(c), float(i), float(se), float(e), f, la) for s, d, n, c, i, se, e, f, la in
                self.db.rows("SELECT source, dimension, count(*), sum(clicks), sum(impressions), sum(sessions), "
                             "sum(engaged), min(start), max(date) FROM signals GROUP BY source, dimension "
                             "ORDER BY source, dimension")]

    def top(self, by: Literal["page", "query"], n: int = 10) -> list[tuple]:
        """The ``n`` pages or queries with the most impressions (then sessions) over every stored day:
        (key, clicks, impressions, sessions, engaged)."""
        column = {"page": "page", "query": "query"}[by]
        return [(k, float(c), float(i), float(se), float(e)) for k, c, i, se, e in self.db.rows(
            f"SELECT {column}, sum(clicks) AS c, sum(impressions) AS i, sum(sessions) AS se, sum(engaged) FROM "
            f"signals WHERE {column} <> '' GROUP BY {column} ORDER BY i DESC, se DESC, c DESC, {column} LIMIT ?",
            [n])]
