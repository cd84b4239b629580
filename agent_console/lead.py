"""The team lead's service: overdue queue by horizon, reassigning, reminders (催办), approvals, live escalations,
KPIs and the monthly report reminder. No Textual and no SQL here (SQL lives in store/kpi_queries.py).

Every change is an ordinary event appended through the workspace, so the agent sees the answer on the case and it
syncs like any other work. Only a lead may use this module's actions: `require_lead` refuses anyone else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from agent_console.core import kpi as kpi_math
from agent_console.core.kpi import Filters, Kpis
from agent_console.core.text import mask_name, mask_phone
from agent_console.store import kpi_queries as q
from agent_console.workspace import NotAllowed, Workspace

HORIZONS = ("overdue", "today", "soon")
DEFAULT_HOURS = 24  # "due within the next N working hours" (working time counts working days only)


def granted_role(ws: Workspace) -> str:
    """The role this console works as: what the centre granted the login where a centre is configured and has
    told us (recorded by sync in the store's meta), otherwise the config's role."""
    if ws.settings.central:
        granted = ws.store.meta("central_role")
        if granted:
            return granted
    return ws.settings.role


def is_lead(ws: Workspace) -> bool:
    return granted_role(ws) == "lead"


def require_lead(ws: Workspace) -> None:
    if not is_lead(ws):
        raise NotAllowed("the lead console is for team leads only; this login works as an agent")


def teams(ws: Workspace) -> list[str]:
    """The teams whose cases the lead sees: the centre's grant when known, else the config (team + lead_teams)."""
    if ws.settings.central:
        granted = ws.store.meta("central_teams")
        if granted:
            try:
                return list(json.loads(granted))
            except ValueError:
                pass
    return ws.settings.visible_teams


# -- KPIs -----------------------------------------------------------------------------------------------------
def response_days(ws: Workspace) -> dict[str, float] | float:
    """The coordinator's answer limit per tier from the profile's coordinator clock (5 working days otherwise)."""
    spec = next((c for c in ws.profile.clocks if c.role == "coordinator"), None)
    if spec is None:
        return 5
    if isinstance(spec.length, dict):
        default = max(spec.length.values())
        return {tier: spec.length.get(tier, default) for tier in ("general", "complex", "major")}
    return float(spec.length)


def kpis(ws: Workspace, filters: Filters, now: datetime | None = None) -> Kpis:
    require_lead(ws)
    now = now or ws.now()
    if filters.teams is None:
        filters = Filters(filters.start, filters.end, tuple(teams(ws)), filters.owner, filters.department,
                          filters.category)
    resolve = ws.profile.resolve_clock
    cases = q.kpi_cases(ws.store.conn, filters, resolve.id if resolve else "resolve")
    return kpi_math.compute(cases, filters, now, ws.calendar, response_days(ws))


def drill(ws: Workspace, ids: list[str], limit: int = 2000) -> list[dict[str, Any]]:
    """The cases behind a figure, as masked list rows."""
    require_lead(ws)
    rows = q.case_briefs(ws.store.conn, ids[:limit])
    for r in rows:
        doc = json.loads(r.pop("doc") or "{}")
        person = doc.get("complainant") or {}
        r["caller"] = f"{person.get('name', '')}{person.get('title', '')} {person.get('phone', '')}".strip()
    return rows


def monthly_due(ws: Workspace, today: date | None = None) -> tuple[date, date]:
    """(first day of the month to report on, the 10th working day before which the report is due)."""
    return kpi_math.monthly_report_due(ws.calendar, today or ws.calendar.local_day(ws.now()))


# -- the overdue queue ----------------------------------------------------------------------------------------
@dataclass
class QueueRow:
    id: str
    number: str
    horizon: str  # overdue | today | soon
    owner: str
    department: str
    category: str
    status: str
    clock: str
    due: datetime
    caller: str


@dataclass
class QueueGroup:
    key: str  # the agent or the department
    rows: list[QueueRow] = field(default_factory=list)

    def count(self, horizon: str) -> int:
        return sum(1 for r in self.rows if r.horizon == horizon)


@dataclass
class Queue:
    by: str
    hours: float
    now: datetime
    groups: list[QueueGroup]

    def row(self, case_id: str) -> QueueRow | None:
        return next((r for g in self.groups for r in g.rows if r.id == case_id), None)


def overdue_queue(ws: Workspace, now: datetime | None = None, hours: float = DEFAULT_HOURS, by: str = "agent",
                  limit: int = 5000) -> Queue:
    """Open cases overdue, due today, or due within the next `hours` working hours, grouped by agent or department
    (groups with the most overdue first, rows nearest due first)."""
    require_lead(ws)
    if by not in ("agent", "department"):
        raise ValueError("group by agent or department")
    now = now or ws.now()
    end_today = ws.calendar.start_of(ws.calendar.local_day(now) + timedelta(days=1))
    soon = ws.calendar.advance_working_time(now, timedelta(hours=hours))
    horizon_end = max(end_today, soon)
    groups: dict[str, QueueGroup] = {}
    labels = {c.id: (c.label if ws.settings.lang == "zh" else c.label_en) for c in ws.profile.clocks}
    for r in q.open_due_before(ws.store.conn, horizon_end, teams(ws), limit):
        due = q._dt(r["next_due"])
        assert due is not None
        horizon = "overdue" if due <= now else "today" if due <= end_today else "soon"
        doc = json.loads(r["doc"] or "{}")
        person = doc.get("complainant") or {}
        row = QueueRow(r["id"], r["number"], horizon, r["owner"], r["department"], r["category"], r["status"],
                       labels.get(r["next_clock"] or "", r["next_clock"] or ""), due,
                       f"{person.get('name', '')}{person.get('title', '')}")
        key = row.owner if by == "agent" else (row.department or "-")
        groups.setdefault(key, QueueGroup(key)).rows.append(row)
    ordered = sorted(groups.values(), key=lambda g: (-g.count("overdue"), -len(g.rows), g.key))
    return Queue(by, hours, now, ordered)


# -- actions on a case ----------------------------------------------------------------------------------------
def reassign(ws: Workspace, case_id: str, owner: str, note: str = "") -> Any:
    """Give the case to another agent: recorded as an edit of the owner (with the lead as actor)."""
    require_lead(ws)
    owner = owner.strip()
    if not owner:
        raise ValueError("name the agent the case goes to")
    state = ws.require(case_id)
    if state.owner == owner:
        raise ValueError(f"{state.number} is already with {owner}")
    new = ws.act(state.id, "field_edited", {"field": "owner", "value": owner})
    if note.strip():
        ws.act(state.id, "progress_noted", {"note": note})
    return new


def remind(ws: Workspace, case_id: str, note: str = "") -> Any:
    """Send a reminder (催办) to the department handling the case."""
    require_lead(ws)
    state = ws.require(case_id)
    return ws.act(state.id, "reminder_sent", {"department": state.department, "note": note})


# -- approvals ------------------------------------------------------------------------------------------------
@dataclass
class Approval:
    case_id: str
    number: str
    kind: str  # extension | remedy | closure
    by: str
    at: str
    detail: str
    owner: str


DECISIONS = {("extension", True): "extension_approved", ("extension", False): "extension_refused",
             ("remedy", True): "remedy_approved", ("remedy", False): "remedy_refused",
             ("closure", True): "closure_approved", ("closure", False): "closure_refused"}


def approvals(ws: Workspace) -> list[Approval]:
    require_lead(ws)
    out: list[Approval] = []
    for r in q.pending_approvals(ws.store.conn, teams(ws)):
        if r["extension"]:
            ext = json.loads(r["extension"])
            out.append(Approval(r["id"], r["number"], "extension", ext.get("by", ""), ext.get("at", ""),
                                f"+{ext.get('length')} · {ext.get('reason', '')}", r["owner"]))
        if r["remedy"]:
            out.append(Approval(r["id"], r["number"], "remedy", r["owner"], "", r["remedy_text"] or "", r["owner"]))
        if r["closure"]:
            c = json.loads(r["closure"])
            out.append(Approval(r["id"], r["number"], "closure", c.get("by", ""), c.get("at", ""),
                                c.get("reason", ""), r["owner"]))
    return out


def decide(ws: Workspace, case_id: str, kind: str, approve: bool, reason: str = "") -> Any:
    """Approve or refuse a pending request; refusing needs a reason. Deciding one's own request is refused by the
    lifecycle."""
    require_lead(ws)
    event = DECISIONS.get((kind, approve))
    if event is None:
        raise ValueError(f"nothing to decide for {kind!r}")
    if not approve and not reason.strip():
        raise ValueError("say why the request is refused")
    return ws.act(case_id, event, {"reason": reason})


# -- live escalations -----------------------------------------------------------------------------------------
@dataclass
class LiveEscalation:
    case_id: str
    number: str
    owner: str
    caller: str
    upset_since: datetime
    reported_at: datetime
    reported_by: str
    acknowledged_at: datetime | None
    lead_due: datetime  # the lead's own limit to calm the caller (then report one level up)

    def upset_seconds(self, now: datetime) -> float:
        return (now - self.upset_since).total_seconds()

    def left_seconds(self, now: datetime) -> float:
        return (self.lead_due - now).total_seconds()


def escalations(ws: Workspace) -> list[LiveEscalation]:
    require_lead(ws)
    minutes = ws.profile.ladder.lead_minutes
    out = []
    for r in q.open_dissatisfaction(ws.store.conn, teams(ws)):
        d = json.loads(r["d"])
        doc = json.loads(r["doc"] or "{}")
        person = doc.get("complainant") or {}
        reported = q._dt(d["reported_at"])
        assert reported is not None
        out.append(LiveEscalation(
            r["id"], r["number"], r["owner"], f"{person.get('name', '')}{person.get('title', '')}",
            q._dt(d["upset_since"]) or reported, reported, d.get("reported_by", ""),
            q._dt(d.get("acknowledged_at")), reported + timedelta(minutes=minutes)))
    return sorted(out, key=lambda e: e.upset_since)


def acknowledge(ws: Workspace, case_id: str, note: str = "") -> Any:
    require_lead(ws)
    return ws.act(case_id, "dissatisfaction_acknowledged", {"note": note})


def resolve_escalation(ws: Workspace, case_id: str, outcome: str, note: str = "") -> Any:
    require_lead(ws)
    if not outcome.strip():
        raise ValueError("record the outcome")
    return ws.act(case_id, "dissatisfaction_resolved", {"outcome": outcome, "note": note})


def masked_caller(name: str, phone: str) -> str:
    return f"{mask_name(name)} {mask_phone(phone)}".strip()
