"""The trend agent's memory (``sitegen.demand.trends``).

Long-term, durable (backed up): the runs, each run's decision per trend, the proposals with their status
(pending -> approved / rejected / expired) and topics, each trend's outcome (the reward its pages earned),
the seasonal calendar (a term's typical peak, as ``MM-DD``), and the exemplars (an approved trend and its
expansions, reused as few-shot examples). Short-term: the LangGraph checkpoints of each run's thread
(checkpoints, channel blobs, pending writes), so a run waiting for approval survives the process; a thread
whose graph has finished is deleted.

Rows are plain tuples and JSON here; ``sitegen.demand.trends`` turns them into the typed models.
"""

from __future__ import annotations

import json
from typing import Iterable, Sequence

from sitegen.core.models import DemandTopic, TrendDecision, TrendProposal
from sitegen.store.repository import Repository

_PROPOSAL_COLUMNS = ["id", "thread_id", "trend", "key", "source", "stage", "reason", "next_peak", "topics",
                     "weight", "status", "interrupt_id", "proposed_at", "decided_at", "decided_by", "note",
                     "refreshed_at"]


def _topics_json(topics: Sequence[DemandTopic]) -> str:
    return json.dumps([{"text": t.text, "source": t.source, "weight": t.weight, "hub": t.hub,
                        "category": t.category} for t in topics], ensure_ascii=False)


def _topics(raw: str | None) -> tuple[DemandTopic, ...]:
    return tuple(DemandTopic(d["text"], d.get("source", "trend"), float(d.get("weight", 0.0)), d.get("hub", ""),
                             d.get("category", "description")) for d in json.loads(raw or "[]"))


def _proposal(row: tuple) -> TrendProposal:
    (pid, thread, trend, key, source, stage, reason, next_peak, topics, weight, status, interrupt_id,
     proposed_at, decided_at, decided_by, note, refreshed_at) = row
    return TrendProposal(id=pid, trend=trend, key=key, source=source or "", stage=stage or "", reason=reason or "",
                         topics=_topics(topics), status=status, thread_id=thread or "",
                         interrupt_id=interrupt_id or "", next_peak=next_peak or "", weight=float(weight or 0.0),
                         proposed_at=proposed_at or "", decided_at=decided_at or "", decided_by=decided_by or "",
                         note=note or "", refreshed_at=refreshed_at or "")


class TrendMemory(Repository):
    OWNER = "trends"
    MIGRATIONS = [
        [
            """CREATE TABLE IF NOT EXISTS trend_runs (
                thread_id VARCHAR PRIMARY KEY, started VARCHAR, today VARCHAR, source VARCHAR, status VARCHAR,
                trends INTEGER, proposals INTEGER)""",
            """CREATE TABLE IF NOT EXISTS trend_decisions (
                thread_id VARCHAR, position INTEGER, trend VARCHAR, source VARCHAR, stage VARCHAR,
                decision VARCHAR, reason VARCHAR, topics JSON, PRIMARY KEY (thread_id, position))""",
            """CREATE TABLE IF NOT EXISTS trend_proposals (
                id VARCHAR PRIMARY KEY, thread_id VARCHAR, trend VARCHAR, key VARCHAR, source VARCHAR,
                stage VARCHAR, reason VARCHAR, next_peak VARCHAR, topics JSON, weight DOUBLE, status VARCHAR,
                interrupt_id VARCHAR, proposed_at VARCHAR, decided_at VARCHAR, decided_by VARCHAR, note VARCHAR,
                refreshed_at VARCHAR)""",
            """CREATE TABLE IF NOT EXISTS trend_outcomes (
                key VARCHAR, topic VARCHAR, path VARCHAR, reward DOUBLE, measured_at VARCHAR,
                PRIMARY KEY (key, topic))""",
            """CREATE TABLE IF NOT EXISTS trend_calendar (
                key VARCHAR PRIMARY KEY, term VARCHAR, peak VARCHAR, source VARCHAR, updated VARCHAR)""",
            """CREATE TABLE IF NOT EXISTS trend_exemplars (
                key VARCHAR PRIMARY KEY, trend VARCHAR, hub VARCHAR, expansions JSON, approved_at VARCHAR)""",
            """CREATE TABLE IF NOT EXISTS trend_checkpoints (
                thread_id VARCHAR, ns VARCHAR, checkpoint_id VARCHAR, parent_id VARCHAR, type VARCHAR,
                checkpoint BLOB, metadata_type VARCHAR, metadata BLOB, PRIMARY KEY (thread_id, ns, checkpoint_id))""",
            """CREATE TABLE IF NOT EXISTS trend_blobs (
                thread_id VARCHAR, ns VARCHAR, channel VARCHAR, version VARCHAR, type VARCHAR, value BLOB,
                PRIMARY KEY (thread_id, ns, channel, version))""",
            """CREATE TABLE IF NOT EXISTS trend_writes (
                thread_id VARCHAR, ns VARCHAR, checkpoint_id VARCHAR, task_id VARCHAR, idx INTEGER, channel VARCHAR,
                type VARCHAR, value BLOB, task_path VARCHAR, PRIMARY KEY (thread_id, ns, checkpoint_id, task_id, idx))""",
        ],
    ]
    DURABLE = ("trend_runs", "trend_decisions", "trend_proposals", "trend_outcomes", "trend_calendar",
               "trend_exemplars", "trend_checkpoints", "trend_blobs", "trend_writes")

    # -- runs and decisions ------------------------------------------------------------------------------
    def begin_run(self, thread_id: str, started: str, today: str, source: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO trend_runs VALUES (?, ?, ?, ?, 'running', 0, 0)",
                        [thread_id, started, today, source])

    def finish_run(self, thread_id: str, status: str, trends: int, proposals: int) -> None:
        self.db.execute("UPDATE trend_runs SET status = ?, trends = ?, proposals = ? WHERE thread_id = ?",
                        [status, trends, proposals, thread_id])

    def set_run_status(self, thread_id: str, status: str) -> None:
        self.db.execute("UPDATE trend_runs SET status = ? WHERE thread_id = ?", [status, thread_id])

    def runs(self) -> list[tuple[str, str, str, str, str, int, int]]:
        """(thread id, started, today, source, status, trends, proposals), newest first."""
        return self.db.rows("SELECT thread_id, started, today, source, status, trends, proposals FROM trend_runs "
                            "ORDER BY started DESC, thread_id DESC")

    def record_decisions(self, thread_id: str, decisions: Sequence[TrendDecision]) -> None:
        """A run's decision per trend (replacing what the run recorded before)."""
        with self.db.transaction():
            self.db.execute("DELETE FROM trend_decisions WHERE thread_id = ?", [thread_id])
            if decisions:
                n = len(decisions)
                self.db.bulk_insert("trend_decisions", ["thread_id", "position", "trend", "source", "stage",
                                                        "decision", "reason", "topics"],
                                    [[thread_id] * n, list(range(n)), [d.trend for d in decisions],
                                     [d.source for d in decisions], [d.stage for d in decisions],
                                     [d.decision for d in decisions], [d.reason for d in decisions],
                                     [json.dumps(list(d.topics), ensure_ascii=False) for d in decisions]])

    def decisions(self, thread_id: str) -> list[TrendDecision]:
        rows = self.db.rows("SELECT trend, source, stage, decision, reason, topics FROM trend_decisions "
                            "WHERE thread_id = ? ORDER BY position", [thread_id])
        return [TrendDecision(t, s, st, d, r, tuple(json.loads(tp or "[]"))) for t, s, st, d, r, tp in rows]

    # -- proposals ---------------------------------------------------------------------------------------
    def put_proposals(self, proposals: Iterable[TrendProposal]) -> None:
        """Insert or replace proposals (by id)."""
        rows = list(proposals)
        if not rows:
            return
        self.db.bulk_insert("trend_proposals", _PROPOSAL_COLUMNS, [
            [p.id for p in rows], [p.thread_id for p in rows], [p.trend for p in rows], [p.key for p in rows],
            [p.source for p in rows], [p.stage for p in rows], [p.reason for p in rows],
            [p.next_peak for p in rows], [_topics_json(p.topics) for p in rows], [float(p.weight) for p in rows],
            [p.status for p in rows], [p.interrupt_id for p in rows], [p.proposed_at for p in rows],
            [p.decided_at for p in rows], [p.decided_by for p in rows], [p.note for p in rows],
            [p.refreshed_at for p in rows]], replace=True)

    def proposals(self, statuses: Sequence[str] | None = None) -> list[TrendProposal]:
        """Every proposal (of these statuses), oldest first."""
        sql = f"SELECT {', '.join(_PROPOSAL_COLUMNS)} FROM trend_proposals"
        params: list = []
        if statuses is not None:
            if not statuses:
                return []
            sql += f" WHERE status IN ({', '.join('?' * len(statuses))})"
            params = list(statuses)
        return [_proposal(r) for r in self.db.rows(sql + " ORDER BY proposed_at, weight DESC, id", params)]

    def proposal(self, proposal_id: str) -> TrendProposal | None:
        row = self.db.one(f"SELECT {', '.join(_PROPOSAL_COLUMNS)} FROM trend_proposals WHERE id = ?", [proposal_id])
        return _proposal(row) if row else None

    def set_status(self, proposal_id: str, status: str, *, at: str, by: str = "", note: str = "") -> None:
        self.db.execute("UPDATE trend_proposals SET status = ?, decided_at = ?, decided_by = ?, note = ? "
                        "WHERE id = ?", [status, at, by, note, proposal_id])

    def set_interrupt(self, proposal_id: str, interrupt_id: str) -> None:
        self.db.execute("UPDATE trend_proposals SET interrupt_id = ? WHERE id = ?", [interrupt_id, proposal_id])

    def mark_refreshed(self, proposal_id: str, at: str, stage: str, reason: str) -> None:
        self.db.execute("UPDATE trend_proposals SET refreshed_at = ?, stage = ?, reason = ? WHERE id = ?",
                        [at, stage, reason, proposal_id])

    # -- outcomes, calendar, exemplars --------------------------------------------------------------------
    def put_outcomes(self, rows: Sequence[tuple[str, str, str, float, str]]) -> None:
        """(trend key, topic, page path, reward, measured at) rows, replacing earlier ones of the same topic."""
        if rows:
            self.db.bulk_insert("trend_outcomes", ["key", "topic", "path", "reward", "measured_at"],
                                [list(c) for c in zip(*rows)], replace=True)

    def outcomes(self) -> dict[str, list[tuple[str, str, float, str]]]:
        """trend key -> [(topic, path, reward, measured at)]."""
        out: dict[str, list[tuple[str, str, float, str]]] = {}
        for key, topic, path, reward, at in self.db.rows(
                "SELECT key, topic, path, reward, measured_at FROM trend_outcomes ORDER BY key, topic"):
            out.setdefault(key, []).append((topic, path or "", float(reward), at or ""))
        return out

    def put_calendar(self, rows: Sequence[tuple[str, str, str, str, str]]) -> None:
        """(key, term, typical peak MM-DD, source, updated) rows."""
        if rows:
            self.db.bulk_insert("trend_calendar", ["key", "term", "peak", "source", "updated"],
                                [list(c) for c in zip(*rows)], replace=True)

    def calendar(self) -> dict[str, tuple[str, str, str]]:
        """key -> (term, typical peak MM-DD, source)."""
        return {k: (t, p, s or "") for k, t, p, s in self.db.rows(
            "SELECT key, term, peak, source FROM trend_calendar ORDER BY key")}

    def put_exemplar(self, key: str, trend: str, hub: str, expansions: Sequence[str], at: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO trend_exemplars VALUES (?, ?, ?, ?, ?)",
                        [key, trend, hub, json.dumps(list(expansions), ensure_ascii=False), at])

    def exemplars(self) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """(key, trend, hub, expansions), newest first."""
        return [(k, t, h or "", tuple(json.loads(e or "[]"))) for k, t, h, e in self.db.rows(
            "SELECT key, trend, hub, expansions FROM trend_exemplars ORDER BY approved_at DESC, key")]

    # -- LangGraph checkpoints (sitegen.demand.trends.checkpoint) --------------------------------------------
    def put_checkpoint(self, thread_id: str, ns: str, checkpoint_id: str, parent_id: str | None,
                       typed: tuple[str, bytes], metadata: tuple[str, bytes]) -> None:
        self.db.execute("INSERT OR REPLACE INTO trend_checkpoints VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [thread_id, ns, checkpoint_id, parent_id, typed[0], typed[1], metadata[0], metadata[1]])

    def put_blobs(self, rows: Sequence[tuple[str, str, str, str, str, bytes]]) -> None:
        """(thread id, ns, channel, version, type, value) rows."""
        for row in rows:
            self.db.execute("INSERT OR REPLACE INTO trend_blobs VALUES (?, ?, ?, ?, ?, ?)", list(row))

    def checkpoint_rows(self, thread_id: str | None, ns: str | None = None, checkpoint_id: str | None = None,
                        before: str | None = None, limit: int | None = None) -> list[tuple]:
        """(thread id, ns, checkpoint id, parent id, type, checkpoint, metadata type, metadata), newest first."""
        sql = ("SELECT thread_id, ns, checkpoint_id, parent_id, type, checkpoint, metadata_type, metadata "
               "FROM trend_checkpoints WHERE 1 = 1")
        params: list = []
        for column, value, op in (("thread_id", thread_id, "="), ("ns", ns, "="),
                                  ("checkpoint_id", checkpoint_id, "="), ("checkpoint_id", before, "<")):
            if value is not None:
                sql += f" AND {column} {op} ?"
                params.append(value)
        sql += " ORDER BY thread_id, ns, checkpoint_id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [(t, n, c, p, ty, bytes(cp), mt, bytes(md)) for t, n, c, p, ty, cp, mt, md in self.db.rows(sql, params)]

    def blobs(self, thread_id: str, ns: str, versions: dict[str, str]) -> dict[str, tuple[str, bytes]]:
        """channel -> (type, value) of these channel versions."""
        out: dict[str, tuple[str, bytes]] = {}
        for channel, version in versions.items():
            row = self.db.one("SELECT type, value FROM trend_blobs WHERE thread_id = ? AND ns = ? AND channel = ? "
                              "AND version = ?", [thread_id, ns, channel, version])
            if row is not None:
                out[channel] = (row[0], bytes(row[1]) if row[1] is not None else b"")
        return out

    def put_writes(self, rows: Sequence[tuple[str, str, str, str, int, str, str, bytes, str]], *,
                   keep_existing: bool) -> None:
        """(thread id, ns, checkpoint id, task id, idx, channel, type, value, task path) rows; with
        ``keep_existing`` a row whose key is stored already is left as it is."""
        verb = "INSERT OR IGNORE" if keep_existing else "INSERT OR REPLACE"
        for row in rows:
            self.db.execute(f"{verb} INTO trend_writes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", list(row))

    def writes(self, thread_id: str, ns: str, checkpoint_id: str) -> list[tuple[str, int, str, str, bytes, str]]:
        """(task id, idx, channel, type, value, task path) of one checkpoint."""
        return [(t, int(i), c, ty, bytes(v), tp or "") for t, i, c, ty, v, tp in self.db.rows(
            "SELECT task_id, idx, channel, type, value, task_path FROM trend_writes WHERE thread_id = ? AND ns = ? "
            "AND checkpoint_id = ?", [thread_id, ns, checkpoint_id])]

    def delete_thread(self, thread_id: str) -> None:
        with self.db.transaction():
            for table in ("trend_checkpoints", "trend_blobs", "trend_writes"):
                self.db.execute(f"DELETE FROM {table} WHERE thread_id = ?", [thread_id])

    def threads(self) -> list[str]:
        """Threads that have checkpoints."""
        return [r[0] for r in self.db.rows("SELECT DISTINCT thread_id FROM trend_checkpoints ORDER BY thread_id")]
