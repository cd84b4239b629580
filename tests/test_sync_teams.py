"""The centre scales with its consoles (issue 18): teams push side by side (one team's open transaction holds no
other team), a reader never skips a late commit under per-team numbering, a console never pulls back what it
pushed, and an older console's single-number cursor carries over."""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Any

import psycopg

from agent_console.sync import pg
from agent_console.sync.engine import cursor_key, pull, sync_once
from tests.conftest import sample_case
from tests.test_centre_attacks import admin, as_json, login, pg_centre, push_raw  # noqa: F401 (fixture)
from tests.test_sync import centre, device  # noqa: F401 (fixture)


def test_a_console_never_pulls_back_what_it_pushed(centre, tmp_path, clock) -> None:  # noqa: F811
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    case = me.register(sample_case())
    first = sync_once(me.store, centre.connect("me"), me.lifecycle)
    assert first.pushed == 2 and first.pulled == 0  # it has them
    you_first = sync_once(you.store, centre.connect("you"), you.lifecycle)
    assert you_first.pulled == 2
    you.act(case.id, "progress_noted", {"note": "同事"})
    sync_once(you.store, centre.connect("you"), you.lifecycle)
    again = sync_once(me.store, centre.connect("me"), me.lifecycle)
    assert again.pulled == 1 and me.store.state(case.id).event_count == 3
    # the cursor moved past its own rows: the next round reads nothing at all
    assert sync_once(me.store, centre.connect("me"), me.lifecycle).pulled == 0
    assert me.store.event_ids() == you.store.event_ids()


def test_a_restarted_console_with_a_fresh_database_gets_its_login_s_events_back(centre, tmp_path, clock) -> None:  # noqa: F811,E501
    me = device(tmp_path, clock, "me")
    me.register(sample_case())
    sync_once(me.store, centre.connect("me"), me.lifecycle)
    fresh = device(tmp_path / "new", clock, "me")  # the same login, a new device (a new file)
    assert sync_once(fresh.store, centre.connect("me"), fresh.lifecycle).pulled == 2


def test_an_open_push_of_one_team_does_not_hold_another_team(pg_centre, tmp_path, clock) -> None:  # noqa: F811
    me, other, boss = device(tmp_path, clock, "me"), device(tmp_path, clock, "other"), device(tmp_path, clock, "boss")
    other.register(sample_case(facts="二组"))
    holder = login(pg_centre, "other", autocommit=False)
    push_raw(holder, [as_json(e) for e in other.store.outbox_batch(10)])  # numbered in t2, not committed
    me.register(sample_case())
    started = time.monotonic()
    report = sync_once(me.store, pg_centre.connect("me"), me.lifecycle)
    assert report.online and report.pushed == 2 and time.monotonic() - started < 1.5
    # the lead reads t1's rows now; t2's uncommitted ones come once committed, never skipped
    assert sync_once(boss.store, pg_centre.connect("boss"), boss.lifecycle).pulled == 2
    holder.commit()
    holder.close()
    assert sync_once(boss.store, pg_centre.connect("boss"), boss.lifecycle).pulled == 2
    assert boss.store.count_cases() == 2


def test_a_stuck_push_of_the_same_team_is_ended_after_a_bounded_wait(pg_centre, tmp_path, clock) -> None:  # noqa: F811
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    you.register(sample_case(facts="卡住"))
    holder = login(pg_centre, "you", autocommit=False)
    push_raw(holder, [as_json(e) for e in you.store.outbox_batch(10)])  # holds t1's counter, idle
    me.register(sample_case())
    started = time.monotonic()
    report = sync_once(me.store, pg_centre.connect("me"), me.lifecycle)
    took = time.monotonic() - started
    assert report.online and report.pushed == 2, report
    assert 2.5 < took < 20  # it waited its bounded turn, then the idle holder was ended
    try:
        holder.execute("SELECT 1")
        ended = False
    except psycopg.OperationalError:
        ended = True
    holder.close()
    assert ended


def test_no_reader_skips_a_late_commit_while_teams_push_at_once(pg_centre, tmp_path, clock) -> None:  # noqa: F811
    """Pushers of two teams commit in random order after random delays while a lead of both pulls all along: every
    event is read exactly once, though numbers of one team become visible while the other's are still open."""
    pushers = {name: device(tmp_path, clock, name) for name in ("me", "you", "other")}
    batches: list[tuple[str, list[dict[str, Any]]]] = []
    for name, ws in pushers.items():
        for n in range(12):
            ws.register(sample_case(facts=f"{name}{n}"))
            batches.append((name, [as_json(e) for e in ws.store.outbox_batch(10)]))
            ws.store.acknowledge([e.id for e in ws.store.outbox_batch(10)], [])
    random.Random(7).shuffle(batches)
    expected = {row["id"] for _, rows in batches for row in rows}
    stop = threading.Event()
    seen: list[str] = []
    errors: list[BaseException] = []

    def reader() -> None:
        central = pg_centre.connect("boss")
        cursor: Any = "0"
        try:
            while True:
                done = stop.is_set()
                page = central.pull_page(cursor, 7)
                seen.extend(r[1] for r in json.loads(page.text))
                cursor = page.last_seq
                if done and page.count < 7:
                    break
                time.sleep(0.002)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def push(name: str, rows: list[dict[str, Any]], delay: float) -> None:
        try:
            with login(pg_centre, name, autocommit=False) as conn:
                answer = push_raw(conn, rows)
                time.sleep(delay)  # numbered, still open: a reader must not move past it
                conn.commit()
                assert answer["accepted_count"] == len(rows), answer
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    r = threading.Thread(target=reader)
    r.start()
    rng = random.Random(11)
    threads = [threading.Thread(target=push, args=(name, rows, rng.uniform(0, 0.05))) for name, rows in batches]
    for t in threads:
        t.start()
        time.sleep(rng.uniform(0, 0.01))
    for t in threads:
        t.join(60)
    stop.set()
    r.join(60)
    assert not errors, errors
    assert len(seen) == len(set(seen)) and set(seen) == expected


def test_an_older_console_s_single_number_cursor_carries_over(pg_centre, tmp_path, clock) -> None:  # noqa: F811
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    case = me.register(sample_case())
    sync_once(me.store, pg_centre.connect("me"), me.lifecycle)
    central = pg_centre.connect("you")
    assert pull(you.store, central, you.lifecycle) == 2
    with admin(pg_centre) as conn:
        highest = conn.execute("SELECT max(seq) FROM ac.events").fetchone()[0]
    you.store.set_meta(cursor_key(central), str(highest))  # as a console before the per-team numbering left it
    me.act(case.id, "progress_noted", {"note": "之后"})
    sync_once(me.store, pg_centre.connect("me"), me.lifecycle)
    assert pull(you.store, central, you.lifecycle) == 1  # only what came after, nothing twice
    assert json.loads(you.store.meta(cursor_key(central))) == {"t1": 3}


def test_sync_once_draws_a_progress_bar_on_a_terminal(pg_centre, tmp_path, clock, capsys, monkeypatch) -> None:  # noqa: F811,E501
    import sys

    from agent_console.cli import main

    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    for n in range(3):
        me.register(sample_case(facts=f"第{n}件"))
    sync_once(me.store, pg_centre.connect("me"), me.lifecycle)
    you.close()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    code = main(["sync", "--once", "--db", str(tmp_path / "you.db"), "--agent", "you", "--team", "t1",
                 "--central", pg.with_login(pg_centre.admin, "you"), "--lang", "en"])
    captured = capsys.readouterr()
    assert code == 0 and "pulled 6" in captured.out
    assert "\r[" in captured.err and "6/6" in captured.err


def test_central_init_numbers_an_older_centre_s_events_per_team(pg_centre, tmp_path, clock) -> None:  # noqa: F811
    """A centre from before the per-team numbering (one counter, no tseq): re-running init numbers every team's
    events in their old order, and its consoles carry on from their old cursors."""
    me, other, boss = device(tmp_path, clock, "me"), device(tmp_path, clock, "other"), device(tmp_path, clock, "boss")
    for n in range(2):
        me.register(sample_case(facts=f"一组{n}"))
        sync_once(me.store, pg_centre.connect("me"), me.lifecycle)
        other.register(sample_case(facts=f"二组{n}"))
        sync_once(other.store, pg_centre.connect("other"), other.lifecycle)
    with admin(pg_centre) as conn:  # back to the old shape
        conn.execute("ALTER TABLE ac.events DROP COLUMN tseq")
        conn.execute("DROP TABLE ac.team_counters")
        conn.execute("CREATE TABLE ac.counter (one int PRIMARY KEY DEFAULT 1, last bigint NOT NULL)")
        conn.execute("INSERT INTO ac.counter SELECT 1, max(seq) FROM ac.events")
        old_cursor = conn.execute("SELECT max(seq) FROM ac.events WHERE team = 't1'").fetchone()[0]
    pg.install(pg_centre.admin)
    with admin(pg_centre) as conn:
        rows = conn.execute("SELECT team, seq, tseq FROM ac.events ORDER BY team, seq").fetchall()
        counters = dict(conn.execute("SELECT team, last FROM ac.team_counters").fetchall())
        assert conn.execute("SELECT to_regclass('ac.counter')").fetchone()[0] is None
    for team in ("t1", "t2"):
        assert [r[2] for r in rows if r[0] == team] == [1, 2, 3, 4]
    assert counters == {"t1": 4, "t2": 4}
    central = pg_centre.connect("boss")
    boss.store.set_meta(cursor_key(central), str(old_cursor))  # it had read all of t1 and part of t2
    assert pull(boss.store, central, boss.lifecycle) == len([r for r in rows if r[0] == "t2" and r[1] > old_cursor])
    me.register(sample_case(facts="之后"))
    assert sync_once(me.store, pg_centre.connect("me"), me.lifecycle).pushed == 2
    assert sync_once(boss.store, central, boss.lifecycle).pulled == 2


def test_a_teammate_cannot_hide_an_event_by_writing_my_device_id_into_it(pg_centre, tmp_path, clock) -> None:  # noqa: F811,E501
    """The rows left out of a pull are this console's own: its device *and* its login. A crafted row naming my
    device id (seen in any of my events) still reaches me."""
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    case = me.register(sample_case())
    sync_once(me.store, pg_centre.connect("me"), me.lifecycle)
    sync_once(you.store, pg_centre.connect("you"), you.lifecycle)
    note = you.event("progress_noted", case.id, {"note": "藏起来的"})
    with login(pg_centre, "you") as conn:
        answer = push_raw(conn, [as_json(note, device=me.store.device_id, hlc=you.store.hlc.now())])
        assert answer["accepted_count"] == 1
    assert sync_once(me.store, pg_centre.connect("me"), me.lifecycle).pulled == 1
    assert note.id in me.store.event_ids()
