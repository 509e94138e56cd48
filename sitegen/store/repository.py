"""Repositories and their migrations. Each owner of state (runs, pages, slugs ...) is one module with one
:class:`Repository` subclass: its owner name, its own ordered migrations (``MIGRATIONS[n]`` takes the owner
from version n to n + 1) and the tables worth a backup. The ``meta`` table keeps one version per owner
(``version:<owner>``), so owners evolve independently. A new owner is one new module: ``store.repo(Cls)``
migrates its tables on first use."""

from __future__ import annotations

from typing import ClassVar

from sitegen.core.errors import StoreError
from sitegen.store.connection import Connection

LEGACY_KEY = "schema_version"  # the single version of stores written before owners had their own


class Repository:
    OWNER: ClassVar[str]
    MIGRATIONS: ClassVar[list[list[str]]]
    DURABLE: ClassVar[tuple[str, ...]] = ()  # tables kept in the backup (the rest can be recomputed)

    def __init__(self, db: Connection):
        self.db = db

    @classmethod
    def version(cls) -> int:
        return len(cls.MIGRATIONS)


def owner_versions(db: Connection) -> dict[str, int]:
    return {key.removeprefix("version:"): int(value)
            for key, value in db.rows("SELECT key, value FROM meta WHERE key LIKE 'version:%' ORDER BY key")}


def migrate(db: Connection, cls: type[Repository]) -> None:
    """Bring one owner's tables to its newest version. The first migration of each built-in owner creates
    the tables of the old single-version schema ``IF NOT EXISTS``, so such a store keeps its data."""
    row = db.one("SELECT value FROM meta WHERE key = ?", [f"version:{cls.OWNER}"])
    current = int(row[0]) if row else 0
    if current > cls.version():
        raise StoreError(f"{db.path}: the store's {cls.OWNER!r} tables are at version {current}, newer than this "
                         f"sitegen ({cls.version()}); upgrade sitegen")
    for v in range(current, cls.version()):
        with db.transaction():
            for sql in cls.MIGRATIONS[v]:
                db.execute(sql)
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [f"version:{cls.OWNER}", str(v + 1)])


def retire_legacy_version(db: Connection) -> None:
    """Before the owners migrate: refuse a newer single-version store, and drop the single version (version 1
    had exactly the tables the owners' first migrations create if missing)."""
    row = db.one("SELECT value FROM meta WHERE key = ?", [LEGACY_KEY])
    if row is not None:
        if int(row[0]) > 1:
            raise StoreError(f"{db.path}: store schema version {row[0]} is newer than this sitegen; upgrade sitegen")
        db.execute("DELETE FROM meta WHERE key = ?", [LEGACY_KEY])
