"""The team lead's work: the overdue queue by horizon, reassigning and reminding, approvals, live escalations.
No Textual here; the lead screen and `agent-console report` call these."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from agent_console.core.errors import Said
from agent_console.core.labels import label
from agent_console.core.reasons import Reason
from agent_console.store import kpi_facts
from agent_console.store import kpi_queries as q
from agent_console.support.i18n import translator
from agent_console.services import roster as roster_service
from agent_console.services.deadlines import provisional_years

if TYPE_CHECKING:  # the workspace imports the services: typed here, imported only by the checker
    from agent_console.services.workspace import Workspace


class LeadOnly(Said, PermissionError):
    """What only a team lead sees (`error.lead.only`)."""


def require_lead(ws: Workspace) -> None:
    if not ws.is_lead:
        raise LeadOnly("lead.only")


def horizon_end(ws: Workspace, now: datetime, working_hours: float) -> datetime:
    """`working_hours` of working time from now (days off do not count)."""
    return ws.calendar.advance_working_time(now, timedelta(hours=working_hours))


def _queue_end(ws: Workspace, now: datetime, working_hours: float) -> str:
    end = horizon_end(ws, now, working_hours)
    today_end = ws.calendar.start_of(now.astimezone(ws.tz).date() + timedelta(days=1))
    return max(end, today_end).astimezone(timezone.utc).isoformat()


def overdue_total(ws: Workspace, working_hours: float = 8, now: datetime | None = None) -> int:
    """How many cases the whole queue holds (when a screen shows only the most urgent)."""
    require_lead(ws)
    return q.overdue_count(ws.store.conn, _queue_end(ws, now or ws.now(), working_hours), ws.settings.visible_teams)


def overdue_queue(ws: Workspace, working_hours: float = 8, now: datetime | None = None,
                  limit: int | None = None) -> list[dict[str, Any]]:
    """Open cases overdue, due today, or due within the next N working hours, nearest first, with the band;
    `limit`: only the most urgent (the longest overdue) that many."""
    require_lead(ws)
    now = now or ws.now()
    rows = q.overdue_rows(ws.store.conn, _queue_end(ws, now, working_hours), ws.settings.visible_teams, limit)
    today_end = ws.calendar.start_of(now.astimezone(ws.tz).date() + timedelta(days=1))
    specs = {c.id: c for c in ws.profile.clocks}
    # what a row shows of its clock depends only on the clock and its due: day clocks end at midnight, so most
    # rows share one with others
    memo: dict[tuple[str, str], dict[str, Any]] = {}
    out = []
    for r in rows:
        key = (r["next_clock"] or "", r["next_due"])
        shown = memo.get(key)
        if shown is None:
            due = datetime.fromisoformat(r["next_due"])
            spec = specs.get(key[0])
            clock_label, remaining, unit = "", 0, ""  # a clock the profile no longer has
            if spec is not None:
                # next_clock is the running (unpaused, unstopped) clock falling due first and next_due its due:
                # what is left of it depends on nothing else, so the row's clocks JSON is not read (it sits behind
                # the wide state in each row, which made the whole queue cost ~0.3 s per 16,000 rows)
                remaining = round(ws.clocks.evaluate(spec, due, due, None, None, None, None, now)[3])
                clock_label, unit = label(spec, ws.settings.lang), spec.unit.value
            shown = memo[key] = {
                "horizon": "overdue" if due <= now else ("today" if due <= today_end else "soon"),
                "due": due.astimezone(ws.tz).isoformat(), "clock": clock_label, "remaining_seconds": remaining,
                "unit": unit}
            # counted through a year with no official schedule yet: the due may still move
            if provisional_years(ws.calendar, unit, None, due):
                shown["provisional"] = True
        out.append({"id": r["id"], "number": r["number"], "status": r["status"], "owner": r["owner"],
                    "team": r["team"], "department": r["department"], "category": r["category"], **shown})
    return out


def moved_deadlines(ws: Workspace) -> dict[str, Any] | None:
    """The last recompute's moved deadlines for the lead (what `agent-console calendar changes` lists): when, why,
    how many open cases were refolded, and one row per case whose nearest due moved -- old and new due in the
    console's time zone, the shift in days. None when no recompute has happened here."""
    require_lead(ws)
    report = ws.last_recompute()
    if not report:
        return None

    def local(instant: str | None) -> str | None:
        return datetime.fromisoformat(instant).astimezone(ws.tz).isoformat() if instant else None

    rows = [{"case_id": m["case_id"], "number": m["number"], "old": local(m.get("old")), "new": local(m.get("new")),
             "shift_days": m.get("shift_days", 0.0)} for m in report.get("moved") or []]
    rows.sort(key=lambda r: (-abs(r["shift_days"]), r["number"]))  # the largest moves first
    return {"at": local(report.get("at")), "reasons": list(report.get("reasons") or []),
            "cases": int(report.get("cases") or 0), "moved": rows}


DRILL_ROWS = 500  # a drill-down lists this many of a figure's cases at once


def drill_rows(ws: Workspace, numbers: list[str], limit: int | None = DRILL_ROWS) -> list[dict[str, Any]]:
    """The cases behind a figure as short rows (number, status, category, owner, department), the first `limit`."""
    require_lead(ws)
    return kpi_facts.case_briefs(ws.store.conn, numbers if limit is None else numbers[:limit])


def grouped(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r[key] or "—", []).append(r)
    return out


def roster(ws: Workspace) -> list[str]:
    """The people a case can go to (services/roster.py: the centre's members, else the people seen here)."""
    return roster_service.people(ws)


def reassign(ws: Workspace, case_id: str, owner: str) -> Any:
    """Give the case to someone on the roster; an id nobody knows is refused (never saved as a new 'agent')."""
    require_lead(ws)
    owner = owner.strip()
    if not owner:
        raise ValueError(Reason("name_person"))
    if (why := roster_service.problem(ws, owner)) is not None:
        raise ValueError(why)
    return ws.act(case_id, "field_edited", {"field": "owner", "value": owner})


def remind(ws: Workspace, case_id: str, note: str = "") -> Any:
    require_lead(ws)
    state = ws.require(case_id)
    return ws.act(case_id, "reminder_sent", {"department": state.department, "note": note or translator(ws.settings.lang)("system_note.reminder")})


def approvals(ws: Workspace) -> list[dict[str, Any]]:
    """Extensions, unreachable closures and non-standard remedies waiting for a decision."""
    require_lead(ws)
    out = []
    for r in q.pending_decisions(ws.store.conn, ws.settings.visible_teams):
        if r["extension"]:
            ext = json.loads(r["extension"])
            out.append({"id": r["id"], "number": r["number"], "owner": r["owner"], "what": "extension",
                        "detail": f"{ext['length']} · {ext['reason']}", "by": ext["by"]})
        if r["closure"]:
            closure = json.loads(r["closure"])
            out.append({"id": r["id"], "number": r["number"], "owner": r["owner"], "what": "closure",
                        "detail": closure["reason"], "by": closure["by"]})
        if r["remedy"]:
            out.append({"id": r["id"], "number": r["number"], "owner": r["owner"], "what": "remedy",
                        "detail": r["remedy_text"] or "", "by": r["owner"]})
    return out


def conflicts(ws: Workspace, limit: int = 200) -> list[dict[str, Any]]:
    """The sync conflicts of the lead's teams, one row per conflict: the case, whose it is, what happened and why it
    needs a look (in the console's language): actions that could not both stand, and a fast clock's action ordered
    after a colleague's later one (flagged by the centre). Newest cases first."""
    from agent_console.core.reasons import known_reason

    require_lead(ws)
    t = translator(ws.settings.lang)
    out = []
    for r in q.conflicted_cases(ws.store.conn, ws.settings.visible_teams, limit):
        for c in json.loads(r["conflicts"] or "[]"):
            out.append({"id": r["id"], "number": r["number"], "owner": r["owner"], "kind": c.get("kind", ""),
                        "events": str(c.get("event", "")).split(","), "actor": c.get("actor", ""),
                        "reason": t.reason(known_reason(c.get("reason", "")))})
    return out


def approval_facts(ws: Any, row: dict[str, Any]) -> dict[str, Any]:
    """What a lead needs to decide one approval: the case, who asks, what, the days asked and already granted, the
    deadline it moves (now and after), and -- before anything is typed -- whether this lead may decide it at all."""
    from agent_console.core.lifecycle import IllegalTransition

    require_lead(ws)
    state = ws.require(row["id"])
    facts: dict[str, Any] = {"number": state.number, "requester": row.get("by") or "", "what": row["what"],
                             "detail": row.get("detail", ""), "asked": None, "granted": None, "due_now": None,
                             "due_after": None, "refusal": None}
    spec = ws.profile.resolve_clock
    track = state.clocks.get(spec.id) if spec else None
    if row["what"] == "extension" and state.extension_pending:
        facts["asked"] = state.extension_pending.get("length")
        facts["granted"] = track.extended if track else 0
    if track is not None:
        facts["due_now"] = track.due
    approve = ws.event(DECISIONS[(row["what"], True)], state.id, {"reason": ""})
    try:
        after = ws.lifecycle.apply(state, approve)
    except IllegalTransition as exc:  # e.g. a lead's own request: said now, not after a reason is typed
        facts["refusal"] = exc.reason if getattr(exc, "reason", None) else str(exc)
    else:
        moved = after.clocks.get(spec.id) if spec else None
        facts["due_after"] = moved.due if moved else None
    return facts


DECISIONS = {("extension", True): "extension_approved", ("extension", False): "extension_refused",
             ("closure", True): "closure_approved", ("closure", False): "closure_refused",
             ("remedy", True): "remedy_approved", ("remedy", False): "remedy_refused"}


def decide(ws: Workspace, case_id: str, what: str, approve: bool, reason: str) -> Any:
    require_lead(ws)
    if not approve and not reason.strip():
        raise ValueError("a refusal needs a reason the agent will see")
    return ws.act(case_id, DECISIONS[(what, approve)], {"reason": reason})


def escalations(ws: Workspace, now: datetime | None = None) -> list[dict[str, Any]]:
    """Open dissatisfaction reports: how long the caller has been upset and the lead's own time left."""
    require_lead(ws)
    now = now or ws.now()
    out = []
    lead_clock = ws.profile.lead_calm_clock
    for r in q.open_escalations(ws.store.conn, ws.settings.visible_teams, lead_clock.id if lead_clock else ""):
        d = json.loads(r["d"])
        upset = datetime.fromisoformat(d["upset_since"])
        lead_due = datetime.fromisoformat(r["lead_due"]) if r["lead_due"] else None
        out.append({"id": r["id"], "number": r["number"], "owner": r["owner"],
                    "upset_seconds": (now - upset).total_seconds(),
                    "lead_left_seconds": (lead_due - now).total_seconds() if lead_due else None,
                    "acknowledged": bool(d.get("acknowledged_at"))})
    return out


def acknowledge(ws: Workspace, case_id: str, note: str = "") -> Any:
    require_lead(ws)
    return ws.act(case_id, "dissatisfaction_acknowledged", {"note": note})


def resolve_escalation(ws: Workspace, case_id: str, outcome: str, note: str = "") -> Any:
    require_lead(ws)
    return ws.act(case_id, "dissatisfaction_resolved", {"outcome": outcome, "note": note})


def record_unmask(ws: Workspace, what: str) -> None:
    require_lead(ws)
    with ws.store.transaction() as conn:
        q.record_unmask(conn, ws.actor, what, ws.now().isoformat())
