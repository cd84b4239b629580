"""The local store: append-only events, projection in the same transaction, rebuild, FTS, file safety."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from agent_console.core.numbering import looks_like_number
from agent_console.core.case_query import CaseQuery
from agent_console.store.local import LocalStore, StoreError
from tests.conftest import make_workspace, sample_case


def test_events_refuse_update_and_delete(ws) -> None:
    s = ws.register(sample_case())
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ws.store.conn.execute("UPDATE events SET actor='someone-else' WHERE case_id=?", (s.id,))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ws.store.conn.execute("DELETE FROM events WHERE case_id=?", (s.id,))


def test_event_projection_fts_and_outbox_are_one_transaction(ws) -> None:
    s = ws.register(sample_case())
    bad = ws.event("closed", s.id, {"outcome": "at_fault"})  # refused by the lifecycle: no cause
    good = ws.event("progress_noted", s.id, {"note": "x"})
    with pytest.raises(Exception):
        ws.store.append([good, bad], ws.lifecycle)
    assert [e.kind for e in ws.store.events(s.id)] == ["registered", "accepted"]
    assert ws.store.outbox_count() == 2
    assert ws.store.state(s.id).event_count == 2


def test_rebuild_equals_incremental_and_reports_tampering(ws) -> None:
    from agent_console.services.demo_data import generate

    generate(ws, cases=60, seed=4)
    assert ws.store.rebuild(ws.lifecycle) == []
    ws.store.conn.execute("UPDATE cases SET state=json_set(state, '$.status', 'closed') WHERE rowid=1")
    differences = ws.store.rebuild(ws.lifecycle)
    assert len(differences) == 1 and "status" in differences[0]
    assert ws.store.rebuild(ws.lifecycle) == []


def test_rebuild_goes_in_batches_with_progress_and_removes_orphans(ws) -> None:
    from agent_console.services.demo_data import generate

    generate(ws, cases=25, seed=5)
    seen: list[tuple[int, int]] = []
    ws.store.conn.execute("UPDATE cases SET state=json_set(state, '$.facts', 'x') WHERE rowid IN (2, 20)")
    ws.store.conn.execute("INSERT INTO cases SELECT 'ghost', 'TS-GHOST', status, is_open, paused, channel, category,"
                          " complexity, owner, team, department, received_at, closed_at, name, phone_digits, next_due,"
                          " next_clock, conflicts, updated_hlc, state, clocks, doc FROM cases WHERE rowid=1")
    differences = ws.store.rebuild(ws.lifecycle, progress=lambda done, total: seen.append((done, total)), batch=10)
    assert seen == [(10, 25), (20, 25), (25, 25)]
    assert sorted(d.split(": ", 1)[1] for d in differences) == [
        "facts differed", "facts differed", "in the projection without events (removed)"]
    assert ws.store.count_cases() == 25 and ws.store.rebuild(ws.lifecycle, batch=7) == []


def _lifecycle_with_closed_day(ws, day):
    from agent_console.core.calendar import LocalDays, WorkingCalendar
    from agent_console.core.clocks import ClockMath
    from agent_console.core.lifecycle import Lifecycle

    calendar = WorkingCalendar(ws.profile.country, ws.profile.timezone, LocalDays(closed=frozenset({day})))
    return Lifecycle(ws.profile, ClockMath(calendar))


def test_recompute_open_moves_only_open_cases_and_says_which(ws, clock) -> None:
    from datetime import timedelta

    from tests.test_lifecycle import CLOSE

    first = ws.register(sample_case())
    second = ws.register(sample_case(complexity="complex"))
    done = ws.register(sample_case())
    ws.act(done.id, "closed", CLOSE)
    closed_before = ws.store.conn.execute("SELECT state FROM cases WHERE id=?", (done.id,)).fetchone()[0]
    # the next working day becomes a closed day: every running day-clock of an open case ends a day later
    day = clock().astimezone(ws.tz).date() + timedelta(days=1)
    while not ws.calendar.is_working_day(day):
        day += timedelta(days=1)
    changed = _lifecycle_with_closed_day(ws, day)
    seen: list[tuple[int, int]] = []
    moved = ws.store.recompute_open(changed, progress=lambda d, t: seen.append((d, t)), batch=1)
    assert sorted(m.case_id for m in moved) == sorted([first.id, second.id])
    assert seen == [(1, 2), (2, 2)]
    for m in moved:
        assert m.next_due_after > m.next_due_before
        state = ws.store.state(m.case_id)
        assert state.model_dump() == changed.fold(ws.store.events(m.case_id)).model_dump()
    assert ws.store.conn.execute("SELECT state FROM cases WHERE id=?", (done.id,)).fetchone()[0] == closed_before
    assert ws.store.recompute_open(changed) == []  # nothing left to move


def test_chinese_substring_and_phone_search(ws) -> None:
    ws.register(sample_case(facts="车险定损金额偏低", complainant={"name": "赵敏", "phone": "17055556666"}))
    ws.register(sample_case(facts="保单到期未收到提醒", category="notifications"))
    assert [c["facts"] for c in ws.list_cases(CaseQuery(text="定损金额"))] == ["车险定损金额偏低"]
    assert len(ws.list_cases(CaseQuery(text="定损"))) == 1  # two characters: pairs in the index
    assert len(ws.list_cases(CaseQuery(text="赵敏"))) == 1
    assert len(ws.list_cases(CaseQuery(phone="1705555"))) == 1
    assert len(ws.list_cases(CaseQuery(text="定损 赵敏"))) == 1


def test_database_file_is_owner_only(ws) -> None:
    mode = stat.S_IMODE(os.stat(ws.settings.db).st_mode)
    assert mode == 0o600


def test_corrupt_database_gives_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"is damaged: SQLite cannot read its header .* kept as it is"):
        LocalStore(path)
    assert path.read_bytes().startswith(b"this is not sqlite")  # nothing changed


def test_locked_database_gives_a_clear_message(tmp_path: Path, clock) -> None:
    w = make_workspace(tmp_path, clock)
    other = sqlite3.connect(w.settings.db)
    other.execute("BEGIN EXCLUSIVE")
    store2 = w.store
    store2.conn.execute("PRAGMA busy_timeout=50")
    with pytest.raises(StoreError, match="locked"):
        w.register(sample_case())
    other.rollback()
    other.close()
    assert w.register(sample_case()).number  # works again once the lock is gone
    w.close()


def test_case_numbers_unique_across_offline_devices(tmp_path: Path, clock) -> None:
    a = make_workspace(tmp_path, clock, name="a.db")
    b = make_workspace(tmp_path, clock, name="b.db")
    numbers = {a.register(sample_case()).number for _ in range(5)} | {b.register(sample_case()).number for _ in range(5)}
    assert len(numbers) == 10
    assert all(looks_like_number(n) and n.startswith("2611-") for n in numbers)
    assert len(next(iter(numbers))) <= 13  # short enough to read out
    a.close()
    b.close()


def test_concurrent_writers_wait_instead_of_failing(tmp_path: Path, clock) -> None:
    first = make_workspace(tmp_path, clock, name="shared.db")
    second = make_workspace(tmp_path, clock, name="shared.db")
    errors: list[Exception] = []

    def work(w) -> None:
        try:
            for _ in range(20):
                w.register(sample_case())
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert first.store.count_cases() == 40
    first.close()
    second.close()


def test_migrations_are_recorded_once(ws) -> None:
    names = [r[0] for r in ws.store.conn.execute("SELECT name FROM schema_migrations")]
    assert "0001_base" in names and len(names) == len(set(names))
    again = LocalStore(ws.settings.db)  # reopening applies nothing twice
    assert [r[0] for r in again.conn.execute("SELECT name FROM schema_migrations")] == names
    again.close()


def test_pasted_escapes_and_control_characters_never_reach_the_record(ws) -> None:
    nasty = "客户说\x1b[31m红字\x1b[0m\x07\x00理赔\x1b]0;title\x07慢\r\n第二行"
    s = ws.register(sample_case(facts=nasty))
    assert s.facts == "客户说红字理赔慢\n第二行"
    raw = ws.store.conn.execute("SELECT payload FROM events WHERE case_id=?", (s.id,)).fetchone()[0]
    assert "\x1b" not in raw and "\\u001b" not in raw


def test_the_store_is_open_to_sqlite_utils_for_ad_hoc_work(ws) -> None:
    from tests.conftest import sample_case

    ws.register(sample_case())
    ws.register(sample_case(category="notifications"))
    db = ws.store.db  # imported on first use, not on every start
    assert db["cases"].count == 2
    assert {r["category"] for r in db["cases"].rows_where(select="category")} == {"claims", "notifications"}


def test_rebuild_open_cli_recomputes_and_lists_moved_cases(tmp_path, clock) -> None:
    import json
    import subprocess
    import sys

    w = make_workspace(tmp_path, clock)
    w.register(sample_case())
    w.close()
    run = subprocess.run([sys.executable, "-m", "agent_console", "rebuild", "--open", "--json", "--db",
                          str(tmp_path / "local.db")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"open": 1, "moved": []}


def test_the_outbox_count_never_reads_the_outbox(ws, clock) -> None:
    """The status line asks every two seconds: the answer comes from a counter, not a count of the outbox."""
    s = ws.register(sample_case())
    ws.act(s.id, "progress_noted", {"note": "x"})

    def no_outbox(action, table, *rest):
        return sqlite3.SQLITE_DENY if table == "outbox" else sqlite3.SQLITE_OK

    ws.store.conn.set_authorizer(no_outbox)
    try:
        assert ws.store.outbox_count() == 3  # registered, accepted (a phone complaint), progress_noted
    finally:
        ws.store.conn.set_authorizer(None)
    events = ws.store.outbox_batch(10)
    ws.store.acknowledge([e.id for e in events[:2]], [(events[2].id, "refused")])
    assert ws.store.outbox_count() == 0
    # rows queued behind the store's back (a damaged or edited file) are counted once the counter shows it wrong
    for _ in range(3):
        ws.act(s.id, "progress_noted", {"note": "y"})
    ws.store.conn.execute("INSERT INTO outbox (event_id, seq) SELECT id, seq FROM events WHERE id NOT IN (SELECT event_id FROM outbox)"
                          " LIMIT 2")
    waiting = [e.id for e in ws.store.outbox_batch(10)]
    assert len(waiting) == 5 and ws.store.outbox_count() == 3
    ws.store.acknowledge(waiting[:4], [])  # 3 - 4 < 0: counted again
    assert ws.store.outbox_count() == 1
    ws.store.acknowledge(waiting[4:], [])
    assert ws.store.outbox_count() == 0


def test_append_cases_checks_numbers_and_queues_like_append(ws) -> None:
    from agent_console.core.lifecycle import IllegalTransition

    one = ws.registration_events(sample_case())
    two = ws.registration_events(sample_case(complainant={"name": "赵敏", "phone": "17055556666"}))
    two.append(ws.event("progress_noted", two[0].case_id, {"note": "x"}))
    bad = ws.registration_events(sample_case())
    bad.append(ws.event("reopened", bad[0].case_id, {"reason": "r"}))  # an open case cannot be reopened
    with pytest.raises(IllegalTransition):
        ws.store.append_cases([one, bad], ws.lifecycle)
    assert ws.store.count_cases() == 0 and ws.store.outbox_count() == 0  # all or nothing
    assert ws.store.append_cases([one, two], ws.lifecycle, durable=False) == 5
    numbers = [ws.store.state(h[0].case_id).number for h in (one, two)]
    assert all(looks_like_number(n) for n in numbers) and numbers[0] != numbers[1]
    assert ws.store.outbox_count() == 5 == len(ws.store.outbox_batch(10))
    assert ws.store.rebuild(ws.lifecycle) == []
    assert [r["id"] for r in ws.store.case_rows(CaseQuery(text="赵敏"))] == [two[0].case_id]


def test_json_lists_are_streamed_row_by_row(ws) -> None:
    import inspect
    import json

    for i in range(5):
        ws.register(sample_case(complainant={"name": f"王{i}", "phone": f"1701234567{i}"}))
    q = CaseQuery(open_only=True)
    rows = ws.store.iter_case_rows(q, columns="c.id, c.doc, c.clocks")
    assert inspect.isgenerator(rows)
    pieces = ws.iter_cases_json(q)
    assert inspect.isgenerator(pieces)
    assert next(pieces) == "[" and len(list(pieces)) == 5 + 1  # one piece per case, then "]"
    assert json.loads(ws.list_cases_json(q)) == ws.list_cases(q)
    assert len(json.loads(ws.list_cases_json(CaseQuery(open_only=True, limit=3)))) == 3


def test_rebuild_leaves_identical_rows_alone_and_repairs_the_search_rows(ws, monkeypatch) -> None:
    from agent_console.services.demo_data import generate

    generate(ws, cases=12, seed=3)
    assert ws.store.rebuild(ws.lifecycle) == []
    ws.store.conn.execute("DELETE FROM cases_search WHERE rowid = 3")
    ws.store.conn.execute("DELETE FROM open_search")
    writes: list[str] = []
    ws.store.conn.set_trace_callback(lambda sql: writes.append(sql.split(" (")[0].split(" SET")[0])
                                     if sql.startswith(("INSERT", "UPDATE", "DELETE")) else None)
    assert ws.store.rebuild(ws.lifecycle) == []
    ws.store.conn.set_trace_callback(None)
    open_count = ws.store.count_cases(open_only=True)
    assert 0 < open_count < 12
    # the damaged search rows only: the case rows were right and are not written
    writes = [w for w in writes if w.split()[2] in ("cases", "cases_search", "open_search")]
    assert sorted(writes) == ["INSERT INTO cases_search"] + ["INSERT INTO open_search"] * open_count
    assert ws.store.conn.execute("SELECT count(*) FROM cases_search").fetchone()[0] == 12
    assert ws.store.conn.execute("SELECT count(*) FROM open_search").fetchone()[0] == open_count
