"""Callbacks and satisfaction follow-up (DOMAIN.md §6): schedule, attempt, record, queue, automatic creation,
keep-or-cancel on an inbound call, and the monthly audit sample. No Textual and no SQL here: store/callback_rows.py.

A callback is its own record and never moves a case's deadlines: its events are case events (so they sync with the
case) that the lifecycle does not let touch any clock.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from agent_console.core import kpi_rules
from agent_console.core.due_phrases import parse_due
from agent_console.core.errors import Said
from agent_console.core.events import new_id
from agent_console.core.models import ANSWERED_STATUSES
from agent_console.core.text import digits
from agent_console.store import callback_rows as store
from agent_console.support.i18n import translator
from agent_console.core.case_query import CaseQuery

if TYPE_CHECKING:  # the workspace imports the services: typed here, imported only by the checker
    from agent_console.services.workspace import Workspace

KINDS = ("requested", "progress", "satisfaction", "audit")
FAILED = ("no_answer", "busy", "wrong_number")


def _note(ws: Workspace, what: str, **values: Any) -> str:
    """A note the console writes by itself, in the console's language (from the locale files)."""
    return translator(ws.settings.lang)(f"system_note.callback_{what}", **values)


def schedule(ws: Workspace, case_id: str, kind: str, due: datetime, note: str = "", owner: str | None = None) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown callback kind {kind!r}")
    callback_id = new_id()
    ws.act(case_id, "callback_scheduled", {"callback": callback_id, "kind": kind, "due": due.isoformat(),
                                           "owner": owner or ws.actor, "note": note})
    return callback_id


def schedule_from_phrase(ws: Workspace, case_id: str, phrase: str, kind: str = "requested", note: str = "") -> tuple[str, datetime]:
    due = parse_due(phrase, ws.now(), ws.tz)
    return schedule(ws, case_id, kind, due, note or phrase), due


def get(ws: Workspace, callback_id: str) -> dict[str, Any] | None:
    return store.by_id(ws.store.conn, callback_id)


def attempt(ws: Workspace, callback_id: str, outcome: str, note: str = "") -> dict[str, Any]:
    cb = _pending(ws, callback_id)
    ws.act(cb["case_id"], "callback_attempted", {"callback": callback_id, "outcome": outcome, "note": note})
    if outcome == "reached" or outcome == "refused":
        ws.act(cb["case_id"], "callback_done", {"callback": callback_id, "reason": note or outcome})
    return get(ws, callback_id) or cb


def cancel(ws: Workspace, callback_id: str, reason: str) -> None:
    cb = _pending(ws, callback_id)
    if not reason.strip():
        raise ValueError("say why the callback is cancelled")
    ws.act(cb["case_id"], "callback_cancelled", {"callback": callback_id, "reason": reason})


@dataclass
class SatisfactionResult:
    offer_escalation: bool  # unhappy customer on a closed case: offer a new linked case


def record_satisfaction(ws: Workspace, callback_id: str, proactive_contact: bool, outcome_view: str, attitude: int,
                        professionalism: int, timeliness: int, comment: str = "", note: str = "") -> SatisfactionResult:
    """Record a survey call. Every answer is the agent's (the form preselects none); `note` is the call's 说明."""
    cb = _pending(ws, callback_id)
    ws.act(cb["case_id"], "callback_attempted", {"callback": callback_id, "outcome": "reached", "note": note})
    ws.act(cb["case_id"], "satisfaction_recorded", {
        "callback": callback_id, "proactive_contact": proactive_contact, "outcome_view": outcome_view,
        "attitude": attitude, "professionalism": professionalism, "timeliness": timeliness, "comment": comment})
    ws.act(cb["case_id"], "callback_done", {"callback": callback_id, "reason": _note(ws, "satisfaction_recorded")})
    state = ws.store.state(cb["case_id"])
    unhappy = outcome_view == "dissatisfied" or min(attitude, professionalism, timeliness) <= 2
    return SatisfactionResult(unhappy and state is not None and state.status in ANSWERED_STATUSES)


def _pending(ws: Workspace, callback_id: str) -> dict[str, Any]:
    cb = get(ws, callback_id)
    if cb is None:
        raise KeyError(f"no callback {callback_id}")
    if cb["status"] != "pending":
        raise ValueError(f"the callback is already {cb['status']}")
    return cb


# -- the queue --------------------------------------------------------------------------------------------------
GROUPS = ("overdue", "due_now", "today", "later")
SURVEY_KINDS = frozenset({"satisfaction", "audit"})  # made by the console; the others a customer asked for


def queue(ws: Workspace, owner: str | None = None, now: datetime | None = None,
          due_now_minutes: int = 15) -> list[tuple[str, dict[str, Any]]]:
    """Pending callbacks as (group, row), overdue first, then due now, due today, later; in each, the calls a
    customer asked for come before the survey calls the console made by itself (a promise before a routine), then
    soonest first."""
    now = now or ws.now()
    end_of_today = datetime.combine(now.astimezone(ws.tz).date() + timedelta(days=1), time(0), ws.tz)
    out = []
    for row in store.pending(ws.store.conn, owner):
        due = datetime.fromisoformat(row["due"])
        if due < now - timedelta(minutes=due_now_minutes):
            group = "overdue"
        elif due <= now + timedelta(minutes=due_now_minutes):
            group = "due_now"
        elif due < end_of_today:
            group = "today"
        else:
            group = "later"
        out.append((group, row))
    out.sort(key=lambda gr: (GROUPS.index(gr[0]), gr[1]["kind"] in SURVEY_KINDS, gr[1]["due"]))
    return out


def for_case(ws: Workspace, case_id: str) -> list[dict[str, Any]]:
    return store.for_case(ws.store.conn, case_id)


def pending_for_phone(ws: Workspace, phone: str) -> list[dict[str, Any]]:
    """The caller's pending callbacks: an inbound call asks whether to keep or cancel each (never silently)."""
    d = digits(phone)
    if len(d) < 5:
        return []
    return store.pending_for_phone(ws.store.conn, d)


# -- automatic creation -------------------------------------------------------------------------------------------
def ensure_automatic(ws: Workspace, now: datetime | None = None) -> list[str]:
    """Create the callbacks the profile asks for and that do not exist yet; safe to call as often as you like."""
    now = now or ws.now()
    rules = ws.profile.callbacks
    created: list[str] = []
    conn = ws.store.conn
    if rules.satisfaction_on_close:
        for case_id, closed_at in store.closed_without_satisfaction(conn, now - timedelta(days=30)):
            due = max(datetime.fromisoformat(closed_at) + timedelta(hours=rules.satisfaction_after_hours), now)
            try:
                created.append(schedule(ws, case_id, "satisfaction", due, _note(ws, "satisfaction")))
            except ValueError:  # the case moved on meanwhile (e.g. archived on another console)
                continue
    update_ids = [c.id for c in ws.profile.clocks if c.role == "update"]
    if update_ids:
        horizon = now + timedelta(hours=rules.progress_before_update_hours)
        for case_id, clocks_json, owner in store.open_cases_with_clocks(conn, ("complex", "major")):
            clocks = json.loads(clocks_json or "{}")
            for cid in update_ids:
                track = clocks.get(cid)
                if not track or not track.get("due") or track.get("stopped_at"):
                    continue
                due = datetime.fromisoformat(track["due"])
                if not (now <= due <= horizon):
                    continue
                note = _note(ws, "progress", cycle=track.get("cycles", 1))
                if not store.exists(conn, case_id, "progress", note):
                    try:
                        created.append(schedule(ws, case_id, "progress", max(now, due - timedelta(hours=4)), note,
                                                owner=owner))
                    except ValueError:
                        continue
    return created


# -- the monthly audit sample -------------------------------------------------------------------------------------
class MonthError(Said, ValueError):
    """A --month that is not YYYY-MM (`error.report.bad_month_option`)."""


def audit_sample(ws: Workspace, month: str, seed: int | None = None, owner: str = "callback-team",
                 share: float = 0.2) -> dict[str, Any]:
    """Draw at least 20 % of the cases accepted in `month` (YYYY-MM) that were not closed by their deadline,
    leaving out cases paused at the customer's request; create audit callbacks for them (once per case and month).
    """
    try:
        start = datetime.combine(date.fromisoformat(month + "-01"), time(0), ws.tz)
    except ValueError as exc:
        raise MonthError("report.bad_month_option", value=month) from exc
    end = (start + timedelta(days=32)).replace(day=1)
    now = ws.now()
    resolve = ws.profile.resolve_clock
    population, paused_out = [], []
    for row in ws.store.case_rows(CaseQuery(), columns="c.id, c.number, c.state"):
        data = json.loads(row["state"])
        accepted = data.get("accepted_at")
        if not accepted or not (start <= datetime.fromisoformat(accepted) < end):
            continue
        events = ws.store.events(row["id"])
        if any(e.kind == "paused" for e in events):
            paused_out.append(row["number"])
            continue
        track = (data.get("clocks") or {}).get(resolve.id if resolve else "")
        if track is None:
            continue
        due = datetime.fromisoformat(track["due"]) if track.get("due") else None
        stopped = datetime.fromisoformat(track["stopped_at"]) if track.get("stopped_at") else None
        if kpi_rules.is_late(due, stopped, track.get("paused_at") is not None, now):
            population.append((row["number"], row["id"]))
    population.sort()
    size = math.ceil(len(population) * share) if population else 0
    drawn = random.Random(seed).sample(population, size) if size else []
    created = []
    note = _note(ws, "audit", month=month)
    for number, case_id in sorted(drawn):
        if not store.exists(ws.store.conn, case_id, "audit", note):
            schedule(ws, case_id, "audit", now + timedelta(hours=1), note, owner=owner)
            created.append(number)
    return {"month": month, "population": len(population), "sampled": sorted(n for n, _ in drawn),
            "created": created, "left_out_paused": sorted(paused_out), "seed": seed}
