"""The figures a team lead and the organisation measure (DOMAIN.md §7), computed from the event log's projections.

Every figure carries the case numbers behind it, so a lead can drill down from a number to its cases.
Definitions:
- on-time closure rate: cases closed within their resolution deadline ÷ all cases received in the period;
- 9-day closure rate: cases closed before the end of the 9th calendar day after receipt ÷ all cases;
- response rate: routed cases whose coordinator kept every update in time ÷ routed cases;
- coordinator response time: hours from routing to the first progress note (average);
- handling time: receipt to closure, in calendar days and in working days with paused time taken out;
- satisfaction: share of satisfied follow-ups and the average of the 1–5 scores;
- complaint count: an escalated case counts 2 (003 Art.33.7);
- departments with more than 50 % of their cases past the limit are flagged for supervision.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from agent_console.store import kpi_facts


@dataclass
class Figure:
    value: float | None
    numerator: int = 0
    denominator: int = 0
    cases: list[str] = field(default_factory=list)  # the case numbers behind it


@dataclass
class KpiReport:
    period: tuple[str, str]
    filters: dict[str, Any]
    figures: dict[str, Figure]
    by_category: dict[str, int]
    by_cause: dict[str, int]
    departments: dict[str, dict[str, Any]]  # {dept: {cases, past_limit, share, flagged}}
    by_agent: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {"from": self.period[0], "to": self.period[1]},
            "filters": self.filters,
            "figures": {k: {"value": f.value, "numerator": f.numerator, "denominator": f.denominator,
                            "cases": f.cases} for k, f in self.figures.items()},
            "by_category": self.by_category, "by_cause": self.by_cause, "by_agent": self.by_agent,
            "departments": self.departments,
        }


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _rate(hits: list[str], total: int) -> Figure:
    return Figure(round(len(hits) / total, 4) if total else None, len(hits), total, sorted(hits))


def _handling_timing(cal: Any) -> Any:
    """(received, closed, pauses) -> (calendar seconds, working seconds): time paused at the customer's request is
    not working handling time; calendar handling time is the plain span."""
    def timing(received: datetime, closed: datetime, pauses: list[tuple[datetime, datetime | None]]) -> tuple[float, float]:
        working = cal.working_time_between(received, closed)
        for a, b in pauses:
            working -= cal.working_time_between(a, min(b or closed, closed))
        return (closed - received).total_seconds(), max(working.total_seconds(), 0.0)
    return timing


def _calendar_key(cal: Any) -> str:
    """Names the calendar the stored handling times were computed with (a change recomputes them)."""
    local = cal.local
    return f"{cal.country}|{cal.tz}|{sorted(local.closed)}|{sorted(local.working)}|{cal.all_days}"


def compute(ws: Any, start: datetime, end: datetime, now: datetime | None = None, **filters: Any) -> KpiReport:
    now = now or ws.now()
    cal = ws.calendar
    resolve = ws.profile.resolve_clock
    coord = next((c for c in ws.profile.clocks if c.role == "coordinator"), None)
    utc = timezone.utc
    # the narrow kpi_facts table (refreshed from the event log first) instead of the wide case rows: same columns
    rows = kpi_facts.case_facts(ws.store.conn, start.astimezone(utc).isoformat(), end.astimezone(utc).isoformat(),
                                {k: v for k, v in filters.items() if v}, resolve.id if resolve else "resolve",
                                coord.id if coord else "coordinator_update", ws.store.path,
                                _handling_timing(cal), _calendar_key(cal))
    total = len(rows)
    on_time, nine_day, past_limit = [], [], []
    escalated = [r["number"] for r in rows if r["escalated_from"]]
    by_category: Counter[str] = Counter()
    by_cause: Counter[str] = Counter()
    by_agent: Counter[str] = Counter()
    dept_total: Counter[str] = Counter()
    dept_past: Counter[str] = Counter()
    closed_rows = []
    nine_ends: dict[Any, datetime] = {}
    cause_lists: dict[str, list[str]] = {}
    fromiso, tz = datetime.fromisoformat, cal.tz
    for r in rows:
        weight = 2 if r["escalated_from"] else 1  # an escalated case counts 2
        by_category[r["category"]] += weight
        by_agent[r["owner"]] += weight
        dept_total[r["department"]] += 1
        causes = r["causes"]
        if causes and causes != "[]":  # most cases are open or carry no cause: skip the JSON parse
            parsed = cause_lists.get(causes)
            if parsed is None:  # the same few lists repeat: parse each once
                parsed = cause_lists[causes] = json.loads(causes)
            for cause in parsed:
                by_cause[cause] += 1
        due_s, stopped_s, closed_s = r["resolve_due"], r["resolve_stopped"], r["closed_at"]
        due = fromiso(due_s) if due_s else None
        stopped = fromiso(stopped_s) if stopped_s else None
        if stopped and due and stopped <= due and r["status"] in ("closed", "archived"):
            on_time.append(r["number"])
        late = (stopped is not None and due is not None and stopped > due) or \
               (stopped is None and due is not None and r["resolve_paused"] is None and now > due)
        if late:
            past_limit.append(r["number"])
            dept_past[r["department"]] += 1
        if closed_s:  # received and closed are parsed only for closed cases (a minority of a busy month)
            received, closed = fromiso(r["received_at"]), fromiso(closed_s)
            day = received.astimezone(tz).date()
            nine_end = nine_ends.get(day)
            if nine_end is None:
                nine_end = nine_ends[day] = cal.start_of(day + timedelta(days=10))
            if closed < nine_end:
                nine_day.append(r["number"])
            closed_rows.append((r, received, closed))
    figures: dict[str, Figure] = {
        "on_time_closure_rate": _rate(on_time, total),
        "nine_day_closure_rate": _rate(nine_day, total),
        "complaints": Figure(total + len(escalated), total + len(escalated), total,
                             sorted(r["number"] for r in rows)),
        "escalations": Figure(len(escalated) * 2, len(escalated), total, sorted(escalated)),
        "past_limit": _rate(past_limit, total),
    }
    # routed cases and their coordinators
    routed = 0
    in_time = []
    for r in rows:
        coord_due_s, coord_stopped_s = r["coord_due"], r["coord_stopped"]
        if coord_due_s is None and r["status"] not in ("assigned", "investigating"):
            continue
        routed += 1
        if r["coord_missed"]:
            continue
        coord_due = fromiso(coord_due_s) if coord_due_s else None
        if coord_stopped_s:
            if coord_due is not None and fromiso(coord_stopped_s) > coord_due:
                continue
        elif coord_due is not None and now > coord_due:
            continue
        in_time.append(r["number"])
    figures["response_rate"] = _rate(in_time, routed)
    ids = {r["id"]: r["number"] for r in rows}
    firsts: dict[str, datetime] = {}
    responses: dict[str, float] = {}
    paused_spans: dict[str, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for r in rows:  # routing, first answer and pauses come from the events, folded into kpi_facts
        case_id = r["id"]
        if r["assigned_at"]:
            firsts[case_id] = datetime.fromisoformat(r["assigned_at"])
            if r["progress_at"]:
                hours = (datetime.fromisoformat(r["progress_at"]) - firsts[case_id]).total_seconds() / 3600
                responses[case_id] = hours
        if r["pauses"]:
            paused_spans[case_id] = [(datetime.fromisoformat(x), _dt(y)) for x, y in json.loads(r["pauses"])]
    figures["coordinator_response_hours"] = Figure(
        round(sum(responses.values()) / len(responses), 2) if responses else None, len(responses), len(firsts),
        sorted(ids[c] for c in responses))
    calendar_days, working_days = [], []
    for r, received, closed in closed_rows:
        if r["handling_working_s"] is not None:  # computed once per case when its fact row was built
            calendar_days.append(r["handling_calendar_s"] / 86400)
            working_days.append(r["handling_working_s"] / 86400)
            continue
        seconds = _handling_timing(cal)(received, closed, paused_spans.get(r["id"], []))
        calendar_days.append(seconds[0] / 86400)
        working_days.append(seconds[1] / 86400)
    closed_numbers = sorted(r["number"] for r, _, _ in closed_rows)
    figures["handling_days_calendar"] = Figure(
        round(sum(calendar_days) / len(calendar_days), 2) if calendar_days else None, len(calendar_days), total,
        closed_numbers)
    figures["handling_days_working"] = Figure(
        round(sum(working_days) / len(working_days), 2) if working_days else None, len(working_days), total,
        closed_numbers)
    sat_rows = [(c, s) for c, s in kpi_facts.satisfaction_recorded(ws.store.conn) if c in ids]
    satisfied = [ids[c] for c, s in sat_rows if json.loads(s).get("outcome_view") == "satisfied"]
    scores = [(d["attitude"] + d["professionalism"] + d["timeliness"]) / 3
              for d in (json.loads(s) for _, s in sat_rows)]
    figures["satisfaction_rate"] = _rate(satisfied, len(sat_rows))
    figures["satisfaction_score"] = Figure(round(sum(scores) / len(scores), 2) if scores else None, len(scores),
                                           len(sat_rows), sorted(ids[c] for c, _ in sat_rows))
    departments = {
        d: {"cases": n, "past_limit": dept_past[d], "share": round(dept_past[d] / n, 4),
            "flagged": dept_past[d] / n > 0.5}
        for d, n in sorted(dept_total.items())
    }
    return KpiReport((start.isoformat(), end.isoformat()), filters, figures, dict(by_category.most_common()),
                     dict(by_cause.most_common()), departments, dict(by_agent.most_common()))


def month_bounds(ws: Any, month: str) -> tuple[datetime, datetime]:
    from datetime import date, time

    first = date.fromisoformat(month + "-01")
    start = datetime.combine(first, time(0), ws.tz)
    end = datetime.combine((first + timedelta(days=32)).replace(day=1), time(0), ws.tz)
    return start, end


def monthly_report_due(ws: Any, month: str) -> datetime:
    """The monthly report is due before the 10th working day of the next month."""
    _, end = month_bounds(ws, month)
    tenth = ws.calendar.nth_working_day_after(end.date() - timedelta(days=1), 10)
    return ws.calendar.start_of(tenth)


def daily_intake(ws: Any, now: datetime, days: int) -> list[int]:
    """Cases received on each of the last `days` local days (today included, days without cases as 0)."""
    cal = ws.calendar
    _refresh(ws)
    today = now.astimezone(cal.tz).date()
    first = today - timedelta(days=days - 1)
    counts = [0] * days
    since = cal.start_of(first).astimezone(timezone.utc).isoformat()
    for minute, n in kpi_facts.received_per_minute(ws.store.conn, since, now.astimezone(timezone.utc).isoformat(),
                                                   ws.settings.visible_teams):
        day = datetime.fromisoformat(minute + "+00:00").astimezone(cal.tz).date()
        if 0 <= (day - first).days < days:
            counts[(day - first).days] += n
    return counts


def _refresh(ws: Any) -> None:
    cal = ws.calendar
    resolve = ws.profile.resolve_clock
    coord = next((c for c in ws.profile.clocks if c.role == "coordinator"), None)
    kpi_facts.refresh(ws.store.conn, ws.store.path, resolve.id if resolve else "resolve",
                      coord.id if coord else "coordinator_update", _handling_timing(cal), _calendar_key(cal))


def daily_overdue(ws: Any, now: datetime, days: int) -> list[int]:
    """How many cases were past their resolution due at the end of each of the last `days` days (today: now).

    A case is overdue from its due until its clock stops (for good while open): one pass with a difference array.
    """
    cal = ws.calendar
    _refresh(ws)
    today = now.astimezone(cal.tz).date()
    first = today - timedelta(days=days - 1)
    since = cal.start_of(first).astimezone(timezone.utc).isoformat()
    diff = [0] * (days + 1)
    for due_s, stopped_s in kpi_facts.overdue_spans(ws.store.conn, since, ws.settings.visible_teams):
        due = datetime.fromisoformat(due_s)
        stopped = datetime.fromisoformat(stopped_s) if stopped_s else None
        if (stopped is not None and stopped <= due) or due > now:
            continue
        start = max((due.astimezone(cal.tz).date() - first).days, 0)  # counted at the end of the day it fell due
        if start >= days:
            continue
        diff[start] += 1
        if stopped is not None:
            diff[min(max((stopped.astimezone(cal.tz).date() - first).days, start), days)] -= 1
    out, running = [], 0
    for i in range(days):
        running += diff[i]
        out.append(running)
    return out
