"""Numbers a lead blocks in a file: their calls are turned away the way Zammad does it ({"action": "reject",
"reason": "busy"} to the newCall), nothing pops, nothing is recorded, no missed-call callback; the file is read again
when it changes, and a line that is no number is left out (never turning every caller away)."""

from __future__ import annotations

import os

from agent_console.app import AgentConsoleApp
from agent_console.screens.cases import CasesScreen
from agent_console.screens.intake import IntakeScreen
from agent_console.services import callbacks, telephony
from tests.conftest import make_workspace, sample_case
from tests.test_ui_console import SIZE
from tests.test_ui_cti import PHONE, TOKEN, post, started, until


def event(kind: str, call_id: str, number: str = PHONE, **more: str) -> telephony.CtiEvent:
    body = "&".join(f"{k}={v}" for k, v in {"event": kind, "from": number, "to": "4001", "direction": "in",
                                             "callId": call_id, **more}.items())
    return telephony.parse(body.encode(), "application/x-www-form-urlencoded")


def test_a_blocked_number_is_turned_away_and_the_list_is_read_again(tmp_path, clock) -> None:
    listed = tmp_path / "blocked.txt"
    listed.write_text("# nuisance callers\n170-1234-5678  # 2026-11 abuse\nnot a number\n", encoding="utf-8")
    ws = make_workspace(tmp_path, clock, cti={"token": TOKEN, "block_file": str(listed)})
    ws.register(sample_case())  # an open case: a missed call from this number would become a callback
    desk = telephony.Desk(ws)
    rang = desk.handle(event("newCall", "b1", "17012345678"))
    assert (rang.action, rang.reply) == ("blocked", {"action": "reject", "reason": "busy"})
    assert desk.handle(event("hangup", "b1", "17012345678", cause="cancel")).action == "blocked"
    assert telephony.call_log(ws) == [] and not callbacks.pending_for_phone(ws, PHONE)
    assert desk.handle(event("newCall", "b2", "13900001111")).action == "ring"  # others ring as before
    listed.write_text("13900002222\n", encoding="utf-8")  # the lead takes the number off
    os.utime(listed, (1, 1))  # (a new mtime even within the same second)
    assert desk.handle(event("newCall", "b3", "17012345678")).action == "ring"
    assert desk.handle(event("newCall", "b4", "139 0000 2222")).action == "blocked"
    listed.unlink()  # a list that cannot be read blocks nothing
    assert desk.handle(event("newCall", "b5", "13900002222")).action == "ring"
    ws.close()


async def test_over_http_the_phone_system_is_told_to_reject_and_nothing_pops(tmp_path, clock) -> None:
    listed = tmp_path / "blocked.txt"
    listed.write_text(PHONE + "\n", encoding="utf-8")
    ws = make_workspace(tmp_path, clock, agent_number="8001",
                        cti={"listen": "127.0.0.1:0", "token": TOKEN, "block_file": str(listed)})
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        for encoding in ("json", "form"):
            assert await post(app, encoding, event="newCall", callId=f"x-{encoding}") == (
                200, {"action": "reject", "reason": "busy"})
        await pilot.pause()
        assert isinstance(app.screen, CasesScreen)
        assert await post(app, event="newCall", callId="ok", **{"from": "13900001111"}) == (200, {})
        await until(pilot, lambda: isinstance(app.screen, IntakeScreen))
    assert [c.call_id for c in telephony.call_log(ws)] == ["ok"]
    ws.close()
