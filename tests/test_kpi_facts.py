"""The derived kpi_facts table: the same rows as reading the wide projection, routing / first answer / pauses from the
events, and kept up to date incrementally as events are appended (and rebuilt when emptied)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from agent_console.store import kpi_facts, kpi_queries
from tests.conftest import MONDAY, make_workspace, sample_case

START = MONDAY
CLOSE = {"outcome": "at_fault", "causes": ["process_delay"], "stage": "claims", "report": "已处理"}
SPAN = (datetime(2026, 11, 1, tzinfo=timezone.utc).isoformat(), datetime(2026, 12, 1, tzinfo=timezone.utc).isoformat())


@pytest.fixture
def ws(monday_lead):
    return monday_lead


def facts(ws, **filters):
    return {r["id"]: dict(r) for r in kpi_facts.case_facts(ws.store.conn, *SPAN, filters, "resolve", "coordinator_update",
                                                     ws.store.path)}


def wide(ws, **filters):
    return {r["id"]: r for r in kpi_queries.case_facts(ws.store.conn, *SPAN, filters, "resolve", "coordinator_update")}


def build(ws, clock):
    routed = ws.register(sample_case(complexity="complex"))
    clock.advance(hours=2)
    ws.act(routed.id, "assigned", {"department": "claims_dept"})
    clock.advance(hours=5)
    ws.act(routed.id, "progress_noted", {"note": "已调取材料"})
    clock.advance(hours=1)
    ws.act(routed.id, "progress_noted", {"note": "第二次"})
    paused = ws.register(sample_case(facts="客户出差"))
    clock.advance(hours=1)
    ws.act(paused.id, "paused", {"reason": "客户出差", "evidence": "录音 REC-1"})
    clock.advance(days=2)
    ws.act(paused.id, "resumed", {"note": ""})
    ws.act(paused.id, "closed", CLOSE)
    closed = ws.register(sample_case(facts="已结"))
    ws.act(closed.id, "closed", CLOSE)
    _, escalated = ws.escalate(closed.id, "不满意")
    return routed, paused, closed, escalated


def test_rows_equal_the_wide_projection_and_carry_the_timeline(ws, clock) -> None:
    routed, paused, closed, escalated = build(ws, clock)
    got, want = facts(ws), wide(ws)
    assert set(got) == set(want) == {routed.id, paused.id, closed.id, escalated.id}
    for case_id, row in want.items():
        assert {k: got[case_id][k] for k in row} == row
    r = got[routed.id]
    assigned, progress = datetime.fromisoformat(r["assigned_at"]), datetime.fromisoformat(r["progress_at"])
    assert progress - assigned == timedelta(hours=5)  # the first answer, not the second
    spans = json.loads(got[paused.id]["pauses"])
    assert len(spans) == 1 and datetime.fromisoformat(spans[0][1]) - datetime.fromisoformat(spans[0][0]) == \
        timedelta(days=2)
    assert got[escalated.id]["escalated_from"] == closed.id
    assert got[closed.id]["pauses"] is None and got[closed.id]["assigned_at"] is None


def test_refresh_is_incremental_and_follows_new_events(ws, clock) -> None:
    routed, paused, *_ = build(ws, clock)
    facts(ws)
    conn, path = ws.store.conn, ws.store.path
    assert kpi_facts.refresh(conn, path, "resolve", "coordinator_update") == 0  # nothing new
    clock.advance(hours=1)
    ws.act(routed.id, "closed", CLOSE)
    assert kpi_facts.refresh(conn, path, "resolve", "coordinator_update") == 1  # only the case that changed
    assert facts(ws)[routed.id]["status"] == "closed"
    assert facts(ws)[routed.id] == {**facts(ws)[routed.id], **wide(ws)[routed.id]}
    new = ws.register(sample_case(facts="新案"))
    assert new.id in facts(ws)


def test_emptied_or_reshaped_table_is_rebuilt_and_filters_apply(ws, clock) -> None:
    build(ws, clock)
    facts(ws)
    ws.store.conn.execute("DELETE FROM kpi_facts")
    ws.store.conn.execute("DELETE FROM meta WHERE key = 'kpi_facts_seq'")
    assert len(facts(ws)) == 4
    # another profile's clock ids: everything recomputed
    assert kpi_facts.refresh(ws.store.conn, ws.store.path, "resolve", "other_clock") == 4
    assert set(facts(ws, department="claims_dept")) == set(wide(ws, department="claims_dept"))


def test_without_a_path_the_refresh_writes_through_the_readers_connection(tmp_path, clock) -> None:
    workspace = make_workspace(tmp_path, clock, agent="lead-1", role="lead")
    try:
        clock.set(START)
        workspace.register(sample_case())
        rows = kpi_facts.case_facts(workspace.store.conn, *SPAN, {}, "resolve", "coordinator_update")  # no path
        assert len(rows) == 1
    finally:
        workspace.close()


def test_handling_times_are_stored_per_closed_case_and_follow_the_calendar(ws, clock) -> None:
    routed, paused, closed, _ = build(ws, clock)
    seen = []

    def timing(key_value):
        def t(received, done, pauses):
            seen.append(pauses)
            return key_value, key_value * 2, key_value > 2
        return t

    def read(key_value, key):
        rows = kpi_facts.case_facts(ws.store.conn, *SPAN, {}, "resolve", "coordinator_update", ws.store.path,
                                    timing(key_value), key)
        return {r["id"]: (r["handling_calendar_s"], r["handling_working_s"],
                          bool(r["flags"] & kpi_facts.NINE_DAY)) for r in rows}

    first = read(1.0, "cal-a")
    assert first[paused.id] == (1.0, 2.0, False) and first[closed.id] == (1.0, 2.0, False)
    assert first[routed.id] == (None, None, False)  # still open
    assert any(len(p) == 1 and p[0][1] is not None for p in seen)  # the pause reached the timing, resumed
    assert read(5.0, "cal-a")[paused.id] == (1.0, 2.0, False)  # same calendar: kept, not recomputed
    assert read(5.0, "cal-b")[paused.id] == (5.0, 10.0, True)  # another calendar: recomputed


def test_a_full_pass_goes_in_chunks_and_gives_the_same_facts(ws, clock, monkeypatch) -> None:
    """The first read of a big database: a range of cases at a time (never all of them in memory, never one long
    transaction), the same facts as one pass, and facts of cases gone from the projection dropped."""
    build(ws, clock)
    whole = facts(ws)
    ws.store.conn.execute("INSERT INTO kpi_facts SELECT received_at, 'zz-gone', 'TS-GONE', status, is_open, owner,"
                          " team, department, category, closed_at, resolve_due, resolve_stopped, resolve_paused,"
                          " coord_due, coord_stopped, coord_missed, escalated_from, causes, outcome, assigned_at,"
                          " progress_at, pauses, handling_calendar_s, handling_working_s, flags, late_from_us,"
                          " coord_ok_until_us, response_s, sat_n, sat_satisfied, sat_score FROM kpi_facts LIMIT 1")
    ws.store.conn.execute("DELETE FROM meta WHERE key = 'kpi_facts_seq'")
    sizes: list[int] = []
    original = kpi_facts._rows
    monkeypatch.setattr(kpi_facts, "_rows", lambda *a, **kw: sizes.append(len(r := original(*a, **kw))) or r)
    monkeypatch.setattr(kpi_facts, "FULL_CHUNK", 3)
    monkeypatch.setattr(kpi_facts._rebuild_in_chunks, "__defaults__", (3,))
    assert kpi_facts.refresh(ws.store.conn, ws.store.path, "resolve", "coordinator_update") == len(whole)
    assert max(sizes) <= 3 and sum(sizes) == len(whole) and len(sizes) >= 2
    assert facts(ws) == whole
