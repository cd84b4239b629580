"""KPI arithmetic (DOMAIN.md §7) over cases folded from the event log: pure, no SQL, no Textual.

Each case is reduced to a `KpiCase` (its scalars plus the few events KPIs need: pauses, routing, responses,
satisfaction); `compute` turns a list of them into `Kpis`, where every figure keeps the ids of the cases behind it so
a lead can drill down from a number to its cases. The store builds `KpiCase`s fast from its projection
(store/kpi_queries.py); `kpi_case_from_state` builds one from a folded `CaseState` and its events (tests, small sets).

Definitions (one place, so reports and screens never disagree):
- base: cases received in the period, except those not accepted as complaints. An escalated case (a new case
  linked to a closed one) counts 2 in the weighted totals, the category counts and the escalation count.
- on-time closure: closed with the resolution clock stopped by its due (approved extensions and paused time given
  back are part of the due) ÷ base.
- 9-day closure: closed before the end of the 9th calendar day after the day of receipt ÷ base.
- response rate: routed (assigned) cases whose coordinator answered (progress noted, replied or closed) within the
  coordinator limit ÷ routed cases whose answer is known (answered, or the limit has passed).
- coordinator response time: mean hours of wall time from routing to that first answer.
- handling time: closed cases, receipt to closure minus time paused at the customer's request; calendar hours and
  working hours (working days only).
- satisfaction: follow-ups recorded on the base cases: share satisfied, mean of the three 1–5 scores.
- past limit: the resolution clock missed (closed late) or breached now; a department with more than 50 % of its
  cases past their limit is flagged for supervision (督办).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from agent_console.core.calendar import DAY, WorkingCalendar

RESPONSE_KINDS = frozenset({"progress_noted", "replied", "closed", "closure_approved"})
TIMELINE_KINDS = frozenset({"paused", "resumed", "assigned", "satisfaction_recorded"}) | RESPONSE_KINDS
FLAG_SHARE = 0.5
NINE_DAYS = 9


@dataclass(frozen=True)
class Filters:
    """Which cases a KPI run covers: received in [start, end), optionally one team, agent, department, category."""

    start: datetime
    end: datetime
    teams: tuple[str, ...] | None = None
    owner: str | None = None
    department: str | None = None
    category: str | None = None


@dataclass
class KpiCase:
    """What KPI arithmetic needs of one case. Times are timezone-aware."""

    id: str
    number: str
    status: str
    category: str
    department: str
    owner: str
    team: str
    received_at: datetime
    closed_at: datetime | None = None
    due: datetime | None = None  # the resolution clock's due (None while paused)
    stopped_at: datetime | None = None  # when the resolution clock stopped
    escalated_from: str | None = None
    causes: list[str] = field(default_factory=list)
    complexity: str = "general"
    assigned_at: datetime | None = None  # first routing to a department
    answered_at: datetime | None = None  # the coordinator's first answer after it
    pauses: list[tuple[datetime, datetime | None]] = field(default_factory=list)  # at the customer's request
    satisfaction: dict[str, Any] | None = None  # the latest satisfaction follow-up

    @property
    def weight(self) -> int:
        return 2 if self.escalated_from else 1

    def past_limit(self, now: datetime) -> bool:
        if self.due is None:
            return False
        if self.stopped_at is not None:
            return self.stopped_at > self.due
        return now >= self.due


@dataclass
class Figure:
    """One number and the cases behind it: `ids` made the numerator, `missed` are the rest of the base."""

    key: str
    value: float | None  # a rate in 0..1, a mean, or a count
    numerator: float = 0
    denominator: float = 0
    ids: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    unit: str = "rate"  # rate | hours | count | score

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value, "numerator": self.numerator,
                "denominator": self.denominator, "unit": self.unit, "cases": len(self.ids) + len(self.missed)}


@dataclass
class Group:
    """A count per category, cause, agent or department, with its cases."""

    key: str
    count: float = 0  # weighted where the rule says so
    ids: list[str] = field(default_factory=list)
    past_limit: int = 0
    past_ids: list[str] = field(default_factory=list)

    @property
    def share_past(self) -> float:
        n = len(self.ids)
        return self.past_limit / n if n else 0.0

    @property
    def flagged(self) -> bool:
        return self.share_past > FLAG_SHARE

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "count": self.count, "cases": len(self.ids), "past_limit": self.past_limit,
                "share_past": round(self.share_past, 4), "flagged": self.flagged}


@dataclass
class Kpis:
    filters: Filters
    now: datetime
    cases: int
    weighted: int
    figures: dict[str, Figure]
    by_category: list[Group]
    by_cause: list[Group]
    by_agent: list[Group]
    by_department: list[Group]
    daily_intake: list[tuple[date, int]]
    daily_overdue: list[tuple[date, int]]
    all_ids: list[str] = field(default_factory=list)

    @property
    def flagged_departments(self) -> list[Group]:
        return [g for g in self.by_department if g.flagged]

    def ids_for(self, ref: str) -> tuple[list[str], list[str]]:
        """The cases behind a figure or group: "on_time", "category:claims", "department:it", "agent:a-liu",
        "cause:x" -> (cases that count, the rest of the base). For groups the second list is those past limit."""
        if ref in self.figures:
            f = self.figures[ref]
            return f.ids, f.missed
        if ref == "all":
            return self.all_ids, []
        kind, _, key = ref.partition(":")
        groups = {"category": self.by_category, "cause": self.by_cause, "agent": self.by_agent,
                  "department": self.by_department}.get(kind)
        if groups is None:
            raise KeyError(f"unknown figure {ref!r}")
        for g in groups:
            if g.key == key:
                return g.ids, g.past_ids
        return [], []

    def as_dict(self) -> dict[str, Any]:
        f = self.filters
        return {
            "period": {"start": f.start.isoformat(), "end": f.end.isoformat()},
            "filters": {"teams": list(f.teams) if f.teams else None, "owner": f.owner,
                        "department": f.department, "category": f.category},
            "now": self.now.isoformat(),
            "cases": self.cases,
            "weighted_cases": self.weighted,
            "figures": {k: v.as_dict() for k, v in self.figures.items()},
            "by_category": [g.as_dict() for g in self.by_category],
            "by_cause": [g.as_dict() for g in self.by_cause],
            "by_agent": [g.as_dict() for g in self.by_agent],
            "by_department": [g.as_dict() for g in self.by_department],
            "flagged_departments": [g.key for g in self.flagged_departments],
            "daily_intake": [[d.isoformat(), n] for d, n in self.daily_intake],
            "daily_overdue": [[d.isoformat(), n] for d, n in self.daily_overdue],
        }


# -- building cases -----------------------------------------------------------------------------------------
def timeline_facts(timeline: Iterable[tuple[str, datetime, dict[str, Any]]]) -> dict[str, Any]:
    """Routing, first answer, pauses and satisfaction from a case's events of TIMELINE_KINDS, in time order."""
    assigned = answered = None
    pauses: list[tuple[datetime, datetime | None]] = []
    satisfaction = None
    for kind, at, payload in timeline:
        if kind == "assigned":
            assigned = assigned or at
        elif kind in RESPONSE_KINDS:
            if assigned is not None and answered is None:
                answered = at
        elif kind == "paused":
            if not pauses or pauses[-1][1] is not None:
                pauses.append((at, None))
        elif kind == "resumed":
            if pauses and pauses[-1][1] is None:
                pauses[-1] = (pauses[-1][0], at)
        elif kind == "satisfaction_recorded":
            satisfaction = dict(payload)
    return {"assigned_at": assigned, "answered_at": answered, "pauses": pauses, "satisfaction": satisfaction}


def kpi_case_from_state(state: Any, events: Iterable[Any], resolve_clock: str) -> KpiCase:
    """A KpiCase from a folded CaseState and the case's events (the slow, obviously-right path)."""
    track = state.clocks.get(resolve_clock)
    timeline = sorted(((e.kind, e.at, e.payload) for e in events if e.kind in TIMELINE_KINDS), key=lambda x: x[1])
    return KpiCase(
        id=state.id, number=state.number, status=state.status, category=state.category,
        department=state.department, owner=state.owner, team=state.team, received_at=state.received_at,
        closed_at=state.closed_at, due=track.due if track else None, stopped_at=track.stopped_at if track else None,
        escalated_from=state.escalated_from, causes=list(state.causes), complexity=state.complexity,
        **timeline_facts(timeline),
    )


# -- the arithmetic -------------------------------------------------------------------------------------------
def paused_intervals(case: KpiCase, until: datetime) -> list[tuple[datetime, datetime]]:
    """[paused, resumed) spans from the case's timeline; a pause still running ends at `until`."""
    spans = [(a, min(b, until) if b is not None else until) for a, b in case.pauses]
    return [(a, b) for a, b in spans if b > a]


def handling_times(case: KpiCase, calendar: WorkingCalendar) -> tuple[float, float] | None:
    """(calendar seconds, working seconds) from receipt to closure, paused time excluded; None while open."""
    if case.closed_at is None:
        return None
    spans = paused_intervals(case, case.closed_at)
    wall = (case.closed_at - case.received_at).total_seconds() - sum((b - a).total_seconds() for a, b in spans)
    working = calendar.working_time_between(case.received_at, case.closed_at)
    for a, b in spans:
        working -= calendar.working_time_between(a, b)
    return max(wall, 0.0), max(working.total_seconds(), 0.0)


def nine_day_limit(received: datetime, calendar: WorkingCalendar) -> datetime:
    """The end of the 9th calendar day after the day of receipt (the day of receipt does not count)."""
    return calendar.start_of(calendar.local_day(received) + timedelta(days=NINE_DAYS + 1))


def compute(cases: list[KpiCase], filters: Filters, now: datetime, calendar: WorkingCalendar,
            response_days: dict[str, float] | float = 5) -> Kpis:
    """Every KPI of DOMAIN.md §7 for `cases` (already narrowed to `filters`) as they stand at `now`.

    response_days: the coordinator's limit in working days, per complexity tier or one number for all.
    """
    base = [c for c in cases if c.status != "not_accepted"]
    ids = [c.id for c in base]
    figures: dict[str, Figure] = {}

    on_time = Figure("on_time", None, denominator=len(base))
    nine = Figure("nine_day", None, denominator=len(base))
    nine_limits: dict[date, datetime] = {}
    tz = calendar.tz
    for c in base:
        (on_time.ids if c.closed_at is not None and c.due is not None and c.stopped_at is not None
         and c.stopped_at <= c.due else on_time.missed).append(c.id)
        if c.closed_at is None:
            nine.missed.append(c.id)
            continue
        day = c.received_at.astimezone(tz).date()
        limit = nine_limits.get(day)
        if limit is None:
            limit = nine_limits[day] = nine_day_limit(c.received_at, calendar)
        (nine.ids if c.closed_at < limit else nine.missed).append(c.id)
    for f in (on_time, nine):
        f.numerator = len(f.ids)
        f.value = f.numerator / f.denominator if f.denominator else None
    figures["on_time"], figures["nine_day"] = on_time, nine

    response = Figure("response_rate", None)
    hours = Figure("coordinator_hours", None, unit="hours")
    total_hours = 0.0
    limits: dict[tuple[date, float], datetime] = {}
    for c in base:
        assigned, answered = c.assigned_at, c.answered_at
        if assigned is None:
            continue
        days = response_days.get(c.complexity, 5) if isinstance(response_days, dict) else response_days
        key = (calendar.local_day(assigned), days)
        limit = limits.get(key)
        if limit is None:
            limit = limits[key] = calendar.add_working_days(assigned, int(days))
        if answered is not None:
            (response.ids if answered <= limit else response.missed).append(c.id)
            hours.ids.append(c.id)
            total_hours += (answered - assigned).total_seconds() / 3600
        elif now >= limit:
            response.missed.append(c.id)
    response.numerator, response.denominator = len(response.ids), len(response.ids) + len(response.missed)
    response.value = response.numerator / response.denominator if response.denominator else None
    hours.numerator, hours.denominator = total_hours, len(hours.ids)
    hours.value = total_hours / len(hours.ids) if hours.ids else None
    figures["response_rate"], figures["coordinator_hours"] = response, hours

    wall = Figure("handling_calendar_hours", None, unit="hours")
    work = Figure("handling_working_hours", None, unit="hours")
    for c in base:
        times = handling_times(c, calendar)
        if times is None:
            continue
        wall.ids.append(c.id)
        work.ids.append(c.id)
        wall.numerator += times[0] / 3600
        work.numerator += times[1] / 3600
    for f in (wall, work):
        f.denominator = len(f.ids)
        f.value = f.numerator / f.denominator if f.denominator else None
    figures["handling_calendar_hours"], figures["handling_working_hours"] = wall, work

    satisfied = Figure("satisfaction", None)
    score = Figure("satisfaction_score", None, unit="score")
    for c in base:
        record = c.satisfaction
        if record is None:
            continue
        (satisfied.ids if record.get("outcome_view") == "satisfied" else satisfied.missed).append(c.id)
        score.ids.append(c.id)
        score.numerator += (record.get("attitude", 0) + record.get("professionalism", 0)
                            + record.get("timeliness", 0)) / 3
    satisfied.numerator, satisfied.denominator = len(satisfied.ids), len(satisfied.ids) + len(satisfied.missed)
    satisfied.value = satisfied.numerator / satisfied.denominator if satisfied.denominator else None
    score.denominator = len(score.ids)
    score.value = score.numerator / score.denominator if score.denominator else None
    figures["satisfaction"], figures["satisfaction_score"] = satisfied, score

    escalated = [c.id for c in base if c.escalated_from]
    figures["escalations"] = Figure("escalations", 2 * len(escalated), numerator=2 * len(escalated),
                                    denominator=len(escalated), ids=escalated, unit="count")
    past = [c.id for c in base if c.past_limit(now)]
    past_set = set(past)
    figures["past_limit"] = Figure("past_limit", len(past), numerator=len(past), denominator=len(base), ids=past,
                                   unit="count")

    groups: dict[str, dict[str, Group]] = {"category": {}, "cause": {}, "agent": {}, "department": {}}
    for c in base:
        late = c.id in past_set
        weight = c.weight
        keys = [("category", c.category, weight), ("agent", c.owner, 1), ("department", c.department or "-", 1)]
        if c.closed_at is not None:
            keys.extend(("cause", cause, weight) for cause in c.causes)
        for kind, key, w in keys:
            table = groups[kind]
            g = table.get(key)
            if g is None:
                g = table[key] = Group(key)
            g.count += w
            g.ids.append(c.id)
            if late:
                g.past_limit += 1
                g.past_ids.append(c.id)

    def ordered(kind: str) -> list[Group]:
        return sorted(groups[kind].values(), key=lambda g: (-g.count, g.key))

    return Kpis(
        filters=filters, now=now, cases=len(base), weighted=sum(c.weight for c in base), figures=figures,
        by_category=ordered("category"), by_cause=ordered("cause"), by_agent=ordered("agent"),
        by_department=ordered("department"),
        daily_intake=daily_intake(base, filters, calendar),
        daily_overdue=daily_overdue(base, filters, now, calendar),
        all_ids=ids,
    )


def _days(filters: Filters, calendar: WorkingCalendar, until: datetime | None = None) -> list[date]:
    first = calendar.local_day(filters.start)
    end = min(filters.end, until) if until else filters.end
    last = calendar.local_day(end - timedelta(microseconds=1))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)] if last >= first else []


def daily_intake(cases: list[KpiCase], filters: Filters, calendar: WorkingCalendar) -> list[tuple[date, int]]:
    counts: dict[date, int] = defaultdict(int)
    for c in cases:
        counts[calendar.local_day(c.received_at)] += 1
    return [(d, counts.get(d, 0)) for d in _days(filters, calendar)]


def daily_overdue(cases: list[KpiCase], filters: Filters, now: datetime,
                  calendar: WorkingCalendar) -> list[tuple[date, int]]:
    """How many of the cases were past their resolution due at the end of each day (up to now).

    A case is overdue from its due until it closes (or for good while open); one pass with a difference array.
    """
    days = _days(filters, calendar, until=now)
    if not days:
        return []
    first = days[0]
    diff = [0] * (len(days) + 1)

    def index(at: datetime) -> int:
        # the first day whose end comes after `at`: the case counts at that day's end and later
        return max((calendar.local_day(at) - first).days, 0)

    for c in cases:
        if c.due is None or (c.stopped_at is not None and c.stopped_at <= c.due):
            continue
        start = index(c.due)
        if start >= len(days):
            continue
        diff[start] += 1
        if c.stopped_at is not None:
            stop = index(c.stopped_at)
            if stop < len(diff):
                diff[min(max(stop, start), len(days))] -= 1
    out, running = [], 0
    for i, d in enumerate(days):
        running += diff[i]
        out.append((d, running))
    return out


def monthly_report_due(calendar: WorkingCalendar, today: date) -> tuple[date, date]:
    """(first day of the month reported on, the 10th working day of the month after it).

    The report on last month is due *before* that 10th working day; once it has passed, the next report (on this
    month) is the one the lead is reminded of.
    """
    first = today.replace(day=1)
    due = calendar.nth_working_day_after(first - DAY, 10)
    if today >= due:
        nxt = (first + timedelta(days=32)).replace(day=1)
        return first, calendar.nth_working_day_after(nxt - DAY, 10)
    return (first - DAY).replace(day=1), due
