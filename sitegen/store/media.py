"""Image metadata keyed by path (size, mtime, sha, dimensions, error): the loader skips unchanged files."""

from __future__ import annotations

from sitegen.store.repository import Repository

ImageMeta = tuple[int, int, str, int, int, str]  # size, mtime_ns, sha, width, height, error


class Media(Repository):
    OWNER = "media"
    MIGRATIONS = [
        [
            """CREATE TABLE IF NOT EXISTS image_meta (
                path VARCHAR PRIMARY KEY, size BIGINT, mtime_ns BIGINT, sha VARCHAR, width INTEGER,
                height INTEGER, error VARCHAR)""",
        ],
    ]

    def image_meta(self) -> dict[str, ImageMeta]:
        rows = self.db.rows("SELECT path, size, mtime_ns, sha, width, height, error FROM image_meta")
        return {r[0]: tuple(r[1:]) for r in rows}

    def put_image_meta(self, meta: dict[str, ImageMeta]) -> None:
        paths = list(meta)
        self.db.bulk_insert("image_meta", ["path", "size", "mtime_ns", "sha", "width", "height", "error"],
                            [paths] + [[meta[p][i] for p in paths] for i in range(6)], replace=True)
