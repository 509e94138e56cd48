"""Build runs and the catalog rows each run rejected."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterable

from sitegen.core.models import Rejection
from sitegen.store.repository import Repository


@dataclass(frozen=True)
class Run:
    id: int
    started: str
    finished: str | None
    status: str
    config_hash: str
    summary: dict = field(default_factory=dict)


class Runs(Repository):
    OWNER = "runs"
    MIGRATIONS = [
        [
            """CREATE TABLE IF NOT EXISTS builds (
                id INTEGER PRIMARY KEY, started VARCHAR, finished VARCHAR, status VARCHAR,
                config_hash VARCHAR, summary JSON)""",
            """CREATE TABLE IF NOT EXISTS rejections (
                build_id INTEGER, source VARCHAR, item_id VARCHAR, reason VARCHAR, detail VARCHAR)""",
        ],
    ]
    DURABLE = ("builds",)

    def begin(self, started: str, config_hash: str) -> int:
        run_id = int(self.db.one("SELECT coalesce(max(id), 0) + 1 FROM builds")[0])
        self.db.execute("INSERT INTO builds VALUES (?, ?, NULL, 'running', ?, NULL)", [run_id, started, config_hash])
        return run_id

    def finish(self, run_id: int, status: str, finished: str, summary: dict) -> None:
        self.db.execute("UPDATE builds SET status = ?, finished = ?, summary = ? WHERE id = ?",
                        [status, finished, json.dumps(summary, sort_keys=True, default=str), run_id])

    def last(self, status: str | None = None) -> Run | None:
        """The newest run (with that status, e.g. ``"ok"``), or None."""
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        row = self.db.one(f"SELECT id, started, finished, status, config_hash, summary FROM builds {where} "
                          "ORDER BY id DESC LIMIT 1", params)
        if row is None:
            return None
        return Run(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]) if row[5] else {})

    def record_rejections(self, run_id: int, rejections: Iterable[Rejection]) -> None:
        rows = [(run_id, r.source, r.item_id, r.reason, r.detail) for r in rejections]
        if rows:
            self.db.bulk_insert("rejections", ["build_id", "source", "item_id", "reason", "detail"],
                                [list(col) for col in zip(*rows)])

    def rejections(self, run_id: int) -> list[Rejection]:
        rows = self.db.rows("SELECT source, item_id, reason, detail FROM rejections WHERE build_id = ? "
                            "ORDER BY source", [run_id])
        return [Rejection(*r) for r in rows]
