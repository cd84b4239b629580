"""The fast KPI path (facts worked out per case when its kpi_facts row is built, aggregated in SQL) against a
straightforward reference computed from the wide case projection and the events, on random event logs: random
cases and actions over weeks, KPIs read at random instants, periods and filters, with the facts projection brought
up to date incrementally between reads and partly built without a calendar."""

from __future__ import annotations

import json
import random
import tempfile
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_console.services import callbacks, kpi
from agent_console.store import kpi_facts, kpi_queries
from tests.conftest import SHANGHAI, FakeClock, make_workspace, sample_case

START = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)  # Monday
CATEGORIES = ("claims", "payments", "counter", "underwriting")
OWNERS = ("lead-1", "a-2")
AVERAGES = {"coordinator_response_hours", "handling_days_calendar", "handling_days_working", "satisfaction_score"}
ACTIONS = ("register", "register", "accepted", "assigned", "progress_noted", "paused", "resumed", "closed",
           "closed", "archived", "escalate", "not_accepted", "extension", "satisfaction", "read", "refresh_plain")


def reference(ws: Any, start: datetime, end: datetime, now: datetime, **filters: Any) -> dict[str, Any]:
    """The definitions in kpi.py's docstring, applied case by case to the wide rows, every time parsed."""
    conn, cal, tz, utc = ws.store.conn, ws.calendar, ws.tz, timezone.utc
    resolve = ws.profile.resolve_clock.id
    coord = next(c.id for c in ws.profile.clocks if c.role == "coordinator")
    rows = kpi_queries.case_facts(conn, start.astimezone(utc).isoformat(), end.astimezone(utc).isoformat(),
                                  {k: v for k, v in filters.items() if v}, resolve, coord)
    timelines: dict[str, list[tuple[str, str]]] = {}
    for case_id, kind, at, _ in kpi_queries.event_times(conn, ("assigned", "progress_noted", "paused", "resumed")):
        timelines.setdefault(case_id, []).append((kind, at))

    def dt(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    numbers = sorted(r["number"] for r in rows)
    total = len(rows)
    on_time, nine_day, late, escalated, in_time, responded, closed = [], [], [], [], [], [], []
    routed = assigned_n = 0
    hours, calendar_days, working_days = [], [], []
    by_category: Counter[str] = Counter()
    by_agent: Counter[str] = Counter()
    by_cause: Counter[str] = Counter()
    dept_total: Counter[str] = Counter()
    dept_past: Counter[str] = Counter()
    for r in rows:
        n = r["number"]
        weight = 2 if r["escalated_from"] else 1
        by_category[r["category"]] += weight
        by_agent[r["owner"]] += weight
        dept_total[r["department"]] += 1
        if r["escalated_from"]:
            escalated.append(n)
        for cause in json.loads(r["causes"] or "[]"):
            by_cause[cause] += 1
        due, stopped = dt(r["resolve_due"]), dt(r["resolve_stopped"])
        if stopped and due and stopped <= due and r["status"] in ("closed", "archived"):
            on_time.append(n)
        if (stopped and due and stopped > due) or (not stopped and due and r["resolve_paused"] is None and now > due):
            late.append(n)
            dept_past[r["department"]] += 1
        if r["coord_due"] is not None or r["status"] in ("assigned", "investigating"):
            routed += 1
            coord_due, coord_stopped = dt(r["coord_due"]), dt(r["coord_stopped"])
            if not r["coord_missed"] and (coord_due is None or (coord_stopped or now) <= coord_due):
                in_time.append(n)
        first = answer = None
        pauses: list[list[datetime | None]] = []
        for kind, at in timelines.get(r["id"], []):
            if kind == "assigned" and first is None:
                first = dt(at)
            elif kind == "progress_noted" and first is not None and answer is None:
                answer = dt(at)
            elif kind == "paused" and (not pauses or pauses[-1][1] is not None):
                pauses.append([dt(at), None])
            elif kind == "resumed" and pauses and pauses[-1][1] is None:
                pauses[-1][1] = dt(at)
        if first:
            assigned_n += 1
            if answer:
                responded.append(n)
                hours.append((answer - first).total_seconds() / 3600)
        if r["closed_at"]:
            received, done = dt(r["received_at"]), dt(r["closed_at"])
            closed.append(n)
            if done < cal.start_of(received.astimezone(tz).date() + timedelta(days=10)):
                nine_day.append(n)
            working = cal.working_time_between(received, done)
            for a, b in pauses:
                working -= cal.working_time_between(a, min(b or done, done))
            calendar_days.append((done - received).total_seconds() / 86400)
            working_days.append(max(working.total_seconds(), 0.0) / 86400)
    ids = {r["id"]: r["number"] for r in rows}
    sat = [(ids[c], json.loads(s)) for c, s in kpi_facts.satisfaction_recorded(conn) if c in ids]

    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 2) if values else None

    def rate(hits: list[str], of: int) -> tuple[Any, ...]:
        return (round(len(hits) / of, 4) if of else None, len(hits), of, sorted(hits))

    figures = {
        "on_time_closure_rate": rate(on_time, total), "nine_day_closure_rate": rate(nine_day, total),
        "complaints": (total + len(escalated), total + len(escalated), total, numbers),
        "escalations": (len(escalated) * 2, len(escalated), total, sorted(escalated)),
        "past_limit": rate(late, total), "response_rate": rate(in_time, routed),
        "coordinator_response_hours": (mean(hours), len(hours), assigned_n, sorted(responded)),
        "handling_days_calendar": (mean(calendar_days), len(closed), total, sorted(closed)),
        "handling_days_working": (mean(working_days), len(closed), total, sorted(closed)),
        "satisfaction_rate": rate([n for n, d in sat if d["outcome_view"] == "satisfied"], len(sat)),
        "satisfaction_score": (mean([(d["attitude"] + d["professionalism"] + d["timeliness"]) / 3 for _, d in sat]),
                               len(sat), len(sat), sorted(n for n, _ in sat)),
    }
    # call handling time, from the call events themselves (the fast path reads the caller log projection)
    calls: dict[tuple[str, str], dict[str, datetime]] = {}
    for _, e in ws.store.all_events():
        if e.kind in ("call_started", "call_answered", "call_ended"):
            calls.setdefault((e.actor, e.payload["call"]), {}).setdefault(e.kind, e.at)
    talks = [(c["call_ended"] - c["call_answered"]).total_seconds() for (actor, _), c in calls.items()
             if {"call_started", "call_answered", "call_ended"} <= set(c) and start <= c["call_started"] < end
             and filters.get("owner") in (None, "", actor)]
    figures["call_handling_seconds"] = (round(sum(talks) / len(talks), 1) if talks else None, len(talks),
                                        len(talks), [])
    departments = {d: {"cases": c, "past_limit": dept_past[d], "share": round(dept_past[d] / c, 4),
                       "flagged": dept_past[d] / c > 0.5} for d, c in sorted(dept_total.items())}
    return {"figures": figures, "by_category": dict(by_category), "by_agent": dict(by_agent),
            "by_cause": dict(by_cause), "departments": departments}


def assert_same(report: kpi.KpiReport, want: dict[str, Any]) -> None:
    assert set(report.figures) == set(want["figures"])
    for key, (value, numerator, denominator, cases) in want["figures"].items():
        got = report.figures[key]
        assert (got.numerator, got.denominator, got.cases) == (numerator, denominator, cases), key
        if key in AVERAGES and value is not None and got.value is not None:
            # summed in another order: the unrounded means agree to ~1e-12, so the rounded ones at most by a digit
            assert got.value == pytest.approx(value, abs=0.0100001), key
        else:
            assert got.value == value, key
    for key in ("by_category", "by_agent", "by_cause"):
        got = getattr(report, key)
        assert got == want[key], key
        assert list(got.items()) == sorted(got.items(), key=lambda kv: (-kv[1], kv[0])), key  # largest first
    assert report.departments == want["departments"]


def act(ws: Any, clock: FakeClock, cases: list[Any], action: str, pick: int, extra: int) -> None:
    """One random step; steps the lifecycle refuses are simply skipped."""
    if action == "register":
        new = sample_case(category=CATEGORIES[extra % 4], complexity=("general", "complex", "major")[pick % 3],
                          owner=OWNERS[extra % 2], facts=f"案情{len(cases)}")
        cases.append(ws.register(new))
        return
    if action == "read":
        kpi.compute(ws, START - timedelta(days=3), START + timedelta(days=60))  # facts refreshed incrementally
        return
    if action == "refresh_plain":  # a refresh without a calendar: closed rows without handling times
        kpi_facts.refresh(ws.store.conn, ws.store.path, "resolve", "coordinator_update")
        return
    if not cases:
        return
    case = cases[pick % len(cases)]
    payloads = {
        "accepted": {"note": "受理"}, "assigned": {"department": ("claims_dept", "finance")[extra % 2]},
        "progress_noted": {"note": "进展"}, "paused": {"reason": "客户出差", "evidence": "录音"}, "resumed": {},
        "closed": {"outcome": "at_fault", "causes": [["process_delay"], ["communication", "staff_attitude"], []][
            extra % 3], "stage": "claims", "report": "已处理"},
        "archived": {"note": ""}, "not_accepted": {"reason": "不属于受理范围"},
    }
    try:
        if action == "escalate":
            ws.escalate(case.id, "不满意")
        elif action == "extension":
            ws.act(case.id, "extension_requested", {"length": 5, "reason": "需调取材料"})
            ws.act(case.id, "extension_approved", {"reason": ""})
        elif action == "satisfaction":
            cb = callbacks.schedule(ws, case.id, "satisfaction", clock())
            callbacks.record_satisfaction(ws, cb, extra % 2 == 0, ("satisfied", "neutral", "dissatisfied")[extra % 3],
                                          1 + extra % 5, 1 + pick % 5, 1 + (extra + pick) % 5)
        else:
            ws.act(case.id, action, payloads[action])
    except (ValueError, KeyError, PermissionError):
        pass


STEPS = st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 50), st.integers(0, 50),
                           st.floats(0, 16, allow_nan=False)), min_size=3, max_size=60)


def check(steps: list[tuple[str, int, int, float]], later: float, offset: int, span: int, which: int) -> None:
    clock = FakeClock(START)
    with tempfile.TemporaryDirectory() as tmp:
        ws = make_workspace(Path(tmp), clock, agent="lead-1", role="lead")
        try:
            cases: list[Any] = []
            for i in range(3):  # a few cases to act on from the start
                act(ws, clock, cases, "register", i, i)
            for action, pick, extra, gap_hours in steps:
                clock.advance(hours=gap_hours)
                act(ws, clock, cases, action, pick, extra)
            now = clock() + timedelta(hours=later)  # running clocks may have run out since
            start = START + timedelta(days=offset)
            end = start + timedelta(days=span)
            filters = [{}, {"department": "claims_dept"}, {"owner": "a-2"}, {"category": "claims"},
                       {"team": "team-1", "category": "payments"}][which]
            report = kpi.compute(ws, start, end, now, **filters)
            assert_same(report, reference(ws, start, end, now, **filters))
            month = kpi.month_bounds(ws, "2026-11")
            assert_same(kpi.compute(ws, *month, now), reference(ws, *month, now))
        finally:
            ws.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS, later=st.floats(0, 40 * 24, allow_nan=False), offset=st.integers(-3, 10),
       span=st.integers(1, 40), which=st.integers(0, 4))
def test_fast_path_equals_the_reference(steps, later, offset, span, which) -> None:
    check(steps, later, offset, span, which)


@pytest.mark.parametrize("seed", range(6))
def test_fast_path_equals_the_reference_on_long_random_logs(seed) -> None:
    """Longer logs than hypothesis likes to build: most cases get far along (closed, escalated, surveyed)."""
    rng = random.Random(seed)
    steps = [(rng.choice(ACTIONS), rng.randint(0, 50), rng.randint(0, 50), rng.uniform(0, 8)) for _ in range(250)]
    check(steps, rng.uniform(0, 30 * 24), rng.randint(-3, 5), rng.randint(10, 40), seed % 5)


def test_reference_agrees_on_a_busy_demo_month(tmp_path) -> None:
    """The demo generator's mix (every status, pauses, extensions, ladders) on a few hundred cases."""
    from agent_console.services.demo_data import generate

    clock = FakeClock(datetime(2026, 11, 30, 18, 0, tzinfo=SHANGHAI))
    ws = make_workspace(tmp_path, clock, agent="lead-1", role="lead")
    try:
        generate(ws, cases=400, seed=5, history_days=60)
        month = kpi.month_bounds(ws, "2026-11")
        for now in (clock(), clock() + timedelta(days=9)):
            assert_same(kpi.compute(ws, *month, now), reference(ws, *month, now))
        for filters in ({"department": "claims_dept"}, {"owner": "lead-1"}):
            assert_same(kpi.compute(ws, *month, clock(), **filters), reference(ws, *month, clock(), **filters))
    finally:
        ws.close()
