"""On a save with errors the cursor goes to the first wrong field (issue 12), on the intake and the action forms:
the agent types the fix at once, by keys, and the record has it."""

from __future__ import annotations

from textual.widgets import Input, Select, SelectionList, TextArea

from agent_console.screens.action_forms import ActionForm
from agent_console.screens.intake import IntakeScreen
from tests.conftest import console, sample_case, settle
from tests.test_ui_intake import fill, open_intake


async def test_the_intake_puts_the_cursor_on_the_first_wrong_field(ws) -> None:
    async with console(ws) as (app, pilot):
        screen = await open_intake(pilot)
        await pilot.press(*"123")  # too short a phone, typed where the cursor starts
        await fill(pilot, screen, name="王芳", category="理赔", request="尽快赔付")  # facts left empty
        screen.query_one("#f-amount", Input).focus()  # the agent is further down the form when saving
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IntakeScreen) and app.focused is screen.query_one("#f-phone", Input)
        await pilot.press(*"13800001111", "ctrl+s")  # retyped where the cursor is; the next wrong one: the facts
        await settle(pilot)
        assert app.focused is screen.query_one("#f-facts", TextArea)
        await pilot.press(*"定损拖了两周", "ctrl+s")
        await settle(pilot)
        assert screen.case_id is not None
    state = ws.store.state(screen.case_id)
    assert state.complainant.phone == "13800001111" and state.facts == "定损拖了两周"


async def test_an_action_form_puts_the_cursor_on_the_first_wrong_field(ws) -> None:
    case = ws.register(sample_case())
    async with console(ws, case.id) as (app, pilot):
        app.screen.start_action("closed")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ActionForm)
        form.query_one("#f-outcome", Select).value = "at_fault"
        form.query_one("#f-causes", SelectionList).select("process_delay")
        form.query_one("#f-stage", Select).value = "claims"
        form.query_one("#f-settled_amount", Input).value = "-5"  # no amount; the report is missing too
        form.query_one("#f-fault_description", TextArea).focus()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form and app.focused is form.query_one("#f-settled_amount", Input)
        await pilot.press(*"800", "ctrl+s")  # the wrong value is selected: typing replaces it
        await settle(pilot)
        assert app.screen is form and app.focused is form.query_one("#f-report", TextArea)
        await pilot.press(*"已赔付", "ctrl+s")
        await settle(pilot)
        assert app.screen is not form
    state = ws.store.state(case.id)
    assert state.status == "closed" and state.settled_amount == 800 and state.report == "已赔付"
