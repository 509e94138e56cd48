"""The site's state: one DuckDB file (``.sitegen/site.duckdb`` by default), never inside build/.

:class:`Store` opens the file (behind an exclusive lock file) and exposes one repository per owner of state
as a typed attribute: ``store.runs``, ``store.items``, ``store.slugs``, ``store.pages``, ``store.media``,
``store.embeddings``, ``store.geo``, ``store.cache``, ``store.judgments``, ``store.signals``,
``store.lifecycle``, ``store.trends``, ``store.simulations``. All SQL lives in this package. Each owner migrates its own tables (see ``repository.py``);
the durable ones are backed up after each successful build (``backup.py``) and ``sitegen store restore`` loads
them back into a fresh store.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TypeVar

from sitegen.store.backup import load_backup, read_manifest, backup_dir, write_backup
from sitegen.store.caches import Caches
from sitegen.store.connection import Connection, StoreLock, corrupt_error
from sitegen.store.embeddings import Embeddings, text_hash
from sitegen.store.geo import GeoResults
from sitegen.store.items import Items
from sitegen.store.judgments import Judgments
from sitegen.store.lifecycle import Lifecycle
from sitegen.store.media import Media
from sitegen.store.pages import Pages
from sitegen.store.repository import Repository, migrate, owner_versions, retire_legacy_version
from sitegen.store.runs import Runs
from sitegen.store.signals import Signals
from sitegen.store.simulations import Simulations
from sitegen.store.slugs import Slugs
from sitegen.store.trends import TrendMemory

__all__ = ["Store", "text_hash"]

R = TypeVar("R", bound=Repository)


class Store:
    """The state database. One process owns the file at a time (a second one gets ``StoreLockedError``)."""

    def __init__(self, path: str | Path, *, lock: StoreLock | None = None, brief: bool = False):
        """``brief``: this process holds the store only for a moment (a request, a short command); see
        ``StoreLock``."""
        import duckdb

        self.path = Path(path)
        self._db = Connection(self.path, lock=lock, brief=brief)
        self._repos: dict[type[Repository], Repository] = {}
        try:
            retire_legacy_version(self._db)
            self.runs = self.repo(Runs)
            self.items = self.repo(Items)
            self.slugs = self.repo(Slugs)
            self.pages = self.repo(Pages)
            self.media = self.repo(Media)
            self.embeddings = self.repo(Embeddings)
            self.geo = self.repo(GeoResults)
            self.cache = self.repo(Caches)
            self.judgments = self.repo(Judgments)
            self.signals = self.repo(Signals)
            self.simulations = self.repo(Simulations)
            self.lifecycle = self.repo(Lifecycle)
            self.trends = self.repo(TrendMemory)
        except duckdb.Error as exc:  # the header was readable, the tables are not
            self._db.close()
            raise corrupt_error(self.path, exc) from None
        except BaseException:
            self._db.close()
            raise

    def repo(self, cls: type[R]) -> R:
        """The repository of one owner, its tables migrated to the newest version on first use."""
        if cls not in self._repos:
            migrate(self._db, cls)
            self._repos[cls] = cls(self._db)
        return self._repos[cls]  # type: ignore[return-value]

    def ignore_cached_results(self) -> None:
        """From now on read no cached result back (embeddings, GEO results, pixel colours, model outputs, audit
        findings): ``sitegen build --no-cache``. State stays: pinned slugs, pages and lastmod, the lifecycle, the
        published generation. Results are still written, for the builds after."""
        self.cache.fresh = self.embeddings.fresh = True

    # -- lifecycle -----------------------------------------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A transaction over every repository; nested calls join the outermost one (all or nothing)."""
        with self._db.transaction():
            yield

    # -- schema, backup ------------------------------------------------------------------------------------
    def schema_versions(self) -> dict[str, int]:
        """The schema version of each owner's tables."""
        return owner_versions(self._db)

    def backup(self) -> dict:
        """Write the durable tables of every open repository to ``backup/`` beside the store; the manifest."""
        tables = [t for cls in self._repos for t in cls.DURABLE]
        return write_backup(self._db, tables, self.schema_versions())

    def backup_manifest(self) -> dict | None:
        return read_manifest(backup_dir(self.path))

    def load_backup(self, manifest: dict) -> dict[str, int]:
        return load_backup(self._db, manifest)
