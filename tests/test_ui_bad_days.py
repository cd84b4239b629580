"""The console on the database's bad days (tests/faults.py): nothing typed is lost, no crash, the reason shown."""

from __future__ import annotations

from textual.widgets import Input, TextArea

from agent_console.app import AgentConsoleApp
from agent_console.core.case_query import CaseQuery
from agent_console.screens.cases import CasesScreen
from agent_console.screens.intake import IntakeScreen
from tests import faults
from tests.latin import latin_runs
from tests.conftest import console, make_workspace, sample_case
from tests.test_ui_console import SIZE, settle
from tests.test_ui_intake import fill, open_intake

FORM = {"phone": "17012340000", "name": "王芳", "category": "理赔", "facts": "理赔款三周未到账", "request": "本周内到账"}


def _toasts(app) -> str:
    return " ".join(str(n.message) for n in app._notifications)


def _form_kept(screen: IntakeScreen) -> None:
    assert screen.query_one("#f-phone", Input).value == FORM["phone"]
    assert screen.query_one("#f-facts", TextArea).text == FORM["facts"]


async def test_busy_database_waits_visibly_and_registers_when_free(tmp_path, clock) -> None:
    ws = make_workspace(tmp_path, clock)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await fill(pilot, screen, **FORM)
        with faults.locked(ws.settings.db):
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.screen is screen and "等待数据库" in screen.sub_title and "等待数据库" in _toasts(app)
            _form_kept(screen)
        await pilot.pause(1.3)  # the retry a second later finds the database free
        await settle(pilot)
        assert screen.case_id is not None and screen.sub_title == ""
    cases = ws.list_cases(CaseQuery(), mask=False)
    assert [c["facts"] for c in cases] == [FORM["facts"]]
    ws.close()


async def test_read_only_database_opens_lists_and_refuses_writes_with_the_reason(tmp_path, clock) -> None:
    ws = make_workspace(tmp_path, clock)
    ws.register(sample_case())
    ws.close()
    with faults.read_only(tmp_path / "local.db"):
        ws = make_workspace(tmp_path, clock)
        assert ws.read_only
        async with console(ws) as (app, pilot):
            assert isinstance(app.screen, CasesScreen) and "只读" in _toasts(app)
            assert app.screen.query_one("#cases").row_count == 1  # the list works
            await pilot.press("f4")  # the phrasebook works
            await settle(pilot)
            assert "Phrasebook" in type(app.screen).__name__
            await pilot.press("escape")
            screen = await open_intake(pilot)
            await fill(pilot, screen, **FORM)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.screen is screen and screen.case_id is None
            assert "只读" in _toasts(app) and "不能登记或修改" in _toasts(app)
            assert not latin_runs(_toasts(app), {*tmp_path.parts, "local", "db"})  # said in Chinese, the file's path aside
            _form_kept(screen)
        ws.close()


async def test_full_disk_refuses_the_write_keeps_the_form_and_says_how_much_space(tmp_path, clock,
                                                                                  monkeypatch) -> None:
    faults.disk_full(monkeypatch)
    ws = make_workspace(tmp_path, clock)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_intake(pilot)
        await fill(pilot, screen, **(FORM | {"facts": FORM["facts"] + "。" + "详情" * 5000}))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen and screen.case_id is None
        assert "磁盘已满" in _toasts(app) and "腾出至少" in _toasts(app) and " MB" in _toasts(app)
        assert not latin_runs(_toasts(app), {*tmp_path.parts, "local", "db", "MB"})
        assert screen.query_one("#f-facts", TextArea).text.startswith(FORM["facts"])
    ws.close()
