"""The lead sees which deadlines a recompute moved (what `agent-console calendar changes` lists), by keys: m shows
the list on the lead screen, o opens a case from it; a recompute while the screen is open shows there too."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from textual.widgets import DataTable, TabbedContent

from agent_console.app import AgentConsoleApp
from agent_console.screens.case_detail import CaseDetailScreen
from agent_console.screens.lead_console import LeadScreen
from agent_console.services import lead
from tests.conftest import SHANGHAI, lead_console, sample_case, settle

TEST_2027 = Path(__file__).parent / "data" / "CN-2027-test.toml"


def rows(screen, table_id: str) -> list:
    table = screen.query_one(f"#{table_id}", DataTable)
    return [table.get_row_at(i) for i in range(table.row_count)]


async def test_the_lead_sees_the_moved_deadlines_and_opens_a_case_from_them(team, clock, tmp_path,
                                                                             monkeypatch) -> None:
    clock.set(datetime(2027, 1, 25, 10, 0, tzinfo=SHANGHAI))  # 15 working days run into the Spring Festival
    agent = team.agent("a-1")
    into_festival = agent.register(sample_case(complexity="complex"))
    general = agent.register(sample_case(facts="三个工作日的一件"))  # 3 working days: before the festival
    boss = team.lead()
    assert lead.moved_deadlines(boss) is None
    async with lead_console(boss) as (app, pilot):
        await pilot.press("m")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LeadScreen)
        assert screen.query_one("#lead-tabs", TabbedContent).active == "tab-moved"
        assert rows(screen, "moved") == [] and "尚未重算" in str(screen.query_one("#moved-summary").render())
    old_due = into_festival.clocks["resolve"].due
    schedule, report = team.lead("lead-2").load_calendar_year(TEST_2027)
    new_due = boss.case(into_festival.id).clocks["resolve"].due
    assert new_due != old_due and report.cases_moved >= 1

    monkeypatch.setattr(AgentConsoleApp, "REFERENCE_CHECK_SECONDS", 0.2)
    async with lead_console(boss) as (app, pilot):
        await pilot.press("m")
        await settle(pilot)
        screen = app.screen
        shown = rows(screen, "moved")
        numbers = [r[0] for r in shown]
        assert into_festival.number in numbers and general.number not in numbers
        row = shown[numbers.index(into_festival.number)]
        moved = lead.moved_deadlines(boss)["moved"][numbers.index(into_festival.number)]
        assert row[1] == moved["old"][5:16].replace("T", " ") and row[2] == moved["new"][5:16].replace("T", " ")
        assert row[3] == f"{moved['shift_days']:+g} 天" and moved["shift_days"] != 0
        summary = str(screen.query_one("#moved-summary").render())
        assert "日历更新" in summary and f"{len(shown)} 件最近期限变动" in summary
        screen.query_one("#moved", DataTable).move_cursor(row=numbers.index(into_festival.number))
        # a background refresh (the reference check every 0.2 s here) keeps the cursor where the lead put it
        screen.refresh_all()
        await settle(pilot)
        assert screen.query_one("#moved", DataTable).cursor_row == numbers.index(into_festival.number)
        await pilot.press("o")
        for _ in range(50):  # a loaded machine: the case's screen may take a moment to come
            if isinstance(app.screen, CaseDetailScreen):
                break
            await pilot.pause(0.05)
        await settle(pilot)
        assert isinstance(app.screen, CaseDetailScreen) and app.screen.case_id == into_festival.id
        await pilot.press("escape")
        await settle(pilot)

        # the team's closures change while the lead screen is open: recomputed in the background, listed at once
        closures = tmp_path / "closures.toml"
        closures.write_text('[[closed]]\ndate = 2027-01-26\nnote = "团建"\n', encoding="utf-8")
        boss.settings = boss.settings.model_copy(update={"calendar_file": closures})
        for _ in range(60):
            await pilot.pause(0.05)
            await app.workers.wait_for_complete()
            if len(rows(app.screen, "moved")) == 2:
                break
        await settle(pilot)
        assert {r[0] for r in rows(app.screen, "moved")} == {into_festival.number, general.number}
        assert all(r[3] == "+1 天" for r in rows(app.screen, "moved")
                   if r[0] == general.number)
