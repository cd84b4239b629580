"""KPI arithmetic on hand-built event logs: on time, the 9-calendar-day rule, escalated counting 2, paused time out
of handling time, coordinator response, satisfaction, departments flagged, drill-down to the cases."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from agent_console.services import callbacks, kpi
from tests.conftest import MONDAY, SHANGHAI, sample_case

CLOSE = {"outcome": "at_fault", "causes": ["process_delay"], "stage": "claims", "report": "已处理"}
START = MONDAY


@pytest.fixture
def lead_ws(monday_lead):
    return monday_lead


def month(ws):
    return kpi.month_bounds(ws, "2026-11")


def test_on_time_nine_day_and_handling_time(lead_ws, clock) -> None:
    ws = lead_ws
    fast = ws.register(sample_case())  # general: 3 working days
    clock.advance(days=1)
    ws.act(fast.id, "closed", CLOSE)  # Tuesday: on time, within 9 days
    clock.set(START)
    slow = ws.register(sample_case(facts="慢"))
    clock.set(START + timedelta(days=10))  # Thursday 11-12: late (due end of Thu 11-05) and past 9 days
    ws.act(slow.id, "closed", CLOSE)
    clock.set(START)
    open_late = ws.register(sample_case(facts="未结"))
    clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI))
    report = kpi.compute(ws, *month(ws))
    f = report.figures
    assert (f["on_time_closure_rate"].numerator, f["on_time_closure_rate"].denominator) == (1, 3)
    assert f["on_time_closure_rate"].cases == [fast.number]
    assert f["nine_day_closure_rate"].cases == [fast.number]
    assert set(f["past_limit"].cases) == {slow.number, open_late.number}
    assert f["handling_days_calendar"].value == pytest.approx((1 + 10) / 2)
    # working days: Mon 09:00 -> Tue 09:00 is 1; Mon 11-02 09:00 -> Thu 11-12 09:00 is 8 working days
    assert f["handling_days_working"].value == pytest.approx((1 + 8) / 2)


def test_nine_day_rule_counts_calendar_days_from_the_day_after_receipt(lead_ws, clock) -> None:
    ws = lead_ws
    case = ws.register(sample_case(complexity="complex"))
    clock.set(datetime(2026, 11, 11, 23, 59, tzinfo=SHANGHAI))  # the 9th calendar day after 11-02, just in time
    ws.act(case.id, "closed", CLOSE)
    other = ws.register(sample_case(complexity="complex"))
    clock.set(datetime(2026, 11, 21, 0, 1, tzinfo=SHANGHAI))  # received 11-11: its 9th day ended at 11-20 24:00
    ws.act(other.id, "closed", CLOSE)
    report = kpi.compute(ws, *month(ws))
    assert report.figures["nine_day_closure_rate"].cases == [case.number]


def test_paused_time_is_not_handling_time(lead_ws, clock) -> None:
    ws = lead_ws
    case = ws.register(sample_case(complexity="complex"))
    clock.advance(days=1)
    ws.act(case.id, "paused", {"reason": "客户出差", "evidence": "录音"})
    clock.advance(days=2)  # Tue 09:00 -> Thu 09:00 paused: 2 working days
    ws.act(case.id, "resumed", {})
    clock.advance(days=1)
    ws.act(case.id, "closed", CLOSE)  # Fri 09:00: 4 working days in all, 2 of them paused
    report = kpi.compute(ws, *month(ws))
    assert report.figures["handling_days_working"].value == pytest.approx(2.0)
    assert report.figures["handling_days_calendar"].value == pytest.approx(4.0)


def test_an_escalated_case_counts_two(lead_ws, clock) -> None:
    ws = lead_ws
    case = ws.register(sample_case())
    ws.act(case.id, "closed", CLOSE)
    _, new = ws.escalate(case.id, "不满意")
    ws.register(sample_case(category="payments"))
    report = kpi.compute(ws, *month(ws))
    assert report.figures["complaints"].value == 4  # three cases, the escalated one counted twice
    assert report.figures["escalations"].value == 2 and report.figures["escalations"].cases == [new.number]
    assert report.by_category["claims"] == 3 and report.by_category["payments"] == 1


def test_coordinator_response_and_response_rate(lead_ws, clock) -> None:
    ws = lead_ws
    quick = ws.register(sample_case(complexity="complex"))
    ws.act(quick.id, "assigned", {"department": "claims_dept"})
    clock.advance(hours=6)
    ws.act(quick.id, "progress_noted", {"note": "已核实"})
    ws.act(quick.id, "closed", CLOSE)  # the coordinator's clock stops in time
    clock.set(START)
    silent = ws.register(sample_case(complexity="complex", facts="无人跟进"))
    ws.act(silent.id, "assigned", {"department": "finance"})
    clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI))  # the coordinator's 5 working days are long gone
    report = kpi.compute(ws, *month(ws))
    assert report.figures["coordinator_response_hours"].value == pytest.approx(6.0)
    rate = report.figures["response_rate"]
    assert (rate.numerator, rate.denominator) == (1, 2) and rate.cases == [quick.number]


def test_satisfaction_and_flagged_departments(lead_ws, clock) -> None:
    ws = lead_ws
    for i in range(3):
        c = ws.register(sample_case(category="payments", facts=f"扣款{i}"))  # finance
        if i == 0:
            ws.act(c.id, "closed", CLOSE)
    c = ws.register(sample_case(category="claims"))
    ws.act(c.id, "closed", CLOSE)
    callbacks.ensure_automatic(ws)
    sats = [r for _, r in callbacks.queue(ws, None) if r["kind"] == "satisfaction"]
    callbacks.record_satisfaction(ws, sats[0]["id"], True, "satisfied", 5, 4, 3)
    callbacks.record_satisfaction(ws, sats[1]["id"], False, "dissatisfied", 2, 2, 2)
    clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI))
    report = kpi.compute(ws, *month(ws))
    assert report.figures["satisfaction_rate"].value == 0.5
    assert report.figures["satisfaction_score"].value == pytest.approx((4 + 2) / 2)
    assert report.departments["finance"]["flagged"] and report.departments["finance"]["past_limit"] == 2
    assert not report.departments["claims_dept"]["flagged"]
    only_finance = kpi.compute(ws, *month(ws), department="finance")
    assert only_finance.figures["complaints"].denominator == 3


def test_monthly_report_due_before_the_tenth_working_day(lead_ws) -> None:
    # October 2026's report: November's 10th working day is Friday 11-13
    assert kpi.monthly_report_due(lead_ws, "2026-10") == datetime(2026, 11, 13, tzinfo=SHANGHAI)
    # September's: October has the National Day holidays and the 10-10 makeup day
    assert kpi.monthly_report_due(lead_ws, "2026-09").date().isoformat() == "2026-10-20"
