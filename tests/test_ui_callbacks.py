"""Callback screens by keys: the queue, the result form with satisfaction, scheduling from a case by phrase, and the
keep-or-cancel question on an inbound call. The database is checked after each."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import DataTable, Input, Select, Static, TextArea

from agent_console.services import callbacks
from agent_console.app import AgentConsoleApp
from agent_console.screens.callback_form import ScheduleCallbackForm
from agent_console.screens.callback_queue import CallbackCallScreen, CallbackQueueScreen, EscalateOffer, KeepOrCancel
from tests.conftest import console, sample_case
from tests.test_callbacks import CLOSE, NOW
from tests.test_ui_console import SIZE, settle
from tests.test_ui_intake import open_intake


async def test_queue_order_and_satisfaction_result_with_escalation(ws) -> None:
    case = ws.register(sample_case())
    ws.act(case.id, "closed", CLOSE)
    other = ws.register(sample_case(facts="另一件"))
    late = callbacks.schedule(ws, other.id, "requested", NOW - timedelta(hours=3), "客户要求下午回电")
    async with console(ws) as (app, pilot):
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, CallbackQueueScreen)
        table = app.screen.query_one("#callbacks", DataTable)
        keys = [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]
        assert keys[0] == late and len(keys) == 2  # overdue first; the satisfaction follow-up was created by itself
        await pilot.press("down", "enter")
        await settle(pilot)
        call = app.screen
        assert isinstance(call, CallbackCallScreen) and call.row["kind"] == "satisfaction"
        assert "回访" in str(call.query_one("#cb-script").query(Static).last().render())
        await pilot.press("ctrl+s")  # nothing chosen: nothing is recorded (no preselected perfect score)
        await settle(pilot)
        assert app.screen is call and "请选择" in str(call.query_one("#r-error", Static).render())
        assert [c for c in callbacks.for_case(ws, case.id) if c["kind"] == "satisfaction"][0]["status"] == "pending"
        call.query_one("#r-outcome", Select).value = "reached"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is call and "服务态度" in str(call.query_one("#r-error", Static).render())
        call.query_one("#r-proactive", Select).value = "no"
        call.query_one("#r-view", Select).value = "dissatisfied"
        call.query_one("#r-attitude", Select).value = 4
        call.query_one("#r-professionalism", Select).value = 3
        call.query_one("#r-timeliness", Select).value = 1
        call.query_one("#r-comment", Input).value = "等太久"
        call.query_one("#r-note", Input).value = "客户在开车，简短回访"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EscalateOffer)
        await pilot.press("y")
        await settle(pilot)
    sat = [c for c in callbacks.for_case(ws, case.id) if c["kind"] == "satisfaction"][0]
    assert sat["status"] == "done" and sat["satisfaction"]["outcome_view"] == "dissatisfied"
    assert sat["satisfaction"]["timeliness"] == 1 and sat["satisfaction"]["comment"] == "等太久"
    # every field typed is on record: the scores, whether contacted, and the call's note (说明)
    assert sat["satisfaction"]["attitude"] == 4 and sat["satisfaction"]["professionalism"] == 3
    assert sat["satisfaction"]["proactive_contact"] is False
    notes = [e.payload.get("note") for e in ws.store.events(case.id) if e.kind == "callback_attempted"]
    assert notes == ["客户在开车，简短回访"]
    assert len(ws.store.state(case.id).escalated_to) == 1


async def test_failed_attempt_recorded_from_the_form(ws) -> None:
    case = ws.register(sample_case())
    cb = callbacks.schedule(ws, case.id, "requested", NOW + timedelta(minutes=5))
    async with console(ws) as (app, pilot):
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        app.screen.query_one("#r-outcome", Select).value = "no_answer"
        await pilot.press("ctrl+s")
        await settle(pilot)
    row = callbacks.get(ws, cb)
    assert row["status"] == "pending" and [a["outcome"] for a in row["attempts"]] == ["no_answer"]
    assert ws.store.state(case.id).contact_attempts[-1]["outcome"] == "no_answer"


async def test_schedule_from_a_case_by_phrase(ws) -> None:
    case = ws.register(sample_case())
    async with console(ws, case.id) as (app, pilot):
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, ScheduleCallbackForm)
        await pilot.press(*"明天下午3点以后")
        await settle(pilot)
        # Chinese date and weekday, not "2026-11-25 15:00 (Wed)" (issue 15)
        assert str(app.screen.query_one("#cb-parsed", Static).render()) == "→ 2026年11月25日 15:00 周三"
        await pilot.press("ctrl+s")
        await settle(pilot)
    rows = callbacks.for_case(ws, case.id)
    assert len(rows) == 1 and rows[0]["due"].startswith("2026-11-25T07:00")  # 15:00 in Shanghai


async def test_yesterday_in_the_form_is_refused_as_past(ws) -> None:
    """昨天下午3点 typed at 10:00 was shown and saved as today 15:00."""
    case = ws.register(sample_case())
    async with console(ws, case.id) as (app, pilot):
        await pilot.press("b")
        await settle(pilot)
        await pilot.press(*"昨天下午3点")
        await settle(pilot)
        shown = str(app.screen.query_one("#cb-parsed", Static).render())
        assert shown == "2026-11-23 15:00 已经过去了：回电时间要约在现在以后"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ScheduleCallbackForm)  # still open: nothing to save
    assert callbacks.for_case(ws, case.id) == []


async def test_inbound_call_asks_keep_or_cancel(ws) -> None:
    case = ws.register(sample_case(complainant={"name": "李雷", "phone": "17066667777"}))
    cb = callbacks.schedule(ws, case.id, "requested", NOW + timedelta(hours=3))
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await pilot.press(*"17066667777")
        await pilot.press("tab", *"liu")  # the agent types on: nothing pops over the field
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one("#f-name", Input).value == "liu"
        assert "Ctrl+K" in str(screen.query_one("#side-note", Static).render())
        await pilot.press("ctrl+k")
        await settle(pilot)
        assert isinstance(app.screen, KeepOrCancel)
        await pilot.press("c")
        await settle(pilot)
    assert callbacks.get(ws, cb)["status"] == "cancelled"


async def test_pending_callbacks_are_asked_about_once_the_case_is_registered(ws) -> None:
    case = ws.register(sample_case(complainant={"name": "李雷", "phone": "17066667777"}))
    cb = callbacks.schedule(ws, case.id, "requested", NOW + timedelta(hours=3))
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await pilot.press(*"17066667777")
        screen.query_one("#f-category", Input).value = "理赔"
        screen.query_one("#f-facts", TextArea).text = "又一件事"
        screen.query_one("#f-request", TextArea).text = "处理"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, KeepOrCancel)
        await pilot.press("k")
        await settle(pilot)
    assert callbacks.get(ws, cb)["status"] == "pending"


async def test_the_queue_keeps_its_cursor_and_puts_what_customers_asked_for_first(ws) -> None:
    cases = [ws.register(sample_case(facts=f"第{i}件", complainant={"name": "客户", "phone": f"1706666000{i}"}))
             for i in range(4)]
    survey = callbacks.schedule(ws, cases[0].id, "satisfaction", NOW + timedelta(hours=1), "办结回访")
    asked = [callbacks.schedule(ws, c.id, "requested", NOW + timedelta(hours=2 + i), "客户要求回电")
             for i, c in enumerate(cases[1:])]
    async with console(ws) as (app, pilot):
        await pilot.press("f6")
        await settle(pilot)
        queue = app.screen
        table = queue.query_one("#callbacks", DataTable)
        keys = [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]
        assert keys == [*asked, survey]  # the survey is sooner, but a customer's request comes first
        assert "客户要求" in str(table.get_row_at(0)[0]) and "回访" in str(table.get_row_at(3)[0])
        await pilot.press("down", "down")
        await pilot.press("enter")  # a call screen over the queue, then back
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is queue
        assert table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value == asked[2]
        queue.reload()  # the 30-second refresh
        assert table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value == asked[2]
