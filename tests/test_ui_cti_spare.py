"""The spare intake a console that takes calls builds ahead (screens/intake.py: prepare_spare / open_intake).

A call takes a form built beforehand instead of building one on the way to the screen. It must be an intake like any
other: empty but for the call's number, the caller's history shown, the phone field focused, an unfinished draft
only offered, never merged; keys typed meanwhile never land in it; once left it goes like any screen, and the next
call gets a new one, never the last call's form again."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.widgets import Input, OptionList, Select, SelectionList, Static, TextArea

from agent_console.app import AgentConsoleApp
from agent_console.screens.cases import CasesScreen
from agent_console.screens.intake import SPARE, IntakeScreen, prepare_spare
from agent_console.services import live_intake
from tests.conftest import sample_case
from tests.test_ui_console import SIZE
from tests.test_ui_cti import PHONE, cti_ws, post, started, until


async def spare_ready(pilot) -> IntakeScreen:
    app = pilot.app
    await until(pilot, lambda: app.is_screen_installed(SPARE) and app.get_screen(SPARE)._ready, tries=100)
    return app.get_screen(SPARE)


def snapshot(screen: IntakeScreen) -> list[tuple[Any, ...]]:
    """Everything an agent could see or type into, widget by widget (the call timer and the clock aside)."""
    out = []
    for w in screen.walk_children():
        if w.id in ("call-timer",) or type(w).__name__.startswith("Header"):
            continue
        value: Any = None
        if isinstance(w, Input):
            value = w.value
        elif isinstance(w, TextArea):
            value = w.text
        elif isinstance(w, Select):
            value = w.value
        elif isinstance(w, SelectionList):
            value = tuple(w.selected)
        elif isinstance(w, OptionList):  # the cases listed (their lines are cut to the width the list has then)
            value = tuple(w.get_option_at_index(i).id for i in range(w.option_count))
        elif isinstance(w, Static):
            value = str(w.render())
        classes = tuple(sorted(w.classes - {"-valid"}))  # (a spare's fields are validated ahead; no style has it)
        out.append((type(w).__name__, w.id, classes, w.display, w.disabled, value))
    return out


async def test_a_call_takes_the_spare_built_ahead_and_it_is_an_intake_like_a_new_one(tmp_path, clock) -> None:
    ws = cti_ws(tmp_path, clock)
    earlier = ws.register(sample_case())
    # an earlier call's unfinished intake: offered above the new call's form, never merged into it
    live_intake.save_draft(ws, "intake-old", {"left": True, "form": {"phone": "13911112222", "facts": "半截"},
                                              "started": clock().isoformat(), "upset_since": None})
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        spare = await spare_ready(pilot)
        assert isinstance(app.screen, CasesScreen) and spare not in app.screen_stack  # built out of sight
        assert await post(app, event="newCall", callId="s1") == (200, {})
        await until(pilot, lambda: isinstance(app.screen, IntakeScreen))
        screen = app.screen
        assert screen is spare and (not app.is_screen_installed(SPARE) or app.get_screen(SPARE) is not spare)
        assert screen.call.call_id == "s1" and screen.started == clock()
        assert screen.focused is screen.query_one("#f-phone", Input)
        assert screen.query_one("#f-phone", Input).value == PHONE
        assert screen.query_one("#earlier", OptionList).option_count == 1
        assert earlier.number in str(screen.query_one("#earlier", OptionList).get_option_at_index(0).prompt)
        assert "shown" in screen.query_one("#call-history", Static).classes
        assert screen.query_one("#draft-offer", Static).display  # the old draft offered ...
        assert screen.query_one("#f-facts", TextArea).text == ""  # ... not merged
        assert screen.draft_key != "intake-old"
        popped = snapshot(screen)

        # the same call popped into a form built on the spot shows the very same thing
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, CasesScreen))
        live_intake.discard_draft(ws, screen.draft_key)  # the offer as it was
        if app.is_screen_installed(SPARE):
            app.uninstall_screen(SPARE)
        fresh = IntakeScreen(call=screen.call)
        app.push_screen(fresh)
        await until(pilot, lambda: app.screen is fresh and fresh.query("#earlier")
                    and fresh.query_one("#earlier", OptionList).option_count == 1)
        await pilot.pause()
        assert snapshot(fresh) == popped
    ws.close()


async def test_the_next_call_never_gets_the_last_calls_form(tmp_path, clock) -> None:
    ws = cti_ws(tmp_path, clock)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await spare_ready(pilot)
        await post(app, event="newCall", callId="a1")
        await until(pilot, lambda: isinstance(app.screen, IntakeScreen))
        first = app.screen
        await pilot.press("tab", *"李四")  # typed into the first call's form
        first.query_one("#f-facts", TextArea).text = "第一通电话的事"
        first.query_one("#f-flags", SelectionList).select(ws.vocab.terms("flags")[0].id)
        await pilot.pause()
        await pilot.press("escape")  # left unfinished: kept as a draft
        await until(pilot, lambda: isinstance(app.screen, CasesScreen))
        second_spare = await spare_ready(pilot)  # the next one is built after a while
        assert second_spare is not first and not first.is_attached  # the left form is gone, not kept for reuse
        await post(app, event="newCall", callId="a2", **{"from": "13855556666"})
        await until(pilot, lambda: isinstance(app.screen, IntakeScreen))
        second = app.screen
        assert second is second_spare
        form = second.form()
        assert form["phone"] == "13855556666"
        assert form["name"] == "" and form["facts"] == "" and form["flags"] == [] and form["also"] == []
        assert second.draft_key != first.draft_key
        assert second.query_one("#draft-offer", Static).display  # the first call's draft is offered
    drafts = dict(ws.store.drafts(ws.actor))
    assert drafts[first.draft_key]["form"]["facts"] == "第一通电话的事"
    ws.close()


async def test_keys_typed_while_the_spare_is_built_stay_where_the_agent_is(tmp_path, clock) -> None:
    ws = cti_ws(tmp_path, clock)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.pause()
        if app.is_screen_installed(SPARE):
            app.uninstall_screen(SPARE)
        main = app.screen
        prepare_spare(app)
        assert app.screen is main  # never the current screen, not for a moment a key could reach it
        spare = app.get_screen(SPARE)
        search = main.query_one("#search", Input)
        search.focus()
        await pilot.press(*"理赔")
        await until(pilot, lambda: spare._ready)
        await pilot.pause()
        assert search.value == "理赔"
        assert all(not w.value for w in spare.query(Input))
        assert app.screen is main and spare not in app.screen_stack
        prepare_spare(app)  # a second call while one waits builds nothing more
        assert app.get_screen(SPARE) is spare
        await pilot.press("f2")  # F2 takes the spare too
        await until(pilot, lambda: isinstance(app.screen, IntakeScreen))
        assert app.screen is spare and app.screen.call is None
        assert app.screen.focused is app.screen.query_one("#f-phone", Input)
        await pilot.press(*"139")
        assert app.screen.query_one("#f-phone", Input).value == "139"
    ws.close()


async def test_a_console_without_a_listener_builds_no_spare(tmp_path, clock) -> None:
    from tests.conftest import make_workspace

    ws = make_workspace(tmp_path, clock)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, IntakeScreen))
        await asyncio.sleep(0.8)
        await pilot.pause()
        assert not app.is_screen_installed(SPARE)
    ws.close()
