"""Sync: one conformance suite run against both central stores (embedded SQLite and real PostgreSQL), then the
PostgreSQL-only cases (concurrent pushers, a server that drops connections, roles and row-level security)."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_console.core.hlc import HybridClock
from agent_console.sync import pg
from agent_console.sync.central import CentralUnavailable, Identity, PushResult
from agent_console.sync.engine import sync_once
from agent_console.sync.sqlite_central import SqliteCentral
from tests.conftest import make_workspace, sample_case

MEMBERS = {"me": ("agent", ["t1"]), "you": ("agent", ["t1"]), "other": ("agent", ["t2"]),
           "boss": ("lead", ["t1", "t2"])}


class Centre:
    """Opens a central store for a login, for either kind."""

    def __init__(self, kind: str, tmp_path: Path, pg_url: str | None) -> None:
        self.kind = kind
        self.tmp = tmp_path
        if kind == "sqlite":
            self.url = f"sqlite:///{tmp_path}/central.db"
        else:
            assert pg_url
            name = "t_" + uuid.uuid4().hex[:10]
            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {name}")
            self.admin = pg_url.rsplit("/", 1)[0] + "/" + name
            pg.install(self.admin)
            for login, (role, teams) in MEMBERS.items():
                pg.add_user(self.admin, login, role, teams)

    def connect(self, login: str) -> Any:
        role, teams = MEMBERS[login]
        if self.kind == "sqlite":
            return SqliteCentral(self.url, Identity(login, role, tuple(teams)))
        return pg.PostgresCentral(pg.with_login(self.admin, login))

    def count(self) -> int:
        if self.kind == "sqlite":
            import sqlite3

            return sqlite3.connect(f"{self.tmp}/central.db").execute("SELECT count(*) FROM events").fetchone()[0]
        with psycopg.connect(self.admin) as conn:
            return conn.execute("SELECT count(*) FROM ac.events").fetchone()[0]

    def flags(self) -> list[list[str]]:
        if self.kind == "sqlite":
            import sqlite3

            rows = sqlite3.connect(f"{self.tmp}/central.db").execute("SELECT flags FROM events").fetchall()
            return [json.loads(r[0]) for r in rows]
        with psycopg.connect(self.admin) as conn:
            return [r[0] for r in conn.execute("SELECT flags FROM ac.events").fetchall()]


@pytest.fixture(params=["sqlite", "postgres"])
def centre(request, tmp_path: Path) -> Centre:
    pg_url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    return Centre(request.param, tmp_path, pg_url)


def device(tmp_path: Path, clock: Any, login: str, **kw: Any) -> Any:
    role, teams = MEMBERS[login]
    return make_workspace(tmp_path, clock, name=f"{login}.db", agent=login, role=role, team=teams[0],
                          lead_teams=teams[1:], **kw)


def states(ws: Any) -> dict[str, Any]:
    rows = ws.store.conn.execute("SELECT id, state FROM cases").fetchall()
    return {i: {k: v for k, v in json.loads(s).items()} for i, s in rows}


# -- conformance: both centres ---------------------------------------------------------------------------------
def test_round_trip_same_batch_twice_same_page_twice(centre, tmp_path, clock) -> None:
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    case = me.register(sample_case())
    me.act(case.id, "progress_noted", {"note": "已联系"})
    c_me, c_you = centre.connect("me"), centre.connect("you")
    events = me.store.outbox_batch(100)
    first = c_me.push(events)
    again = c_me.push(events)  # the same batch again: nothing new
    assert len(first.accepted) == 3 and again.accepted == [] and len(again.duplicates) == 3
    me.store.acknowledge(again.acknowledged, again.refused)
    assert sync_once(you.store, c_you, you.lifecycle).pulled == 3
    you.store.set_meta(f"sync_cursor:{c_you.url}", "0")  # the same page applied twice
    assert sync_once(you.store, c_you, you.lifecycle).pulled == 3
    assert you.store.event_ids() == me.store.event_ids() and centre.count() == 3
    assert states(you) == states(me)


def test_crash_before_the_centre_commits(centre, tmp_path, clock) -> None:
    me = device(tmp_path, clock, "me")
    for _ in range(3):
        me.register(sample_case())

    class DiesBeforeCommit:
        url = "x"

        def push(self, events: list) -> PushResult:
            raise CentralUnavailable("connection reset")

        push_rows = push

    report = sync_once(me.store, DiesBeforeCommit(), me.lifecycle)  # type: ignore[arg-type]
    assert not report.online and me.store.outbox_count() == 6
    assert sync_once(me.store, centre.connect("me"), me.lifecycle).pushed == 6
    assert centre.count() == 6 and me.store.outbox_count() == 0


def test_crash_after_commit_before_acknowledgement(centre, tmp_path, clock) -> None:
    me = device(tmp_path, clock, "me")
    for _ in range(3):
        me.register(sample_case())
    central = centre.connect("me")
    central.push(me.store.outbox_batch(100))  # committed at the centre; the console died before marking
    assert me.store.outbox_count() == 6
    report = sync_once(me.store, central, me.lifecycle)
    assert report.pushed == 0 and me.store.outbox_count() == 0 and centre.count() == 6


def test_event_in_someone_elses_name_is_refused(centre, tmp_path, clock) -> None:
    me = device(tmp_path, clock, "me")
    case = me.register(sample_case())
    forged = me.event("progress_noted", case.id, {"note": "冒名"}).model_copy(update={"actor": "you"})
    me.store.append([forged], me.lifecycle)
    report = sync_once(me.store, centre.connect("me"), me.lifecycle)
    assert [r[0] for r in report.refused] == [forged.id] and "you" in report.refused[0][1]
    assert me.store.outbox_count() == 0 and me.store.refused()[0][0] == forged.id
    assert centre.count() == 2


def test_other_team_sees_nothing_lead_sees_both(centre, tmp_path, clock) -> None:
    me, other, boss = device(tmp_path, clock, "me"), device(tmp_path, clock, "other"), device(tmp_path, clock, "boss")
    me.register(sample_case())
    other.register(sample_case(facts="二组的案件"))
    sync_once(me.store, centre.connect("me"), me.lifecycle)
    sync_once(other.store, centre.connect("other"), other.lifecycle)
    sync_once(me.store, centre.connect("me"), me.lifecycle)
    assert me.store.count_cases() == 1 and other.store.count_cases() == 1
    assert sync_once(boss.store, centre.connect("boss"), boss.lifecycle).pulled == 4
    assert boss.store.count_cases() == 2


def test_clock_skew_is_flagged_not_reordered(centre, tmp_path, clock) -> None:
    me = device(tmp_path, clock, "me")
    import time as _time

    me.store.hlc = HybridClock(me.store.device_id[:8], wall=lambda: _time.time_ns() // 1_000_000 + 3_600_000)
    me.register(sample_case())
    report = sync_once(me.store, centre.connect("me"), me.lifecycle)
    assert report.skew_ms > 3_500_000
    assert all("clock_skew" in f for f in centre.flags())
    assert me.store.meta("sync_clock_skew_ms")


def test_a_fast_clock_overriding_a_later_action_is_flagged_the_same_everywhere(centre, tmp_path, clock) -> None:
    import time as _time

    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    you.store.hlc = HybridClock(you.store.device_id[:8], wall=lambda: _time.time_ns() // 1_000_000 + 3_600_000)
    case = me.register(sample_case())
    sync_once(me.store, centre.connect("me"), me.lifecycle)
    sync_once(you.store, centre.connect("you"), you.lifecycle)
    you.act(case.id, "assigned", {"department": "finance"})
    sync_once(you.store, centre.connect("you"), you.lifecycle)
    _time.sleep(0.01)
    me.act(case.id, "assigned", {"department": "legal"})  # later, not having seen the fast one
    for _ in range(2):
        sync_once(me.store, centre.connect("me"), me.lifecycle)
        sync_once(you.store, centre.connect("you"), you.lifecycle)
    a, b = me.store.state(case.id), you.store.state(case.id)
    assert a.model_dump() == b.model_dump()
    assert [c["kind"] for c in a.conflicts] == ["conflict"] and "clock ran ahead" in a.conflicts[0]["reason"]


def test_concurrent_actions_that_cannot_both_stand_are_kept_and_flagged(centre, tmp_path, clock) -> None:
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    case = me.register(sample_case())
    sync_once(me.store, centre.connect("me"), me.lifecycle)
    sync_once(you.store, centre.connect("you"), you.lifecycle)
    me.act(case.id, "closed", {"outcome": "at_fault", "causes": ["process_delay"], "stage": "claims",
                               "report": "已处理"})
    clock.advance(minutes=1)
    import time as _time

    _time.sleep(0.01)  # the hybrid clocks order the close first
    you.act(case.id, "assigned", {"department": "finance"})  # offline: did not know it was closed
    for _ in range(2):
        sync_once(me.store, centre.connect("me"), me.lifecycle)
        sync_once(you.store, centre.connect("you"), you.lifecycle)
    assert me.store.event_ids() == you.store.event_ids()
    a, b = me.store.state(case.id), you.store.state(case.id)
    assert a.model_dump() == b.model_dump()
    assert a.status == "closed" and [c["kind"] for c in a.conflicts] == ["assigned"]


def test_device_offline_for_ten_thousand_events(centre, tmp_path, clock) -> None:
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    case = me.register(sample_case())
    notes = [me.event("progress_noted", case.id, {"note": f"第{i}次"}, at=clock() + timedelta(seconds=i))
             for i in range(10_000)]
    me.store.append(notes, me.lifecycle)
    report = sync_once(me.store, centre.connect("me"), me.lifecycle)
    assert report.pushed == 10_002 and report.waiting == 0
    assert sync_once(you.store, centre.connect("you"), you.lifecycle).pulled == 10_002
    assert you.store.state(case.id).event_count == 10_002


ACTIONS = ["register", "note", "assign", "close", "reopen", "sync"]


SCRIPTS = st.lists(st.tuples(st.sampled_from(["me", "you", "boss"]), st.sampled_from(ACTIONS), st.integers(0, 5)),
                   min_size=3, max_size=30)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=SCRIPTS)
def test_random_devices_converge(tmp_path_factory, script) -> None:
    converge(tmp_path_factory, script, "sqlite", None)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=SCRIPTS)
def test_random_devices_converge_through_postgres(tmp_path_factory, pg_url, script) -> None:
    converge(tmp_path_factory, script, "postgres", pg_url)


def converge(tmp_path_factory, script, kind: str, pg_url: str | None) -> None:
    from tests.conftest import FakeClock, SHANGHAI
    from datetime import datetime

    tmp = tmp_path_factory.mktemp("conv")
    clock = FakeClock(datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI))
    centre = Centre(kind, tmp, pg_url)
    devices = {login: device(tmp, clock, login) for login in ("me", "you", "boss")}
    close = {"outcome": "at_fault", "causes": ["process_delay"], "stage": "claims", "report": "完"}
    for login, action, pick in script:
        ws = devices[login]
        clock.advance(minutes=7)
        cases = [r[0] for r in ws.store.conn.execute("SELECT id FROM cases ORDER BY id").fetchall()]
        target = cases[pick % len(cases)] if cases else None
        try:
            if action == "register" or target is None:
                ws.register(sample_case(facts=f"{login}{pick}"))
            elif action == "note":
                ws.act(target, "progress_noted", {"note": "x"})
            elif action == "assign":
                ws.act(target, "assigned", {"department": "finance"})
            elif action == "close":
                ws.act(target, "closed", close)
            elif action == "reopen":
                ws.act(target, "reopened", {"reason": "r"})
            else:
                sync_once(ws.store, centre.connect(login), ws.lifecycle)
        except (ValueError, PermissionError):
            pass  # refused locally: nothing recorded
    for _ in range(2):
        for login, ws in devices.items():
            sync_once(ws.store, centre.connect(login), ws.lifecycle)
    ids = {login: ws.store.event_ids() for login, ws in devices.items()}
    assert ids["me"] == ids["you"] == ids["boss"] and len(ids["me"]) == centre.count()
    assert states(devices["me"]) == states(devices["you"]) == states(devices["boss"])
    for ws in devices.values():
        assert ws.store.rebuild(ws.lifecycle) == []
        ws.close()


# -- PostgreSQL only -----------------------------------------------------------------------------------------------
@pytest.fixture
def pg_centre(tmp_path, pg_url) -> Centre:
    return Centre("postgres", tmp_path, pg_url)


def _raw_batch(ws: Any) -> str:
    return json.dumps([{"id": e.id, "case_id": e.case_id, "kind": e.kind, "actor": e.actor, "device": e.device,
                        "at": e.at.isoformat(), "hlc": e.hlc, "payload": e.payload, "flags": e.flags}
                       for e in ws.store.outbox_batch(1000)], default=str)


def test_puller_skips_nothing_while_a_pusher_holds_its_transaction(pg_centre, tmp_path, clock) -> None:
    me, you, boss = device(tmp_path, clock, "me"), device(tmp_path, clock, "you"), device(tmp_path, clock, "boss")
    me.register(sample_case())
    you.register(sample_case(facts="B"))
    slow = psycopg.connect(pg.with_login(pg_centre.admin, "me"))
    slow.execute("SELECT ac.push(%s::jsonb)", (_raw_batch(me),))  # numbered, not committed
    done = threading.Event()

    def second() -> None:
        sync_once(you.store, pg.PostgresCentral(pg.with_login(pg_centre.admin, "you")), you.lifecycle)
        done.set()

    t = threading.Thread(target=second)
    t.start()
    assert not done.wait(1.0)  # the second pusher waits for the first: it cannot commit a later number first
    puller = pg.PostgresCentral(pg.with_login(pg_centre.admin, "boss"))
    assert sync_once(boss.store, puller, boss.lifecycle).pulled == 0
    slow.commit()
    t.join(10)
    assert done.is_set()
    sync_once(boss.store, puller, boss.lifecycle)
    assert boss.store.count_cases() == 2 and len(boss.store.event_ids()) == 4
    slow.close()


def test_connection_killed_in_the_middle_of_a_push(pg_centre, tmp_path, clock) -> None:
    me = device(tmp_path, clock, "me")
    case = me.register(sample_case())
    me.store.append([me.event("progress_noted", case.id, {"note": str(i)}) for i in range(5000)], me.lifecycle)
    central = pg.PostgresCentral(pg.with_login(pg_centre.admin, "me"))

    def kill() -> None:
        with psycopg.connect(pg_centre.admin, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'me'")

    timer = threading.Timer(0.05, kill)
    timer.start()
    first = sync_once(me.store, central, me.lifecycle)
    timer.join()
    for _ in range(3):
        if me.store.outbox_count() == 0:
            break
        sync_once(me.store, central, me.lifecycle)
    assert me.store.outbox_count() == 0 and pg_centre.count() == 5002, first


def test_agent_role_cannot_read_other_teams_insert_forge_update_or_delete(pg_centre, tmp_path, clock) -> None:
    other = device(tmp_path, clock, "other")
    other.register(sample_case())
    sync_once(other.store, pg.PostgresCentral(pg.with_login(pg_centre.admin, "other")), other.lifecycle)
    with psycopg.connect(pg.with_login(pg_centre.admin, "me"), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM ac.events").fetchone()[0] == 0  # row-level security
        for statement in ("INSERT INTO ac.events (seq, id, kind, actor, device, at, hlc, payload, team) VALUES"
                          " (999, 'x', 'registered', 'me', 'd', now(), 'h', '{}', 't1')",
                          "UPDATE ac.events SET actor = 'me'", "DELETE FROM ac.events",
                          "UPDATE ac.team_counters SET last = 0", "SELECT * FROM ac.members"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    with psycopg.connect(pg_centre.admin, autocommit=True) as admin:  # not even the owner may rewrite history
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            admin.execute("DELETE FROM ac.events")


def test_role_comes_from_the_centre_not_the_local_flag(pg_centre, tmp_path, clock) -> None:
    url = pg.with_login(pg_centre.admin, "me")
    pretender = make_workspace(tmp_path, clock, name="me.db", agent="me", role="lead", central=url)
    assert not pretender.is_lead  # nothing granted yet: the narrowest view
    sync_once(pretender.store, pg.PostgresCentral(url), pretender.lifecycle)
    pretender.close()
    again = make_workspace(tmp_path, clock, name="me.db", agent="me", role="lead", central=url)
    assert not again.is_lead and again.settings.visible_teams == ["t1"]
    again.close()
    boss_url = pg.with_login(pg_centre.admin, "boss")
    boss = make_workspace(tmp_path, clock, name="boss.db", agent="boss", role="agent", central=boss_url)
    sync_once(boss.store, pg.PostgresCentral(boss_url), boss.lifecycle)
    boss.close()
    boss = make_workspace(tmp_path, clock, name="boss.db", agent="boss", role="agent", central=boss_url)
    assert boss.is_lead and boss.settings.visible_teams == ["t1", "t2"]
    boss.close()


def test_call_events_sync_to_the_lead_and_count_in_their_handling_time(centre, tmp_path, clock) -> None:
    """Calls belong to no case: they go through the centre like enquiries, and the lead's caller log and AHT see
    them (issue 17)."""
    from agent_console.services import kpi, telephony

    me, boss = device(tmp_path, clock, "me"), device(tmp_path, clock, "boss")
    desk = telephony.Desk(me)
    for event in ("newCall", "answer", "hangup"):
        desk.handle(telephony.CtiEvent.model_validate({"event": event, "from": "17012345678", "callId": "s1",
                                                       "cause": "normalClearing"}))
        clock.advance(seconds=90)
    assert sync_once(me.store, centre.connect("me"), me.lifecycle).pushed == 3
    assert sync_once(boss.store, centre.connect("boss"), boss.lifecycle).pulled == 3
    [call] = telephony.call_log(boss, everyone=True)
    assert (call.agent, call.status, call.duration_s) == ("me", "done", 90.0)
    start, end = kpi.month_bounds(boss, "2026-11")
    assert kpi.compute(boss, start, end).calls_by_agent["me"]["average"] == 90.0
