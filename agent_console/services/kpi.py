"""The figures a team lead and the organisation measure (DOMAIN.md §7), computed from the event log's projections.

Every figure carries the case numbers behind it, so a lead can drill down from a number to its cases.
What counts for one case (late, on time, the 9-day rule, coordinator in time, response time) is written once in
core/kpi_rules.py; the figures built from it:
- on-time closure rate: cases closed within their resolution deadline ÷ all cases received in the period;
- 9-day closure rate: cases closed before the end of the 9th calendar day after receipt ÷ all cases;
- response rate: routed cases whose coordinator kept every update in time ÷ routed cases;
- coordinator response time: hours from routing to the first progress note (average);
- handling time: receipt to closure, in calendar days and in working days with paused time taken out;
- satisfaction: share of satisfied follow-ups and the average of the 1–5 scores;
- complaint count: an escalated case counts 2 (003 Art.33.7);
- call handling time (AHT): answer to hang-up of the answered calls that rang in the period, from the phone
  system's events (services/telephony.py), never from form timers; per agent too;
- departments with more than 50 % of their cases past the limit are flagged for supervision.
Counts by category, cause and agent are listed largest first, ties by name.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any

from agent_console.services import telephony
from agent_console.core import kpi_rules
from agent_console.store import kpi_facts

if TYPE_CHECKING:  # the workspace imports the services: typed here, imported only by the checker
    from agent_console.services.workspace import Workspace


@dataclass
class Figure:
    value: float | None
    numerator: int = 0
    denominator: int = 0
    cases: list[str] = field(default_factory=list)  # the case numbers behind it (the numerator's)
    base: list[str] = field(default_factory=list)  # the denominator's case numbers, when it counts cases

    def missed(self) -> list[str]:
        """The denominator's cases not in the numerator: the ones that missed the target."""
        hit = set(self.cases)
        return [n for n in self.base if n not in hit]


@dataclass
class KpiReport:
    period: tuple[str, str]
    filters: dict[str, Any]
    figures: dict[str, Figure]
    by_category: dict[str, int]
    by_cause: dict[str, int]
    departments: dict[str, dict[str, Any]]  # {dept: {cases, past_limit, share, flagged}}
    by_agent: dict[str, int]
    calls_by_agent: dict[str, dict[str, Any]] = field(default_factory=dict)  # {agent: {calls, seconds, average}}

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {"from": self.period[0], "to": self.period[1]},
            "filters": self.filters,
            "figures": {k: {"value": f.value, "numerator": f.numerator, "denominator": f.denominator,
                            "cases": f.cases} for k, f in self.figures.items()},
            "by_category": self.by_category, "by_cause": self.by_cause, "by_agent": self.by_agent,
            "departments": self.departments, "calls_by_agent": self.calls_by_agent,
        }


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _rate(hits: list[str], total: int, base: list[str] | None = None) -> Figure:
    return Figure(round(len(hits) / total, 4) if total else None, len(hits), total, sorted(hits),
                  sorted(base or []))


def _handling_timing(cal: Any) -> Any:
    """(received, closed, pauses) -> (calendar seconds, working seconds, within nine days): time paused at the
    customer's request is not working handling time; calendar handling time is the plain span; the 9-day rule ends
    at the start of the 10th local day after the day of receipt."""
    tz = cal.tz
    nine_ends: dict[Any, datetime] = {}  # many cases share a day of receipt

    def timing(received: datetime, closed: datetime,
               pauses: list[tuple[datetime, datetime | None]]) -> tuple[float, float, bool]:
        working = cal.working_time_between(received, closed)
        for a, b in pauses:
            working -= cal.working_time_between(a, min(b or closed, closed))
        day = received.astimezone(tz).date()
        nine_end = nine_ends.get(day)
        if nine_end is None:
            nine_end = nine_ends[day] = cal.start_of(kpi_rules.nine_day_end(day))
        return (closed - received).total_seconds(), max(working.total_seconds(), 0.0), closed < nine_end
    return timing


def _calendar_key(cal: Any) -> str:
    """Names the calendar the stored handling times were computed with (a change recomputes them)."""
    # version(): the official schedules, the closures and the holidays package (a newly loaded year counts too)
    return f"{cal.country}|{cal.tz}|{cal.version()}"


def _ranked(counts: dict[str, int]) -> dict[str, int]:
    """Largest first; ties by name, so the order does not depend on how the rows were stored."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _mean(total: float, n: int, ndigits: int = 2) -> float | None:
    return round(total / n, ndigits) if n else None


def compute(ws: Workspace, start: datetime, end: datetime, now: datetime | None = None, **filters: Any) -> KpiReport:
    """The figures for the cases received in [start, end) matching the filters (team, owner, department,
    category), as they stand at `now`.

    Each case's contribution was worked out once when its kpi_facts row was built (brought up to date from the
    event log first); this reads a period's in a few aggregate scans and applies `now` to the facts that depend on
    it (running clocks), so a month of 100,000 cases takes a fraction of a second.
    """
    now = now or ws.now()
    cal = ws.calendar
    utc = timezone.utc
    _refresh(ws)
    s = kpi_facts.summary(ws.store.conn, start.astimezone(utc).isoformat(), end.astimezone(utc).isoformat(),
                          {k: v for k, v in filters.items() if v}, now)
    numbers, escalated, total = s["numbers"], s["escalated"], len(s["numbers"])
    by_category: Counter[str] = Counter()
    by_agent: Counter[str] = Counter()
    dept_total: Counter[str] = Counter()
    dept_past: Counter[str] = Counter()
    routed = assigned = handled = surveys = 0
    response_s = calendar_s = working_s = score = 0.0
    for g in s["groups"]:
        by_category[g.category] += g.cases + g.escalated  # an escalated case counts 2
        by_agent[g.owner] += g.cases + g.escalated
        dept_total[g.department] += g.cases
        dept_past[g.department] += g.late
        routed, assigned, handled = routed + g.routed, assigned + g.assigned, handled + g.handled
        response_s, calendar_s, working_s = response_s + g.response_s, calendar_s + g.calendar_s, \
            working_s + g.working_s
        surveys, score = surveys + g.surveys, score + g.score
    # closed cases whose fact row was built without a calendar: their handling time and 9-day rule, live
    nine_day = s["nine_day"]
    timing = _handling_timing(cal) if s["unhandled"] else None
    for number, received_s, closed_s, pauses_s in s["unhandled"]:
        spans = [(datetime.fromisoformat(x), _dt(y)) for x, y in json.loads(pauses_s)] if pauses_s else []
        cal_s, work_s, within = timing(datetime.fromisoformat(received_s), datetime.fromisoformat(closed_s), spans)
        calendar_s, working_s, handled = calendar_s + cal_s, working_s + work_s, handled + 1
        if within:
            nine_day = nine_day + [number]
    figures: dict[str, Figure] = {
        "on_time_closure_rate": _rate(s["on_time"], total, numbers),
        "nine_day_closure_rate": _rate(nine_day, total, numbers),
        "complaints": Figure(total + len(escalated), total + len(escalated), total, numbers),
        "escalations": Figure(len(escalated) * 2, len(escalated), total, escalated),
        "past_limit": _rate(s["late"], total, numbers),
        "response_rate": _rate(s["in_time"], routed),
    }
    responded = s["responded"]
    figures["coordinator_response_hours"] = Figure(_mean(response_s / 3600, len(responded)), len(responded),
                                                   assigned, responded)
    closed = s["closed"]
    figures["handling_days_calendar"] = Figure(_mean(calendar_s / 86400, handled), handled, total, closed)
    figures["handling_days_working"] = Figure(_mean(working_s / 86400, handled), handled, total, list(closed))
    figures["satisfaction_rate"] = _rate(s["satisfied"], surveys, s["surveyed"])
    figures["satisfaction_score"] = Figure(_mean(score, surveys), surveys, surveys, s["surveyed"])
    by_cause: Counter[str] = Counter()
    for causes, n in s["causes"]:
        for cause in json.loads(causes):
            by_cause[cause] += n
    departments = {
        d: {"cases": n, "past_limit": dept_past[d], "share": round(dept_past[d] / n, 4),
            "flagged": dept_past[d] / n > 0.5}
        for d, n in sorted(dept_total.items())
    }
    calls = telephony.handling(ws, start, end, [filters["team"]] if filters.get("team") else None,
                               filters.get("owner") or "")
    n_calls, call_s = sum(h.calls for h in calls), sum(h.seconds for h in calls)
    figures["call_handling_seconds"] = Figure(_mean(call_s, n_calls, 1), n_calls, n_calls)
    calls_by_agent = {h.agent: {"calls": h.calls, "seconds": round(h.seconds, 1), "average": h.average}
                      for h in calls}
    return KpiReport((start.isoformat(), end.isoformat()), filters, figures, _ranked(by_category),
                     _ranked(by_cause), departments, _ranked(by_agent), calls_by_agent)


def month_bounds(ws: Workspace, month: str) -> tuple[datetime, datetime]:
    first = date.fromisoformat(month + "-01")
    start = datetime.combine(first, time(0), ws.tz)
    end = datetime.combine((first + timedelta(days=32)).replace(day=1), time(0), ws.tz)
    return start, end


def monthly_report_due(ws: Workspace, month: str) -> datetime:
    """The monthly report is due before the 10th working day of the next month."""
    _, end = month_bounds(ws, month)
    tenth = ws.calendar.nth_working_day_after(end.date() - timedelta(days=1), 10)
    return ws.calendar.start_of(tenth)


def daily_intake(ws: Workspace, now: datetime, days: int) -> list[int]:
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


def _refresh(ws: Workspace) -> None:
    cal = ws.calendar
    resolve, coord = ws.profile.resolve_clock, ws.profile.coordinator_clock
    kpi_facts.refresh(ws.store.conn, ws.store.path, resolve.id if resolve else "resolve",
                      coord.id if coord else "coordinator_update", _handling_timing(cal), _calendar_key(cal))


def daily_overdue(ws: Workspace, now: datetime, days: int) -> list[int]:
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
        if kpi_rules.late_span(due, stopped, now) is None:
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
