"""The lead screen by keys: the overdue queue (regroup, remind, reassign), approvals, and a KPI drill-down."""

from __future__ import annotations

from datetime import datetime

from textual.widgets import DataTable, TabbedContent

from agent_console.screens.case_detail import CaseDetailScreen
from agent_console.screens.lead_console import PickPerson, DrillDown, LeadScreen
from tests.conftest import SHANGHAI, lead_console, sample_case, settle


def rows(screen, table_id: str) -> list:
    table = screen.query_one(f"#{table_id}")
    return [table.get_row_at(i) for i in range(table.row_count)]


async def test_overdue_queue_remind_and_reassign(team, clock) -> None:
    agent = team.agent("a-1")
    case = agent.register(sample_case())
    agent.act(case.id, "assigned", {"department": "claims_dept"})
    clock.advance(days=5)
    other = team.agent("a-2")  # a-2 works in this team too
    done = other.register(sample_case(facts="另一件"))
    other.act(done.id, "closed", {"outcome": "not_at_fault", "causes": ["communication"], "stage": "claims",
                                  "report": "已解释"})
    async with lead_console(team.lead()) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, LeadScreen)
        [row] = rows(screen, "overdue")
        assert row[0] == "a-1" and row[2] == case.number and "超时" in str(row[1])
        await pilot.press("g")
        await settle(pilot)
        assert rows(screen, "overdue")[0][0] == "理赔部"  # the department by name, not its id (issue 15)
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, PickPerson)
        await pilot.press(*"a-wangxx", "enter")  # nobody of that id: refused in the picker, nothing saved
        await settle(pilot)
        assert isinstance(app.screen, PickPerson)
        assert "不在本组名单" in str(app.screen.query_one("#ask-error").render())
        await pilot.press(*["backspace"] * 8, "2")  # type-ahead narrows the roster to a-2
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
    state = agent.store.state(case.id)
    assert state.owner == "a-2" and state.reminders == 1


async def test_approve_from_the_queue_and_drill_down_from_a_figure(team, clock) -> None:
    clock.set(datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI))
    agent = team.agent("a-1")
    case = agent.register(sample_case())
    agent.act(case.id, "extension_requested", {"length": 5, "reason": "需调取病历"})
    clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI))
    in_time = agent.register(sample_case(facts="按时的一件"))  # in the same period, not past its limit
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI))  # 3 + 5 working days are long over
    async with lead_console(team.lead()) as (app, pilot):
        screen = app.screen
        screen.query_one("#lead-tabs", TabbedContent).active = "tab-approvals"
        await settle(pilot)
        screen.query_one("#approvals", DataTable).focus()
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("enter")  # approving needs no reason
        await settle(pilot)
        assert rows(screen, "approvals") == []
        screen.query_one("#lead-tabs", TabbedContent).active = "tab-kpi"
        await settle(pilot)
        table = screen.query_one("#kpi", DataTable)
        table.focus()
        labels = [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]
        table.move_cursor(row=labels.index("past_limit"))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DrillDown) and app.screen.numbers == [case.number]
        await pilot.press("tab")  # the cases that did not count: the ones that were not past the limit
        await settle(pilot)
        assert app.screen.numbers == [in_time.number]
        await pilot.press("tab")  # the whole denominator
        await settle(pilot)
        assert sorted(app.screen.numbers) == sorted([case.number, in_time.number])
        await pilot.press("tab")
        await settle(pilot)
        assert app.screen.numbers == [case.number]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseDetailScreen) and app.screen.case_id == case.id
    assert agent.store.state(case.id).extension_pending is None
    assert [e.kind for e in agent.store.events(case.id)][-1] == "extension_approved"


async def test_the_approval_names_the_facts_and_dims_a_self_approval_before_typing(team, clock) -> None:
    from textual.widgets import Input, Static

    from agent_console.screens.lead_console import ApprovalDialog

    agent = team.agent("a-1")
    theirs = agent.register(sample_case(complexity="complex"))
    agent.act(theirs.id, "extension_requested", {"length": 5, "reason": "需调取病历"})
    boss = team.lead()
    mine = boss.register(sample_case(complexity="complex", facts="班长自己的案件"))
    boss.act(mine.id, "extension_requested", {"length": 3, "reason": "等待外部鉴定"})
    async with lead_console(boss) as (app, pilot):
        screen = app.screen
        screen.query_one("#lead-tabs", TabbedContent).active = "tab-approvals"
        await settle(pilot)
        table = screen.query_one("#approvals", DataTable)
        table.focus()
        numbers = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        table.move_cursor(row=numbers.index(theirs.number))
        await pilot.press("y")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ApprovalDialog)
        facts = str(dialog.query_one("#approval-facts", Static).render())
        assert theirs.number in facts and "a-1" in facts and "延期" in facts
        assert "申请延期 5 个工作日，此前已批 0 个工作日" in facts
        assert "现为 12月15日" in facts and "批准后为 12月22日" in facts  # the deadline it moves, 5 working days
        await pilot.press("escape")
        await settle(pilot)
        table.move_cursor(row=numbers.index(mine.number))
        await pilot.press("y")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ApprovalDialog)
        refusal = dialog.query_one("#approval-refusal", Static)
        assert "自己" in str(refusal.render())  # said before anything is typed
        assert dialog.query_one("#ask-text", Input).disabled
        await pilot.press("enter")
        await settle(pilot)
    assert boss.store.state(mine.id).extension_pending is not None


async def test_the_conflicts_tab_lists_sync_conflicts_cleaned(team, clock) -> None:
    """A conflict the centre flagged (a fast clock's action ordered after a later one) is listed for the lead, in the
    console's language; a conflict reason carrying escape sequences reaches the terminal without them."""
    import time

    from agent_console.core.events import Event

    agent = team.agent("a-1")
    case = agent.register(sample_case())
    lead = team.lead()
    hlc = f"{time.time_ns() // 1_000_000:013d}-0009-centre"
    lead.store.ingest([
        Event(case_id=case.id, kind="conflict_flagged", actor="centre", device="centre", at=lead.now(), hlc=hlc,
              payload={"events": ["e1", "e2"], "reason": "clock_ahead"}),
        Event(case_id=case.id, kind="conflict_flagged", actor="centre", device="centre", at=lead.now(),
              hlc=hlc[:-6] + "centrf", payload={"events": ["e3"], "reason": "坏\x1b]52;c;aGk=\x07\x1b[2J字"})],
        lead.lifecycle)
    async with lead_console(lead) as (app, pilot):
        screen = app.screen
        screen.query_one("#lead-tabs", TabbedContent).active = "tab-conflicts"
        await settle(pilot)
        found = rows(screen, "conflicts")
        assert [str(r[0]) for r in found] == [case.number, case.number]
        texts = [str(r[2]) for r in found]
        assert "时钟超前" in texts[0] and texts[1] == "坏字"
        screen.query_one("#conflicts", DataTable).focus()
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, CaseDetailScreen)
