"""What a fold counted over (case_reach) is recorded by the bulk paths as by a case recorded at the console: demo
data (made in worker processes too) and pulled pages. Without it the first calendar change after a demo or a pull
refolded every open case; now it refolds only the cases whose counted days it changes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from agent_console.services import demo_data
from tests.conftest import make_workspace
from tests.test_recompute_incremental import _as_full_recompute_leaves_it, _open


def _reach(ws) -> dict[str, tuple]:
    """case id -> its case_reach row (first day, last day, profile, clocks), for every case that has one."""
    return {r[0]: tuple(r[1:]) for r in ws.store.conn.execute(
        "SELECT c.id, r.first_day, r.last_day, r.profile, r.clocks FROM case_reach r JOIN cases c ON c.rowid = r.rowid")}


def _open_ids(ws) -> set[str]:
    return {r[0] for r in ws.store.conn.execute("SELECT id FROM cases WHERE is_open = 1")}


def _as_a_full_recompute_records_it(ws) -> dict[str, tuple]:
    """Every open case has the row a full recompute (a fold of its events) records, and no closed case has one."""
    found = _reach(ws)
    assert set(found) == _open_ids(ws) and found
    ws.recompute_deadlines(full=True)
    assert _reach(ws) == found
    return found


@pytest.mark.parametrize("workers", [1, 2])
def test_demo_cases_record_what_their_folds_counted_over(tmp_path, clock, monkeypatch, workers) -> None:
    monkeypatch.setattr(demo_data, "_BATCH", 25)  # several batches: made in the worker processes too
    ws = make_workspace(tmp_path, clock)
    demo_data.generate(ws, cases=90, seed=5, workers=workers)
    found = _as_a_full_recompute_records_it(ws)
    assert any(first <= last for first, last, _, _ in found.values())  # (working days were counted)
    ws.close()


def test_after_demo_data_a_calendar_change_refolds_only_the_cases_it_reaches(tmp_path, clock) -> None:
    """A fresh database records what its cases count on from the start: the first change after a demo refolds
    none of them for a closure beyond every counted day, and for one next week only those that count over it."""
    ws = make_workspace(tmp_path, clock)
    demo_data.generate(ws, cases=80, seed=6)
    open_cases = ws.count_cases(open_only=True)
    ws.close()
    today = clock().date()
    ws = _open(tmp_path, clock, [today + timedelta(days=400)])
    assert ws.stale_reasons == ["calendar"]
    report = ws.recompute_deadlines()
    assert open_cases > 20 and report.cases == 0 and report.moved == []
    _as_full_recompute_leaves_it(ws)
    ws.close()
    soon = today + timedelta(days=7 - today.weekday() + 1)  # next week's Tuesday
    ws = _open(tmp_path, clock, [today + timedelta(days=400), soon])
    counting = {case_id for case_id, (first, last, _, _) in _reach(ws).items()
                if first <= soon.toordinal() <= last}
    report = ws.recompute_deadlines()
    assert 0 < report.cases == len(counting) < open_cases and report.moved
    assert {m.case_id for m in report.moved} <= counting
    _as_full_recompute_leaves_it(ws)
    ws.close()


@pytest.mark.parametrize("page", [7, 40])
def test_pulled_cases_record_what_their_folds_counted_over(tmp_path, clock, page) -> None:
    """Pages of another console's events: new cases, cases continued by a later page, and a case whose missing
    event arrives after its later ones (refolded whole) all get the row a fold of their events records; the
    first change after the pull refolds only what it reaches."""
    from tests.conftest import sample_case

    other = make_workspace(tmp_path, clock, name="other.db")
    demo_data.generate(other, cases=30, seed=7)
    case = other.register(sample_case(complexity="complex"))
    other.act(case.id, "paused", {"reason": "客户出差", "evidence": "录音"})
    other.act(case.id, "resumed", {})
    events = [e for _, e in other.store.all_events()]
    other.close()
    late = next(i for i, e in enumerate(events) if e.case_id == case.id and e.kind == "paused")
    held = events.pop(late)  # arrives after the events that come after it
    ws = make_workspace(tmp_path, clock)
    for start in range(0, len(events), page):
        ws.store.ingest(events[start:start + page], ws.lifecycle)
    ws.store.ingest([held], ws.lifecycle)
    found = _reach(ws)
    assert set(found) == _open_ids(ws) and case.id in found
    beyond = date.fromordinal(max(last for _, last, _, _ in found.values())) + timedelta(days=30)
    ws.close()
    ws = _open(tmp_path, clock, [beyond])  # the first change after the pull
    assert ws.stale_reasons == ["calendar"]
    report = ws.recompute_deadlines()
    assert report.cases == 0
    _as_full_recompute_leaves_it(ws)
    assert _reach(ws) == found  # what the pull recorded is what a fold of each case's events records
    ws.close()
