"""What the agent meant is what gets recorded (issue 12): no default verdict, closing amounts beside the disputed
amount, corrections with their old value in the timeline, every field of a form in and out."""

from __future__ import annotations

from decimal import Decimal

from textual.widgets import Select, SelectionList, Static, TextArea

from agent_console.app import AgentConsoleApp
from agent_console.screens.action_forms import ActionForm
from agent_console.screens.case_detail import CaseDetailScreen
from agent_console.services import timeline
from agent_console.support.i18n import Translator
from tests.conftest import console, sample_case
from tests.test_ui_console import SIZE, settle


async def _close_form(pilot, app, case_id: str) -> ActionForm:
    await settle(pilot)
    app.open_case(case_id)
    await settle(pilot)
    assert isinstance(app.screen, CaseDetailScreen)
    app.screen.start_action("closed")
    await settle(pilot)
    assert isinstance(app.screen, ActionForm)
    return app.screen


async def test_the_close_form_preselects_no_verdict_and_refuses_until_chosen(ws) -> None:
    case = ws.register(sample_case(amount="1500"))
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        form = await _close_form(pilot, app, case.id)
        for select in form.query(Select):
            assert select.is_blank(), select.id  # 有责 was preselected: one Ctrl+S decided the fault
        form.query_one("#f-causes", SelectionList).select("process_delay")
        form.query_one("#f-stage", Select).value = "claims"
        form.query_one("#f-report", TextArea).text = "已处理"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form and "必填" in str(form.query_one("#err-outcome", Static).render())
    assert ws.store.state(case.id).status != "closed"


async def test_closing_amounts_are_their_own_fields_and_every_field_is_kept(ws) -> None:
    case = ws.register(sample_case(amount="1500"))
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        form = await _close_form(pilot, app, case.id)
        form.query_one("#f-outcome", Select).value = "at_fault"
        form.query_one("#f-causes", SelectionList).select("process_delay")
        form.query_one("#f-stage", Select).value = "claims"
        form.query_one("#f-settled_amount").value = "0"
        form.query_one("#f-paid_amount").value = "300"
        form.query_one("#f-report", TextArea).text = "协商一致，先行支付部分"
        form.query_one("#f-fault_description", TextArea).text = "审核积压"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CaseDetailScreen)
        shown = " ".join(str(r) for r in app.screen.query_one("#summary", Static).render().plain.splitlines())
        assert "1500" in shown and "300" in shown
    state = ws.store.state(case.id)
    assert state.amount == Decimal("1500")  # the disputed amount stays what the caller said
    assert state.settled_amount == Decimal("0") and state.paid_amount == Decimal("300")
    closed = [e for e in ws.store.events(case.id) if e.kind == "closed"][0].payload
    assert closed["outcome"] == "at_fault" and closed["causes"] == ["process_delay"] and closed["stage"] == "claims"
    assert closed["report"] == "协商一致，先行支付部分" and closed["fault_description"] == "审核积压"
    assert state.report == "协商一致，先行支付部分" and state.fault_description == "审核积压"


def test_a_correction_is_its_own_event_with_the_old_value_in_the_timeline(ws) -> None:
    case = ws.register(sample_case(facts="理赔三周未到账"))
    ws.act(case.id, "field_edited", {"field": "facts", "value": "理赔四周未到账"})
    ws.act(case.id, "field_edited", {"field": "complainant.name", "value": "王芳芳"})
    events = [e for e in ws.store.events(case.id) if e.kind == "field_edited"]
    assert events[0].payload["old"] == "理赔三周未到账" and events[0].payload["value"] == "理赔四周未到账"
    assert events[1].payload["old"] == "王芳"
    said = [what for _, _, what in timeline.lines(ws, Translator("zh"), case.id)]
    assert any("理赔三周未到账 → 理赔四周未到账" in line for line in said)
    assert ws.store.state(case.id).facts == "理赔四周未到账"


def test_an_old_close_event_with_an_amount_no_longer_overwrites_the_disputed_amount(ws) -> None:
    case = ws.register(sample_case(amount="1500"))
    state = ws.act(case.id, "closed", {"outcome": "at_fault", "causes": ["process_delay"], "stage": "claims",
                                       "report": "已处理", "amount": "0"})
    assert state.amount == Decimal("1500") and state.settled_amount == Decimal("0")


async def test_the_status_lines_waiting_count_moves_without_a_restart(ws) -> None:
    from agent_console.widgets.sync_status import SyncStatus

    async with console(ws) as (app, pilot):
        line = app.screen.query_one(SyncStatus)
        assert "待同步 0" in str(line.render())
        ws.register(sample_case())  # two events: registered, accepted
        await pilot.pause(2.3)
        await settle(pilot)
        assert "待同步 2" in str(line.render())
