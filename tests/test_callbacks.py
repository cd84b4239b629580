"""Callbacks: phrases, automatic creation, queue order, attempts and the unreachable rule, satisfaction as data,
escalation offer, keep-or-cancel on inbound, and the monthly audit sample."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from agent_console.services import callbacks
from agent_console.cli import main
from agent_console.core.due_phrases import DuePhraseError, parse_due
from agent_console.core.lifecycle import IllegalTransition
from tests.conftest import SHANGHAI, make_workspace, sample_case

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)  # a Tuesday
CLOSE = {"outcome": "at_fault", "causes": ["process_delay"], "stage": "claims", "report": "已处理"}


@pytest.mark.parametrize("phrase, expected", [
    ("明天下午3点以后", datetime(2026, 11, 25, 15, 0)),
    ("call me back after 3 pm tomorrow", datetime(2026, 11, 25, 15, 0)),
    ("后天上午", datetime(2026, 11, 26, 10, 0)),
    ("下周一", datetime(2026, 11, 30, 10, 0)),
    ("两小时后", datetime(2026, 11, 24, 12, 0)),
    ("半小时后", datetime(2026, 11, 24, 10, 30)),
    ("今晚8点半", datetime(2026, 11, 24, 20, 30)),
    ("in 30 minutes", datetime(2026, 11, 24, 10, 30)),
    ("next monday 10am", datetime(2026, 11, 30, 10, 0)),
    ("12月3日下午2点", datetime(2026, 12, 3, 14, 0)),
    ("2026-12-01 14:00", datetime(2026, 12, 1, 14, 0)),
])
def test_due_phrases(phrase: str, expected: datetime) -> None:
    assert parse_due(phrase, NOW, SHANGHAI) == expected.replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize("phrase, message", [("昨天", "already passed"), ("yesterday", "already passed"), ("25点", "not a time"),
                                             ("2026-11-01 10:00", "already passed"), ("", "say when")])
def test_due_phrase_errors(phrase: str, message: str) -> None:
    with pytest.raises(DuePhraseError, match=message):
        parse_due(phrase, NOW, SHANGHAI)


def test_callback_never_moves_a_deadline(ws) -> None:
    case = ws.register(sample_case())
    before = ws.store.state(case.id).clocks
    callbacks.schedule_from_phrase(ws, case.id, "明天下午3点")
    assert ws.store.state(case.id).clocks == before
    assert callbacks.for_case(ws, case.id)[0]["kind"] == "requested"


def test_queue_order(ws, clock) -> None:
    case = ws.register(sample_case())
    late = callbacks.schedule(ws, case.id, "requested", NOW - timedelta(hours=2))
    later = callbacks.schedule(ws, case.id, "requested", NOW + timedelta(days=2))
    today = callbacks.schedule(ws, case.id, "requested", NOW + timedelta(hours=5))
    now_ = callbacks.schedule(ws, case.id, "requested", NOW + timedelta(minutes=5))
    q = callbacks.queue(ws)
    assert [(g, r["id"]) for g, r in q] == [("overdue", late), ("due_now", now_), ("today", today), ("later", later)]


def test_automatic_satisfaction_on_close_and_progress_before_update(ws, clock) -> None:
    closed = ws.register(sample_case())
    ws.act(closed.id, "closed", CLOSE)
    complex_ = ws.register(sample_case(complexity="complex"))
    assert len(callbacks.ensure_automatic(ws)) == 1  # the closed case's satisfaction follow-up
    sat = callbacks.for_case(ws, closed.id)[0]
    assert sat["kind"] == "satisfaction"
    assert datetime.fromisoformat(sat["due"]) == NOW + timedelta(hours=24)
    # the complex case's "update the customer" clock (7 working days) comes within 24 hours
    clock.set(ws.store.state(complex_.id).clocks["update_customer"].due - timedelta(hours=10))
    created = callbacks.ensure_automatic(ws)
    assert len(created) == 1 and callbacks.for_case(ws, complex_.id)[0]["kind"] == "progress"
    assert callbacks.ensure_automatic(ws) == []  # idempotent


def test_attempts_and_unreachable_closure_with_lead_approval(tmp_path, clock) -> None:
    agent = make_workspace(tmp_path, clock, name="shared.db")
    case = agent.register(sample_case())
    cb = callbacks.schedule(agent, case.id, "requested", NOW + timedelta(minutes=1))
    for hours, outcome in ((0, "no_answer"), (25, "busy"), (50, "no_answer")):
        clock.set(NOW + timedelta(hours=hours))
        callbacks.attempt(agent, cb, outcome)
    assert len(callbacks.get(agent, cb)["attempts"]) == 3
    agent.act(case.id, "closure_proposed", {"reason": "三次未接通"})
    agent.close()
    lead = make_workspace(tmp_path, clock, name="shared.db", agent="lead-1", role="lead")
    state = lead.act(case.id, "closure_approved", {"reason": "同意"})
    assert state.status == "closed" and state.outcome == "unreachable"
    lead.close()


def test_unreachable_needs_the_span(ws, clock) -> None:
    case = ws.register(sample_case())
    cb = callbacks.schedule(ws, case.id, "requested", NOW)
    for minutes in (0, 10, 20):
        clock.set(NOW + timedelta(minutes=minutes))
        callbacks.attempt(ws, cb, "no_answer")
    with pytest.raises(IllegalTransition, match="48 hours"):
        ws.act(case.id, "closure_proposed", {"reason": "未接通"})


def test_satisfaction_is_data_and_unhappy_gets_escalation_offer(ws) -> None:
    case = ws.register(sample_case())
    ws.act(case.id, "closed", CLOSE)
    callbacks.ensure_automatic(ws)
    cb = callbacks.for_case(ws, case.id)[0]["id"]
    result = callbacks.record_satisfaction(ws, cb, proactive_contact=False, outcome_view="dissatisfied",
                                           attitude=4, professionalism=3, timeliness=1, comment="太慢")
    assert result.offer_escalation
    row = callbacks.get(ws, cb)
    assert row["status"] == "done"
    assert row["satisfaction"] == {"proactive_contact": False, "outcome_view": "dissatisfied", "attitude": 4,
                                   "professionalism": 3, "timeliness": 1, "comment": "太慢"}
    happy = ws.register(sample_case())
    ws.act(happy.id, "closed", CLOSE)
    callbacks.ensure_automatic(ws)
    cb2 = callbacks.for_case(ws, happy.id)[0]["id"]
    assert not callbacks.record_satisfaction(ws, cb2, True, "satisfied", 5, 5, 5).offer_escalation


def test_inbound_call_finds_pending_callbacks_and_cancel_needs_a_reason(ws) -> None:
    case = ws.register(sample_case(complainant={"name": "李雷", "phone": "17066667777"}))
    cb = callbacks.schedule(ws, case.id, "requested", NOW + timedelta(hours=3))
    pending = callbacks.pending_for_phone(ws, "170 6666 7777")
    assert [p["id"] for p in pending] == [cb]
    with pytest.raises(ValueError, match="why"):
        callbacks.cancel(ws, cb, " ")
    callbacks.cancel(ws, cb, "客户来电，问题已当场说明")
    assert callbacks.pending_for_phone(ws, "17066667777") == []
    assert callbacks.get(ws, cb)["status"] == "cancelled"


def _late_cases(ws, clock, n: int, paused: int) -> list[str]:
    numbers = []
    for i in range(n + paused):
        clock.set(datetime(2026, 10, 12, 9, 0, tzinfo=SHANGHAI) + timedelta(hours=i))
        case = ws.register(sample_case(facts=f"案件{i}"))
        if i >= n:
            ws.act(case.id, "paused", {"reason": "客户要求", "evidence": "录音"})
        numbers.append(case.number)
    on_time = ws.register(sample_case(facts="按时"))
    ws.act(on_time.id, "closed", CLOSE)
    clock.set(NOW)
    return numbers


def test_audit_sample_size_exclusions_and_reproducibility(tmp_path, clock) -> None:
    ws = make_workspace(tmp_path, clock)
    numbers = _late_cases(ws, clock, n=12, paused=3)
    first = callbacks.audit_sample(ws, "2026-10", seed=7)
    assert first["population"] == 12 and len(first["sampled"]) == 3  # ceil(12 * 20 %)
    assert set(first["left_out_paused"]) == set(numbers[12:])
    assert not set(first["sampled"]) & set(numbers[12:])
    again = callbacks.audit_sample(ws, "2026-10", seed=7)
    assert again["sampled"] == first["sampled"] and again["created"] == []  # same draw, no duplicates
    audits = [r for _, r in callbacks.queue(ws) if r["kind"] == "audit"]
    assert len(audits) == 3 and {r["owner"] for r in audits} == {"callback-team"}
    ws.close()


def test_sample_and_callback_commands(capsys, tmp_path, clock, monkeypatch) -> None:
    ws = make_workspace(tmp_path, clock, name="cli.db")
    numbers = _late_cases(ws, clock, n=6, paused=1)
    ws.close()
    db = str(tmp_path / "cli.db")
    assert main(["sample", "--month", "2026-10", "--seed", "3", "--json", "--db", db, "--agent", "a-test"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["sampled"]) == 2 and out["left_out_paused"] == [numbers[6]]
    assert main(["sample", "--month", "2026-13", "--db", db]) == 2
    capsys.readouterr()
    assert main(["callback", "new", numbers[0], "2099-01-05 09:00", "--json", "--db", db, "--agent", "a-test"]) == 0
    assert json.loads(capsys.readouterr().out)["due"].startswith("2099-01-05T09:00")
    assert main(["callback", "new", numbers[0], "随便", "--db", db]) == 2
    assert "看不懂“随便”" in capsys.readouterr().err  # in the console's language (issue 15)
    # at 10:00, 昨天下午3点 was read as today 15:00 and scheduled; it is yesterday, and past
    from agent_console.services.workspace import Workspace

    monkeypatch.setattr(Workspace, "now", lambda self: datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI))
    assert main(["callback", "new", numbers[0], "昨天下午3点", "--db", db]) == 2
    assert capsys.readouterr().err.strip() == "agent-console: 2026-12-01 15:00 已经过去了：回电时间要约在现在以后"
    assert main(["callback", "list", "--all", "--json", "--db", db]) == 0
    kinds = {r["kind"] for r in json.loads(capsys.readouterr().out)}
    assert {"audit", "requested"} <= kinds


def test_automatic_callbacks_skip_archived_cases(ws) -> None:
    case = ws.register(sample_case())
    ws.act(case.id, "closed", CLOSE)
    ws.act(case.id, "archived", {})
    assert callbacks.ensure_automatic(ws) == []


def test_queue_on_the_demo_database(ws) -> None:
    from agent_console.services.demo_data import generate

    generate(ws, cases=200, seed=7)
    assert callbacks.ensure_automatic(ws)  # closed demo cases get their satisfaction follow-ups
    assert callbacks.queue(ws, None)
