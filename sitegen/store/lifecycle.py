"""The page lifecycle's memory: the live collection pages (topic, items, builds in a row below the reward
floor), the retired URLs (301 target or 410, reason, when) and every build's page events. Durable: a retired URL
must stay retired, and its slug its topic's, after a restore.

A build writes its new state (``record``) in the transaction that stores its pages, after ``stash`` kept the
previous state; if the build never goes live (killed before the swap), ``restore`` puts the previous state back
(``pipeline.output.reconcile``), exactly as for the pages."""

from __future__ import annotations

import json
from typing import Iterable

from sitegen.core.models import LivePage, PageEvent, RetiredPage
from sitegen.core.text import topic_key
from sitegen.store.repository import Repository

_LIVE = ["path", "topic", "topic_key", "item_ids", "below", "first_run", "through"]
_RETIRED = ["path", "topic", "topic_key", "status", "target", "reason", "detail", "retired_at", "run_id"]
_EVENTS = ["run_id", "path", "event", "topic", "reason", "detail", "status", "target"]
_STATE = ("lifecycle_live", "lifecycle_retired")


class Lifecycle(Repository):
    OWNER = "lifecycle"
    MIGRATIONS = [
        [
            """CREATE TABLE IF NOT EXISTS lifecycle_live (
                path VARCHAR PRIMARY KEY, topic VARCHAR, topic_key VARCHAR, item_ids JSON, below INTEGER,
                first_run INTEGER)""",
            """CREATE TABLE IF NOT EXISTS lifecycle_retired (
                path VARCHAR PRIMARY KEY, topic VARCHAR, topic_key VARCHAR, status INTEGER, target VARCHAR,
                reason VARCHAR, detail VARCHAR, retired_at VARCHAR, run_id INTEGER)""",
            """CREATE TABLE IF NOT EXISTS lifecycle_events (
                run_id INTEGER, path VARCHAR, event VARCHAR, topic VARCHAR, reason VARCHAR, detail VARCHAR,
                status INTEGER, target VARCHAR)""",
            *[f"CREATE TABLE IF NOT EXISTS {t}_stash AS SELECT * FROM {t} WHERE false" for t in _STATE],
        ],
        [  # the newest signal day imported when the page was created (None: before any import)
            "ALTER TABLE lifecycle_live ADD COLUMN IF NOT EXISTS through VARCHAR",
            "ALTER TABLE lifecycle_live_stash ADD COLUMN IF NOT EXISTS through VARCHAR",
        ],
    ]
    DURABLE = ("lifecycle_live", "lifecycle_retired", "lifecycle_events")

    # -- reading -------------------------------------------------------------------------------------------
    def live(self) -> dict[str, LivePage]:
        """path -> the live collection page as the last successful build left it."""
        rows = self.db.rows("SELECT path, topic, item_ids, below, first_run, through FROM lifecycle_live ORDER BY path")
        return {p: LivePage(p, t, tuple(json.loads(ids or "[]")), int(b or 0), int(f or 0), th or "")
                for p, t, ids, b, f, th in rows}

    def retired(self) -> dict[str, RetiredPage]:
        """path -> every retired collection URL."""
        rows = self.db.rows(f"SELECT path, topic, status, target, reason, detail, retired_at, run_id "
                            "FROM lifecycle_retired ORDER BY path")
        return {p: RetiredPage(p, t, int(s), tg or "", r, d or "", at or "", int(run or 0))
                for p, t, s, tg, r, d, at, run in rows}

    def owners(self) -> dict[str, str]:
        """URL path -> topic key of every collection URL sitegen has published (live or retired): a URL belongs
        to its topic for good."""
        rows = self.db.rows("SELECT path, topic_key FROM lifecycle_retired UNION ALL "
                            "SELECT path, topic_key FROM lifecycle_live")
        return dict(rows)

    def events(self, run_id: int) -> list[PageEvent]:
        rows = self.db.rows(f"SELECT {', '.join(_EVENTS[1:])} FROM lifecycle_events WHERE run_id = ? "
                            "ORDER BY event, path", [run_id])
        return [PageEvent(p, e, t, r or "", d or "", int(s or 0), tg or "") for p, e, t, r, d, s, tg in rows]

    # -- writing -------------------------------------------------------------------------------------------
    def record(self, run_id: int, live: Iterable[LivePage], retired: Iterable[RetiredPage],
               events: Iterable[PageEvent]) -> None:
        """Replace the live pages and the retired URLs with this build's, and add its events."""
        live, retired, events = list(live), list(retired), list(events)
        with self.db.transaction():
            self.db.execute("DELETE FROM lifecycle_live")
            self.db.execute("DELETE FROM lifecycle_retired")
            self.db.execute("DELETE FROM lifecycle_events WHERE run_id = ?", [run_id])
            self.db.bulk_insert("lifecycle_live", _LIVE, [
                [p.path for p in live], [p.topic for p in live], [topic_key(p.topic) for p in live],
                [json.dumps(list(p.item_ids)) for p in live], [p.below for p in live],
                [p.first_run for p in live], [p.through or None for p in live]])
            self.db.bulk_insert("lifecycle_retired", _RETIRED, [
                [r.path for r in retired], [r.topic for r in retired], [topic_key(r.topic) for r in retired],
                [r.status for r in retired], [r.target for r in retired], [r.reason for r in retired],
                [r.detail for r in retired], [r.retired_at for r in retired], [r.run_id for r in retired]])
            self.db.bulk_insert("lifecycle_events", _EVENTS, [
                [run_id] * len(events), [e.path for e in events], [e.event for e in events],
                [e.topic for e in events], [e.reason for e in events], [e.detail for e in events],
                [e.status for e in events], [e.target for e in events]])

    def update_below(self, below: dict[str, int]) -> None:
        """Set the below-the-floor counts of live pages (a build whose output did not change)."""
        with self.db.transaction():
            for path, n in sorted(below.items()):
                self.db.execute("UPDATE lifecycle_live SET below = ? WHERE path = ?", [n, path])

    def stash(self) -> None:
        """Keep the current state before a build that is not live yet replaces it."""
        with self.db.transaction():
            for t in _STATE:
                self.db.execute(f"DELETE FROM {t}_stash")
                self.db.execute(f"INSERT INTO {t}_stash SELECT * FROM {t}")

    def restore(self) -> None:
        """Put back the state kept by :meth:`stash` (the build that replaced it never went live)."""
        with self.db.transaction():
            for t in _STATE:
                self.db.execute(f"DELETE FROM {t}")
                self.db.execute(f"INSERT INTO {t} SELECT * FROM {t}_stash")
