"""The trend lines behind the lead's charts: intake per local day (empty days as 0) and the overdue count at each
day's end (a case counts from the day it fell due until its clock stops); plus the charts on the lead screen."""

from __future__ import annotations

from datetime import datetime, timedelta

from textual.widgets import Sparkline, Static, TabbedContent

from agent_console.services import kpi
from tests.conftest import SHANGHAI, lead_console, make_workspace, sample_case, settle

CLOSE = {"outcome": "at_fault", "causes": ["process_delay"], "stage": "claims", "report": "已处理"}
MON = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)


def test_intake_counts_local_days_including_empty_ones(tmp_path, clock) -> None:
    ws = make_workspace(tmp_path, clock, agent="lead-1", role="lead")
    clock.set(MON.replace(hour=7, minute=30))  # 07:30 in Shanghai is the day before in UTC: must count on Monday
    ws.register(sample_case())
    clock.set(MON + timedelta(days=2))  # Wednesday
    ws.register(sample_case(facts="二"))
    ws.register(sample_case(facts="三"))
    series = kpi.daily_intake(ws, MON + timedelta(days=4, hours=5), 5)  # Fri 14:00: Mon..Fri
    assert series == [1, 0, 2, 0, 0]
    assert kpi.daily_intake(ws, MON + timedelta(days=4, hours=5), 7) == [0, 0, 1, 0, 2, 0, 0]  # Sat, Sun before
    ws.close()


def test_overdue_counts_from_the_due_day_until_the_clock_stops(tmp_path, clock) -> None:
    ws = make_workspace(tmp_path, clock, agent="lead-1", role="lead")
    clock.set(MON)
    late_closed = ws.register(sample_case())  # general: due at the end of Thu 11-05
    still_open = ws.register(sample_case(facts="未结"))
    on_time = ws.register(sample_case(facts="按时"))
    clock.set(MON + timedelta(days=1))
    ws.act(on_time.id, "closed", CLOSE)
    clock.set(datetime(2026, 11, 9, 10, 0, tzinfo=SHANGHAI))  # Monday after: closed late
    ws.act(late_closed.id, "closed", CLOSE)
    now = datetime(2026, 11, 10, 12, 0, tzinfo=SHANGHAI)  # Tuesday
    series = kpi.daily_overdue(ws, now, 9)  # Mon 11-02 .. Tue 11-10
    # the due is midnight ending Thu 11-05, i.e. the start of Fri 11-06: both count from Friday's end;
    # the late one stops on Mon 11-09, the open one counts to today
    assert series == [0, 0, 0, 0, 2, 2, 2, 1, 1]
    assert still_open.id and kpi.daily_overdue(ws, now, 1) == [1]
    ws.close()


async def test_lead_screen_shows_both_trend_lines_and_bars_per_category_and_agent(team, clock) -> None:
    clock.set(MON)
    agent = team.agent("a-1")
    agent.register(sample_case())
    agent.register(sample_case(category="payments", facts="扣款"))
    clock.set(datetime(2026, 11, 10, 12, 0, tzinfo=SHANGHAI))
    async with lead_console(team.lead()) as (app, pilot):
        screen = app.screen
        screen.query_one("#lead-tabs", TabbedContent).active = "tab-kpi"
        await settle(pilot)
        intake = list(screen.query_one("#kpi-spark", Sparkline).data)
        overdue = list(screen.query_one("#kpi-overdue-spark", Sparkline).data)
        assert len(intake) == len(overdue) == 30
        assert sum(intake) == 2 and overdue[-1] == 2  # both open and past their due today
        assert "a-1" in str(screen.query_one("#kpi-agent-bars", Static).render())
        bars = str(screen.query_one("#kpi-bars", Static).render())
        assert "理赔" in bars and "收付费" in bars
