"""The bulk sync paths: pages of events ingested in one statement (threaded or not), the copy-free fold, pushing in
overlapping batches, malformed outbox rows refused with a reason, and the centre's careful path (duplicates, an id
sent twice in one batch) -- against both centres where the behaviour is shared."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from agent_console.services import callbacks
from agent_console.core.events import Event
from agent_console.store import local
from agent_console.sync import pg
from agent_console.sync.central import CentralUnavailable, PushResult, malformed
from agent_console.sync.engine import pull, push, sync_once
from tests.conftest import sample_case
from tests.test_sync import Centre, centre, device, states  # noqa: F401 - the shared fixture

CLOSE = {"outcome": "at_fault", "causes": ["process_delay"], "stage": "claims", "report": "完"}


def page(events: list[Event], seq: int = 0) -> str:
    """A page as a centre sends it."""
    return json.dumps([[seq + i, e.id, e.case_id, e.kind, e.actor, e.device, e.at.isoformat(), e.hlc, e.payload,
                        e.flags] for i, e in enumerate(events, 1)], ensure_ascii=False, default=str)


def history(ws: Any) -> list[Event]:
    return [e for _, e in ws.store.all_events()]


def busy_case(ws: Any, clock: Any) -> str:
    """A case with a varied history: notes, a pause and resume, an assignment, a callback, a close and a reopen."""
    case = ws.register(sample_case())
    for kind, payload in (("progress_noted", {"note": "一"}),
                          ("paused", {"reason": "客户要求", "evidence": "录音"}),
                          ("resumed", {}), ("assigned", {"department": "finance"}),
                          ("progress_noted", {"note": "二"}), ("closed", CLOSE), ("reopened", {"reason": "r"})):
        clock.advance(hours=3)
        ws.act(case.id, kind, payload)
    callbacks.schedule(ws, case.id, "requested", clock() + timedelta(days=1), note="回电")
    return case.id


# -- the local store --------------------------------------------------------------------------------------------------
def test_event_from_a_page_row_is_what_model_construct_makes(ws, clock) -> None:
    case = ws.register(sample_case())
    for e in history(ws):
        row = json.loads(page([e]))[0]
        fast = local.event_from_page_row(row)
        slow = Event.model_construct(id=row[1], case_id=row[2], kind=row[3], actor=row[4], device=row[5],
                                     at=local.datetime.fromisoformat(row[6]), hlc=row[7], payload=row[8],
                                     flags=row[9])
        assert fast == slow and fast.model_fields_set == slow.model_fields_set
        assert fast.model_dump() == slow.model_dump() and fast.case_id == case.id


def test_the_copy_free_fold_is_the_fold(ws, clock) -> None:
    case_id = busy_case(ws, clock)
    events = ws.store.events(case_id)
    assert local._fold(ws.lifecycle, list(reversed(events))).model_dump() == \
        ws.lifecycle.fold(events, strict=False).model_dump()


@pytest.mark.parametrize("threaded", [True, False])
def test_a_page_applied_twice_in_pieces_and_with_repeats(tmp_path, clock, monkeypatch, threaded) -> None:
    monkeypatch.setattr(local, "_THREADED_TEXT", 1 if threaded else 10**9)
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    case_id = busy_case(me, clock)
    events = history(me)
    done = you.store.ingest_page(page(events[:4]), you.lifecycle)
    assert done.new_ids == [e.id for e in events[:4]] and len(done.stamps) == 4
    # overlapping, out of order, with one event twice: only the new ones count, each once
    again = events[6:] + events[2:7] + [events[-1]]
    done = you.store.ingest_page(page(again), you.lifecycle, meta={"cursor": "9"})
    assert done.new_ids == [e.id for e in events[6:]] + [e.id for e in events[4:6]]
    assert you.store.meta("cursor") == "9"
    assert you.store.ingest_page(page(events), you.lifecycle).new_ids == []  # everything again: nothing new
    assert states(you) == states(me)
    assert you.store.state(case_id).event_count == len([e for e in events if e.case_id == case_id])
    assert [c["id"] for c in callbacks.for_case(you, case_id)] == [c["id"] for c in callbacks.for_case(me, case_id)]
    assert you.store.rebuild(you.lifecycle) == []


def test_ingest_of_events_goes_through_the_page_path(tmp_path, clock) -> None:
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    busy_case(me, clock)
    events = history(me)
    assert you.store.ingest(reversed(events), you.lifecycle) == [e.id for e in reversed(events)]
    assert you.store.ingest(events, you.lifecycle) == []
    assert states(you) == states(me)


def test_a_failed_page_leaves_nothing_behind(tmp_path, clock, monkeypatch) -> None:
    monkeypatch.setattr(local, "_THREADED_TEXT", 1)
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    case = me.register(sample_case())
    me.act(case.id, "progress_noted", {"note": "x"})
    orphan = history(me)[-1:]  # a note whose case is unknown here: the fold cannot start from it
    done = you.store.ingest_page(page(orphan), you.lifecycle, meta={"cursor": "1"})
    # kept aside with its reason (never applied, never stopping the sync), and the cursor moves past it
    assert done.quarantined == 1 and done.new_ids == []
    assert you.store.event_ids() == set() and you.store.meta("cursor") == "1"
    assert [q["event_id"] for q in you.store.quarantined()] == [orphan[0].id]
    assert "does not fold" in you.store.quarantined()[0]["reason"]
    assert not you.store.conn.in_transaction


def test_outbox_pages_follow_the_local_order(ws, clock) -> None:
    case = ws.register(sample_case())
    for i in range(7):
        ws.act(case.id, "progress_noted", {"note": str(i)})
    first = ws.store.outbox_rows(5)
    second = ws.store.outbox_rows(5, first[-1][0])
    assert [r[1] for r in first + second] == [e.id for e in ws.store.outbox_batch(100)]
    assert [r[0] for r in first + second] == sorted(r[0] for r in first + second)
    ws.store.acknowledge([r[1] for r in first], [])
    assert ws.store.outbox_rows(100) == second


def test_malformed_rows_are_named() -> None:
    good = (1, "i", "c", "progress_noted", "me", "d", "2026-11-24T02:00:00+00:00", "1764000000000-0000-d",
            '{"note": "x"}', "[]")
    assert malformed(good) is None
    assert "offset" in malformed(good[:6] + ("2026-11-24T02:00:00",) + good[7:])
    assert "JSON" in malformed(good[:8] + ("{not json",) + good[9:])
    assert "object" in malformed(good[:8] + ("[1]",) + good[9:])
    assert "NUL" in malformed(good[:8] + ('{"note": "\\u0000"}',) + good[9:])



def test_a_batch_is_checked_as_each_of_its_rows_would_be() -> None:
    """outbox_problems looks for NUL characters once per batch and reads an empty flags list without JSON: it must
    still name exactly the rows (and reasons) outbox_problem names one by one, wherever the bad row sits."""
    from agent_console.core.event_checks import outbox_problem, outbox_problems

    now = 1764000000000
    good = (1, "i", "c", "progress_noted", "me", "d", "2026-11-24T02:00:00+00:00", "1764000000000-0000-d",
            '{"note": "x"}', "[]")
    bad_ones = [good[:1] + ("i\x00",) + good[2:], good[:4] + ("m\x00e",) + good[5:],
                good[:7] + ("1764000000000-0000-d\x00",) + good[8:], good[:9] + ("[1]",), good[:9] + ("[",),
                good[:9] + (' [] ',), good[:9] + ('["conflict"]',), good[:3] + ("no such kind",) + good[4:],
                good[:8] + ('{"note": "\\u0000"}',) + good[9:],
                # each rule the batch's column-wise pass asks of every row at once (event_checks._plain_batch)
                good[:1] + ("i" * 101,) + good[2:], good[:4] + ("",) + good[5:], good[:5] + ("d" * 101,) + good[6:],
                good[:2] + (None, "registered") + good[4:], good[:2] + (7,) + good[3:],
                good[:6] + ("2026-11-24T02:00:00",) + good[7:], good[:6] + ("1999-11-24T02:00:00+00:00",) + good[7:],
                good[:6] + ("yesterday",) + good[7:], good[:7] + ("176400000000-0000-d",) + good[8:],
                good[:7] + ("1864000000000-0000-d",) + good[8:], good[:7] + ("1064000000000-0000-d",) + good[8:],
                good[:8] + (17,) + good[9:], good[:8] + ('{"note": 5}',) + good[9:], good[:8] + ('{"x": 1}',) + good[9:]]
    for bad in bad_ones:
        for where in (0, 3, 7):
            rows = [good[:1] + (f"e{n}",) + good[2:] for n in range(8)]
            rows[where] = bad[:1] + (f"bad{where}" + bad[1][1:],) + bad[2:]
            expected = [(r[1], why) for r in rows if (why := outbox_problem(r, now)) is not None]
            assert outbox_problems(rows, now) == expected
            assert ("\x00" in "".join(map(str, bad[1:8]))) <= bool(expected)  # a NUL before the payload: refused
    assert outbox_problems([good], now) == []

def test_only_rows_the_store_did_not_validate_are_checked_again(ws, clock, monkeypatch) -> None:
    """A row queued from an event the store had just validated (make_event) is not validated again before a push;
    one queued again after a refusal, or written behind the store's back, is (core.event_checks)."""
    from agent_console.sync import engine

    case = ws.register(sample_case())
    for i in range(3):
        ws.act(case.id, "progress_noted", {"note": str(i)})
    made = history(ws)
    base = made[-1]
    forged = _tamper(ws, base, "{broken", clock().isoformat(), "beef")
    ws.store.acknowledge([], [(base.id, "refused")])
    assert ws.store.requeue_refused() == 1  # sent again once its reason was fixed: checked again
    seen: list[list[str]] = []
    real = engine.outbox_problems
    monkeypatch.setattr(engine, "outbox_problems", lambda rows: seen.append([r[1] for r in rows]) or real(rows))
    rows = ws.store.outbox_rows(100)
    sendable, bad = engine.split(rows)
    assert sorted(seen[0]) == sorted([base.id, forged])
    assert [b[0] for b in bad] == [forged] and bad[0][1].startswith("malformed")
    assert [r[1] for r in sendable] == [r[1] for r in rows if r[1] != forged]
    assert {r[1]: r[10] for r in rows}[made[0].id] == 1


# -- both centres -----------------------------------------------------------------------------------------------------
def _tamper(ws: Any, base: Event, payload: str, at: str, tag: str) -> str:
    """A row written behind the store's back (a damaged or edited file), queued for sync."""
    event_id = base.id[:-4] + tag
    ws.store.conn.execute(
        "INSERT INTO events (id, case_id, kind, actor, device, at, hlc, payload, flags) VALUES (?,?,?,?,?,?,?,?,?)",
        (event_id, base.case_id, "progress_noted", base.actor, base.device, at, ws.store.hlc.now(), payload, "[]"))
    ws.store.conn.execute("INSERT INTO outbox (event_id, seq) VALUES (?, last_insert_rowid())", (event_id,))
    return event_id


def test_a_malformed_row_is_refused_with_its_reason_and_the_rest_goes(centre, tmp_path, clock) -> None:
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    case = me.register(sample_case())
    base = history(me)[-1]
    bad_json = _tamper(me, base, "{broken", clock().isoformat(), "beef")
    bad_time = _tamper(me, base, '{"note": "x"}', "yesterday", "f00d")
    me.act(case.id, "progress_noted", {"note": "after"})
    report = sync_once(me.store, centre.connect("me"), me.lifecycle)
    assert dict(report.refused).keys() == {bad_json, bad_time}
    assert all(reason.startswith("malformed") for _, reason in report.refused)
    assert report.pushed == 3 and me.store.outbox_count() == 0 and centre.count() == 3
    sync_once(you.store, centre.connect("you"), you.lifecycle)
    assert you.store.state(case.id).event_count == 3


def test_many_batches_in_flight_keep_their_order(centre, tmp_path, clock) -> None:
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    for n in range(5):  # each registration lands in one batch and its notes in the next ones
        case = me.register(sample_case(facts=f"案{n}"))
        for i in range(4):
            me.act(case.id, "progress_noted", {"note": f"{n}-{i}"})
    central = centre.connect("me")
    report = push(me.store, central, batch=3)
    assert report.pushed == 30 and not report.refused and me.store.outbox_count() == 0
    assert pull(you.store, centre.connect("you"), you.lifecycle, batch=4) == 30
    assert states(you) == states(me)
    assert pull(you.store, centre.connect("you"), you.lifecycle, batch=4) == 0


def test_a_push_that_fails_half_way_keeps_what_was_not_answered(centre, tmp_path, clock) -> None:
    me = device(tmp_path, clock, "me")
    case = me.register(sample_case())
    for i in range(10):
        me.act(case.id, "progress_noted", {"note": str(i)})
    real = centre.connect("me")

    class FailsSecondBatch:
        url = real.url
        calls = 0

        def push_rows(self, rows: list) -> PushResult:
            FailsSecondBatch.calls += 1
            if FailsSecondBatch.calls == 2:
                raise CentralUnavailable("connection reset")
            return real.push_rows(rows)

    with pytest.raises(CentralUnavailable):
        push(me.store, FailsSecondBatch(), batch=4)  # type: ignore[arg-type]
    assert me.store.outbox_count() == 12 - 4 and centre.count() >= 4
    assert sync_once(me.store, real, me.lifecycle).waiting == 0 and centre.count() == 12


# -- PostgreSQL only ------------------------------------------------------------------------------------------------
@pytest.fixture
def pg_centre(tmp_path, pg_url) -> Centre:
    return Centre("postgres", tmp_path, pg_url)


def test_duplicates_and_an_id_twice_in_one_batch(pg_centre, tmp_path, clock) -> None:
    me = device(tmp_path, clock, "me")
    case = me.register(sample_case())
    me.act(case.id, "progress_noted", {"note": "x"})
    rows = me.store.outbox_rows(10)
    central = pg_centre.connect("me")
    first = central.push_rows(rows[:2])
    assert len(first.accepted) == 2 and not first.duplicates
    me.act(case.id, "progress_noted", {"note": "y"})
    rows = me.store.outbox_rows(10)
    again = central.push_rows(rows + rows[2:])  # two already there, two new ones sent twice
    assert again.accepted == [rows[2][1], rows[3][1]]
    assert sorted(again.duplicates) == \
        sorted([rows[0][1], rows[1][1], rows[2][1], rows[3][1]])
    assert pg_centre.count() == 4
    with psycopg.connect(pg_centre.admin) as conn:
        seqs = [r[0] for r in conn.execute("SELECT tseq FROM ac.events WHERE team = 't1' ORDER BY tseq")]
        assert seqs == [1, 2, 3, 4]  # the team's numbers are dense: duplicates take none
        assert conn.execute("SELECT last FROM ac.team_counters WHERE team = 't1'").fetchone()[0] == 4


def test_the_stage_is_private_and_empty_after_each_push(pg_centre, tmp_path, clock) -> None:
    me = device(tmp_path, clock, "me")
    me.register(sample_case())
    central = pg_centre.connect("me")
    sync_once(me.store, central, me.lifecycle)
    conn = central._connection()
    answer = conn.execute("SELECT ac.push_staged()").fetchone()[0]  # nothing left over from the batch
    assert answer["accepted_count"] == 0 and answer["refused"] == [] == answer["duplicates"]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # the session may fill it, not read or change it
        conn.execute("SELECT * FROM pg_temp.ac_stage")
    conn.rollback()
    for statement in ("SELECT * FROM pg_temp.ac_checked", "DELETE FROM pg_temp.ac_checked",  # nor the checked rows
                      "INSERT INTO pg_temp.ac_checked (place, id) VALUES (1, 'x')", "DROP TABLE pg_temp.ac_checked"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
        conn.rollback()
    with psycopg.connect(pg.with_login(pg_centre.admin, "you")) as other:  # another session has a stage of its own
        with pytest.raises(psycopg.errors.RaiseException, match="nothing staged"):
            other.execute("SELECT ac.push_staged()")


def test_rows_staged_after_the_check_are_checked_too(pg_centre, tmp_path, clock) -> None:
    """ac.push_check() checks each staged row on its own before the console's turn and moves it where the session
    cannot touch it; a row the session stages after that (say, one written in a teammate's name) is checked by
    ac.push_staged() all the same, and a second check numbers its rows after the first's."""
    me = device(tmp_path, clock, "me")
    case = me.register(sample_case())
    sync_once(me.store, pg_centre.connect("me"), me.lifecycle)
    for i in range(3):
        me.act(case.id, "progress_noted", {"note": str(i)})
    rows = me.store.outbox_rows(10)
    forged = (0, rows[0][1][:-4] + "f0f0", *rows[0][2:4], "you", *rows[0][5:10])
    bad = (0, rows[0][1][:-4] + "b0b0", *rows[0][2:8], '{"note": 5}', rows[0][9])
    session = pg._Session(pg.with_login(pg_centre.admin, "me"), 5)
    conn = session.connection()
    copy_sql = "COPY pg_temp.ac_stage (ord, id, case_id, kind, actor, device, at, hlc, payload, flags) FROM STDIN"
    conn.execute("SELECT ac.push_stage()")
    with conn.cursor().copy(copy_sql) as copy:
        for i, r in enumerate(rows[:2]):
            copy.write_row((i, *r[1:10]))
    assert conn.execute("SELECT ac.push_check()").fetchone()[0] == 2
    with conn.cursor().copy(copy_sql) as copy:  # after the check: the forged row, a bad one and the last note
        for i, r in enumerate([forged, bad, rows[2]]):
            copy.write_row((i, *r[1:10]))
    answer = conn.execute("SELECT ac.push_staged()").fetchone()[0]
    conn.commit()
    session.drop()
    refused = dict(answer["refused"])
    assert answer["accepted_count"] == 3 and set(refused) == {forged[1], bad[1]}
    assert "in the name of 'you'" in refused[forged[1]] and "note: not text" in refused[bad[1]]
    with psycopg.connect(pg_centre.admin) as admin:
        tail = admin.execute("SELECT id, tseq FROM ac.events ORDER BY tseq DESC LIMIT 3").fetchall()[::-1]
    assert [t[0] for t in tail] == [r[1] for r in rows]  # in the order staged, numbered densely
    assert [t[1] for t in tail] == list(range(tail[0][1], tail[0][1] + 3))


def test_pages_for_a_lead_merge_teams_in_order(pg_centre, tmp_path, clock) -> None:
    me, other, boss = device(tmp_path, clock, "me"), device(tmp_path, clock, "other"), device(tmp_path, clock, "boss")
    for n in range(3):
        for ws, login in ((me, "me"), (other, "other")):
            ws.register(sample_case(facts=f"{login}{n}"))
            sync_once(ws.store, pg_centre.connect(login), ws.lifecycle)
    central = pg_centre.connect("boss")
    seen, cursor = [], 0
    while (p := central.pull_page(cursor, 5)).count:
        seen += [r[0] for r in json.loads(p.text)]
        cursor = p.last_seq
    assert len(set(seen)) == len(seen) == 12
    assert pull(boss.store, central, boss.lifecycle, batch=5) == 12 and boss.store.count_cases() == 6


def test_times_come_back_in_utc_whatever_the_server_zone(pg_centre, tmp_path, clock) -> None:
    with psycopg.connect(pg_centre.admin, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {pg_centre.admin.rsplit('/', 1)[1]} SET TimeZone = 'Asia/Shanghai'")
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    case = me.register(sample_case())
    for micro in (120000, 0, 5):  # PostgreSQL would drop trailing zeros of the fraction, or the whole fraction
        me.act(case.id, "progress_noted", {"note": str(micro)}, at=clock().replace(microsecond=micro))
    sync_once(me.store, pg_centre.connect("me"), me.lifecycle)
    sync_once(you.store, pg_centre.connect("you"), you.lifecycle)
    assert states(you) == states(me)
    def times(name: str) -> dict[str, str]:
        return dict(sqlite3.connect(tmp_path / name).execute("SELECT id, at FROM events").fetchall())

    assert times("you.db") == times("me.db")  # the same text on every console, not just the same instant
    assert all(a.endswith("+00:00") for a in times("you.db").values())


def test_when_a_batch_fails_the_ones_after_it_are_not_recorded(pg_centre, tmp_path, clock, monkeypatch) -> None:
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    case = me.register(sample_case())
    for i in range(10):
        me.act(case.id, "progress_noted", {"note": str(i)})
    central = pg_centre.connect("me")
    record = pg._Session.record
    calls: list[int] = []

    def first_answer_lost(self, rows, refused):  # the first batch's answer never arrives
        calls.append(len(rows))
        if len(calls) == 1:
            self.rollback()
            raise CentralUnavailable("connection reset")
        return record(self, rows, refused)

    monkeypatch.setattr(pg._Session, "record", first_answer_lost)
    with pytest.raises(CentralUnavailable):
        push(me.store, central, batch=4)
    assert calls == [4] and pg_centre.count() == 0 and me.store.outbox_count() == 12
    monkeypatch.setattr(pg._Session, "record", record)
    assert sync_once(me.store, central, me.lifecycle).pushed == 12 and me.store.outbox_count() == 0
    assert sync_once(you.store, pg_centre.connect("you"), you.lifecycle).pulled == 12
    assert states(you) == states(me)


@pytest.mark.parametrize("ords", [[30, 10, 20], [5, 5, 6], [0, 0, 2], [0, 1, 2]])
def test_the_centre_numbers_a_batch_in_the_order_of_its_ords(pg_centre, tmp_path, clock, ords) -> None:
    me = device(tmp_path, clock, "me")
    case = me.register(sample_case())
    me.act(case.id, "progress_noted", {"note": "x"})
    rows = me.store.outbox_rows(10)  # registered, accepted, the note
    session = pg._Session(pg.with_login(pg_centre.admin, "me"), 5)
    conn = session.connection()
    conn.execute("SELECT ac.push_stage()")
    with conn.cursor().copy("COPY pg_temp.ac_stage (ord, id, case_id, kind, actor, device, at, hlc, payload, flags)"
                            " FROM STDIN") as copy:
        for ord_, r in zip(ords, rows):
            copy.write_row((ord_, *r[1:10]))
    result = session.record(rows, [])
    session.drop()
    assert len(result.accepted) == 3
    with psycopg.connect(pg_centre.admin) as admin:
        recorded = [r[0] for r in admin.execute("SELECT id FROM ac.events ORDER BY tseq")]
        last = admin.execute("SELECT last FROM ac.team_counters WHERE team = 't1'").fetchone()[0]
    by_ord = [r[1] for _, _, r in sorted(zip(ords, range(3), rows))]  # ties: in the order they were sent
    assert recorded == by_ord and last >= 3
