"""The items of the last successful build (id, slug, title, category, image sha and the whole item as JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from sitegen.core.models import Item
from sitegen.store.repository import Repository


@dataclass(frozen=True)
class ItemRow:
    id: str
    slug: str
    title: str
    category: str
    image_sha: str
    data: dict


class Items(Repository):
    OWNER = "items"
    MIGRATIONS = [
        [
            """CREATE TABLE IF NOT EXISTS items (
                id VARCHAR PRIMARY KEY, slug VARCHAR, title VARCHAR, category VARCHAR,
                image_sha VARCHAR, data JSON)""",
        ],
    ]
    DURABLE = ("items",)

    def replace(self, items: list[Item]) -> None:
        with self.db.transaction():
            self.db.execute("DELETE FROM items")
            self.db.bulk_insert("items", ["id", "slug", "title", "category", "image_sha", "data"],
                                [[i.id for i in items], [i.slug for i in items], [i.title for i in items],
                                 [i.category for i in items], [i.image_sha for i in items],
                                 [json.dumps(asdict(i), sort_keys=True, default=str) for i in items]])

    def all(self) -> list[ItemRow]:
        rows = self.db.rows("SELECT id, slug, title, category, image_sha, data FROM items ORDER BY id")
        return [ItemRow(*r[:5], json.loads(r[5]) if r[5] else {}) for r in rows]

    def count(self) -> int:
        return int(self.db.one("SELECT count(*) FROM items")[0])
