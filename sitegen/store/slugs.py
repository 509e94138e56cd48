"""Pinned URL slugs: once published, a key (item id ...) keeps its slug, so URLs never drift."""

from __future__ import annotations

from sitegen.store.repository import Repository


class Slugs(Repository):
    OWNER = "slugs"
    MIGRATIONS = [
        ["CREATE TABLE IF NOT EXISTS slugs (kind VARCHAR, key VARCHAR, slug VARCHAR, PRIMARY KEY (kind, key))"],
    ]
    DURABLE = ("slugs",)

    def pinned(self, kind: str) -> dict[str, str]:
        return dict(self.db.rows("SELECT key, slug FROM slugs WHERE kind = ?", [kind]))

    def pin(self, kind: str, mapping: dict[str, str]) -> None:
        self.db.bulk_insert("slugs", ["kind", "key", "slug"],
                            [[kind] * len(mapping), list(mapping), list(mapping.values())], replace=True)
