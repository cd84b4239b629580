"""Reference data reaches a RUNNING console: a lead publishes a calendar year and a phrasebook file, two consoles of
one team that are already open sync, and both show the same new deadlines, the new reply and the version in use --
without a restart -- on the embedded SQLite centre and on PostgreSQL. Offline, the last good version stays."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from agent_console.app import AgentConsoleApp
from agent_console.cli import main
from agent_console.screens.phrase_panel import PhrasePanel
from agent_console.widgets.sync_status import SyncStatus
from tests.conftest import FakeClock, make_workspace, sample_case
from tests.test_sync import Centre, centre  # noqa: F401 - the fixture: an SQLite and a PostgreSQL centre
from tests.test_ui_console import SIZE, settle

TZ = ZoneInfo("Asia/Shanghai")
TEST_2027 = Path(__file__).parent / "data" / "CN-2027-test.toml"
NEW_REPLY = """[[entry]]
id = "team.spring_festival"
situation = "committing to a time"
title = "春节期间答复说明"
tags = ["春节", "时限"]
categories = []
stage = "any"
text = "春节假期期间我们暂停办理，节后第一个工作日起继续处理您的投诉。"
"""


def _url(centre: Centre, login: str) -> str:
    from agent_console.sync import pg

    return centre.url if centre.kind == "sqlite" else pg.with_login(centre.admin, login)


def _args(centre: Centre, tmp_path: Path, login: str) -> list[str]:
    role = "lead" if login == "boss" else "agent"
    return ["--db", str(tmp_path / f"{login}.db"), "--agent", login, "--role", role, "--team", "t1",
            "--central", _url(centre, login)]


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


async def _sync_and_settle(app: AgentConsoleApp, pilot) -> None:
    """What the status line's timer does: one sync round, then whatever it started (the recompute)."""
    _status_line(app).refresh_now()
    for _ in range(3):
        await app.workers.wait_for_complete()
        await settle(pilot)


def _status_line(app: AgentConsoleApp) -> SyncStatus:
    from agent_console.screens.cases import CasesScreen

    return next(s for s in app.screen_stack if isinstance(s, CasesScreen)).query_one(SyncStatus)


def _status(app: AgentConsoleApp) -> str:
    return str(_status_line(app).render())


def _due_cell(app: AgentConsoleApp) -> str:
    """The resolve clock's row on the case's screen, as shown."""
    from textual.widgets import DataTable

    table = app.screen.query_one("#clocks", DataTable)
    return " ".join(str(c) for c in table.get_row("resolve"))


async def _find_reply(app: AgentConsoleApp, pilot, initials: str) -> str | None:
    await pilot.press("f3")
    await settle(pilot)
    assert isinstance(app.screen, PhrasePanel)
    await pilot.press(*initials)
    await settle(pilot)
    found = app.screen.current()
    await pilot.press("escape")
    await settle(pilot)
    return found.id if found is not None else None


async def test_a_running_console_applies_what_the_lead_publishes_without_restart(centre, tmp_path, capsys) -> None:
    clock = FakeClock(datetime(2027, 1, 25, 10, 0, tzinfo=TZ))  # 15 working days run into the Spring Festival
    me = make_workspace(tmp_path, clock, name="me.db", agent="me", team="t1", central=_url(centre, "me"))
    case = me.register(sample_case(complexity="complex"))
    projected = case.clocks["resolve"].due
    me.close()
    for login in ("me", "you", "boss"):
        assert _cli(capsys, "sync", "--once", *_args(centre, tmp_path, login))[0] == 0

    consoles = {login: make_workspace(tmp_path, clock, name=f"{login}.db", agent=login, team="t1",
                                      central=_url(centre, login), sync_interval=3600)
                for login in ("me", "you")}
    apps = {login: AgentConsoleApp(ws) for login, ws in consoles.items()}
    async with apps["me"].run_test(size=SIZE) as p_me, apps["you"].run_test(size=SIZE) as p_you:
        pilots = {"me": p_me, "you": p_you}
        for login, app in apps.items():
            app.open_case(case.id)  # the agent looks at the case while the lead publishes
            await _sync_and_settle(app, pilots[login])
            assert consoles[login].case(case.id).clocks["resolve"].due == projected
            assert await _find_reply(app, pilots[login], "cjqj") != "team.spring_festival"
        before = {login: _due_cell(app) for login, app in apps.items()}

        # the lead publishes while both consoles run
        reply = tmp_path / "team-replies.toml"
        reply.write_text(NEW_REPLY, encoding="utf-8")
        boss = _args(centre, tmp_path, "boss")
        assert _cli(capsys, "publish", "calendar", str(TEST_2027), *boss)[0] == 0
        assert _cli(capsys, "publish", "phrasebook", str(reply), *boss)[0] == 0

        shown = {}
        for login, app in apps.items():
            await _sync_and_settle(app, pilots[login])
            ws = consoles[login]
            assert ws.calendar.year_status(2027) == "official" and ws.stale_reasons == []
            assert ws.case(case.id).clocks["resolve"].due != projected
            shown[login] = _due_cell(app)
            assert shown[login] != before[login], "the list on screen still shows the old deadline"
            status = _status(app)
            assert "CN-2027-test.toml v1" in status or "日历v1" in status, status
            assert "话术v1" in status, status
            assert await _find_reply(app, pilots[login], "cjqj") == "team.spring_festival"
        assert shown["me"] == shown["you"]
        assert consoles["me"].case(case.id).clocks["resolve"].due == \
            consoles["you"].case(case.id).clocks["resolve"].due

        # a second version of the reply; "you" goes offline first and keeps the last good version
        reply.write_text(NEW_REPLY.replace("节后第一个工作日起", "节后"), encoding="utf-8")
        assert _cli(capsys, "publish", "phrasebook", str(reply), *boss)[0] == 0
        consoles["you"].settings = consoles["you"].settings.model_copy(
            update={"central": "sqlite:////proc/nowhere/central.db"})
        await _sync_and_settle(apps["you"], p_you)
        assert "话术v1" in _status(apps["you"]) and "离线" in _status(apps["you"])
        assert await _find_reply(apps["you"], p_you, "cjqj") == "team.spring_festival"
        overrides = tmp_path / "team-overrides.toml"  # and a profile override, to the console still online
        overrides.write_text("[clocks.resolve.length]\ncomplex = 10\n", encoding="utf-8")
        assert _cli(capsys, "publish", "overrides", str(overrides), *boss)[0] == 0
        await _sync_and_settle(apps["me"], p_me)
        assert "话术v2" in _status(apps["me"]) and "规范v1" in _status(apps["me"])
        me_ws = consoles["me"]
        assert me_ws.profile.clock("resolve").length_for("complex") == 10
        ten = me_ws.calendar.add_working_days(case.received_at, 10)
        assert me_ws.case(case.id).clocks["resolve"].due == ten
        assert ten.astimezone(TZ).strftime("%m-%d") in _due_cell(apps["me"])
        assert consoles["you"].profile.clock("resolve").length_for("complex") == 15  # offline: as it was
    for ws in consoles.values():
        ws.close()
    code, out, _ = _cli(capsys, "reference", "--json", *_args(centre, tmp_path, "me"))
    assert code == 0 and {(r["kind"], r["version"]) for r in json.loads(out)["in_use"]} == \
        {("calendar", 1), ("phrasebook", 2), ("overrides", 1)}


# -- a calendar changed by another process ---------------------------------------------------------------------
async def test_a_year_loaded_by_another_process_reaches_the_running_console(tmp_path, monkeypatch) -> None:
    """`calendar load` in another process (it recomputes before it answers) and a closures file edited by hand
    (nobody recomputed): the running console notices on its timer, switches calendars, recomputes when needed and
    says how many deadlines moved and by how much; the case's screen shows the new due."""
    import os
    import subprocess
    import sys

    from textual.widgets import DataTable

    monkeypatch.setattr(AgentConsoleApp, "REFERENCE_CHECK_SECONDS", 0.2)
    clock = FakeClock(datetime(2027, 1, 25, 10, 0, tzinfo=TZ))
    closures = tmp_path / "closures.toml"
    closures.write_text("# the team's own closed days\n", encoding="utf-8")
    ws = make_workspace(tmp_path, clock, name="desk.db", calendar_file=closures)
    case = ws.register(sample_case(complexity="complex"))
    projected = case.clocks["resolve"].due
    app = AgentConsoleApp(ws)
    messages: list[str] = []
    app.notify = lambda message, **kw: messages.append(str(message))  # type: ignore[method-assign]

    async def wait_for(predicate) -> None:
        for _ in range(100):
            await pilot.pause(0.05)
            await app.workers.wait_for_complete()
            if predicate():
                return
        raise AssertionError(f"never happened; messages: {messages}")

    def shown() -> str:
        return " ".join(str(c) for c in app.screen.query_one("#clocks", DataTable).get_row("resolve"))

    async with app.run_test(size=SIZE) as pilot:
        app.open_case(case.id)
        await settle(pilot)
        before = shown()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_CONSOLE_")}
        env["AGENT_CONSOLE_CALENDAR_FILE"] = str(closures)
        done = subprocess.run([sys.executable, "-m", "agent_console", "calendar", "load", str(TEST_2027),
                               "--db", str(tmp_path / "desk.db"), "--agent", "lead-1", "--role", "lead"],
                              capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        await wait_for(lambda: any("期限变动" in m for m in messages))
        loaded_due = ws.case(case.id).clocks["resolve"].due
        assert ws.calendar.year_status(2027) == "official" and loaded_due != projected
        moved = next(m for m in messages if "期限变动" in m)
        days = (loaded_due - projected).days
        assert "1 件期限变动" in moved and f"最多变动 {days:g} 天" in moved, moved
        await wait_for(lambda: shown() != before)
        assert loaded_due.astimezone(TZ).strftime("%m-%d") in shown()

        # the closures file edited while the console runs: nobody recomputed, the console does it in the background
        messages.clear()
        closures.write_text('[[closed]]\ndate = 2027-01-26\nnote = "团建"\n', encoding="utf-8")
        await wait_for(lambda: any("期限变动" in m for m in messages))
        due = ws.case(case.id).clocks["resolve"].due
        assert due == ws.calendar.add_working_days(case.received_at, 15) > loaded_due
        report = ws.last_recompute()  # the nearest deadline's move, as `calendar changes` lists it
        assert [m["case_id"] for m in report["moved"]] == [case.id] and report["largest_shift_days"] > 0
        assert "1 件期限变动" in messages[-1] and f"最多变动 {report['largest_shift_days']:g} 天" in messages[-1]
        assert ws.stale_reasons == []
    ws.close()
