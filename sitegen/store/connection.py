"""One DuckDB connection to the store file: opening it (behind an exclusive lock file), transactions, queries
and bulk inserts through Arrow. Every DuckDB error at open becomes one clear :class:`StoreError` line."""

from __future__ import annotations

import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sitegen.core.errors import StoreError, StoreLockedError


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


BRIEF_WAIT = 10.0  # seconds to wait for a brief holder (the review app, a judgments command) to let go


class StoreLock:
    """An exclusive ``flock`` on ``<store>.lock`` holding the owner's pid; taken before DuckDB opens the file,
    so a second build fails at once with the holder's pid instead of waiting or crashing.

    A *brief* holder (``brief=True``: the review app opens the store for one request, ``sitegen judgments``
    for one command) says so in the lock file; whoever finds the lock held by a brief holder waits up to
    ``BRIEF_WAIT`` seconds for it instead of failing, so a build started while someone grades does not fail
    on a request that holds the store for milliseconds."""

    def __init__(self, path: Path, *, brief: bool = False, wait: float = BRIEF_WAIT):
        import fcntl
        import time

        self.path = lock_path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait
        while True:
            self._file = open(self.path, "a+", encoding="utf-8")
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                self._file.seek(0)
                words = self._file.read().split()
                self._file.close()
                # a brief holder, or one that has not written its pid yet: worth a short wait
                if (not words or words[1:] == ["brief"]) and time.monotonic() < deadline:
                    time.sleep(0.02)
                    continue
                raise StoreLockedError(f"another build holds {path} (pid {words[0] if words else 'unknown'})"
                                       ) from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"{os.getpid()}{' brief' if brief else ''}\n")
        self._file.flush()

    def release(self) -> None:
        import fcntl

        if not self._file.closed:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def corrupt_error(path: Path, exc: BaseException) -> StoreError:
    """The one line for a store DuckDB cannot read, saying how to get the last good state back."""
    from sitegen.store.backup import backup_dir, read_manifest

    manifest = read_manifest(backup_dir(path))
    if manifest:
        hint = (f'run "sitegen store restore" to load the last good backup ({backup_dir(path)}, '
                f'{manifest.get("written", "?")})')
    else:
        hint = f"there is no backup in {backup_dir(path)}: delete {path} to start afresh (item URLs are derived anew)"
    return StoreError(f"store {path} is corrupt or not a DuckDB file ({_first_line(exc)}); {hint}")


class Connection:
    """The store's DuckDB connection. Only the ``sitegen.store`` package uses it."""

    def __init__(self, path: str | Path, *, lock: StoreLock | None = None, brief: bool = False):
        import duckdb

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._own_lock = lock is None
        self.lock = lock or StoreLock(self.path, brief=brief)
        self._depth = 0
        self._turn = threading.RLock()  # one statement (or transaction) at a time: threads share the connection
        try:
            self.con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            self._release()
            match = re.search(r"Conflicting lock.*PID (\d+)", str(exc))
            if match:
                raise StoreLockedError(f"another build holds {self.path} (pid {match.group(1)})") from None
            raise corrupt_error(self.path, exc) from None
        self.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            self._release()

    def _release(self) -> None:
        if self._own_lock:
            self.lock.release()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A transaction; nested calls join the outermost one (all or nothing). Another thread's statements
        wait until it ends (they would otherwise run inside it)."""
        with self._turn:
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

    # -- queries -----------------------------------------------------------------------------------------
    def execute(self, sql: str, params: list | None = None) -> None:
        with self._turn:
            self.con.execute(sql, params or [])

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        with self._turn:
            return self.con.execute(sql, params or []).fetchall()

    def one(self, sql: str, params: list | None = None) -> tuple | None:
        """The first row (or None). Fetches the whole result: DuckDB refuses new work on a connection with
        a partly read result."""
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def tables(self) -> set[str]:
        return {r[0] for r in self.rows("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")}

    def bulk_insert(self, table: str, names: list[str], columns: list[list], *, replace: bool = False) -> None:
        """Insert column lists through Arrow (fast for 100k+ rows)."""
        import pyarrow as pa

        if not columns or not columns[0]:
            return
        arrays = [pa.array(col, pa.binary()) if isinstance(col[0], (bytes, bytearray)) else pa.array(col)
                  for col in columns]
        with self._turn, self.registered("_bulk", pa.Table.from_arrays(arrays, names=names)):
            verb = "INSERT OR REPLACE" if replace else "INSERT"
            self.execute(f"{verb} INTO {table} ({', '.join(names)}) SELECT {', '.join(names)} FROM _bulk")

    @contextmanager
    def registered(self, name: str, table: Any) -> Iterator[None]:
        """An Arrow table visible to SQL as ``name`` for the duration of the block (the block has the
        connection to itself)."""
        with self._turn:
            self.con.register(name, table)
            try:
                yield
            finally:
                self.con.unregister(name)

    @staticmethod
    def keys_table(keys: list[str]) -> Any:
        """A one-column (``k``) Arrow table of distinct keys, to join against instead of a long IN list."""
        import pyarrow as pa

        return pa.table({"k": pa.array(sorted(set(keys)), pa.string())})
