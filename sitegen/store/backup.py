"""The last good copy of the durable state, beside the store (``.sitegen/backup/``): one Parquet file per
durable table (slugs, pages, changes, builds, items) and ``manifest.json``. Written after each successful
build into a temporary folder that replaces the previous backup by rename, so a backup is never half written.
Embeddings, GEO results, image metadata and caches are not kept: the next build recomputes them."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sitegen.core.errors import StoreError, StoreLockedError
from sitegen.store.connection import Connection, StoreLock

MANIFEST = "manifest.json"


def backup_dir(store_path: Path) -> Path:
    return Path(store_path).parent / "backup"


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def read_manifest(folder: Path) -> dict | None:
    """The manifest of the backup in ``folder`` (or of one left aside by an interrupted swap), or None."""
    for candidate in [folder, *sorted(folder.parent.glob(f".{folder.name}-old-*"))]:
        try:
            manifest = json.loads((candidate / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        manifest["folder"] = str(candidate)
        return manifest
    return None


def write_backup(db: Connection, tables: list[str], versions: dict[str, int]) -> dict:
    """Export ``tables`` to a fresh backup folder and swap it in place of the previous one."""
    t0 = time.perf_counter()
    final = backup_dir(db.path)
    tmp = final.with_name(f".{final.name}-tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    rows = {}
    for table in tables:
        db.execute(f"COPY {table} TO {_quote(tmp / (table + '.parquet'))} (FORMAT parquet)")
        rows[table] = int(db.one(f"SELECT count(*) FROM {table}")[0])
    manifest = {"written": _now(), "store": db.path.name, "versions": versions, "tables": rows,
                "ms": round((time.perf_counter() - t0) * 1000, 1)}
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    old = final.with_name(f".{final.name}-old-{os.getpid()}")
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return manifest


def load_backup(db: Connection, manifest: dict) -> dict[str, int]:
    """Replace each backed-up table's rows with the backup's; returns rows loaded per table."""
    folder = Path(manifest["folder"])
    loaded = {}
    present = db.tables()
    with db.transaction():
        for table in (t for t in manifest["tables"] if t in present):
            db.execute(f"DELETE FROM {table}")
            source = _quote(folder / (table + ".parquet"))
            db.execute(f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet({source})")
            loaded[table] = int(db.one(f"SELECT count(*) FROM {table}")[0])
    return loaded


@dataclass(frozen=True)
class Restored:
    store: Path
    moved_to: Path | None  # where the previous store file went (None when there was none)
    backup_written: str
    rows: dict[str, int]


def restore(path: Path) -> Restored:
    """Move the store file aside (``site.duckdb.corrupt-<time>``, or ``.replaced-<time>`` when it was
    readable), create a fresh store and load the last backup into it."""
    from sitegen.store.db import Store

    path = Path(path)
    manifest = read_manifest(backup_dir(path))
    if manifest is None:
        raise StoreError(f"no backup to restore in {backup_dir(path)} (one is written after each successful build)")
    lock = StoreLock(path)
    try:
        moved = None
        if path.exists():
            try:
                Store(path, lock=lock).close()
                state = "replaced"
            except StoreLockedError:
                raise
            except StoreError:
                state = "corrupt"
            moved = path.with_name(f"{path.name}.{state}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}")
            path.rename(moved)
            wal = path.with_name(path.name + ".wal")
            if wal.exists():
                wal.rename(moved.with_name(moved.name + ".wal"))
        with Store(path, lock=lock) as store:
            rows = store.load_backup(manifest)
    finally:
        lock.release()
    return Restored(path, moved, manifest.get("written", "?"), rows)
