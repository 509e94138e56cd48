"""Published pages (content hash, lastmod, images, render key) and the change list of every build (the
removed-page history)."""

from __future__ import annotations

import json

from sitegen.core.models import ImageEntry, PageRecord
from sitegen.store.repository import Repository

PAGE_COLUMNS = ["path", "kind", "title", "description", "content_hash", "lastmod", "images", "in_sitemap",
                "render_key"]


class Pages(Repository):
    OWNER = "pages"
    MIGRATIONS = [
        [
            """CREATE TABLE IF NOT EXISTS pages (
                path VARCHAR PRIMARY KEY, kind VARCHAR, title VARCHAR, description VARCHAR,
                content_hash VARCHAR, lastmod VARCHAR, images JSON, in_sitemap BOOLEAN, render_key VARCHAR)""",
            """CREATE TABLE IF NOT EXISTS changes (
                build_id INTEGER, path VARCHAR, change VARCHAR, old_title VARCHAR, new_title VARCHAR)""",
        ],
        [  # 1 -> 2: the pages a build replaced before it went live, kept until the next build settles it
            """CREATE TABLE IF NOT EXISTS pages_stash (
                path VARCHAR PRIMARY KEY, kind VARCHAR, title VARCHAR, description VARCHAR,
                content_hash VARCHAR, lastmod VARCHAR, images JSON, in_sitemap BOOLEAN, render_key VARCHAR)""",
        ],
    ]
    DURABLE = ("pages", "changes")

    def published(self) -> dict[str, PageRecord]:
        rows = self.db.rows(f"SELECT {', '.join(PAGE_COLUMNS)} FROM pages")
        out = {}
        for path, kind, title, desc, chash, lastmod, images, in_sitemap, render_key in rows:
            imgs = tuple(ImageEntry(**i) for i in json.loads(images or "[]"))
            out[path] = PageRecord(path, kind, title, desc, chash, imgs, lastmod, bool(in_sitemap), render_key or "")
        return out

    def listing(self) -> list[tuple[str, str, str, str, int, bool]]:
        """(path, kind, title, lastmod, image count, in sitemap) of every published page, by path: the
        report's view, without decoding each page's image list."""
        return self.db.rows("SELECT path, kind, title, lastmod, coalesce(json_array_length(images), 0), "
                            "in_sitemap FROM pages ORDER BY path")

    def replace(self, run_id: int, records: list[PageRecord], changes: list[tuple[str, str, str, str]]) -> None:
        """Store the pages of a successful build and the change list (path, change, old_title, new_title)."""
        with self.db.transaction():
            self.db.execute("DELETE FROM pages")
            self.db.bulk_insert("pages", PAGE_COLUMNS, [
                [r.path for r in records], [r.kind for r in records], [r.title for r in records],
                [r.description for r in records], [r.content_hash for r in records], [r.lastmod for r in records],
                [json.dumps([{"loc": i.loc, "title": i.title, "caption": i.caption} for i in r.images])
                 for r in records],
                [r.in_sitemap for r in records], [r.render_key for r in records]])
            if changes:
                self.db.bulk_insert("changes", ["build_id", "path", "change", "old_title", "new_title"],
                                    [[run_id] * len(changes), *[list(c) for c in zip(*changes)]])

    def stash(self) -> None:
        """Keep a copy of the published pages before a build that is not live yet replaces them."""
        with self.db.transaction():
            self.db.execute("DELETE FROM pages_stash")
            self.db.execute(f"INSERT INTO pages_stash SELECT {', '.join(PAGE_COLUMNS)} FROM pages")

    def restore(self) -> None:
        """Put back the pages kept by :meth:`stash` (the build that replaced them never went live)."""
        with self.db.transaction():
            self.db.execute("DELETE FROM pages")
            self.db.execute(f"INSERT INTO pages SELECT {', '.join(PAGE_COLUMNS)} FROM pages_stash")

    def changes(self, run_id: int) -> list[tuple[str, str, str, str]]:
        return self.db.rows("SELECT path, change, old_title, new_title FROM changes WHERE build_id = ? "
                            "ORDER BY change, path", [run_id])
