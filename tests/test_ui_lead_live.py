"""The lead screen's live escalations by keys: an agent's dissatisfaction report appears with how long the caller has
been upset, the lead's limit counts down with the clock, taking over and the outcome are recorded; an agent is
refused the screen."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import DataTable, TabbedContent

from agent_console.app import AgentConsoleApp
from agent_console.screens.lead import AskText, LeadScreen
from tests.conftest import make_workspace, sample_case
from tests.test_ui_console import SIZE, settle


def cells(screen, case_id: str) -> list[str]:
    table = screen.query_one("#escalations", DataTable)
    return [str(c) for c in table.get_row(case_id)]


async def test_live_escalation_counts_down_and_is_taken_over_and_resolved(tmp_path, clock) -> None:
    agent = make_workspace(tmp_path, clock, name="team.db", agent="a-1")
    case = agent.register(sample_case())
    agent.act(case.id, "dissatisfaction_reported",
              {"upset_since": (clock() - timedelta(minutes=4)).isoformat(), "note": "要求见领导"})
    boss = make_workspace(tmp_path, clock, name="team.db", agent="lead-1", role="lead")
    app = AgentConsoleApp(boss)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
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
    agent.close()
    boss.close()


async def test_an_agent_is_refused_the_lead_screen(ws) -> None:
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        assert not isinstance(app.screen, LeadScreen)


async def test_a_big_queue_shows_the_most_urgent_first_and_all_on_request(tmp_path, clock, monkeypatch) -> None:
    import agent_console.screens.lead as lead_screen
    from textual.widgets import Static

    monkeypatch.setattr(lead_screen, "QUEUE_ROWS", 2)
    agent = make_workspace(tmp_path, clock, name="team.db", agent="a-1")
    oldest = agent.register(sample_case())
    clock.advance(days=1)
    middle = agent.register(sample_case(facts="二"))
    clock.advance(days=1)
    newest = agent.register(sample_case(facts="三"))
    clock.advance(days=10)
    boss = make_workspace(tmp_path, clock, name="team.db", agent="lead-1", role="lead")
    app = AgentConsoleApp(boss)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#overdue", DataTable)
        shown = {table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)}
        assert shown == {oldest.id, middle.id}  # the longest overdue
        assert "2" in str(screen.query_one("#lead-header", Static).render())
        await pilot.press("a")
        await settle(pilot)
        assert table.row_count == 3 and newest.id in screen.overdue_rows
    agent.close()
    boss.close()
