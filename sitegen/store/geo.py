"""The GEO stages' results of the last build: queries, collections, links, PageRank, and what each build
dropped (queries and topics, with the reason). Recomputed by every build that runs the GEO stages."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Iterable

from sitegen.store.repository import Repository


@dataclass(frozen=True)
class CollectionRow:
    slug: str
    topic: str
    category: str
    hub: str
    item_ids: tuple[str, ...]
    aliases: tuple[dict, ...] = ()  # the collection's aliases (``Alias`` fields)
    filed_from: str = ""  # the hub its topic suggested, when its items put it elsewhere


class GeoResults(Repository):
    OWNER = "geo"
    MIGRATIONS = [
        [
            """CREATE TABLE IF NOT EXISTS queries (
                item_id VARCHAR, text VARCHAR, category VARCHAR, source VARCHAR, score DOUBLE, lang VARCHAR)""",
            """CREATE TABLE IF NOT EXISTS dropped (
                build_id INTEGER, kind VARCHAR, text VARCHAR, reason VARCHAR, detail VARCHAR, item_id VARCHAR)""",
            """CREATE TABLE IF NOT EXISTS collections (
                slug VARCHAR PRIMARY KEY, topic VARCHAR, category VARCHAR, hub VARCHAR, item_ids JSON,
                scores JSON, related JSON, summary VARCHAR)""",
            "CREATE TABLE IF NOT EXISTS links (src VARCHAR, dst VARCHAR, kind VARCHAR)",
            "CREATE TABLE IF NOT EXISTS pagerank (path VARCHAR, phase VARCHAR, score DOUBLE)",
        ],
        [
            "ALTER TABLE collections ADD COLUMN IF NOT EXISTS aliases JSON",
            "ALTER TABLE collections ADD COLUMN IF NOT EXISTS filed_from VARCHAR",
        ],
    ]

    # -- writing -------------------------------------------------------------------------------------------
    def record_dropped(self, run_id: int, kind: str, rows: Iterable[tuple[str, str, str, str]]) -> None:
        """rows: (text, reason, detail, item_id)."""
        rows = list(rows)
        if rows:
            self.db.bulk_insert("dropped", ["build_id", "kind", "text", "reason", "detail", "item_id"],
                                [[run_id] * len(rows), [kind] * len(rows), *[list(c) for c in zip(*rows)]])

    def replace_collections(self, collections, queries) -> None:
        """The published collections (``Collection``) and the generated queries (``Query``) of this build
        (``queries`` None: keep the stored ones)."""
        with self.db.transaction():
            self.db.execute("DELETE FROM collections")
            self.db.bulk_insert("collections", ["slug", "topic", "category", "hub", "item_ids", "scores", "related",
                                                "summary", "aliases", "filed_from"],
                                [[c.slug for c in collections], [c.topic for c in collections],
                                 [c.category for c in collections], [c.hub for c in collections],
                                 [json.dumps(c.item_ids) for c in collections],
                                 [json.dumps([round(s, 4) for s in c.scores]) for c in collections],
                                 [json.dumps(c.related) for c in collections], [c.summary for c in collections],
                                 [json.dumps([asdict(a) for a in c.aliases]) for c in collections],
                                 [c.filed_from for c in collections]])
            if queries is None:
                return
            self.db.execute("DELETE FROM queries")
            self.db.bulk_insert("queries", ["item_id", "text", "category", "source", "score", "lang"],
                                [[q.item_id for q in queries], [q.text for q in queries],
                                 [q.category for q in queries], [q.source for q in queries],
                                 [float(q.score) for q in queries], [q.lang for q in queries]])

    def replace_links(self, links: list[tuple[str, str, str]], pagerank: dict[str, float]) -> None:
        """The site's internal links (src, dst, kind) and the final PageRank of each page."""
        with self.db.transaction():
            self.db.execute("DELETE FROM links")
            self.db.execute("DELETE FROM pagerank")
            if links:
                self.db.bulk_insert("links", ["src", "dst", "kind"], [list(c) for c in zip(*links)])
            paths = sorted(pagerank)
            self.db.bulk_insert("pagerank", ["path", "phase", "score"],
                                [paths, ["final"] * len(paths), [float(pagerank[p]) for p in paths]])

    # -- reading -------------------------------------------------------------------------------------------
    def dropped(self, run_id: int) -> list[tuple[str, str, str, str, str]]:
        """(kind, text, reason, detail, item_id) of one build, by kind, reason and text."""
        return self.db.rows("SELECT kind, text, reason, detail, item_id FROM dropped WHERE build_id = ? "
                            "ORDER BY kind, reason, text", [run_id])

    def collections(self) -> list[CollectionRow]:
        rows = self.db.rows("SELECT slug, topic, category, hub, item_ids, aliases, filed_from FROM collections "
                            "ORDER BY category, slug")
        return [CollectionRow(s, t, c, h, tuple(json.loads(ids)) if ids else (),
                              tuple(json.loads(aliases)) if aliases else (), filed or "")
                for s, t, c, h, ids, aliases, filed in rows]

    def queries(self) -> list[tuple[str, str, str]]:
        """(item_id, text, category) of every generated query."""
        return self.db.rows("SELECT item_id, text, category FROM queries")

    def links(self, kind: str | None = None) -> list[tuple[str, str, str]]:
        """(src, dst, kind) of every link (of that kind)."""
        if kind is None:
            return self.db.rows("SELECT src, dst, kind FROM links")
        return self.db.rows("SELECT src, dst, kind FROM links WHERE kind = ?", [kind])

    def pagerank(self, phase: str = "final") -> list[tuple[str, float]]:
        """(path, score) by ascending score, then path."""
        return self.db.rows("SELECT path, score FROM pagerank WHERE phase = ? ORDER BY score, path", [phase])

    def scored_collections(self) -> list[tuple[CollectionRow, tuple[float, ...]]]:
        """Every collection with its members' relevance scores (aligned with ``item_ids``), as the build's
        scorer gave them."""
        rows = self.db.rows("SELECT slug, topic, category, hub, item_ids, scores FROM collections "
                            "ORDER BY category, slug")
        return [(CollectionRow(s, t, c, h, tuple(json.loads(ids)) if ids else ()),
                 tuple(float(x) for x in json.loads(scores)) if scores else ())
                for s, t, c, h, ids, scores in rows]
