"""The site's state: one DuckDB file (``.sitegen/site.duckdb`` by default), never inside build/.

Holds items, pinned slugs, published pages (with content hashes and lastmod), build runs, rejections,
image metadata, embeddings (keyed by text hash + model id), generator caches, collections, links and PageRank.
The schema is versioned; ``MIGRATIONS[n]`` upgrades version n to n + 1.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from sitegen.core.models import ImageEntry, PageRecord, Rejection

SCHEMA_VERSION = 1

MIGRATIONS: list[list[str]] = [
    # 0 -> 1: the initial schema
    [
        "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
        """CREATE TABLE IF NOT EXISTS builds (
            id INTEGER PRIMARY KEY, started VARCHAR, finished VARCHAR, status VARCHAR,
            config_hash VARCHAR, summary JSON)""",
        """CREATE TABLE IF NOT EXISTS items (
            id VARCHAR PRIMARY KEY, slug VARCHAR, title VARCHAR, category VARCHAR,
            image_sha VARCHAR, data JSON)""",
        """CREATE TABLE IF NOT EXISTS rejections (
            build_id INTEGER, source VARCHAR, item_id VARCHAR, reason VARCHAR, detail VARCHAR)""",
        "CREATE TABLE IF NOT EXISTS slugs (kind VARCHAR, key VARCHAR, slug VARCHAR, PRIMARY KEY (kind, key))",
        """CREATE TABLE IF NOT EXISTS pages (
            path VARCHAR PRIMARY KEY, kind VARCHAR, title VARCHAR, description VARCHAR,
            content_hash VARCHAR, lastmod VARCHAR, images JSON, in_sitemap BOOLEAN, render_key VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS changes (
            build_id INTEGER, path VARCHAR, change VARCHAR, old_title VARCHAR, new_title VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS image_meta (
            path VARCHAR PRIMARY KEY, size BIGINT, mtime_ns BIGINT, sha VARCHAR, width INTEGER,
            height INTEGER, error VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS embeddings (
            text_hash VARCHAR, model_id VARCHAR, vector BLOB, PRIMARY KEY (text_hash, model_id))""",
        "CREATE TABLE IF NOT EXISTS cache (namespace VARCHAR, key VARCHAR, value JSON, PRIMARY KEY (namespace, key))",
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
]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class Store:
    """A thin typed layer over one DuckDB connection. One process owns the file at a time."""

    def __init__(self, path: str | Path):
        import duckdb

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(self.path))
        self._depth = 0
        self._migrate()

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A transaction; nested calls join the outermost one (all or nothing)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.con.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self.con.execute("ROLLBACK")
            raise
        self._depth = 0
        self.con.execute("COMMIT")

    def schema_version(self) -> int:
        try:
            row = self._one("SELECT value FROM meta WHERE key = 'schema_version'")
        except Exception:  # no meta table yet
            return 0
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            from sitegen.core.errors import SitegenError

            raise SitegenError(f"{self.path}: store schema version {version} is newer than this sitegen "
                               f"({SCHEMA_VERSION}); upgrade sitegen or delete the store")
        for v in range(version, SCHEMA_VERSION):
            with self.transaction():
                for sql in MIGRATIONS[v]:
                    self.con.execute(sql)
                self.con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(v + 1)])

    # -- build runs ------------------------------------------------------------------------------
    def begin_run(self, started: str, config_hash: str) -> int:
        row = self._one("SELECT coalesce(max(id), 0) + 1 FROM builds")
        run_id = int(row[0])
        self.con.execute("INSERT INTO builds VALUES (?, ?, NULL, 'running', ?, NULL)", [run_id, started, config_hash])
        return run_id

    def finish_run(self, run_id: int, status: str, finished: str, summary: dict) -> None:
        self.con.execute("UPDATE builds SET status = ?, finished = ?, summary = ? WHERE id = ?",
                         [status, finished, json.dumps(summary, sort_keys=True, default=str), run_id])

    def last_successful_run(self) -> dict | None:
        row = self._one("SELECT id, started, finished, config_hash, summary FROM builds "
                        "WHERE status = 'ok' ORDER BY id DESC LIMIT 1")
        if not row:
            return None
        return {"id": row[0], "started": row[1], "finished": row[2], "config_hash": row[3],
                "summary": json.loads(row[4]) if row[4] else {}}

    # -- slugs -----------------------------------------------------------------------------------
    def pinned_slugs(self, kind: str) -> dict[str, str]:
        return dict(self.con.execute("SELECT key, slug FROM slugs WHERE kind = ?", [kind]).fetchall())

    def pin_slugs(self, kind: str, mapping: dict[str, str]) -> None:
        if mapping:
            self._bulk_insert("slugs", ["kind", "key", "slug"],
                              [[kind] * len(mapping), list(mapping), list(mapping.values())], replace=True)

    # -- items and rejections --------------------------------------------------------------------
    def replace_items(self, rows: list[tuple[str, str, str, str, str, str]]) -> None:
        """rows: (id, slug, title, category, image_sha, data_json)."""
        with self.transaction():
            self.con.execute("DELETE FROM items")
            if rows:
                self._bulk_insert("items", ["id", "slug", "title", "category", "image_sha", "data"],
                                  [list(col) for col in zip(*rows)])

    def record_rejections(self, run_id: int, rejections: Iterable[Rejection]) -> None:
        rows = [(run_id, r.source, r.item_id, r.reason, r.detail) for r in rejections]
        if rows:
            self._bulk_insert("rejections", ["build_id", "source", "item_id", "reason", "detail"],
                              [list(col) for col in zip(*rows)])

    def rejections(self, run_id: int) -> list[Rejection]:
        rows = self.con.execute("SELECT source, item_id, reason, detail FROM rejections WHERE build_id = ? "
                                "ORDER BY source", [run_id]).fetchall()
        return [Rejection(*r) for r in rows]

    def record_dropped(self, run_id: int, kind: str, rows: Iterable[tuple[str, str, str, str]]) -> None:
        """rows: (text, reason, detail, item_id)."""
        rows = list(rows)
        if rows:
            cols = [list(col) for col in zip(*rows)]
            self._bulk_insert("dropped", ["build_id", "kind", "text", "reason", "detail", "item_id"],
                              [[run_id] * len(rows), [kind] * len(rows), *cols])

    # -- published pages -------------------------------------------------------------------------
    def published_pages(self) -> dict[str, PageRecord]:
        rows = self.con.execute("SELECT path, kind, title, description, content_hash, lastmod, images, in_sitemap, "
                                "render_key FROM pages").fetchall()
        out = {}
        for path, kind, title, desc, chash, lastmod, images, in_sitemap, render_key in rows:
            imgs = tuple(ImageEntry(**i) for i in json.loads(images or "[]"))
            out[path] = PageRecord(path, kind, title, desc, chash, imgs, lastmod, bool(in_sitemap), render_key or "")
        return out

    def page_listing(self) -> list[tuple[str, str, str, str, int, bool]]:
        """(path, kind, title, lastmod, image count, in sitemap) of every published page, by path: the
        report's view, without decoding each page's image list."""
        return self.con.execute("SELECT path, kind, title, lastmod, coalesce(json_array_length(images), 0), "
                                "in_sitemap FROM pages ORDER BY path").fetchall()

    def replace_pages(self, run_id: int, records: list[PageRecord], changes: list[tuple[str, str, str, str]]) -> None:
        """Store the pages of a successful build and the change list (path, change, old_title, new_title)."""
        with self.transaction():
            self.con.execute("DELETE FROM pages")
            if records:
                cols = [[r.path for r in records], [r.kind for r in records], [r.title for r in records],
                        [r.description for r in records], [r.content_hash for r in records],
                        [r.lastmod for r in records],
                        [json.dumps([{"loc": i.loc, "title": i.title, "caption": i.caption} for i in r.images])
                         for r in records],
                        [r.in_sitemap for r in records], [r.render_key for r in records]]
                self._bulk_insert("pages", ["path", "kind", "title", "description", "content_hash", "lastmod",
                                            "images", "in_sitemap", "render_key"], cols)
            if changes:
                cols = [list(c) for c in zip(*changes)]
                self._bulk_insert("changes", ["build_id", "path", "change", "old_title", "new_title"],
                                  [[run_id] * len(changes), *cols])

    def stash_pages(self) -> None:
        """Keep a copy of the published pages before they are replaced by a build that is not live yet."""
        self.con.execute("CREATE OR REPLACE TABLE pages_stash AS SELECT * FROM pages")

    def restore_pages(self) -> None:
        """Put back the pages kept by :meth:`stash_pages` (the build that replaced them never went live)."""
        if self._one("SELECT count(*) FROM information_schema.tables WHERE table_name = 'pages_stash'")[0]:
            with self.transaction():
                self.con.execute("DELETE FROM pages")
                self.con.execute("INSERT INTO pages SELECT * FROM pages_stash")

    def changes(self, run_id: int) -> list[tuple[str, str, str, str]]:
        return self.con.execute("SELECT path, change, old_title, new_title FROM changes WHERE build_id = ? "
                                "ORDER BY change, path", [run_id]).fetchall()

    # -- image metadata cache --------------------------------------------------------------------
    def image_meta(self) -> dict[str, tuple[int, int, str, int, int, str]]:
        rows = self.con.execute("SELECT path, size, mtime_ns, sha, width, height, error FROM image_meta").fetchall()
        return {r[0]: tuple(r[1:]) for r in rows}

    def put_image_meta(self, meta: dict[str, tuple[int, int, str, int, int, str]]) -> None:
        if meta:
            paths = list(meta)
            cols = [paths] + [[meta[p][i] for p in paths] for i in range(6)]
            self._bulk_insert("image_meta", ["path", "size", "mtime_ns", "sha", "width", "height", "error"], cols,
                              replace=True)

    # -- embeddings ------------------------------------------------------------------------------
    def get_embeddings(self, hashes: list[str], model_id: str) -> dict[str, bytes]:
        if not hashes:
            return {}
        import pyarrow as pa

        self.con.register("_wanted", pa.table({"h": pa.array(sorted(set(hashes)), pa.string())}))
        try:
            rows = self.con.execute("SELECT e.text_hash, e.vector FROM embeddings e JOIN _wanted w "
                                    "ON e.text_hash = w.h WHERE e.model_id = ?", [model_id]).fetchall()
        finally:
            self.con.unregister("_wanted")
        return {h: bytes(v) for h, v in rows}

    def put_embeddings(self, model_id: str, vectors: dict[str, bytes]) -> None:
        if vectors:
            keys = list(vectors)
            self._bulk_insert("embeddings", ["text_hash", "model_id", "vector"],
                              [keys, [model_id] * len(keys), [vectors[k] for k in keys]], replace=True)

    # -- generic cache (generator outputs, index fingerprints ...) --------------------------------
    def cache_get(self, namespace: str, keys: list[str]) -> dict[str, object]:
        if not keys:
            return {}
        import pyarrow as pa

        self.con.register("_keys", pa.table({"k": pa.array(sorted(set(keys)), pa.string())}))
        try:
            rows = self.con.execute("SELECT c.key, c.value FROM cache c JOIN _keys k ON c.key = k.k "
                                    "WHERE c.namespace = ?", [namespace]).fetchall()
        finally:
            self.con.unregister("_keys")
        return {k: json.loads(v) for k, v in rows}

    def cache_put(self, namespace: str, values: dict[str, object]) -> None:
        if values:
            keys = list(values)
            self._bulk_insert("cache", ["namespace", "key", "value"],
                              [[namespace] * len(keys), keys, [json.dumps(values[k], sort_keys=True) for k in keys]],
                              replace=True)

    # -- helpers ---------------------------------------------------------------------------------
    def _one(self, sql: str, params: list | None = None):
        """The first row (or None). Always fetches the whole result: DuckDB refuses new work on a
        connection with a partly read result."""
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0] if rows else None

    def _bulk_insert(self, table: str, names: list[str], columns: list[list], *, replace: bool = False) -> None:
        """Insert column lists through Arrow (fast for 100k+ rows)."""
        import pyarrow as pa

        arrays = []
        for col in columns:
            if col and isinstance(col[0], (bytes, bytearray)):
                arrays.append(pa.array(col, pa.binary()))
            else:
                arrays.append(pa.array(col))
        tmp = pa.Table.from_arrays(arrays, names=names)
        self.con.register("_bulk", tmp)
        try:
            verb = "INSERT OR REPLACE" if replace else "INSERT"
            self.con.execute(f"{verb} INTO {table} ({', '.join(names)}) SELECT {', '.join(names)} FROM _bulk")
        finally:
            self.con.unregister("_bulk")
