"""The phrase panel in a call: open it during intake, find a reply by initials, copy it filled; and from a case."""

from __future__ import annotations

import pyperclip
from textual.widgets import Static

from agent_console.app import AgentConsoleApp
from agent_console.screens.action_forms import ActionForm
from agent_console.screens.phrase_panel import AskValues, PhrasePanel
from agent_console.store import phrase_usage
from tests.conftest import console, sample_case
from tests.test_ui_console import SIZE, settle
from tests.test_ui_intake import fill, open_intake


async def test_panel_during_intake_finds_by_initials_and_copies_filled(ws, monkeypatch) -> None:
    copied: list[str] = []
    monkeypatch.setattr(pyperclip, "copy", copied.append)
    ws.settings.agent_number = "0427"
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await fill(pilot, screen, name="王芳", category="理赔")
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, PhrasePanel)
        await pilot.press(*"bzkc")  # 标准开场: the standard greeting, by its initials
        await settle(pilot)
        panel = app.screen
        assert panel.current().id == "greet.standard"
        assert "0427" in str(panel.query_one("#phrase-preview", Static).render())
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, PhrasePanel)
    assert copied and "0427号" in copied[0] and "{" not in copied[0]
    assert phrase_usage.counts(ws.store.conn)["greet.standard"] == 1


async def test_unknown_value_is_asked_before_copying(ws, monkeypatch) -> None:
    copied: list[str] = []
    monkeypatch.setattr(pyperclip, "copy", copied.append)
    case = ws.register(sample_case())
    async with console(ws, case.id) as (app, pilot):
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press(*"缺材料")
        await settle(pilot)
        assert app.screen.current().id == "claims.slow_docs"  # ranked first for a claims case
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AskValues)
        await pilot.press("enter")  # empty: refused, nothing copied
        await settle(pilot)
        assert isinstance(app.screen, AskValues) and copied == []
        await pilot.press(*"出院小结", "enter")
        await settle(pilot)
    assert copied == ["审核中发现还缺少出院小结，之前没能一次告诉您是我们的疏忽，材料一到我们优先处理。"]


async def test_forbidden_phrasing_warned_in_a_note(ws) -> None:
    case = ws.register(sample_case())
    async with console(ws, case.id) as (app, pilot):
        app.screen.start_action("progress_noted")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ActionForm)
        form.query_one("#f-note").text = "跟客户说了我做不了主"
        await settle(pilot)
        warning = str(form.query_one("#form-warning", Static).render())
        assert "我做不了主" in warning and "主管" in warning


async def test_the_read_back_reply_fills_from_the_live_form(ws, monkeypatch) -> None:
    from textual.widgets import Select

    copied: list[str] = []
    monkeypatch.setattr(pyperclip, "copy", copied.append)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await fill(pilot, screen, phone="17012340000", name="王芳", category="理赔", facts="理赔款三周未到账。",
                   request="本周内到账")
        screen.query_one("#f-title", Select).value = "ms"
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press(*"fsqr")  # 复述确认
        await settle(pilot)
        panel = app.screen
        assert panel.current().id == "listen.readback"
        await pilot.press("enter")  # nothing to ask: everything is on the form
        await settle(pilot)
        assert not isinstance(app.screen, AskValues)
    assert copied == ["王女士，我跟您复述一下：您反映的是理赔方面的问题，具体是理赔款三周未到账，您希望本周内到账。我理解得对吗？"]
