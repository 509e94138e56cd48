"""The review app's trends page (``/_review/trends``): the trend agent's proposals waiting for approval, each with
its trend, lifecycle stage, reason and topics, and approve / reject buttons. A decision resumes the agent's
waiting graph (``sitegen.demand.trends.agent.decide``: a LangGraph ``Command(resume=...)`` on the thread kept in
the store); the next build publishes the approved topics.

API (JSON, under ``/_review/api/``): ``GET trends`` (the pending proposals and the last decided ones),
``POST trends/decide`` ``{"proposal": id, "decision": "approved" | "rejected", "rater": name, "note": text}``
(answers the proposal as it now is). The review app checks the origin and body of every POST.
"""

from __future__ import annotations

RECENT = 20  # decided proposals listed below the pending ones
MAX_NOTE = 300


def _proposal(p) -> dict:
    return {"id": p.id, "trend": p.trend, "source": p.source, "stage": p.stage, "reason": p.reason,
            "status": p.status, "next_peak": p.next_peak, "proposed_at": p.proposed_at, "decided_at": p.decided_at,
            "decided_by": p.decided_by, "note": p.note,
            "topics": [{"text": t.text, "hub": t.hub} for t in p.topics]}


def listing(store) -> dict:
    """The pending proposals (oldest first) and the most recently decided ones."""
    props = store.trends.proposals()
    pending = [p for p in props if p.status == "pending"]
    decided = sorted((p for p in props if p.status != "pending"), key=lambda p: (p.decided_at, p.id), reverse=True)
    runs = store.trends.runs()
    return {"pending": [_proposal(p) for p in pending], "decided": [_proposal(p) for p in decided[:RECENT]],
            "last_run": {"thread": runs[0][0], "started": runs[0][1], "today": runs[0][2], "status": runs[0][4],
                         "trends": runs[0][5], "proposals": runs[0][6]} if runs else None}


def decide(cfg, store, data: dict, rater: str) -> dict:
    """Apply one decision; raises ``ValueError`` for a malformed one, ``TrendError`` for one that cannot apply."""
    from sitegen.demand.trends.agent import decide as resume

    pid, decision, note = data.get("proposal"), data.get("decision"), data.get("note", "")
    if not isinstance(pid, str) or not pid or len(pid) > 64:
        raise ValueError("proposal must be a proposal id")
    if decision not in ("approved", "rejected"):
        raise ValueError("decision must be 'approved' or 'rejected'")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise ValueError(f"note must be a string of at most {MAX_NOTE} characters")
    p = resume(cfg, store, pid, decision, by=rater, note=" ".join(note.split()))
    return {"ok": True, "proposal": _proposal(p)}

