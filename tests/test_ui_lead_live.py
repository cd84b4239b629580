"""The lead screen's live escalations by keys: an agent's dissatisfaction report appears with how long the caller has
been upset, the lead's limit counts down with the clock, taking over and the outcome are recorded; an agent is
refused the screen."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import DataTable, TabbedContent

from agent_console.screens.lead_console import AskText, LeadScreen
from agent_console.widgets.case_table import CaseTable
from tests.conftest import console, lead_console, make_workspace, sample_case, settle


def cells(screen, case_id: str) -> list[str]:
    table = screen.query_one("#escalations", DataTable)
    return [str(c) for c in table.get_row(case_id)]


async def test_live_escalation_counts_down_and_is_taken_over_and_resolved(team, clock) -> None:
    agent = team.agent("a-1")
    case = agent.register(sample_case())
    agent.act(case.id, "dissatisfaction_reported",
              {"upset_since": (clock() - timedelta(minutes=4)).isoformat(), "note": "要求见领导"})
    async with lead_console(team.lead()) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, LeadScreen)
        screen.query_one("#lead-tabs", TabbedContent).active = "tab-escalations"
        await settle(pilot)
        screen.query_one("#escalations", DataTable).focus()
        before = cells(screen, case.id)
        assert before[0] == case.number and before[2] == "4:00" and before[4] == ""
        clock.advance(minutes=2)
        screen._tick()
        after = cells(screen, case.id)
        assert after[2] == "6:00" and after[3] != before[3]  # upset longer, the lead's time shorter
        await pilot.press("k")
        await settle(pilot)
        assert cells(screen, case.id)[4] == "✓"
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, AskText)
        await pilot.press(*"calmed", "enter")
        await settle(pilot)
        assert screen.query_one("#escalations", DataTable).row_count == 0
    state = agent.store.state(case.id)
    assert state.dissatisfaction.acknowledged_by == "lead-1"
    assert state.dissatisfaction.resolved_at is not None and state.dissatisfaction.outcome == "calmed"


async def test_an_agent_is_refused_the_lead_screen(ws) -> None:
    async with lead_console(ws) as (app, pilot):
        assert not isinstance(app.screen, LeadScreen)


async def test_a_big_queue_shows_the_most_urgent_first_and_all_on_request(team, clock, monkeypatch) -> None:
    import agent_console.screens.lead_console as lead_screen
    from textual.widgets import Static

    monkeypatch.setattr(lead_screen, "QUEUE_ROWS", 2)
    agent = team.agent("a-1")
    oldest = agent.register(sample_case())
    clock.advance(days=1)
    middle = agent.register(sample_case(facts="二"))
    clock.advance(days=1)
    newest = agent.register(sample_case(facts="三"))
    clock.advance(days=10)
    async with lead_console(team.lead()) as (app, pilot):
        screen = app.screen
        table = screen.query_one("#overdue", CaseTable)
        shown = set(table.row_keys)
        assert shown == {oldest.id, middle.id}  # the longest overdue
        assert "2" in str(screen.query_one("#lead-header", Static).render())
        await pilot.press("a")
        await settle(pilot)
        assert table.row_count == 3 and newest.id in screen.overdue_rows


def test_drill_rows_keep_the_figure_order_and_stop_at_the_limit(tmp_path, clock) -> None:
    from agent_console.services import lead

    boss = make_workspace(tmp_path, clock, agent="lead-1", role="lead")
    cases = [boss.register(sample_case(facts=f"第{i}件")) for i in range(3)]
    numbers = [c.number for c in reversed(cases)] + ["2699-XXX-999"]  # an unknown number is skipped
    rows = lead.drill_rows(boss, numbers)
    assert [r["number"] for r in rows] == numbers[:3]
    assert rows[0]["owner"] == "lead-1" and rows[0]["department"] == "claims_dept"
    assert [r["number"] for r in lead.drill_rows(boss, numbers, limit=2)] == numbers[:2]
    boss.close()


async def test_drill_down_lists_owner_and_department_and_says_when_it_is_partial(tmp_path, clock) -> None:
    from textual.widgets import Static

    from agent_console.services import lead
    from agent_console.screens.lead_console import DrillDown

    boss = make_workspace(tmp_path, clock, agent="lead-1", role="lead")
    cases = [boss.register(sample_case(facts=f"第{i}件")) for i in range(3)]
    async with console(boss) as (app, pilot):
        original = lead.drill_rows
        lead.drill_rows = lambda ws, numbers: original(ws, numbers, limit=2)
        try:
            app.push_screen(DrillDown("超时件数", [c.number for c in cases]))
            await settle(pilot)
        finally:
            lead.drill_rows = original
        table = app.screen.query_one("#drill", DataTable)
        assert table.row_count == 2
        assert [str(c) for c in table.get_row_at(0)][3:] == ["lead-1", "理赔部"]
        assert "3" in str(app.screen.query_one(".panel-title", Static).render())
    boss.close()


async def test_a_new_dissatisfaction_report_appears_without_waiting_for_the_full_refresh(team, clock) -> None:
    agent = team.agent("a-1")
    case = agent.register(sample_case())
    async with lead_console(team.lead()) as (app, pilot):
        screen = app.screen
        assert screen.query_one("#escalations", DataTable).row_count == 0
        agent.act(case.id, "dissatisfaction_reported", {"upset_since": clock().isoformat(), "note": ""})
        screen._poll_escalations()  # what the 5-second timer runs
        await settle(pilot)
        assert cells(screen, case.id)[0] == case.number


async def test_the_kpi_tab_shows_it_is_loading_until_the_first_build_is_done(team, monkeypatch) -> None:
    """The first KPI build of a big team runs on a worker (90 s at 1M cases): the tab says so, not an empty table."""
    import threading

    import agent_console.screens.lead_console as lead_screen

    agent = team.agent("a-1")
    agent.register(sample_case())
    release, real = threading.Event(), lead_screen.kpi.compute

    def slow_compute(*args, **kwargs):
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(lead_screen.kpi, "compute", slow_compute)
    async with console(team.lead()) as (app, pilot):
        await pilot.press("f7")
        for _ in range(5):
            await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LeadScreen)
        table = screen.query_one("#kpi", DataTable)
        assert table.loading and table.row_count == 0
        from textual.widgets import Static

        assert "班组" in str(screen.query_one("#lead-header", Static).render())  # the header did not wait for them
        release.set()
        await settle(pilot)
        assert not table.loading and table.row_count > 0


async def test_a_failed_kpi_build_stops_the_spinner_and_says_so(team, monkeypatch) -> None:
    import agent_console.screens.lead_console as lead_screen

    team.agent("a-1").register(sample_case())
    monkeypatch.setattr(lead_screen.kpi, "compute", lambda *a, **k: (_ for _ in ()).throw(OSError("disk I/O error")))
    async with lead_console(team.lead()) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, LeadScreen)
        assert not screen.query_one("#kpi", DataTable).loading
        told = [str(n.message) for n in app._notifications]
        assert sum("指标未能载入" in m for m in told) == 1
        screen.refresh_all()  # what the 15-second timer runs: still failing, not told again
        await settle(pilot)
        assert sum("指标未能载入" in str(n.message) for n in app._notifications) == 1
        assert not screen.query_one("#kpi", DataTable).loading
