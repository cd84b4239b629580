"""The attacker's suite (issue 13): what an agent's own PostgreSQL login, psql and a little SQL can try against the
centre, and what a superuser's poison or a bad clock can do to the consoles. Real PostgreSQL only; under CI these run.

Each test names the attack. The centre must refuse (with a reason) or shrug it off; the consoles must keep syncing.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from agent_console.cli import main
from agent_console.core.hlc import HybridClock
from agent_console.sync import pg
from agent_console.sync.central import CentralUnavailable, Identity
from agent_console.sync.engine import sync_once
from agent_console.sync.sqlite_central import SqliteCentral
from tests.conftest import sample_case
from tests.test_sync import Centre, device

STAGE_COLUMNS = ("ord bigint, id text, case_id text, kind text, actor text, device text, at timestamptz, hlc text,"
                 " payload jsonb, flags jsonb")
CLOSE = {"outcome": "at_fault", "causes": ["process_delay"], "stage": "claims", "report": "完"}


@pytest.fixture
def pg_centre(tmp_path: Path, pg_url: str) -> Centre:
    return Centre("postgres", tmp_path, pg_url)


def login(centre: Centre, name: str, autocommit: bool = True) -> psycopg.Connection:
    return psycopg.connect(pg.with_login(centre.admin, name), autocommit=autocommit)


def admin(centre: Centre) -> psycopg.Connection:
    return psycopg.connect(centre.admin, autocommit=True)


def as_json(e: Any, **over: Any) -> dict[str, Any]:
    row = {"id": e.id, "case_id": e.case_id, "kind": e.kind, "actor": e.actor, "device": e.device,
           "at": e.at.isoformat(), "hlc": e.hlc, "payload": e.payload, "flags": e.flags}
    return row | over


def crafted(ws: Any, kind: str, case_id: str | None, payload: dict[str, Any], **over: Any) -> dict[str, Any]:
    """An event as an attacker would send it with psql: built by hand, never through the console's own checks."""
    e = ws.event("progress_noted", case_id, {"note": "x"})
    return as_json(e, kind=kind, payload=payload, hlc=ws.store.hlc.now(), id=str(uuid.uuid4())) | over


def push_raw(conn: psycopg.Connection, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return conn.execute("SELECT ac.push(%s::jsonb)", (json.dumps(rows, default=str),)).fetchone()[0]


def synced(ws: Any, centre: Centre, name: str) -> Any:
    report = sync_once(ws.store, centre.connect(name), ws.lifecycle)
    assert report.online, report.error
    return report


def powers(centre: Centre, name: str) -> tuple[Any, ...]:
    """What a login could have gained: superuser, another role or teams, the append-only trigger switched off."""
    with admin(centre) as conn:
        return conn.execute(
            "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = %s),"
            " (SELECT role || ':' || array_to_string(teams, ',') FROM ac.members WHERE login = %s),"
            " (SELECT string_agg(tgname || '=' || tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger"
            "   WHERE tgrelid = 'ac.events'::regclass AND NOT tgisinternal)", (name, name)).fetchone()


# -- 1. privilege escalation through the push stage -------------------------------------------------------------
ESCALATE = """
    BEGIN EXECUTE format('ALTER ROLE %I SUPERUSER', session_user); EXCEPTION WHEN OTHERS THEN NULL; END;
    BEGIN UPDATE ac.members SET role = 'lead', teams = '{t1,t2}' WHERE login = session_user;
    EXCEPTION WHEN OTHERS THEN NULL; END;
    BEGIN ALTER TABLE ac.events DISABLE TRIGGER events_append_only; EXCEPTION WHEN OTHERS THEN NULL; END;
"""
HIJACKS = {
    # the caller's own TEMP ac_stage with a trigger: push_stage() used to skip creating the stage
    "temp table with a trigger": [
        f"CREATE FUNCTION pg_temp.evil() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {ESCALATE} RETURN NEW; END $$",
        f"CREATE TEMP TABLE ac_stage ({STAGE_COLUMNS})",
        "CREATE TRIGGER evil BEFORE INSERT OR DELETE ON pg_temp.ac_stage FOR EACH ROW EXECUTE FUNCTION pg_temp.evil()",
    ],
    # a TEMP view of that name: reading the stage runs the caller's function as the definer
    "temp view": [
        f"CREATE FUNCTION pg_temp.evil() RETURNS SETOF int LANGUAGE plpgsql AS $$ BEGIN {ESCALATE} RETURN; END $$",
        "CREATE TEMP VIEW ac_stage AS SELECT NULL::bigint AS ord, NULL::text AS id, NULL::text AS case_id,"
        " NULL::text AS kind, NULL::text AS actor, NULL::text AS device, NULL::timestamptz AS at, NULL::text AS hlc,"
        " NULL::jsonb AS payload, NULL::jsonb AS flags FROM pg_temp.evil()",
    ],
    # a TEMP table with a rule
    "temp table with a rule": [
        f"CREATE FUNCTION pg_temp.evil() RETURNS int LANGUAGE plpgsql AS $$ BEGIN {ESCALATE} RETURN 1; END $$",
        f"CREATE TEMP TABLE ac_stage ({STAGE_COLUMNS})",
        "CREATE RULE evil AS ON INSERT TO pg_temp.ac_stage DO ALSO SELECT pg_temp.evil()",
    ],
    # the table the centre moves checked rows into: the caller's own, made before the centre's, with a trigger
    "checked rows' table with a trigger": [
        "SELECT ac.push_stage()",
        f"CREATE FUNCTION pg_temp.evil() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {ESCALATE} RETURN NEW; END $$",
        f"CREATE TEMP TABLE ac_checked (place bigint, {STAGE_COLUMNS}, verdict text)",
        "CREATE TRIGGER evil BEFORE INSERT OR DELETE ON pg_temp.ac_checked FOR EACH ROW EXECUTE FUNCTION pg_temp.evil()",
    ],
    "checked rows' table as a view": [
        "SELECT ac.push_stage()",
        f"CREATE FUNCTION pg_temp.evil() RETURNS SETOF int LANGUAGE plpgsql AS $$ BEGIN {ESCALATE} RETURN; END $$",
        "CREATE TEMP VIEW ac_checked AS SELECT NULL::bigint AS place, NULL::bigint AS ord FROM pg_temp.evil()",
    ],
}


@pytest.mark.parametrize("how", list(HIJACKS))
@pytest.mark.parametrize("entry", ["ac.push", "ac.push_staged"])
def test_a_temp_object_named_ac_stage_gives_the_caller_nothing(pg_centre, tmp_path, clock, how, entry) -> None:
    me = device(tmp_path, clock, "me")
    case = me.register(sample_case())
    synced(me, pg_centre, "me")
    before = powers(pg_centre, "me")
    conn = login(pg_centre, "me")
    for statement in HIJACKS[how]:
        conn.execute(statement)
    note = crafted(me, "progress_noted", case.id, {"note": "n"})
    with pytest.raises(psycopg.Error, match="ac_stage|ac_checked|nothing staged"):
        if entry == "ac.push":
            push_raw(conn, [note])
        else:
            conn.execute("SELECT ac.push_staged()")
    conn.close()
    try:
        assert powers(pg_centre, "me") == before == (False, "agent:t1", "events_append_only=O,events_no_truncate=O")
    finally:  # login roles are the cluster's: a successful attack must not leak into the other tests
        with admin(pg_centre) as conn:
            conn.execute("ALTER ROLE me NOSUPERUSER")


def test_no_definer_runs_as_a_superuser_and_every_one_pins_its_search_path(pg_centre) -> None:
    with admin(pg_centre) as conn:
        rows = conn.execute(
            "SELECT p.proname, r.rolsuper, p.prosecdef, p.proconfig,"
            " EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE a.grantee = 0)"
            " FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner WHERE p.pronamespace = 'ac'::regnamespace"
        ).fetchall()
        schema_owner_super = conn.execute("SELECT r.rolsuper FROM pg_namespace n JOIN pg_roles r"
                                          " ON r.oid = n.nspowner WHERE n.nspname = 'ac'").fetchone()[0]
    assert not schema_owner_super
    definers = [r for r in rows if r[2]]
    assert {"my_teams", "whoami", "push_stage", "push_check", "push_staged", "push"} <= {r[0] for r in definers}
    for name, superuser, _, config, public in rows:
        assert not superuser, name
        assert not public, f"{name} is executable by PUBLIC"
    for name, _, _, config, _ in definers:  # pg_catalog first, pg_temp last
        path = [p for p in (config or []) if p.startswith("search_path=")]
        assert path and path[0].startswith("search_path=pg_catalog") and path[0].endswith(", pg_temp"), (name, config)


def test_temp_objects_shadowing_every_name_change_nothing(pg_centre, tmp_path, clock) -> None:
    me, boss = device(tmp_path, clock, "me"), device(tmp_path, clock, "boss")
    case = me.register(sample_case())
    synced(me, pg_centre, "me")
    me.act(case.id, "extension_requested", {"length": 3, "reason": "需要材料"})
    conn = login(pg_centre, "me")
    # every name the functions use, as the caller's own temporary tables and functions
    for table in ("members", "counter", "case_teams", "events", "stage", "pg_roles", "pg_class", "pg_locks",
                  "pg_stat_activity"):
        conn.execute(f"CREATE TEMP TABLE {table} (login text, role text, teams text[], one int, last bigint,"
                     " case_id text, team text)")
        conn.execute(f"INSERT INTO pg_temp.{table} VALUES ('me', 'lead', '{{t1,t2}}', 1, 0, %s, 't1')",
                     (case.id,))
    for fn, returns, body in (("my_teams", "text[]", "SELECT '{t1,t2}'::text[]"),
                              ("lead_only_kinds", "text[]", "SELECT '{}'::text[]"),
                              ("payload_problem", "text", "SELECT NULL::text"),
                              ("stage_ready", "boolean", "SELECT true"),
                              ("quote_literal", "text", "SELECT 'x'::text"),
                              ("jsonb_typeof", "text", "SELECT 'object'::text"),
                              ("split_part", "text", "SELECT '1'::text"),
                              ("coalesce", "text", "SELECT 'x'::text")):
        conn.execute(f"CREATE FUNCTION pg_temp.{fn}() RETURNS {returns} LANGUAGE sql AS $$ {body} $$")
    approval = crafted(me, "extension_approved", case.id, {"reason": ""})
    bad = crafted(me, "progress_noted", case.id, {"note": 5})
    rows = [as_json(e) for e in me.store.outbox_batch(10)] + [approval, bad]
    answer = push_raw(conn, rows)
    conn.close()
    refused = dict(answer["refused"])
    assert "only a lead" in refused[approval["id"]] and "note: not text" in refused[bad["id"]]
    assert answer["accepted_count"] == 1
    try:
        assert powers(pg_centre, "me") == (False, "agent:t1", "events_append_only=O,events_no_truncate=O")
    finally:
        with admin(pg_centre) as conn:
            conn.execute("ALTER ROLE me NOSUPERUSER")
    assert synced(boss, pg_centre, "boss").pulled == pg_centre.count() == 3


# -- roles, direct access, other teams ------------------------------------------------------------------------------
def test_set_role_and_session_authorization_are_refused(pg_centre) -> None:
    with login(pg_centre, "me") as conn:
        for statement in ("SET ROLE ac_lead", "SET ROLE ac_owner", "SET ROLE postgres", "SET ROLE boss",
                          "SET SESSION AUTHORIZATION postgres", "SET SESSION AUTHORIZATION boss",
                          "RESET SESSION AUTHORIZATION; SET ROLE pg_signal_backend"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        conn.execute("SET ROLE ac_agent")  # its own group: it gains nothing by it
        assert conn.execute("SELECT role FROM ac.whoami()").fetchone()[0] == "agent"
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM ac.members")


@pytest.mark.parametrize("statement", [
    "INSERT INTO ac.events (seq, id, kind, actor, device, at, hlc, payload, team) VALUES"
    " (999, 'x', 'registered', 'me', 'd', now(), 'h', '{}', 't1')",
    "UPDATE ac.events SET actor = 'me'", "DELETE FROM ac.events", "TRUNCATE ac.events",
    "COPY ac.events (seq, id, kind, actor, device, at, hlc, payload, team) FROM STDIN",
    "INSERT INTO ac.members VALUES ('me', 'lead', '{t1,t2}')", "UPDATE ac.members SET role = 'lead'",
    "SELECT * FROM ac.members", "SELECT * FROM ac.team_counters", "UPDATE ac.team_counters SET last = 0",
    "SELECT * FROM ac.team_counters FOR UPDATE", "SELECT nextval('ac.event_seq')", "SELECT * FROM ac.events FOR UPDATE",
    "SELECT * FROM ac.case_teams", "INSERT INTO ac.case_teams VALUES ('c', 't1')",
    "CREATE TABLE ac.mine (x int)", "CREATE FUNCTION ac.my_teams2() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "ALTER TABLE ac.events DISABLE TRIGGER events_append_only", "ALTER TABLE ac.events DISABLE ROW LEVEL SECURITY",
    "DROP POLICY events_read_own_teams ON ac.events", "CREATE POLICY mine ON ac.events USING (true)",
    "GRANT ac_lead TO me", "ALTER ROLE me SUPERUSER", "ALTER ROLE me BYPASSRLS",
    "SELECT ac.staged_problems('me', NULL, 0, 0)", "SELECT ac.checked_verdicts('me', '{t1}', true)",
    "SELECT ac.payload_problem('x', '{}')", "SELECT ac.temp_ready('ac_checked')",
    "SELECT ac.stage_ready()", "SELECT ac.end_stuck_push_holder()", "SELECT ac.lead_only_kinds()",
    "SELECT ac.iso_time_pattern()",
])
def test_direct_access_is_refused(pg_centre, statement) -> None:
    with login(pg_centre, "me") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            if statement.startswith("COPY"):
                with conn.cursor().copy(statement) as copy:
                    copy.write_row((1, "x", "registered", "me", "d", "2026-01-01", "h", "{}", "t1"))
            else:
                conn.execute(statement)


def test_another_teams_events_cannot_be_read_or_written(pg_centre, tmp_path, clock) -> None:
    me, other = device(tmp_path, clock, "me"), device(tmp_path, clock, "other")
    theirs = other.register(sample_case(facts="二组的案件"))
    synced(other, pg_centre, "other")
    with login(pg_centre, "me") as conn:
        assert conn.execute("SELECT count(*) FROM ac.events").fetchone()[0] == 0  # row-level security
        assert conn.execute("SELECT ac.my_teams()").fetchone()[0] == ["t1"]
        assert conn.execute("SELECT login, teams FROM ac.whoami()").fetchone() == ("me", ["t1"])
        # writing onto their case, or registering for their team, is refused without saying whether it exists
        answer = push_raw(conn, [crafted(me, "progress_noted", theirs.id, {"note": "偷看"}),
                                 crafted(me, "progress_noted", str(uuid.uuid4()), {"note": "?"})])
        reasons = [r[1] for r in answer["refused"]]
        assert reasons[0] == reasons[1] == "the case is unknown at the centre or not of your team"
        stolen = me.registration_events(sample_case())[0]
        answer = push_raw(conn, [as_json(stolen, hlc=me.store.hlc.now(),
                                         payload=stolen.payload | {"team": "t2", "number": "X1"})])
        assert answer["accepted_count"] == 0 and "not of your team" in answer["refused"][0][1]
    assert sync_once(me.store, pg_centre.connect("me"), me.lifecycle).pulled == 0
    assert pg_centre.count() == 2


def test_every_definer_function_with_crafted_arguments(pg_centre, tmp_path, clock) -> None:
    me = device(tmp_path, clock, "me")
    case = me.register(sample_case())
    synced(me, pg_centre, "me")
    with login(pg_centre, "me") as conn:
        for batch in ("null", "{}", '"x"', "1"):
            with pytest.raises(psycopg.Error, match="not a JSON array"):
                conn.execute("SELECT ac.push(%s::jsonb)", (batch,))
        answer = conn.execute("SELECT ac.push('[1, \"x\", null, [], {}]'::jsonb)").fetchone()[0]
        assert answer["accepted_count"] == 0 and len(answer["refused"]) == 5
        # a caller may not widen the drift bound to keep a fast clock unflagged
        fast = crafted(me, "progress_noted", case.id, {"note": "快"},
                       hlc=f"{int(time.time() * 1000) + 3_600_000:013d}-0000-evil")
        answer = conn.execute("SELECT ac.push(%s::jsonb, %s)", (json.dumps([fast]), 10**15)).fetchone()[0]
        assert answer["accepted_count"] == 1 and answer["skew_ms"] > 3_000_000
        for call in ("SELECT ac.push_staged(NULL)", "SELECT ac.push_staged(-1)"):
            conn.execute("SELECT ac.push_stage()")
            assert conn.execute(call).fetchone()[0]["accepted_count"] == 0
        assert conn.execute("SELECT ac.my_teams()").fetchone()[0] == ["t1"]
    with admin(pg_centre) as conn:
        assert conn.execute("SELECT flags FROM ac.events WHERE id = %s", (fast["id"],)).fetchone()[0] == ["clock_skew"]
    assert pg_centre.count() == 3


# -- 2. malformed events -------------------------------------------------------------------------------------------
MALFORMED = {
    "a registration without received_at": ("registered", lambda p: {k: v for k, v in p.items() if k != "received_at"},
                                          {}, "received_at: required"),
    "a registration with a naive time": ("registered", lambda p: p | {"received_at": "2026-11-24T10:00:00"}, {},
                                         "received_at: not a time with an offset"),
    "an hlc like 1-1": ("progress_noted", {"note": "x"}, {"hlc": "1-1"}, "bad hlc stamp"),
    "an hlc in the year 2286": ("progress_noted", {"note": "x"}, {"hlc": "9999999999999-0000-abc"}, "absurd clock"),
    "a time in the year 2286": ("progress_noted", {"note": "x"}, {"at": "2286-11-20T17:46:39+00:00"}, "absurd time"),
    "an unknown kind": ("became_superuser", {}, {}, "unknown event kind"),
    "a payload that is a list": ("progress_noted", [1, 2], {}, "payload is not an object"),
    "an unknown field": ("progress_noted", {"note": "x", "owner": "me"}, {}, "unknown field"),
    "a field of the wrong type": ("progress_noted", {"note": {"a": 1}}, {}, "note: not text"),
    "an outcome not in the list": ("contact_attempted", {"outcome": "teleported", "note": ""}, {}, "not one of"),
    "an extension of no length": ("extension_requested", {"length": 0, "reason": "r"}, {}, "out of range"),
    "a blank reason": ("parked", {"reason": "   "}, {}, "must not be blank"),
    "flags that are not texts": ("progress_noted", {"note": "x"}, {"flags": [{"x": 1}]}, "flags"),
    "no device": ("progress_noted", {"note": "x"}, {"device": ""}, "no device"),
}


@pytest.mark.parametrize("what", list(MALFORMED))
def test_a_malformed_event_is_refused_with_its_reason_and_never_pulled(pg_centre, tmp_path, clock, what) -> None:
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    case = me.register(sample_case())
    synced(me, pg_centre, "me")
    kind, payload, over, reason = MALFORMED[what]
    if kind == "registered":
        reg = me.registration_events(sample_case())[0]
        row = as_json(reg, hlc=me.store.hlc.now(), payload=payload(reg.payload | {"number": "N1"})) | over
    else:
        row = crafted(me, kind, case.id, payload, **over)
    with login(pg_centre, "me") as conn:
        answer = push_raw(conn, [row])
    assert answer["accepted_count"] == 0 and answer["refused"][0][0] == row["id"], answer
    assert reason in answer["refused"][0][1]
    assert pg_centre.count() == 2
    report = synced(you, pg_centre, "you")
    assert report.pulled == 2 and report.quarantined == 0 and row["id"] not in you.store.event_ids()


def test_the_console_does_not_send_what_the_centre_would_refuse(pg_centre, tmp_path, clock) -> None:
    me = device(tmp_path, clock, "me")
    case = me.register(sample_case())
    bad = me.event("progress_noted", case.id, {"note": "x"}).model_copy(update={"hlc": "9999999999999-0000-x"})
    me.store.append([bad], me.lifecycle, strict=False)
    report = synced(me, pg_centre, "me")
    assert report.pushed == 2 and [r[0] for r in report.refused] == [bad.id] and "absurd" in report.refused[0][1]
    assert pg_centre.count() == 2 and me.store.outbox_count() == 0


def test_rows_set_aside_before_sending_in_a_pipelined_push(pg_centre, tmp_path, clock) -> None:
    from agent_console.sync.engine import push

    me = device(tmp_path, clock, "me")
    case = me.register(sample_case())
    notes = [me.event("progress_noted", case.id, {"note": str(i)}) for i in range(23)]
    bad = me.event("progress_noted", case.id, {"note": "x"}).model_copy(update={"hlc": "9999999999999-0000-x"})
    me.store.append(notes[:11] + [bad] + notes[11:], me.lifecycle, strict=False)
    report = push(me.store, pg_centre.connect("me"), batch=5)  # several batches through the two-session pipeline
    assert report.pushed == 25 and [r[0] for r in report.refused] == [bad.id]
    assert pg_centre.count() == 25 and me.store.outbox_count() == 0 and me.store.refused()[0][0] == bad.id


# -- 3. who may do what --------------------------------------------------------------------------------------------
def test_an_agent_cannot_approve_and_a_lead_cannot_decide_their_own_request(pg_centre, tmp_path, clock) -> None:
    me, you, boss = device(tmp_path, clock, "me"), device(tmp_path, clock, "you"), device(tmp_path, clock, "boss")
    case = me.register(sample_case())
    me.act(case.id, "extension_requested", {"length": 3, "reason": "需要材料"})
    synced(me, pg_centre, "me")
    synced(you, pg_centre, "you")
    with login(pg_centre, "you") as conn:  # a colleague approves the request with psql
        answer = push_raw(conn, [crafted(you, "extension_approved", case.id, {"reason": "行"})])
    assert answer["accepted_count"] == 0 and "only a lead of team 't1' may record extension_approved" in \
        answer["refused"][0][1]
    with login(pg_centre, "me") as conn:  # the requester approves their own
        answer = push_raw(conn, [crafted(me, "extension_approved", case.id, {"reason": "行"})])
    assert answer["accepted_count"] == 0 and "only a lead" in answer["refused"][0][1]
    # a lead who asks for an extension on a case and approves it themselves, in one batch or later
    synced(boss, pg_centre, "boss")
    own = boss.register(sample_case(facts="组长自己的"))
    request = crafted(boss, "extension_requested", own.id, {"length": 2, "reason": "等", "clock": ""})
    approval = crafted(boss, "extension_approved", own.id, {"reason": ""})
    synced(boss, pg_centre, "boss")
    with login(pg_centre, "boss") as conn:
        answer = push_raw(conn, [request, approval])
    assert [r[0] for r in answer["refused"]] == [approval["id"]]
    assert answer["refused"][0][1] == "nobody may decide their own request"
    with login(pg_centre, "boss") as conn:  # the lead's decision on the agent's request stands
        answer = push_raw(conn, [crafted(boss, "extension_approved", case.id, {"reason": "同意"})])
    assert answer["accepted_count"] == 1
    synced(you, pg_centre, "you")
    assert you.store.state(case.id).extension_pending is None


def test_a_case_cannot_be_registered_again_over_a_colleagues(pg_centre, tmp_path, clock) -> None:
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    case = me.register(sample_case())
    synced(me, pg_centre, "me")
    again = you.registration_events(sample_case(facts="改写的事实"), case_id=case.id)[0]
    fresh = you.registration_events(sample_case())[0]
    twice = as_json(fresh, id=str(uuid.uuid4()), hlc=you.store.hlc.now())
    with login(pg_centre, "you") as conn:
        answer = push_raw(conn, [as_json(again, hlc=you.store.hlc.now(), payload=again.payload | {"number": "X"}),
                                 as_json(fresh, hlc=you.store.hlc.now(), payload=fresh.payload | {"number": "Y"}),
                                 twice | {"payload": fresh.payload | {"number": "Z"}}])
    assert answer["accepted_count"] == 1
    assert [r[1] for r in answer["refused"]] == ["the case is registered at the centre already"] * 2
    assert synced(me, pg_centre, "me").quarantined == 0 and me.store.state(case.id).facts == sample_case()["facts"]


def test_a_console_keeps_aside_what_the_centre_should_have_refused(pg_centre, tmp_path, clock) -> None:
    """Defence in depth: rows that reached ac.events without the centre's checks (a superuser, an old install)."""
    me, you, boss = device(tmp_path, clock, "me"), device(tmp_path, clock, "you"), device(tmp_path, clock, "boss")
    case = me.register(sample_case())
    synced(me, pg_centre, "me")
    seq = [1000]

    def poison(kind: str, case_id: Any, payload: Any, hlc: str | None = None, team: str = "t1") -> str:
        seq[0] += 1
        event_id = f"poison-{seq[0]}"
        with admin(pg_centre) as conn:
            conn.execute("INSERT INTO ac.events (seq, tseq, id, case_id, kind, actor, device, at, hlc, payload, flags,"
                         " team) VALUES (%s, (SELECT last + 1 FROM ac.team_counters WHERE team = %s), %s, %s, %s,"
                         " 'me', 'd', now(), %s, %s::jsonb, '[]', %s)",
                         (seq[0], team, event_id, case_id, kind, hlc or me.store.hlc.now(), json.dumps(payload), team))
            conn.execute("UPDATE ac.team_counters SET last = last + 1 WHERE team = %s", (team,))
        return event_id

    bad = [poison("registered", str(uuid.uuid4()), {"channel": "phone", "category": "claims", "team": "t1"}),
           poison("progress_noted", case.id, {"note": "x"}, hlc="1-1"),
           poison("became_superuser", case.id, {}),
           poison("progress_noted", case.id, [1]),
           poison("progress_noted", str(uuid.uuid4()), {"note": "没有这个案件"}),
           poison("progress_noted", case.id, {"note": "x"}, hlc="9999999999999-0000-x"),
           poison("registered", str(uuid.uuid4()), {"received_at": "2026-11-24T02:00:00+00:00", "channel": "phone",
                                                     "category": "claims", "team": "t2", "number": "Z"}, team="t1")]
    me.act(case.id, "progress_noted", {"note": "之后的正常事件"})
    synced(me, pg_centre, "me")
    for ws, name in ((you, "you"), (boss, "boss")):
        first = synced(ws, pg_centre, name)
        assert first.quarantined == len(bad) - (1 if name == "boss" else 0), ws.store.quarantined()
        kept = {q["event_id"]: q["reason"] for q in ws.store.quarantined()}
        assert set(bad[:6]) <= set(kept)
        assert ws.store.state(case.id).event_count == 3  # the rest of the page applied, the later event too
        assert synced(ws, pg_centre, name).pulled == 0  # and the next round goes on
    assert "received_at" in kept[bad[0]] and "hlc" in kept[bad[1]] and "does not fold" in kept[bad[4]]


def test_sync_output_shows_what_was_kept_aside(pg_centre, tmp_path, clock, capsys) -> None:
    you = device(tmp_path, clock, "you")
    with admin(pg_centre) as conn:
        conn.execute("INSERT INTO ac.events (seq, tseq, id, case_id, kind, actor, device, at, hlc, payload, team)"
                     " VALUES (1, 1, 'poison-1', 'c', 'registered', 'me', 'd', now(), '1-1', '{}', 't1')")
        conn.execute("INSERT INTO ac.team_counters VALUES ('t1', 1)")
    url = pg.with_login(pg_centre.admin, "you")
    you.close()
    code = main(["sync", "--once", "--db", str(tmp_path / "you.db"), "--agent", "you", "--team", "t1",
                 "--central", url, "--lang", "en"])
    out = capsys.readouterr().out
    assert code == 0 and "kept aside 1" in out and "poison-1" in out and "bad hlc stamp" in out
    main(["sync", "--quarantine", "--db", str(tmp_path / "you.db"), "--agent", "you", "--central", url, "--lang", "en"])
    assert "poison-1" in capsys.readouterr().out


# -- 4. the push lock ----------------------------------------------------------------------------------------------
def test_an_idle_transaction_holding_the_push_lock_cannot_freeze_other_teams(pg_centre, tmp_path, clock) -> None:
    me, other = device(tmp_path, clock, "me"), device(tmp_path, clock, "other")
    other.register(sample_case(facts="二组"))
    holder = login(pg_centre, "other", autocommit=False)
    push_raw(holder, [as_json(e) for e in other.store.outbox_batch(10)])  # numbered, never committed: held
    me.register(sample_case())
    result: list[Any] = []
    t = threading.Thread(target=lambda: result.append(sync_once(me.store, pg_centre.connect("me"), me.lifecycle)),
                         daemon=True)
    started = time.monotonic()
    t.start()
    t.join(30)
    assert not t.is_alive(), "a push of team t1 waited for ever on team t2's idle transaction"
    assert result[0].online and result[0].pushed == 2, result[0]
    assert time.monotonic() - started < 2  # teams push side by side: nothing to wait for (it was 3 s and more)
    holder.execute("SELECT 1")  # the other team's transaction was not in the way: nobody had to end it
    holder.commit()
    holder.close()
    assert pg_centre.count() == 4


def test_console_sessions_carry_timeouts(pg_centre) -> None:
    central = pg_centre.connect("me")
    conn = central._connection()
    got = {n: conn.execute("SELECT setting::int * CASE unit WHEN 'ms' THEN 1 ELSE 1000 END FROM pg_settings"
                           " WHERE name = %s", (n,)).fetchone()[0] for n in pg.SESSION_TIMEOUTS}
    assert got == {"lock_timeout": 10_000, "statement_timeout": 60_000, "idle_in_transaction_session_timeout": 30_000}
    central.close()


# -- 5. text from the centre on a terminal -----------------------------------------------------------------------
NASTY = "理赔\x1b]52;c;ZXZpbA==\x07拖延\x1b[2J\x1b[1;1H\x9b31m\r伪造\u202e反向\x07\x00"


def test_escape_sequences_from_the_centre_never_reach_the_terminal(pg_centre, tmp_path, clock, capsys) -> None:
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    reg = you.registration_events(sample_case())[0]
    payload = reg.payload | {"number": "T-ESC-1", "facts": NASTY.replace("\x00", ""), "request": NASTY[:-1],
                             "complainant": reg.payload["complainant"] | {"name": "王\x1b[8m芳"}}
    with login(pg_centre, "you") as conn:
        assert push_raw(conn, [as_json(reg, hlc=you.store.hlc.now(), payload=payload)])["accepted_count"] == 1
    synced(me, pg_centre, "me")
    me.close()
    db = str(tmp_path / "me.db")
    outputs = []
    for argv in (["case", "show", "T-ESC-1"], ["case", "show", "T-ESC-1", "--json", "--events"], ["case", "list"],
                 ["case", "list", "--json"]):
        assert main([*argv, "--db", db, "--agent", "me", "--team", "t1"]) == 0
        captured = capsys.readouterr()
        outputs.append(captured.out + captured.err)
    for out in outputs:
        for bad in ("\x1b", "\x07", "\x9b", "\r", "\u202e", "\x00"):
            assert bad not in out, (bad, out)
    assert "理赔" in outputs[0] and "拖延" in outputs[0]


# -- 6. clocks ---------------------------------------------------------------------------------------------------
def test_a_fast_clock_does_not_win_over_an_action_taken_after_seeing_it(pg_centre, tmp_path, clock) -> None:
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    you.store.hlc = HybridClock(you.store.device_id[:8], wall=lambda: time.time_ns() // 1_000_000 + 3_600_000)
    case = me.register(sample_case())  # accepted at once (a phone complaint)
    synced(me, pg_centre, "me")
    synced(you, pg_centre, "you")
    you.act(case.id, "assigned", {"department": "finance"})  # an hour ahead
    synced(you, pg_centre, "you")
    synced(me, pg_centre, "me")  # the correct clock sees it ...
    me.act(case.id, "assigned", {"department": "legal"})  # ... and reassigns after it
    for _ in range(2):
        synced(me, pg_centre, "me")
        synced(you, pg_centre, "you")
    assert me.store.state(case.id).department == you.store.state(case.id).department == "legal"
    assert any("clock_skew" in f for f in pg_centre.flags())
    # the reassignment came after the fast one was seen: nothing overrode anything, no conflict for the lead
    assert me.store.state(case.id).conflicts == you.store.state(case.id).conflicts == []


def test_a_fast_clock_that_overrides_a_later_action_is_shown_to_the_lead_on_every_console(
        pg_centre, tmp_path, clock, capsys) -> None:
    from agent_console.services import lead

    me, you, boss = device(tmp_path, clock, "me"), device(tmp_path, clock, "you"), device(tmp_path, clock, "boss")
    you.store.hlc = HybridClock(you.store.device_id[:8], wall=lambda: time.time_ns() // 1_000_000 + 3_600_000)
    case = me.register(sample_case())
    synced(me, pg_centre, "me")
    synced(you, pg_centre, "you")
    you.act(case.id, "assigned", {"department": "finance"})  # an hour ahead, pushed at once
    synced(you, pg_centre, "you")
    time.sleep(0.01)
    me.act(case.id, "assigned", {"department": "legal"})  # later, by a correct clock that had not seen it
    for _ in range(2):
        for ws, name in ((me, "me"), (you, "you"), (boss, "boss")):
            synced(ws, pg_centre, name)
    states = [ws.store.state(case.id) for ws in (me, you, boss)]
    assert states[0].model_dump() == states[1].model_dump() == states[2].model_dump()
    assert states[0].department == "finance"  # the fold's order stands on every console ...
    flagged = [c for c in states[0].conflicts if "clock ran ahead" in c["reason"]]
    assert len(flagged) == 1  # ... and every console flags the same conflict, once
    rows = lead.conflicts(boss)
    assert [r["number"] for r in rows] == [case.number] and "时钟超前" in rows[0]["reason"]
    boss.close()
    code = main(["sync", "--conflicts", "--db", str(tmp_path / "boss.db"), "--agent", "boss", "--role", "lead",
                 "--team", "t1", "--lang", "en"])
    out = capsys.readouterr()
    assert code == 0 and case.number in out.out and "clock ran ahead" in out.out and "(1 conflict(s))" in out.err


# -- 7. refused is not forever, and a drop still counts ------------------------------------------------------------
def test_events_refused_under_a_wrong_login_are_sent_again_after_the_fix(pg_centre, tmp_path, clock, capsys) -> None:
    me = device(tmp_path, clock, "me")
    me.register(sample_case())
    wrong = sync_once(me.store, pg_centre.connect("you"), me.lifecycle)  # the config named a colleague's login
    assert len(wrong.refused) == 2 and me.store.outbox_count() == 0 and pg_centre.count() == 0
    me.close()
    code = main(["sync", "--once", "--retry-refused", "--db", str(tmp_path / "me.db"), "--agent", "me",
                 "--team", "t1", "--central", pg.with_login(pg_centre.admin, "me"), "--lang", "en"])
    out = capsys.readouterr().out
    assert code == 0 and "2 refused event(s) queued" in out and "pushed 2" in out
    assert pg_centre.count() == 2


def test_the_offline_message_counts_what_was_acknowledged_before_the_drop(tmp_path, clock) -> None:
    me = device(tmp_path, clock, "me")
    me.register(sample_case())
    inner = SqliteCentral(f"sqlite:///{tmp_path}/c.db", Identity("me", "agent", ("t1",)))

    class DropsAfterPushing:
        url = inner.url

        def identity(self) -> Identity:
            return inner.identity()

        def push_rows(self, rows: list) -> Any:
            return inner.push_rows(rows)

        def pull_page(self, after: Any, limit: int, device: Any = None) -> Any:
            raise CentralUnavailable("connection reset")

    report = sync_once(me.store, DropsAfterPushing(), me.lifecycle)  # type: ignore[arg-type]
    assert not report.online and "2 pushed and acknowledged" in str(report.error) and report.pushed == 2
    assert me.store.outbox_count() == 0


# -- central init ------------------------------------------------------------------------------------------------
def test_central_init_refuses_a_superuser_owned_schema_unless_told(pg_url, capsys) -> None:
    name = "t_" + uuid.uuid4().hex[:10]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = pg_url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(url, autocommit=True) as conn:  # an older install, made as the superuser
        conn.execute("CREATE SCHEMA ac")
        conn.execute("CREATE TABLE ac.members (login text PRIMARY KEY, role text NOT NULL, teams text[] NOT NULL)")
    assert main(["central", "init", url]) == 3
    assert "--reown" in capsys.readouterr().err
    with pytest.raises(pg.InstallRefused):
        pg.install(url, owner="postgres")  # a superuser owner is never accepted
    assert main(["central", "init", url, "--reown"]) == 0
    with psycopg.connect(url) as conn:
        owners = conn.execute("SELECT DISTINCT r.rolname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner"
                              " WHERE c.relnamespace = 'ac'::regnamespace").fetchall()
    assert owners == [("ac_owner",)]
    pg.add_user(url, "me", "agent", ["t1"])
    with pytest.raises(ValueError, match="privileged"):
        pg.add_user(url, "ac_owner", "lead", ["t1"])  # a login may not be made of the owner role



def test_central_init_as_a_database_owner_with_a_dedicated_owner_role(pg_url, tmp_path, clock, capsys) -> None:
    """Installed by a database owner who is not a superuser, with an owner role of its own naming (--owner): the
    schema and every function belong to that role, which is no superuser, the definer functions run as it, and a
    console pushes and pulls through them. A superuser-owned schema is refused, even with a custom owner."""
    name, installer, owner = "t_" + uuid.uuid4().hex[:10], "inst_" + uuid.uuid4().hex[:6], "own_" + uuid.uuid4().hex[:6]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {installer} LOGIN CREATEROLE NOSUPERUSER")
        conn.execute(f"CREATE DATABASE {name} OWNER {installer}")
    base = pg_url.rsplit("/", 1)[0] + "/" + name
    url = pg.with_login(base, installer)
    assert main(["central", "init", url, "--owner", owner]) == 0, capsys.readouterr().err
    assert f"所有对象属于 {owner}" in capsys.readouterr().out
    assert main(["central", "init", url, "--owner", owner]) == 0  # re-running updates in place
    with psycopg.connect(base) as conn:
        assert conn.execute("SELECT rolsuper, rolcanlogin FROM pg_roles WHERE rolname = %s",
                            (owner,)).fetchone() == (False, False)
        owners = {r[0] for r in conn.execute(
            "SELECT r.rolname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner"
            " WHERE c.relnamespace = 'ac'::regnamespace UNION SELECT r.rolname FROM pg_proc p"
            " JOIN pg_roles r ON r.oid = p.proowner WHERE p.pronamespace = 'ac'::regnamespace"
            " UNION SELECT r.rolname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner"
            " WHERE n.nspname = 'ac'")}
        assert owners == {owner}
        definers = conn.execute("SELECT count(*) FROM pg_proc WHERE pronamespace = 'ac'::regnamespace"
                                " AND prosecdef").fetchone()[0]
        assert definers >= 4
    assert main(["central", "add-user", url, "me", "--as", "agent", "--teams", "t1"]) == 0
    assert main(["central", "add-user", url, "you", "--as", "agent", "--teams", "t1"]) == 0
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    case = me.register(sample_case())
    assert sync_once(me.store, pg.PostgresCentral(pg.with_login(base, "me")), me.lifecycle).pushed == 2
    assert sync_once(you.store, pg.PostgresCentral(pg.with_login(base, "you")), you.lifecycle).pulled == 2
    assert you.store.state(case.id).number == case.number
    with psycopg.connect(pg.with_login(base, "me")) as conn:  # the definer runs as the owner role, not a superuser
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO ac.members VALUES ('me', 'lead', '{t1,t2}')")
    # a schema ac made by a superuser is refused whatever owner is named, until --reown
    other = "t_" + uuid.uuid4().hex[:10]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {other}")
    other_url = pg_url.rsplit("/", 1)[0] + "/" + other
    with psycopg.connect(other_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA ac")
    assert main(["central", "init", other_url, "--owner", owner]) == 3
    assert "超级用户" in capsys.readouterr().err  # told in the console's language (zh by default)
    with psycopg.connect(other_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_proc WHERE pronamespace = 'ac'::regnamespace").fetchone()[0] == 0
