"""The console on the database's bad days (tests/faults.py): nothing typed is lost, no crash, the reason shown."""

from __future__ import annotations

from textual.widgets import Input, TextArea

from agent_console.app import AgentConsoleApp
from agent_console.widgets.plain import Static
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
    ws = make_workspace(tmp_path, clock)
    faults.disk_full(monkeypatch, ws.store)  # the disk fills up while the console runs
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


async def test_a_damaged_database_offers_a_fresh_file_keeping_the_intake_typed(tmp_path, clock) -> None:
    """Damaged under a running console: the box says which check failed; F moves the file aside (kept byte for
    byte) and goes on on a fresh one, where the intake typed so far is saved and then registered."""
    import sqlite3

    from agent_console.screens.fresh_file import FreshFileDialog

    ws = make_workspace(tmp_path, clock)
    ws.register(sample_case())
    db = ws.settings.db
    async with console(ws) as (app, pilot):
        screen = await open_intake(pilot)
        await fill(pilot, screen, **FORM)
        faults.damage_running(ws.store)
        damaged = db.read_bytes()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FreshFileDialog) and screen.case_id is None
        shown = str(app.screen.query_one("#fresh-file-text").render())
        assert "已损坏" in shown and "SQLite 自检" in shown and str(db) in shown  # which check failed, which file
        assert not latin_runs(shown, {*db.parts, "db"})
        await pilot.press("escape")  # not now: the file stays, the form too
        await settle(pilot)
        assert app.screen is screen and db.read_bytes() == damaged
        _form_kept(screen)
        await pilot.press("ctrl+s")  # asked again
        await settle(pilot)
        assert isinstance(app.screen, FreshFileDialog)
        await pilot.press("f")
        await settle(pilot)
        assert app.screen is screen
        _form_kept(screen)
        kept = list(tmp_path.glob("local.damaged-*.db"))
        assert len(kept) == 1 and kept[0].read_bytes() == damaged  # kept as it was, for repair
        assert "已换到新文件" in _toasts(app) and kept[0].name in _toasts(app)
        fresh = sqlite3.connect(db)
        assert fresh.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert fresh.execute("SELECT count(*) FROM drafts").fetchone()[0] == 1  # the form, saved on the new file
        fresh.close()
        await pilot.press("ctrl+s")
        await settle(pilot)
        if app.screen is not screen:  # the read-back: the caller confirms
            await pilot.press("enter")
            await settle(pilot)
        assert screen.case_id is not None
    cases = ws.list_cases(CaseQuery(), mask=False)
    assert [c["facts"] for c in cases] == [FORM["facts"]]  # on the fresh file
    ws.close()



async def test_a_console_opened_on_a_damaged_file_asks_first_by_keys(tmp_path, clock) -> None:
    """At start the console could only print "damaged" and exit; now the same box, before the console: F yes."""
    from agent_console.app import DamagedAtStartApp
    from agent_console.store.local import LocalStore, StoreDamaged

    ws = make_workspace(tmp_path, clock)
    ws.register(sample_case())
    ws.close()
    faults.damage(tmp_path / "local.db")
    try:
        LocalStore(tmp_path / "local.db")
    except StoreDamaged as exc:
        problem = exc
    for key, answer in (("escape", False), ("f", True)):
        app = DamagedAtStartApp(problem, "zh")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            shown = str(app.screen.query_one("#fresh-file-text").render())
            assert "已损坏" in shown and "SQLite 自检" in shown and "新的空文件上打开控制台" in shown
            assert "Esc：不打开" in str(app.screen.query(Static).last().render())
            await pilot.press(key)
            await settle(pilot)
        assert app.return_value is answer


def test_the_console_starts_on_a_fresh_file_when_asked_and_keeps_the_damaged_one(tmp_path, clock, monkeypatch,
                                                                                   capsys) -> None:
    import sys

    from agent_console import app as app_module
    from agent_console import cli

    ws = make_workspace(tmp_path, clock)
    ws.register(sample_case())
    ws.close()
    db = tmp_path / "local.db"
    faults.damage(db)
    damaged = db.read_bytes()
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    asked = []
    monkeypatch.setattr(app_module.DamagedAtStartApp, "run", lambda self: asked.append(self.problem) or True)
    opened = []
    monkeypatch.setattr(app_module.AgentConsoleApp, "run", lambda self: opened.append(self.ws.database_file))
    code = cli.main(["--db", str(db), "--agent", "a-test", "--team", "team-1"])
    err = capsys.readouterr().err
    assert code == 0 and asked and asked[0].kind == "damaged" and opened == [db]
    kept = list(tmp_path.glob("local.damaged-*.db"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged and "损坏的文件已保留为" in err
    import sqlite3

    fresh = sqlite3.connect(db)
    assert fresh.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    assert fresh.execute("SELECT count(*) FROM cases").fetchone()[0] == 0  # no demo cases among a shift's real ones


async def test_an_action_on_a_read_only_database_says_why_and_the_form_stays(tmp_path, clock) -> None:
    """In tmux: 进展记录 + Ctrl+S on a read-only file closed the console ("控制台出错，已关闭", exit 70)."""
    from agent_console.screens.action_forms import ActionForm

    ws = make_workspace(tmp_path, clock)
    case = ws.register(sample_case())
    ws.close()
    with faults.read_only(tmp_path / "local.db"):
        ws = make_workspace(tmp_path, clock)
        async with console(ws, case.id) as (app, pilot):
            app.screen.start_action("progress_noted")
            await settle(pilot)
            form = app.screen
            assert isinstance(form, ActionForm)
            form.query_one("#f-note").insert("已联系客户")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.screen is form and app.return_code is None  # no crash, the form as filled in
            said = str(form.query_one("#form-error").render())
            assert "只读" in said and not latin_runs(said, {*tmp_path.parts, "local", "db"})
            assert "已联系客户" in form.query_one("#f-note").text
        ws.close()

