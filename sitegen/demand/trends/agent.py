"""The trend-mining agent: a LangGraph ``StateGraph`` (the GEO paper's agentic trend mining, section 3.1.2).

    planning -> retrieval -> filtering -> expansion -> validation -> approval (one task per proposal) -> end

- **planning**: the run's plan: region, time span, the date it plans for (``trends.today``), the lead window,
  the budget, the seasonal peaks the memory expects soon, and the focus themes (the LLM's, or the catalog's
  largest categories) that order the candidates;
- **retrieval**: ``fetch_trends``; the trends of one term (normalised) are one candidate; its lifecycle stage
  (``series.stage_of`` for a series, ``series.calendar_stage`` for rankings, related and trending-now terms, a
  remembered typical peak otherwise) and the lifecycle action (``policy.lifecycle_action``); seasonal peaks go
  to the memory's calendar;
- **filtering**: ``semantic_filter`` for every candidate (the LLM, when configured, for those to propose);
- **expansion**: for the candidates to propose, best first (``policy.priority``) and at most
  ``3 x trends.max_proposals``: ``content_lookup`` of the term and ``expand_query`` over the catalog values of
  its matching items;
- **validation**: each expansion through the shared post-processing, the topic gate and ``content_lookup``
  (``collect.min_items`` items at ``collect.threshold``); a trend keeps up to ``trends.max_expansions`` topics;
  at most ``trends.max_proposals`` proposals; every candidate's decision (propose / refresh / expire / reject,
  with its reason) is recorded, the proposals stored (``store.trends``);
- **approval**: unless ``trends.auto_approve``, one task per proposal waits in a LangGraph ``interrupt`` for a
  person's decision (the review app's trends page, ``sitegen serve``). The checkpointer keeps the thread in
  the store (``checkpoint.StoreCheckpointer``), so ``decide`` resumes it from any later process with
  ``Command(resume=...)``; a thread whose every proposal is decided finishes and its checkpoints are deleted.

Short-term memory: the run's thread (one per run). Long-term memory (``store.trends``): proposals and their
status, each trend's outcome (the reward its pages earned, from the ``RewardTable`` given to the run), the
seasonal calendar and the exemplars (approved trends and their topics, the LLM's few-shot examples).
"""

from __future__ import annotations

import hashlib
import operator
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Annotated, Any, TypedDict

import numpy as np

from sitegen.core.errors import TrendError
from sitegen.core.models import DemandTopic, Trend, TrendDecision, TrendProposal, TrendStage
from sitegen.core.text import topic_key
from sitegen.demand.trends import policy
from sitegen.demand.trends.settings import today_of

Stager = Callable[[Sequence[Trend], date], TrendStage]  # the trends of one term -> its stage
FILTER_ALL_BELOW = 20_000  # with more candidates, only those with a page to propose are filtered
_MMDD = re.compile(r"(\d{2})-(\d{2})$")


def default_stager(trends: Sequence[Trend], today: date) -> TrendStage:
    """The stage of one term from its trends (``sitegen.demand.trends.series``): its longest series, else the
    calendar of its other entries (rankings, related queries, trending now)."""
    from sitegen.demand.trends import series

    with_points = [t for t in trends if t.kind == "series" and t.points]
    if with_points:
        return series.stage_of(max(with_points, key=lambda t: (len(t.points), t.source)), today)
    return series.calendar_stage(list(trends), today)


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class State(TypedDict, total=False):
    plan: dict
    candidates: list[dict]  # one per term, in the order they were read
    fits: dict  # key -> semantic_filter's answer
    expansions: dict  # key -> content lookup and expansions
    decisions: list[dict]  # TrendDecision fields, one per candidate
    proposals: list[str]  # ids of the proposals waiting for approval
    approvals: Annotated[list, operator.add]  # [proposal id, decision] as people decide


@dataclass
class AgentRun:
    thread_id: str
    decisions: list[TrendDecision]
    pending: list[TrendProposal]  # proposals of this run waiting for approval
    stats: dict = field(default_factory=dict)


class TrendAgent:
    """The graph over one site. ``toolbox``: a ``tools.Toolbox`` or a function making one (called on first use:
    resuming an approval needs none); ``stager`` gives a term's stage (default: ``default_stager``);
    ``rewards``: the ``RewardTable`` of the run (outcomes and priorities); ``progress(name)``: a
    ``(done, total)`` callback or None."""

    def __init__(self, cfg, store, *, toolbox: Any = None, stager: Stager | None = None, rewards: Any = None,
                 progress: Callable[[str], Callable[[int, int], None] | None] | None = None,
                 clock: Callable[[], str] = now_iso):
        from sitegen.demand.trends.checkpoint import StoreCheckpointer

        self.cfg, self.store = cfg, store
        self._toolbox = toolbox
        self.stager = stager or default_stager
        self.rewards = rewards
        self.progress = progress or (lambda _name: None)
        self.clock = clock
        self.thread_id = ""
        self._trends: dict[str, list[Trend]] = {}
        self.graph = build_graph(self, StoreCheckpointer(store))

    @property
    def tools(self):
        if self._toolbox is not None and not hasattr(self._toolbox, "fetch_trends"):
            self._toolbox = self._toolbox()
        if self._toolbox is None:
            raise TrendError("the trend agent has no tools here (only approvals can be resumed)")
        return self._toolbox

    def config(self, thread_id: str) -> dict:
        return {"configurable": {"thread_id": thread_id}}

    # -- nodes -------------------------------------------------------------------------------------------
    def planning(self, state: State) -> dict:
        t = self.cfg.trends
        today = today_of(self.cfg)
        upcoming = []
        for _key, (term, peak, _source) in sorted(self.store.trends.calendar().items()):
            nxt = policy.next_from_calendar(peak, today)
            if (nxt - today).days <= t.lead_days:
                upcoming.append(f"{term}: {nxt.isoformat()}")
        lines = self.tools.catalog_lines()
        focus, by = None, "categories"
        if self.tools.llm is not None:
            focus = self.tools.llm.plan(today.isoformat(), lines, upcoming)
            by = "llm" if focus else "categories (the LLM's answer was unclear)"
        if not focus:
            focus = list(policy.taxonomy_of(self.tools.catalog.items, top=5).categories)
        return {"plan": {"today": today.isoformat(), "region": t.region, "timespan": t.timespan,
                         "lead_days": t.lead_days, "threshold": t.threshold, "max_proposals": t.max_proposals,
                         "expand_budget": 3 * t.max_proposals, "focus": focus, "focus_by": by,
                         "upcoming": upcoming}}

    def retrieval(self, state: State) -> dict:
        plan = state["plan"]
        today = date.fromisoformat(plan["today"])
        trends = self.tools.fetch_trends(plan["region"], plan["timespan"], today)
        groups: dict[str, list[Trend]] = {}
        for t in trends:
            key = topic_key(t.term)
            if key:
                groups.setdefault(key, []).append(t)
        self._trends = groups
        calendar = self.store.trends.calendar()
        history = self._history()
        rows, remembered = [], []
        tick = self.progress("trends")
        for n, (key, group) in enumerate(groups.items(), 1):
            stage = self._stage(group, today)
            if stage.stage in ("unknown", "") and key in calendar:
                stage = policy.remembered_stage(calendar[key][1], today)
            main = _primary(group)
            m = _MMDD.search(stage.peak or "")
            if stage.stage == "seasonal" and m:
                remembered.append((key, main.term, f"{m.group(1)}-{m.group(2)}", main.source, plan["today"]))
            action, why = policy.lifecycle_action(stage, today, plan["lead_days"], history.get(key, policy.History()))
            rows.append({"key": key, "term": main.term, "source": main.source, "kind": main.kind,
                         "region": main.region, "files": len({t.source for t in group}), "score": main.score,
                         "rising": any(t.rising for t in group), "stage": stage.stage or "unknown",
                         "stage_reason": stage.reason, "peak": stage.peak, "next_peak": stage.next_peak,
                         "action": action, "action_reason": why})
            if tick:
                tick(n, len(groups))
        self.store.trends.put_calendar(remembered)
        return {"candidates": rows}

    def _stage(self, group: list[Trend], today: date) -> TrendStage:
        try:
            return self.stager(group, today)
        except (ValueError, TypeError, KeyError, IndexError) as exc:  # a series the stager cannot read
            return TrendStage("unknown", f"no stage: {exc}")

    def filtering(self, state: State) -> dict:
        cands = state["candidates"]
        if len(cands) > FILTER_ALL_BELOW:
            chosen = [c for c in cands if c["action"] == "propose"]
        else:
            chosen = cands
        fits = {}
        tick = self.progress("filter")
        step = 512
        for start in range(0, len(chosen), step):
            part = chosen[start:start + step]
            got = self.tools.semantic_filter_many([c["term"] for c in part], state["plan"]["threshold"],
                                                  ask_llm=[c["action"] == "propose" for c in part])
            for c, f in zip(part, got):
                fits[c["key"]] = {"fit": f.fit, "verdict": f.verdict, "reason": f.reason, "llm": f.llm,
                                  "nearest": f.nearest}
            if tick:
                tick(min(start + step, len(chosen)), len(chosen))
        return {"fits": fits}

    def expansion(self, state: State) -> dict:
        plan, fits = state["plan"], state["fits"]
        waiting = {p.key for p in self.store.trends.proposals(["pending"])}  # proposed already: not again
        eligible = [c for c in state["candidates"] if c["action"] == "propose" and c["key"] not in waiting
                    and fits.get(c["key"], {}).get("verdict") == "fit"]
        focus_sim = self._focus(plan["focus"], [c["term"] for c in eligible])
        ratios = self._reward_ratios()
        ranked = sorted(((policy.priority(fits[c["key"]]["fit"], float(s), ratios.get(c["key"])), c)
                         for c, s in zip(eligible, focus_sim)), key=lambda pc: (-pc[0], pc[1]["key"]))
        out: dict[str, dict] = {}
        budget = ranked[: plan["expand_budget"]]
        exemplars = self._exemplars()
        contents = self.tools.content_lookup_many([c["term"] for _, c in budget])
        tick = self.progress("expand")
        for n, ((prio, c), content) in enumerate(zip(budget, contents), 1):
            taxonomy = self.tools.taxonomy(content)
            shots = self._few_shot(c["term"], exemplars)
            texts, how = self.tools.expand_query(c["term"], taxonomy, shots)
            out[c["key"]] = {"priority": prio, "content": content.as_dict(), "taxonomy": taxonomy.lines(),
                             "expansions": texts, "how": how}
            if tick:
                tick(n, len(budget))
        for prio, c in ranked[plan["expand_budget"]:]:
            out[c["key"]] = {"priority": prio, "over_budget": True}
        return {"expansions": out}

    def validation(self, state: State) -> dict:
        plan, fits, expanded = state["plan"], state["fits"], state["expansions"]
        cfg = self.cfg
        at = self.clock()
        memory = self.store.trends
        by_key = _proposals_by_key(memory.proposals())
        accepted: dict[str, list[DemandTopic]] = {}
        notes: dict[str, str] = {}
        for key, e in sorted(expanded.items(), key=lambda kv: (-kv[1]["priority"], kv[0])):
            if e.get("over_budget") or len(accepted) >= plan["max_proposals"]:
                notes[key] = f"over trends.max_proposals ({plan['max_proposals']}) this run"
                continue
            topics, best = [], None
            for text, why, content in self.tools.validate(e["expansions"]):
                if content is not None and (best is None or content.items > best[1].items):
                    best = (text, content)
                if not why and len(topics) < cfg.trends.max_expansions:
                    topics.append(DemandTopic(text, "trend", round(e["priority"], 4), content.hub, "description"))
            if topics:
                accepted[key] = topics
            elif best is not None:
                notes[key] = (f"too little content: {best[1].items} item(s) of the catalog are relevant to "
                              f"{best[0]!r} (collect.min_items = {best[1].needed})")
            else:
                notes[key] = "no valid expansion (post-processing dropped them all)"
        decisions, new = [], []
        for c in state["candidates"]:
            key, action = c["key"], c["action"]
            f = fits.get(key)
            stage_note = f"{c['stage']}" + (f": {c['stage_reason']}" if c["stage_reason"] else "")
            if action == "expire":
                expired = self._expire(by_key.get(key, []), c["action_reason"], at)
                decisions.append(_decision(c, "expire", c["action_reason"], expired))
            elif action == "refresh":
                live = [p for p in by_key.get(key, []) if p.status == "approved"]
                for p in live:
                    memory.mark_refreshed(p.id, at, c["stage"], c["action_reason"])
                decisions.append(_decision(c, "refresh", c["action_reason"],
                                           [t.text for p in live for t in p.topics]))
            elif action == "propose" and f is not None and f["verdict"] != "fit":
                decisions.append(_decision(c, "reject", f"{f['reason']} [{c['action_reason']}]"))
            elif action == "propose" and f is None:
                decisions.append(_decision(c, "reject", "not filtered"))
            elif action == "propose" and any(p.status == "pending" for p in by_key.get(key, [])):
                waiting = [p for p in by_key[key] if p.status == "pending"]
                decisions.append(_decision(c, "propose", f"{c['action_reason']}; awaiting approval since "
                                           f"{waiting[0].proposed_at[:10]}", [t.text for t in waiting[0].topics]))
            elif action == "propose" and key in accepted:
                p = TrendProposal(id=_proposal_id(self.thread_id, key), trend=c["term"], key=key, source=c["source"],
                                  stage=c["stage"], reason=c["action_reason"], topics=tuple(accepted[key]),
                                  status="pending", thread_id=self.thread_id, next_peak=c["next_peak"],
                                  weight=accepted[key][0].weight, proposed_at=at)
                new.append(p)
                decisions.append(_decision(c, "propose", c["action_reason"], [t.text for t in p.topics]))
            elif action == "propose":
                decisions.append(_decision(c, "reject", f"{notes.get(key, 'not expanded')} [{c['action_reason']}]"))
            else:
                reason = c["action_reason"]
                if f is not None and f["verdict"] != "fit":
                    reason = f"{f['reason']} [{reason}]"
                decisions.append(_decision(c, "reject", reason if reason else stage_note))
        with self.store.transaction():
            memory.put_proposals(new)
            if cfg.trends.auto_approve:
                for p in new:
                    apply_decision(self.store, p, "approved", by="auto", note="trends.auto_approve", at=at)
            memory.record_decisions(self.thread_id, [TrendDecision(**{**d, "topics": tuple(d["topics"])})
                                                     for d in decisions])
        pending = [] if cfg.trends.auto_approve else [p.id for p in new]
        return {"decisions": decisions, "proposals": pending}

    def approval(self, task: dict) -> dict:
        from langgraph.types import interrupt

        p = self.store.trends.proposal(task["proposal"])
        if p is None or p.status != "pending":  # decided meanwhile (or gone): nothing to wait for
            return {"approvals": [[task["proposal"], p.status if p else "missing"]]}
        answer = interrupt({"proposal": p.id, "trend": p.trend, "source": p.source, "stage": p.stage,
                            "reason": p.reason, "topics": [t.text for t in p.topics]})
        decision, by, note = _answer(answer)
        current = self.store.trends.proposal(p.id)
        if current is not None and current.status == "pending":
            apply_decision(self.store, current, decision, by=by, note=note, at=self.clock())
        return {"approvals": [[p.id, decision]]}

    # -- memory ------------------------------------------------------------------------------------------
    def _history(self) -> dict[str, policy.History]:
        out: dict[str, policy.History] = {}
        for key, props in _proposals_by_key(self.store.trends.proposals()).items():
            approved = any(p.status == "approved" for p in props)
            pending = next((p.proposed_at for p in props if p.status == "pending"), "")
            rejected = [p for p in props if p.status == "rejected" and p.decided_by not in ("agent", "auto")]
            last = rejected[-1] if rejected else None
            out[key] = policy.History(approved, pending, last.decided_at if last else "",
                                      last.next_peak if last else "")
        return out

    def _expire(self, props: list[TrendProposal], reason: str, at: str) -> list[str]:
        topics = []
        for p in props:
            if p.status in ("approved", "pending"):
                apply_decision(self.store, p, "expired", by="agent", note=reason, at=at)
                topics += [t.text for t in p.topics]
        return topics

    def _focus(self, focus: Sequence[str], terms: Sequence[str]) -> np.ndarray:
        if not focus or not terms:
            return np.zeros(len(terms), np.float32)
        sims = self.tools.encode(list(terms)) @ self.tools.encode(list(focus)).T
        return sims.max(axis=1)

    def _reward_ratios(self) -> dict[str, float]:
        """trend key -> mean reward its pages earned / the average reward (when both are known)."""
        average = getattr(self.rewards, "average", 0.0) if self.rewards is not None else 0.0
        if average <= 0:
            return {}
        return {key: sum(r for _, _, r, _ in rows) / len(rows) / average
                for key, rows in self.store.trends.outcomes().items() if rows}

    def _exemplars(self) -> list[tuple[str, tuple[str, ...]]]:
        own = [(trend, exp) for _k, trend, _hub, exp in self.store.trends.exemplars() if exp]
        return own or [(t, tuple(e)) for t, e in policy.domains().exemplars]

    def _few_shot(self, term: str, exemplars: list[tuple[str, tuple[str, ...]]], k: int = 3):
        """The ``k`` exemplars closest to ``term`` (embedding cosine), closest last (nearest the question)."""
        if len(exemplars) <= k:
            return exemplars
        sims = self.tools.encode([t for t, _ in exemplars]) @ self.tools.encode([term])[0]
        best = np.argsort(-sims, kind="stable")[:k]
        return [exemplars[i] for i in best[::-1].tolist()]

    def record_outcomes(self) -> int:
        """Each approved or expired trend's outcome: the reward its topics' pages earned (``RewardTable.topic``;
        a topic whose page is published reads the page's reward). Returns the rows written."""
        if self.rewards is None:
            return 0
        from sitegen.core import urls

        pages = {topic_key(c.topic): urls.collection_url(c.slug) for c in self.store.geo.collections()}
        rows = []
        at = self.clock()
        for p in self.store.trends.proposals(["approved", "expired"]):
            for t in p.topics:
                path = pages.get(topic_key(t.text), "")
                rows.append((p.key, t.text, path, float(self.rewards.topic(t.text, path)), at))
        self.store.trends.put_outcomes(rows)
        return len(rows)

    # -- resuming ----------------------------------------------------------------------------------------
    def waiting(self, thread_id: str) -> dict[str, str]:
        """proposal id -> interrupt id of the approvals a thread waits for."""
        state = self.graph.get_state(self.config(thread_id))
        return {i.value["proposal"]: i.id for i in state.interrupts
                if isinstance(i.value, dict) and "proposal" in i.value}

    def resume(self, answers: dict[str, dict], thread_id: str) -> bool:
        """Resume a thread's approvals (proposal id -> ``{"decision", "by", "note"}``); True when the thread has
        finished (and its checkpoints are deleted)."""
        from langgraph.types import Command

        waiting = self.waiting(thread_id)
        resume = {waiting[pid]: a for pid, a in answers.items() if pid in waiting}
        if resume:
            self.graph.invoke(Command(resume=resume), self.config(thread_id))
        if not self.graph.get_state(self.config(thread_id)).next:
            self.store.trends.delete_thread(thread_id)
            self.store.trends.set_run_status(thread_id, "done")
            return True
        for pid, iid in self.waiting(thread_id).items():
            self.store.trends.set_interrupt(pid, iid)
        return False


def build_graph(agent: TrendAgent, checkpointer: Any):
    """The compiled graph (see the module docstring)."""
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send

    g = StateGraph(State)
    for name in ("planning", "retrieval", "filtering", "expansion", "validation", "approval"):
        g.add_node(name, getattr(agent, name))
    g.add_edge(START, "planning")
    g.add_edge("planning", "retrieval")
    g.add_edge("retrieval", "filtering")
    g.add_edge("filtering", "expansion")
    g.add_edge("expansion", "validation")

    def to_approval(state: State):
        if agent.cfg.trends.auto_approve or not state.get("proposals"):
            return END
        return [Send("approval", {"proposal": pid}) for pid in state["proposals"]]

    g.add_conditional_edges("validation", to_approval, ["approval", END])
    g.add_edge("approval", END)
    return g.compile(checkpointer=checkpointer)


# -- running -------------------------------------------------------------------------------------------------

def run_agent(cfg, store, *, toolbox: Any = None, stager: Stager | None = None, rewards: Any = None,
              progress: Callable[[str], Callable[[int, int], None] | None] | None = None,
              clock: Callable[[], str] = now_iso) -> AgentRun:
    """One run of the agent over ``trends.source``: its decisions, and the proposals waiting for approval.
    ``toolbox`` (a ``tools.Toolbox`` or a function making one) defaults to the site's catalog and the trend
    reader. Approvals decided outside a graph (a thread lost in a restore) are settled first."""
    if toolbox is None:
        from sitegen.demand.trends.tools import Toolbox, load_catalog

        def toolbox() -> Toolbox:
            return Toolbox(cfg, store, load_catalog(cfg, store, progress), llm=make_llm(cfg, store))
    settle(cfg, store)
    agent = TrendAgent(cfg, store, toolbox=toolbox, stager=stager, rewards=rewards, progress=progress, clock=clock)
    started = clock()
    agent.thread_id = f"trends-{re.sub(r'[^0-9T]', '', started)}-{uuid.uuid4().hex[:8]}"
    memory = store.trends
    memory.begin_run(agent.thread_id, started, today_of(cfg).isoformat(), str(cfg.trends.source))
    try:
        out = agent.graph.invoke({}, agent.config(agent.thread_id))
    except BaseException:
        memory.delete_thread(agent.thread_id)
        memory.set_run_status(agent.thread_id, "failed")
        raise
    waiting = agent.waiting(agent.thread_id)
    for pid, iid in waiting.items():
        memory.set_interrupt(pid, iid)
    decisions = memory.decisions(agent.thread_id)
    if not waiting:
        memory.delete_thread(agent.thread_id)
    memory.finish_run(agent.thread_id, "waiting" if waiting else "done", len(decisions),
                      sum(1 for d in decisions if d.decision == "propose"))
    settle(cfg, store)  # proposals of older threads this run expired
    agent.record_outcomes()
    tools = agent._toolbox if hasattr(agent._toolbox, "llm") else None
    stats = {"trends": len(out.get("candidates", [])), "focus": out.get("plan", {}).get("focus", []),
             "focus_by": out.get("plan", {}).get("focus_by", "")}
    if tools is not None and tools.llm is not None:
        stats["llm"] = dict(tools.llm.stats)
    pending = [p for p in memory.proposals(["pending"]) if p.thread_id == agent.thread_id]
    return AgentRun(agent.thread_id, decisions, pending, stats)


def make_llm(cfg, store):
    if not cfg.trends.llm_backend:
        return None
    from sitegen.demand.trends.llm import TrendLlm

    return TrendLlm(cfg, store)


def decide(cfg, store, proposal_id: str, decision: str, *, by: str = "", note: str = "") -> TrendProposal:
    """A person's decision on a pending proposal (``approved`` or ``rejected``): resumes the approval task of
    its thread (``Command(resume=...)``), or records it directly when the thread is gone."""
    if decision not in ("approved", "rejected"):
        raise TrendError(f"a decision is 'approved' or 'rejected', not {decision!r}")
    p = store.trends.proposal(proposal_id)
    if p is None:
        raise TrendError(f"no trend proposal {proposal_id!r}")
    if p.status != "pending":
        raise TrendError(f"the proposal for {p.trend!r} is already {p.status}")
    answer = {"decision": decision, "by": by, "note": note}
    agent = TrendAgent(cfg, store)
    if p.thread_id and proposal_id in agent.waiting(p.thread_id):
        agent.resume({proposal_id: answer}, p.thread_id)
    current = store.trends.proposal(proposal_id)
    if current is not None and current.status == "pending":
        apply_decision(store, current, decision, by=by, note=note, at=now_iso())
    return store.trends.proposal(proposal_id)  # type: ignore[return-value]


def settle(cfg, store) -> int:
    """Resume every waiting thread whose proposals were decided outside it (expired by a later run, or decided
    while the thread could not be resumed); returns the threads that finished."""
    agent = TrendAgent(cfg, store)
    done = 0
    for thread in store.trends.threads():
        waiting = agent.waiting(thread)
        if not waiting:  # a run that stopped half-way (killed, failed): nothing to resume
            state = agent.graph.get_state(agent.config(thread))
            store.trends.delete_thread(thread)
            store.trends.set_run_status(thread, "failed" if state.next else "done")
            continue
        answers = {}
        for pid in waiting:
            p = store.trends.proposal(pid)
            if p is None or p.status != "pending":
                answers[pid] = {"decision": p.status if p else "expired", "by": p.decided_by if p else "agent",
                                "note": p.note if p else "the proposal is gone"}
        if answers:
            done += agent.resume(answers, thread)
    return done


def apply_decision(store, p: TrendProposal, decision: str, *, by: str, note: str, at: str) -> None:
    """Write a decision on a proposal to the memory; an approval also keeps the trend as an exemplar."""
    memory = store.trends
    with store.transaction():
        memory.set_status(p.id, decision, at=at, by=by, note=note)
        if decision == "approved":
            memory.put_exemplar(p.key, p.trend, p.topics[0].hub if p.topics else "", [t.text for t in p.topics], at)


# -- helpers -------------------------------------------------------------------------------------------------

def _answer(answer: Any) -> tuple[str, str, str]:
    if isinstance(answer, dict):
        decision = answer.get("decision", "")
        by, note = str(answer.get("by", "") or ""), str(answer.get("note", "") or "")
    else:
        decision, by, note = answer, "", ""
    if decision not in ("approved", "rejected", "expired"):
        raise TrendError(f"an approval is answered 'approved', 'rejected' or 'expired', not {decision!r}")
    return decision, by, note


def _primary(group: list[Trend]) -> Trend:
    """The trend that speaks for a term: its longest series, else its best ranked or scored entry."""
    series = [t for t in group if t.points]
    if series:
        return max(series, key=lambda t: (len(t.points), t.source))
    return min(group, key=lambda t: (t.rank if t.rank > 0 else 10 ** 9, -t.score, t.source))


def _proposals_by_key(props: list[TrendProposal]) -> dict[str, list[TrendProposal]]:
    out: dict[str, list[TrendProposal]] = {}
    for p in props:
        out.setdefault(p.key, []).append(p)
    return out


def _proposal_id(thread_id: str, key: str) -> str:
    return hashlib.sha256(f"{thread_id}\0{key}".encode()).hexdigest()[:16]


def _decision(c: dict, decision: str, reason: str, topics: Sequence[str] = ()) -> dict:
    return {"trend": c["term"], "source": c["source"], "stage": c["stage"], "decision": decision, "reason": reason,
            "topics": list(topics)}
