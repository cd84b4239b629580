"""People are picked, not typed (issue 12): the transfer form's assignee comes from the team's roster with pinyin
type-ahead, and an id nobody knows is refused with the same message on the screen and from `case act`."""

from __future__ import annotations

import json

from textual.widgets import Input, Select, Static

from agent_console.cli import main
from agent_console.core.events import make_event
from agent_console.screens.action_forms import ActionForm
from agent_console.screens.pick_person import PickPerson
from agent_console.services import roster
from tests.conftest import console, sample_case, settle


def _seen(ws, clock, who: str, case_id: str) -> None:
    """Someone of the team registered a case in this database: they are on its roster (no centre here)."""
    ws.store.append([make_event("registered", case_id, who, "dev-2", clock(),
                                {**sample_case(), "number": "", "received_at": clock().isoformat(),
                                 "owner": who, "team": "team-1"})], ws.lifecycle)


async def _transfer_form(app, pilot, case_id: str) -> ActionForm:
    app.screen.start_action("assigned")
    await settle(pilot)
    form = app.screen
    assert isinstance(form, ActionForm)
    form.query_one("#f-department", Select).value = app.ws.profile.departments[0].id
    form.query_one("#f-assignee", Input).focus()
    await settle(pilot)
    return form


async def test_the_transfer_form_picks_the_assignee_from_the_roster_by_pinyin(team, clock) -> None:
    me = team.agent("a-1")
    case = me.register(sample_case())
    _seen(me, clock, "王芳", "other-1")
    _seen(me, clock, "a-2", "other-2")
    assert roster.people(me) == sorted(["a-1", "a-2", "王芳"])
    async with console(me, case.id) as (app, pilot):
        form = await _transfer_form(app, pilot, case.id)
        await pilot.press("w", "f", "enter")  # pinyin initials of 王芳, then Enter: the roster, filtered
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, PickPerson)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is form and form.query_one("#f-assignee", Input).value == "王芳"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is not form
    assigned = [e for e in me.store.events(case.id) if e.kind == "assigned"]
    assert len(assigned) == 1 and assigned[0].payload["assignee"] == "王芳"
    assert me.store.state(case.id).assignee == "王芳"


async def test_the_transfer_form_refuses_someone_not_on_the_roster(team) -> None:
    me = team.agent("a-1")
    case = me.register(sample_case())
    async with console(me, case.id) as (app, pilot):
        form = await _transfer_form(app, pilot, case.id)
        await pilot.press(*"a-wangxx")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # not saved: the message stands next to the field
        shown = str(form.query_one("#err-assignee", Static).render())
        assert "a-wangxx" in shown and "不在本组名单" in shown
    assert "assigned" not in [e.kind for e in me.store.events(case.id)]


def test_case_act_refuses_an_unknown_assignee_with_the_screens_message(tmp_path, capsys, monkeypatch) -> None:
    db = str(tmp_path / "cli.db")
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(json.dumps(
        {k: v for k, v in sample_case().items()} | {"received_at": "2026-09-30T10:00:00+08:00"})))
    assert main(["case", "new", "--db", db, "--agent", "a-1"]) == 0
    number = json.loads(capsys.readouterr().out)["number"]
    argv = ["case", "act", number, "assigned", "--db", db, "--agent", "a-1", "--department", "claims_dept"]
    assert main([*argv, "--assignee", "a-wangxx"]) == 2
    err = capsys.readouterr().err
    assert "a-wangxx" in err and "不在本组名单" in err
    assert main([*argv, "--assignee", "a-1", "--json"]) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["assignee"] == "a-1"


def test_the_roster_comes_from_the_postgres_centre_and_only_of_the_logins_teams(tmp_path, clock, pg_url) -> None:
    from agent_console.services.case_actions import perform
    from agent_console.support.i18n import Translator
    from agent_console.sync.engine import sync_once
    from tests.test_sync import Centre, device

    centre = Centre("postgres", tmp_path, pg_url)
    me, boss = device(tmp_path, clock, "me"), device(tmp_path, clock, "boss")
    case = me.register(sample_case())
    t = Translator("zh")
    dept = me.profile.departments[0].id
    # nobody else seen here yet: "you" (a member of team t1 at the centre) cannot be given the case
    refused = perform(me, case.id, "assigned", {"department": dept, "assignee": "you"}, t)
    assert not refused.ok and "不在本组名单" in refused.problems["assignee"]
    assert sync_once(me.store, centre.connect("me"), me.lifecycle).online
    assert roster.people(me) == ["boss", "me", "you"]  # "other" is of team t2 only: not on my roster
    shared = {m["login"]: m["teams"] for m in json.loads(me.store.meta("central_roster"))}
    assert shared["boss"] == ["t1"]  # the lead's other team is not told to an agent of t1
    assert perform(me, case.id, "assigned", {"department": dept, "assignee": "you"}, t).ok
    assert me.store.state(case.id).assignee == "you"
    assert sync_once(boss.store, centre.connect("boss"), boss.lifecycle).online
    assert roster.people(boss) == ["boss", "me", "other", "you"]  # a lead of t1 and t2 sees both teams


def test_the_roster_comes_from_the_embedded_centre_too(tmp_path, clock) -> None:
    import sqlite3

    from agent_console.sync.engine import sync_once
    from tests.test_sync import Centre, device

    centre = Centre("sqlite", tmp_path, None)
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    me.register(sample_case())
    assert sync_once(me.store, centre.connect("me"), me.lifecycle).online
    assert [m["login"] for m in json.loads(me.store.meta("central_roster"))] == ["me"]
    assert sync_once(you.store, centre.connect("you"), you.lifecycle).online
    assert roster.people(you) == ["me", "you"]
    # a centre file from before the roster: its people are found once from its events
    conn = sqlite3.connect(f"{tmp_path}/central.db")
    conn.execute("DROP TABLE people")
    conn.commit()
    conn.close()
    assert [m.login for m in centre.connect("you").members()] == ["me", "you"]
