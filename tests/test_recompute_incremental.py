"""The incremental recompute (issue 18): a calendar change refolds only the open cases whose counted days it
changes, a profile change only that profile's cases holding a changed clock -- and every case ends exactly as a
full recompute (a fold of its events) leaves it."""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_console.services.demo_data import generate
from tests.conftest import FakeClock, make_workspace

START = date(2026, 10, 20)  # closures are drawn from here to DAYS on: the open cases' deadlines run through it
DAYS = 120


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database of demo cases, every open case recomputed once (so what each counted over is known)."""
    from tests.conftest import SHANGHAI
    from datetime import datetime

    root = tmp_path_factory.mktemp("incremental")
    clock = FakeClock(datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI))
    with pytest.MonkeyPatch.context() as mp:  # the per-test isolation (conftest) is not up yet for this fixture
        mp.setenv("XDG_CONFIG_HOME", str(root / "config"))
        mp.setenv("XDG_DATA_HOME", str(root / "data"))
        for key in list(os.environ):
            if key.startswith("AGENT_CONSOLE_") and key != "AGENT_CONSOLE_TEST_PG":
                mp.delenv(key)  # (a command-line test's --config stays in the environment)
        ws = make_workspace(root, clock)
        generate(ws, cases=60, seed=11, history_days=45)
        ws.recompute_deadlines(full=True)
        ws.close()
    return root / "local.db"


def _open(tmp: Path, clock: FakeClock, closed: list[date], length: int | None = None):
    closures = tmp / "closures.toml"
    closures.write_text("".join(f"[[closed]]\ndate = {d.isoformat()}\n" for d in closed), encoding="utf-8")
    over = {"clocks": {"resolve": {"length": {"general": length}}}} if length else {}
    return make_workspace(tmp, clock, calendar_file=closures, profile_overrides=over)


def _as_full_recompute_leaves_it(ws) -> None:
    """Every open case's stored state, clocks and nearest due are those a fold of its events gives now."""
    conn = ws.store.conn
    rows = conn.execute("SELECT id, state, clocks, next_due FROM cases WHERE is_open = 1").fetchall()
    assert rows
    for case_id, state, clocks, next_due in rows:
        fresh = ws.lifecycle.fold(ws.store.events(case_id))
        assert state == fresh.model_dump_json(), case_id
    report = ws.recompute_deadlines(full=True)  # and a full recompute finds nothing to move
    assert report.moved == []
    assert conn.execute("SELECT id, state, clocks, next_due FROM cases WHERE is_open = 1").fetchall() == rows


_day = st.integers(0, DAYS).map(lambda n: START + timedelta(days=n))
_closures = st.lists(_day, max_size=4, unique=True)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=_closures, second=_closures, lengths=st.lists(st.sampled_from([None, 3, 4, 6]), min_size=2,
                                                             max_size=2))
def test_incremental_recompute_leaves_every_case_as_a_full_one(base_db, tmp_path_factory, clock, first, second,
                                                               lengths) -> None:
    tmp = tmp_path_factory.mktemp("case")
    shutil.copyfile(base_db, tmp / "local.db")
    for closed, length in ((first, lengths[0]), (second, lengths[1])):
        ws = _open(tmp, clock, closed, length)
        if ws.stale_reasons:
            report = ws.recompute_deadlines()
            assert report.cases <= ws.count_cases(open_only=True)
        _as_full_recompute_leaves_it(ws)
        work(ws)  # a console's work between the changes: its cases keep what they counted over
        ws.close()


def work(ws) -> None:
    from tests.conftest import sample_case

    new = ws.register(sample_case(complexity="complex"))
    ws.act(new.id, "paused", {"reason": "客户出差", "evidence": "录音"})
    ws.act(new.id, "resumed", {})
    ws.register(sample_case(channel="letter"))


def test_a_closure_beyond_every_counted_day_refolds_no_case(base_db, tmp_path, clock) -> None:
    """The old recompute refolded every open case for any calendar change."""
    shutil.copyfile(base_db, tmp_path / "local.db")
    ws = _open(tmp_path, clock, [date(2027, 9, 1)])
    assert ws.stale_reasons == ["calendar"]
    open_cases = ws.count_cases(open_only=True)
    report = ws.recompute_deadlines()
    assert open_cases > 20 and report.cases == 0 and report.moved == []
    _as_full_recompute_leaves_it(ws)
    ws.close()


def test_a_closure_next_week_refolds_only_the_cases_that_count_over_it(base_db, tmp_path, clock) -> None:
    shutil.copyfile(base_db, tmp_path / "local.db")
    ws = _open(tmp_path, clock, [date(2026, 12, 2)])
    open_cases = ws.count_cases(open_only=True)
    seen: list[tuple[int, int]] = []
    report = ws.recompute_deadlines(progress=lambda done, total: seen.append((done, total)))
    assert 0 < report.cases < open_cases and report.moved
    assert seen and seen[-1] == (report.cases, report.cases)  # progress over the cases refolded
    _as_full_recompute_leaves_it(ws)
    ws.close()


def test_a_clock_length_override_refolds_only_the_cases_holding_that_clock(base_db, tmp_path, clock) -> None:
    shutil.copyfile(base_db, tmp_path / "local.db")
    conn_ws = make_workspace(tmp_path, clock)
    holding = {r[0] for r in conn_ws.store.conn.execute(
        "SELECT id FROM cases WHERE is_open = 1 AND clocks LIKE '%\"update_customer\"%'")}
    open_cases = conn_ws.count_cases(open_only=True)
    conn_ws.close()
    over = {"clocks": {"update_customer": {"length": 9}}}
    ws = make_workspace(tmp_path, clock, profile_overrides=over)
    assert ws.stale_reasons == ["profile"]
    report = ws.recompute_deadlines()
    assert 0 < report.cases == len(holding) < open_cases
    assert {m.case_id for m in report.moved} <= holding
    _as_full_recompute_leaves_it(ws)
    ws.close()


def _reach_of(ws, case_id: str):
    return ws.store.conn.execute("SELECT r.first_day, r.last_day FROM case_reach r JOIN cases c ON c.rowid = r.rowid"
                                 " WHERE c.id = ?", (case_id,)).fetchone()


def test_a_case_worked_at_the_console_keeps_what_it_counted_over(base_db, tmp_path, clock) -> None:
    """A registration and an action at the console widen what the case counted over (the new clock's days): a
    later change beyond them refolds nothing; a case whose projection is written without its days is refolded by
    every change."""
    from tests.conftest import sample_case

    shutil.copyfile(base_db, tmp_path / "local.db")
    ws = make_workspace(tmp_path, clock)
    new = ws.register(sample_case(complexity="complex"))
    first = _reach_of(ws, new.id)
    due = new.clocks["resolve"].due.astimezone(ws.calendar.tz).date()
    assert first is not None and first[1] >= due.toordinal() - 1
    ws.act(new.id, "paused", {"reason": "客户出差", "evidence": "录音"})
    assert _reach_of(ws, new.id)[0] == first[0] and _reach_of(ws, new.id)[1] >= first[1]
    other = ws.store.conn.execute("SELECT c.id FROM cases c JOIN case_reach r ON r.rowid = c.rowid"
                                  " WHERE c.is_open = 1 AND c.id != ? LIMIT 1", (new.id,)).fetchone()[0]
    ws.store._project_many(ws.store.conn, [(ws.case(other), ws.case(other).model_dump_json())])  # no days given
    assert _reach_of(ws, other) is None
    ws.close()
    ws = _open(tmp_path, clock, [date(2027, 9, 1)])
    report = ws.recompute_deadlines()
    assert report.cases == 1  # the case the page wrote, not the one worked at the console
    assert _reach_of(ws, other) is not None
    _as_full_recompute_leaves_it(ws)
    ws.close()


async def test_the_console_recomputes_in_the_background_with_its_progress_on_the_status_line(
        base_db, tmp_path, clock, monkeypatch) -> None:
    """A console opened after a calendar change recomputes on a worker; the status line says how far it has come
    (batch by batch), then the usual message says what moved."""
    from agent_console.store import local
    from agent_console.widgets.sync_status import SyncStatus
    from tests.conftest import console

    monkeypatch.setattr(local, "REBUILD_BATCH", 5)  # a few batches of the cases the change reaches
    monkeypatch.setattr(local.LocalStore.recompute_open, "__defaults__", (None, 5, None))
    shown: list[str] = []
    real = SyncStatus.show_recompute

    def spy(self, done, total=0):
        real(self, done, total)
        shown.append(str(self.render()))

    monkeypatch.setattr(SyncStatus, "show_recompute", spy)
    shutil.copyfile(base_db, tmp_path / "local.db")
    ws = _open(tmp_path, clock, [date(2026, 12, 2)])
    assert ws.stale_reasons == ["calendar"]
    async with console(ws) as (app, pilot):
        for _ in range(100):
            await pilot.pause(0.05)
            if shown and "正在后台重算期限" not in shown[-1]:
                break
        await app.workers.wait_for_complete()
        await pilot.pause()
    busy = [s for s in shown if "正在后台重算期限" in s]
    assert len(busy) >= 2 and busy[0] != busy[-1]  # batch by batch
    total = int(busy[-1].split("/")[1].split()[0])
    assert f"{total}/{total}" in busy[-1] and total < ws.count_cases(open_only=True)
    assert "正在后台重算期限" not in shown[-1]  # gone when it is over
    ws.close()


def _projection_as_written(ws) -> None:
    """Every open case's row holds, column by column, what its projection of a fresh fold is, and its search rows
    those the projection makes (in the open cases' index too)."""
    from agent_console.store.local import _CASE_COLUMNS, _projection

    conn = ws.store.conn
    for row in conn.execute(f"SELECT rowid, {', '.join(_CASE_COLUMNS)} FROM cases WHERE is_open = 1").fetchall():
        fresh = ws.lifecycle.fold(ws.store.events(row[1]))
        made, terms = _projection(fresh)
        assert tuple(row[1:]) == made, row[2]
        for table in ("cases_search", "open_search"):
            assert conn.execute(f"SELECT who1, who2, body1, body2, tel, scope FROM {table} WHERE rowid = ?",
                                (row[0],)).fetchone() == terms[:6], (table, row[2])


def test_moved_cases_are_written_as_their_projection_whatever_else_differs(base_db, tmp_path, clock) -> None:
    """A closure next week moves clocks: the moved cases' rows (next due and clock, state, clocks, the list document
    left as it was) are what a whole projection writes; a case whose stored state differs beyond its clocks too
    (its facts, here) is written whole, its search rows with it."""
    shutil.copyfile(base_db, tmp_path / "local.db")
    ws = _open(tmp_path, clock, [date(2026, 12, 2)])
    conn = ws.store.conn
    ws.recompute_deadlines(["asked"], full=True)  # (under this calendar: then back to none, which moves them)
    reached = [r[0] for r in conn.execute(
        "SELECT c.id FROM cases c JOIN case_reach r ON r.rowid = c.rowid WHERE c.is_open = 1"
        " AND r.first_day <= ? AND r.last_day >= ? ORDER BY c.rowid", (date(2026, 12, 2).toordinal(),) * 2)]
    assert len(reached) >= 2
    stale = reached[0]
    with ws.store.transaction():  # stored from another text of its facts (as an older projection might be)
        conn.execute("UPDATE cases SET state = replace(state, '\"facts\":\"', '\"facts\":\"旧') WHERE id = ?", (stale,))
    ws.close()
    ws = _open(tmp_path, clock, [])
    report = ws.recompute_deadlines()
    assert stale in {m.case_id for m in report.moved} and len(report.moved) >= 2
    _projection_as_written(ws)
    _as_full_recompute_leaves_it(ws)
    ws.close()
