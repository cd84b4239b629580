"""The phone desk without the screen: parsing Zammad's CTI events, whose calls they are, the caller log, missed calls
becoming callbacks, attaching calls to cases, handling time from answer to hang-up, dialling out, sync."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from agent_console.core.events import Event
from agent_console.services import callbacks, telephony
from agent_console.services.telephony import CtiError, Desk, caller_number, parse
from tests.conftest import make_workspace, sample_case


def ev(**fields: object) -> telephony.CtiEvent:
    data = {"event": "newCall", "from": "17012345678", "to": "4001", "direction": "in", "callId": "c1"} | fields
    return parse(json.dumps(data).encode(), "application/json")


def test_parse_json_and_form_give_the_same_event() -> None:
    body = "event=newCall&from=493055571600&to=491711234567890&direction=in&callId=abc&user%5B%5D=a-test&user%5B%5D=bob"
    form = parse(body.encode(), "application/x-www-form-urlencoded")
    js = parse(json.dumps({"event": "newCall", "from": "493055571600", "to": "491711234567890", "direction": "in",
                           "callId": "abc", "user": ["a-test", "bob"]}).encode(), "application/json; charset=utf-8")
    assert form == js
    assert form.user == ["a-test", "bob"] and form.call_id == "abc" and form.from_ == "493055571600"


@pytest.mark.parametrize("body, ctype, status", [
    (b"{not json", "application/json", 400),
    (b"[1, 2]", "application/json", 400),
    (b'{"event": "explode", "callId": "x"}', "application/json", 422),
    (b'{"event": "newCall"}', "application/json", 422),  # no callId
    (b'{"event": "newCall", "callId": {"a": 1}}', "application/json", 422),
    (b"event=newCall&callId=a&callId=b", "application/x-www-form-urlencoded", 400),
    (b"event=newCall&&&==", "application/x-www-form-urlencoded", 400),
    (b"\xff\xfe", "application/json", 400),
    (b"<xml/>", "application/xml", 415),
    (b"x" * (telephony.MAX_BODY + 1), "application/json", 413),
])
def test_malformed_bodies_are_refused_with_a_4xx(body: bytes, ctype: str, status: int) -> None:
    with pytest.raises(CtiError) as err:
        parse(body, ctype)
    assert err.value.status == status


@given(st.binary(max_size=300), st.sampled_from(["application/json", "application/x-www-form-urlencoded", ""]))
@hsettings(max_examples=200, deadline=None)
def test_any_body_is_an_event_or_a_4xx_never_a_crash(body: bytes, ctype: str) -> None:
    try:
        parse(body, ctype)
    except CtiError as exc:
        assert 400 <= exc.status < 500


@pytest.mark.parametrize("raw, number", [("anonymous", ""), ("", ""), ("Unknown", ""), ("+86 170-1234-5678",
                                         "+8617012345678"), ("sip:17012345678@pbx.local", "17012345678"),
                                         ("tel:+8617012345678", "+8617012345678"), ("sip:anonymous@x", "")])
def test_caller_numbers(raw: str, number: str) -> None:
    assert caller_number(raw) == number


@pytest.mark.parametrize("raw", ["170;DROP TABLE", "abc", "1+2", "1" * 30])
def test_garbage_numbers_are_refused(raw: str) -> None:
    with pytest.raises(CtiError):
        caller_number(raw)


def test_calls_for_other_agents_are_ignored(ws) -> None:
    desk = Desk(ws)
    assert desk.handle(ev(user=["bob"])).action == "ignored"
    assert desk.handle(ev(callId="c2", user=["bob", "a-test"])).action == "ring"
    assert desk.handle(ev(event="answer", callId="c3", answeringNumber="bob")).action == "ignored"
    assert telephony.call_log(ws)[0].call_id == "c2" and len(telephony.call_log(ws)) == 1


def test_a_group_call_a_colleague_took_ends_here_and_is_not_missed(tmp_path, clock) -> None:
    ws = make_workspace(tmp_path, clock, agent_number="8001")
    ws.register(sample_case())
    desk = Desk(ws)
    desk.handle(ev(user=["8001", "8002"]))
    out = desk.handle(ev(event="answer", answeringNumber="8002"))
    assert out.action == "elsewhere" and out.call.status == "unanswered"
    assert desk.handle(ev(event="hangup", cause="normalClearing", answeringNumber="8002")).action == "ignored"
    assert callbacks.queue(ws) == []
    ws.close()


def test_a_call_is_recorded_with_its_real_times_and_repeats_change_nothing(ws, clock) -> None:
    desk = Desk(ws)
    rang = clock()
    assert desk.handle(ev()).action == "ring"
    assert desk.handle(ev()).action == "duplicate"
    clock.advance(seconds=12)
    assert desk.handle(ev(event="answer")).call.status == "talking"
    clock.advance(seconds=200)
    out = desk.handle(ev(event="hangup", cause="normalClearing"))
    assert desk.handle(ev(event="hangup", cause="normalClearing")).action == "duplicate"
    call = out.call
    assert (call.status, call.rang_at, call.answered_at - call.rang_at, call.duration_s) == \
        ("done", rang, timedelta(seconds=12), 200.0)
    kinds = [e.kind for _, e in ws.store.all_events()]
    assert kinds == ["call_started", "call_answered", "call_ended"]


def test_a_missed_call_on_an_open_case_becomes_a_callback_due_soon(ws, clock) -> None:
    state = ws.register(sample_case())
    desk = Desk(ws)
    desk.handle(ev(callId="m1"))
    clock.advance(seconds=30)
    out = desk.handle(ev(event="hangup", callId="m1", cause="cancel"))
    assert out.call.status == "missed" and out.callback
    cb = callbacks.get(ws, out.callback)
    assert cb["case_id"] == state.id and cb["status"] == "pending"
    assert cb["due"] == (clock() + timedelta(minutes=30)).astimezone(cb_tz()).isoformat()
    # a second missed call does not pile up a second callback
    desk.handle(ev(callId="m2"))
    assert desk.handle(ev(event="hangup", callId="m2", cause="noAnswer")).callback is None
    # the case's clocks did not move
    assert ws.case(state.id).clocks == state.clocks


def cb_tz():
    from datetime import timezone
    return timezone.utc


def test_a_missed_call_without_an_open_case_or_number_makes_no_callback(ws) -> None:
    desk = Desk(ws)
    desk.handle(ev(callId="x1", **{"from": "13900000000"}))
    assert desk.handle(ev(event="hangup", callId="x1", cause="cancel")).callback is None
    desk.handle(ev(callId="x2", **{"from": "anonymous"}))
    out = desk.handle(ev(event="hangup", callId="x2", cause="cancel"))
    assert out.call.remote == "" and out.call.status == "missed" and out.callback is None


def test_attaching_a_call_keeps_the_case_and_its_clocks_untouched(ws) -> None:
    state = ws.register(sample_case())
    desk = Desk(ws)
    desk.handle(ev())
    assert desk.attach_active(state.id)
    assert not desk.attach("c1", "another")  # a call belongs to one case
    assert telephony.call_log(ws)[0].case_number == state.number
    after = ws.case(state.id)
    assert after.model_dump() == state.model_dump()


def test_handling_time_per_agent_comes_from_answer_to_hangup(ws, clock) -> None:
    desk = Desk(ws)
    for n, talk in enumerate((60, 120, 300)):
        desk.handle(ev(callId=f"h{n}"))
        clock.advance(seconds=5)
        desk.handle(ev(event="answer", callId=f"h{n}"))
        clock.advance(seconds=talk)
        desk.handle(ev(event="hangup", callId=f"h{n}", cause="normalClearing"))
    desk.handle(ev(callId="missed"))
    desk.handle(ev(event="hangup", callId="missed", cause="cancel"))
    rows = telephony.handling(ws, clock() - timedelta(days=1), clock() + timedelta(days=1))
    assert [(h.agent, h.calls, h.seconds, h.average) for h in rows] == [("a-test", 3, 480.0, 160.0)]


def test_call_events_sync_and_rebuild_to_the_same_log(ws, tmp_path, clock) -> None:
    desk = Desk(ws)
    desk.handle(ev())
    desk.handle(ev(event="answer"))
    desk.handle(ev(event="hangup", cause="normalClearing"))
    events = [e for _, e in ws.store.all_events()]
    other = make_workspace(tmp_path, clock, name="other.db", agent="lead-1", role="lead")
    # out of order, and twice: the same row
    other.store.ingest(list(reversed(events)), other.lifecycle)
    other.store.ingest(events, other.lifecycle)
    theirs = telephony.call_log(other, everyone=True)
    assert [(c.call_id, c.status, c.duration_s) for c in theirs] == [("c1", "done", 0.0)]
    before = telephony.call_log(ws)
    ws.store.rebuild(ws.lifecycle)
    assert telephony.call_log(ws) == before
    assert all(isinstance(e, Event) and e.case_id is None for e in events)
    other.close()


def test_dial_runs_the_command_without_a_shell_and_refuses_bad_templates(tmp_path, clock) -> None:
    ws = make_workspace(tmp_path, clock, agent_number="8001",
                        cti={"dial_command": "softphone --call {number} --from {extension}"})
    ran = []
    desk = Desk(ws)
    desk.dial("170 1234 5678", run=lambda argv, **kw: ran.append(argv))
    assert ran == [["softphone", "--call", "17012345678", "--from", "8001"]]
    with pytest.raises(CtiError):
        desk.dial("170; rm -rf ~", run=lambda argv, **kw: ran.append(argv))
    bad = make_workspace(tmp_path, clock, name="b.db", cti={"dial_url": "http://pbx/{secret}"})
    with pytest.raises(telephony.DialError, match="placeholder"):
        Desk(bad).dial("17012345678")
    none = make_workspace(tmp_path, clock, name="n.db")
    with pytest.raises(telephony.DialError, match="not configured"):
        Desk(none).dial("17012345678")
    for w in (ws, bad, none):
        w.close()


def test_an_outbound_call_a_callback_asked_for_attaches_to_its_case(tmp_path, clock) -> None:
    ws = make_workspace(tmp_path, clock, cti={"dial_url": "sip:{number}@pbx.local"})
    state = ws.register(sample_case())
    desk = Desk(ws)
    opened = []
    assert desk.dial("17012345678", state.id, run=lambda argv, **kw: opened.append(argv)) == \
        "sip:17012345678@pbx.local"
    assert opened == [["xdg-open", "sip:17012345678@pbx.local"]]
    out = desk.handle(ev(callId="o1", direction="out", **{"from": "8001", "to": "17012345678"}))
    assert out.action == "ring" and out.call.direction == "out" and out.call.case_id == state.id
    desk.handle(ev(event="hangup", callId="o1", direction="out", cause="noAnswer", **{"from": "8001",
                                                                                       "to": "17012345678"}))
    assert telephony.call_log(ws)[0].status == "unanswered"
    assert callbacks.for_case(ws, state.id) == []  # an outbound call nobody took is not a missed call
    ws.close()


def test_the_rate_limiter_lets_a_burst_through_then_the_rate() -> None:
    now = [0.0]
    limiter = telephony.RateLimiter(rate=2, burst=3, clock=lambda: now[0])
    assert [limiter.allow() for _ in range(5)] == [True, True, True, False, False]
    now[0] += 0.5
    assert limiter.allow() and not limiter.allow()


def test_call_ring_without_a_listening_console_says_so(tmp_path, clock) -> None:
    from agent_console.commands import call as call_command
    from agent_console.commands.common import CliError

    ws = make_workspace(tmp_path, clock, name="n.db")
    with pytest.raises(CliError, match="no console is listening"):
        call_command.ring(ws.settings, "17012345678")
    down = make_workspace(tmp_path, clock, name="d.db", cti={"listen": str(tmp_path / "none.sock"), "token": "x" * 12})
    with pytest.raises(CliError, match="does not answer"):
        call_command.ring(down.settings, "17012345678")
    ws.close()
    down.close()
