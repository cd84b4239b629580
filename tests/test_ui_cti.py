"""Screen pop over real HTTP: the test posts Zammad generic-CTI events to a running console's listener (App.run_test)
and checks the screen and the database: every event kind in JSON and form encoding, the mid-intake banner, a
missed call becoming a callback, a wrong token, a flood, anonymous callers, other agents' calls, the AHT figure."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from textual.widgets import Input, OptionList, Select, Static

from agent_console.app import AgentConsoleApp
from agent_console.screens.call_log import CallLogScreen
from agent_console.screens.call_pop import CallBanner
from agent_console.screens.cases import CasesScreen
from agent_console.screens.intake import IntakeScreen
from agent_console.services import callbacks, kpi, telephony
from tests.conftest import make_workspace, sample_case
from tests.test_ui_console import SIZE

TOKEN = "s3cret-token"
PHONE = "17012345678"  # sample_case()'s caller


def cti_ws(tmp_path, clock, **cti: Any):
    return make_workspace(tmp_path, clock, agent_number="8001",
                          cti={"listen": "127.0.0.1:0", "token": TOKEN} | cti)


async def started(pilot) -> None:
    await asyncio.wait_for(pilot.app.phone.ready.wait(), 10)
    assert pilot.app.phone.address


async def post(app, encoding: str = "json", token: str = TOKEN, raw: bytes | None = None,
               content_type: str | None = None, **fields: Any) -> tuple[int, Any]:
    url = f"http://{app.phone.address}/api/v1/cti/{token}"
    data = {"from": PHONE, "to": "4001", "direction": "in", "callId": "call-1", "user[]": ["8001"]} | fields
    async with aiohttp.ClientSession() as session:
        if raw is not None:
            response = await session.post(url, data=raw, headers={"Content-Type": content_type or "text/plain"})
        elif encoding == "json":
            response = await session.post(url, json={k.removesuffix("[]"): v for k, v in data.items()})
        else:
            pairs = [(k, v) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs])]
            response = await session.post(url, data=pairs)
        async with response:
            try:
                body = await response.json(content_type=None)
            except ValueError:
                body = await response.text()
            return response.status, body


async def until(pilot, check, tries: int = 40) -> None:
    for _ in range(tries):
        await pilot.pause()
        if check():
            return
        await asyncio.sleep(0.02)
    assert check()


@pytest.mark.parametrize("encoding", ["json", "form"])
async def test_every_event_kind_pops_times_logs_and_attaches(tmp_path, clock, encoding: str) -> None:
    ws = cti_ws(tmp_path, clock)
    earlier = ws.register(sample_case())
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        rang = clock()
        assert await post(app, encoding, event="newCall") == (200, {})
        await until(pilot, lambda: isinstance(app.screen, IntakeScreen))
        screen = app.screen
        assert screen.call.call_id == "call-1" and screen.started == rang
        assert screen.query_one("#f-phone", Input).value == PHONE
        assert screen.query_one("#f-name", Input).value == "王芳"  # a known caller is offered
        assert screen.query_one("#f-title", Select).value == "ms"
        await until(pilot, lambda: screen.query_one("#earlier", OptionList).option_count == 1)
        assert earlier.number in str(screen.query_one("#earlier", OptionList).get_option_at_index(0).prompt)
        assert "在办 1 件" in str(screen.query_one("#call-history", Static).render())
        clock.advance(seconds=9)
        assert await post(app, encoding, event="answer", answeringNumber="8001") == (200, {})
        await pilot.pause()
        assert screen.started == rang + timedelta(seconds=9)  # the call timer counts from the answer
        for name, value in (("category", "理赔"), ("facts", "又来电催理赔"), ("request", "尽快")):
            widget = screen.query_one(f"#f-{name}")
            if name in ("facts", "request"):
                widget.text = value
            else:
                widget.value = value
        await pilot.pause()
        await pilot.press("ctrl+s")
        await until(pilot, lambda: screen.case_id is not None)
        clock.advance(seconds=151)
        assert await post(app, encoding, event="hangup", cause="normalClearing", answeringNumber="8001") == (200, {})
        await pilot.pause()
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, CallLogScreen))
        assert app.screen.query_one("#calls").row_count == 1
    [call] = telephony.call_log(ws)
    assert (call.status, call.rang_at, call.duration_s) == ("done", rang, 151.0)
    new_case = ws.find(call.case_number)
    assert new_case is not None and new_case.id != earlier.id and new_case.complainant.phone == PHONE
    # the case was received when the call was answered, not when the form was saved
    assert new_case.received_at == rang + timedelta(seconds=9)
    ws.close()


async def test_mid_intake_a_new_call_waits_as_a_banner_and_f9_takes_it(tmp_path, clock) -> None:
    ws = cti_ws(tmp_path, clock)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, IntakeScreen))
        first = app.screen
        await pilot.press(*"13900001111")
        first.query_one("#f-facts").text = "正在说的事"
        await pilot.pause()
        assert (await post(app, event="newCall", callId="w1", **{"from": "13822223333"}))[0] == 200
        await until(pilot, lambda: bool(first.query(CallBanner)))
        assert app.screen is first  # the form is never overwritten
        assert first.query_one("#f-phone", Input).value == "13900001111"
        assert "13822223333" in str(first.query_one(CallBanner).render())
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, IntakeScreen) and app.screen is not first)
        assert app.screen.query_one("#f-phone", Input).value == "13822223333"
        assert not app.screen.query(CallBanner)
    drafts = ws.store.drafts(ws.actor)
    assert any(d["form"]["phone"] == "13900001111" and d["form"]["facts"] == "正在说的事" for _, d in drafts)
    ws.close()


@pytest.mark.parametrize("encoding", ["json", "form"])
async def test_a_missed_call_becomes_a_callback_and_leaves_the_banner(tmp_path, clock, encoding: str) -> None:
    ws = cti_ws(tmp_path, clock)
    case = ws.register(sample_case())
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, IntakeScreen))
        first = app.screen
        await post(app, encoding, event="newCall", callId="m1")
        await until(pilot, lambda: bool(first.query(CallBanner)))
        clock.advance(seconds=20)
        assert await post(app, encoding, event="hangup", callId="m1", cause="cancel") == (200, {})
        await until(pilot, lambda: not first.query(CallBanner))
        assert app.screen is first
    [cb] = callbacks.for_case(ws, case.id)
    assert cb["status"] == "pending" and cb["kind"] == "requested"
    assert telephony.call_log(ws)[0].status == "missed"
    assert ws.case(case.id).clocks == case.clocks  # a call never moves a case clock
    ws.close()


async def test_a_wrong_token_is_refused_and_logged(tmp_path, clock, caplog) -> None:
    ws = cti_ws(tmp_path, clock)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        with caplog.at_level(logging.WARNING, logger="agent_console.cti"):
            status, body = await post(app, token="guess", event="newCall")
        assert status == 403 and "token" in body["error"]
        assert "wrong token" in caplog.text
        await pilot.pause()
        assert isinstance(app.screen, CasesScreen)
        url = f"http://{app.phone.address}/elsewhere"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 404
    assert telephony.call_log(ws) == []
    ws.close()


async def test_a_flood_is_rate_limited_and_the_console_goes_on(tmp_path, clock) -> None:
    ws = cti_ws(tmp_path, clock, burst=5, rate=0.5)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        statuses = [(await post(app, event="newCall", callId=f"f{i}", user=["bob"]))[0] for i in range(30)]
        assert statuses[:5] == [200] * 5 and statuses.count(429) >= 24
        await pilot.pause()
        assert isinstance(app.screen, CasesScreen)
    ws.close()


@pytest.mark.parametrize("raw, ctype, status", [
    (b"{broken", "application/json", 400), (b'{"event": "newCall"}', "application/json", 422),
    (b"event=newCall&callId=a&callId=b", "application/x-www-form-urlencoded", 400),
    (b"x" * 70_000, "application/json", 413), (b"<a/>", "application/xml", 415),
    (b'{"event": "newCall", "callId": "z", "from": "1;rm -rf"}', "application/json", 422),
])
async def test_malformed_bodies_get_a_4xx_never_a_crash(tmp_path, clock, raw: bytes, ctype: str,
                                                        status: int) -> None:
    ws = cti_ws(tmp_path, clock)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        got, body = await post(app, raw=raw, content_type=ctype)
        assert got == status and "error" in body
        assert await post(app, event="newCall", callId="after") == (200, {})  # still listening
        await until(pilot, lambda: isinstance(app.screen, IntakeScreen))
    ws.close()


@pytest.mark.parametrize("encoding", ["json", "form"])
async def test_an_anonymous_caller_starts_an_intake_without_a_phone(tmp_path, clock, encoding: str) -> None:
    ws = cti_ws(tmp_path, clock)
    ws.register(sample_case())
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        rang = clock()
        await post(app, encoding, event="newCall", callId="anon", **{"from": "anonymous"})
        await until(pilot, lambda: isinstance(app.screen, IntakeScreen))
        screen = app.screen
        assert screen.query_one("#f-phone", Input).value == "" and screen.started == rang
        assert screen.query_one("#f-name", Input).value == ""
        assert screen.query_one("#earlier", OptionList).option_count == 0
    assert telephony.call_log(ws)[0].remote == ""
    ws.close()


async def test_calls_for_other_agents_pop_nothing(tmp_path, clock) -> None:
    ws = cti_ws(tmp_path, clock)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        assert await post(app, event="newCall", callId="o1", **{"user[]": ["bob", "carol"]}) == (200, {})
        assert await post(app, "form", event="answer", callId="o2", answeringNumber="bob") == (200, {})
        await pilot.pause()
        assert isinstance(app.screen, CasesScreen)
    assert telephony.call_log(ws) == []
    ws.close()


async def test_the_aht_figure_comes_from_call_events(tmp_path, clock) -> None:
    ws = cti_ws(tmp_path, clock)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        for n, talk in enumerate((100, 200)):
            await post(app, "form" if n else "json", event="newCall", callId=f"a{n}")
            clock.advance(seconds=30)  # ringing is not handling time
            await post(app, event="answer", callId=f"a{n}")
            clock.advance(seconds=talk)
            await post(app, event="hangup", callId=f"a{n}", cause="normalClearing")
            await pilot.pause()
            while isinstance(app.screen, IntakeScreen):  # the agent leaves the popped form (kept as a draft)
                await pilot.press("escape")
                await pilot.pause()
    start, end = kpi.month_bounds(ws, "2026-11")
    report = kpi.compute(ws, start, end, clock())
    fig = report.figures["call_handling_seconds"]
    assert (fig.value, fig.numerator) == (150.0, 2)
    assert report.calls_by_agent == {"a-test": {"calls": 2, "seconds": 300.0, "average": 150.0}}
    ws.close()


async def test_a_unix_socket_and_the_call_ring_command(tmp_path, clock) -> None:
    from agent_console.commands import call as call_command

    sock = tmp_path / "cti.sock"
    ws = cti_ws(tmp_path, clock, listen=str(sock))
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        assert (sock.stat().st_mode & 0o777) == 0o600
        status, body = await asyncio.to_thread(call_command.ring, ws.settings, PHONE, "cli-1")
        assert (status, body) == (200, {})
        await until(pilot, lambda: isinstance(app.screen, IntakeScreen))
        assert app.screen.query_one("#f-phone", Input).value == PHONE
    assert not sock.exists()  # closed with the console
    assert telephony.call_log(ws)[0].call_id == "cli-1"
    ws.close()


async def test_after_the_case_is_registered_the_next_call_pops_its_own_intake(tmp_path, clock) -> None:
    ws = cti_ws(tmp_path, clock)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await post(app, event="newCall", callId="r1")
        await until(pilot, lambda: isinstance(app.screen, IntakeScreen))
        first = app.screen
        first.query_one("#f-category", Input).value = "理赔"
        first.query_one("#f-facts").text = "事实"
        first.query_one("#f-request").text = "诉求"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await until(pilot, lambda: first.case_id is not None)
        await post(app, event="newCall", callId="r2", **{"from": "13833334444"})
        await until(pilot, lambda: isinstance(app.screen, IntakeScreen) and app.screen is not first)
        assert app.screen.call.call_id == "r2" and not first.query(CallBanner)
    assert telephony.Desk(ws).call("r1").case_id == first.case_id
    ws.close()


async def test_starting_a_callback_dials_and_the_outbound_call_comes_back_to_its_case(tmp_path, clock) -> None:
    import sys

    from agent_console.screens.callback_queue import CallbackCallScreen

    dialled = tmp_path / "dialled.txt"
    code = f"import sys; open({str(dialled)!r}, 'w').write(sys.argv[1])"
    ws = cti_ws(tmp_path, clock, dial_command=f"{sys.executable} -c \"{code}\" {{number}}")
    case = ws.register(sample_case())
    callbacks.schedule(ws, case.id, "requested", clock() + timedelta(minutes=5), "客户要求回电")
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("f6")
        await until(pilot, lambda: app.screen.query("#callbacks") and app.screen.query_one("#callbacks").row_count)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, CallbackCallScreen))
        for _ in range(100):
            if dialled.exists() and dialled.read_text():
                break
            await asyncio.sleep(0.05)
        assert dialled.read_text() == PHONE
        out = {"direction": "out", "from": "8001", "to": PHONE, "callId": "out-1", "user[]": ["8001"]}
        assert await post(app, event="newCall", **out) == (200, {})
        await pilot.pause()
        assert isinstance(app.screen, CallbackCallScreen)  # an outbound call pops no intake
        clock.advance(seconds=4)
        await post(app, "form", event="answer", **out)
        clock.advance(seconds=80)
        await post(app, "form", event="hangup", cause="normalClearing", **out)
    [call] = telephony.call_log(ws)
    assert (call.direction, call.status, call.case_id, call.duration_s) == ("out", "done", case.id, 80.0)
    ws.close()


async def test_a_short_token_or_a_busy_port_keeps_the_console_running_without_a_listener(tmp_path, clock) -> None:
    import socket

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    # told in the console's language; the OS's English ("Address already in use") only in brackets
    for name, cti, said in (("a.db", {"token": "short"}, "电话系统接口未能启动：电话系统接口的令牌太短：请在配置文件中设置至少 12 个字符的密钥"),
                            ("b.db", {"listen": f"127.0.0.1:{port}"},
                             f"电话系统接口未能启动：127.0.0.1:{port} 已被别的程序占用（")):
        ws = make_workspace(tmp_path, clock, name=name, cti={"listen": "127.0.0.1:0", "token": TOKEN} | cti)
        app = AgentConsoleApp(ws)
        async with app.run_test(size=SIZE) as pilot:
            await asyncio.wait_for(app.phone.ready.wait(), 10)
            assert app.phone.address == "" and isinstance(app.screen, CasesScreen)
            told = [n.message for n in app._notifications if n.message.startswith("电话系统接口未能启动")]
            assert len(told) == 1 and told[0].startswith(said), told
            if name == "b.db":
                assert told[0].endswith("）：换一个端口，或关掉占用它的程序")
            await pilot.press("f2")  # the console works on
            await until(pilot, lambda: isinstance(app.screen, IntakeScreen))
        ws.close()
    busy.close()


def test_the_listener_is_local_only(tmp_path, clock) -> None:
    from agent_console.support.config import ConfigError

    with pytest.raises(ConfigError, match="127.0.0.1"):
        cti_ws(tmp_path, clock, listen="0.0.0.0:8765")
