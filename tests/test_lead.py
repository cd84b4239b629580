"""The lead's work outside the screen: role gating in the CLI, reassign and reminder events, the approvals round
trip, report formats, masking and the recorded unmask."""

from __future__ import annotations

import json

import pytest

from agent_console.core.events import make_event

from agent_console.services import lead
from agent_console.cli import main
from tests.conftest import make_workspace, sample_case


@pytest.fixture
def pair(tmp_path, clock):
    agent = make_workspace(tmp_path, clock, name="team.db", agent="a-1")
    boss = make_workspace(tmp_path, clock, name="team.db", agent="lead-1", role="lead")
    yield agent, boss
    agent.close()
    boss.close()


def test_agent_is_refused(pair, capsys, tmp_path) -> None:
    agent, _ = pair
    with pytest.raises(lead.LeadOnly):
        lead.overdue_queue(agent)
    code = main(["report", "kpi", "--db", str(tmp_path / "team.db"), "--agent", "a-1"])
    assert code == 3 and "只有班长" in capsys.readouterr().err


def test_reassign_and_reminder_are_events(pair, clock) -> None:
    agent, boss = pair
    case = agent.register(sample_case())
    agent.act(case.id, "assigned", {"department": "claims_dept"})
    clock.advance(days=5)
    rows = lead.overdue_queue(boss)
    assert [r["number"] for r in rows] == [case.number] and rows[0]["horizon"] == "overdue"
    with pytest.raises(ValueError, match="roster"):  # nobody called a-2 has been seen: refused, nothing saved
        lead.reassign(boss, case.id, "a-2")
    assert agent.store.state(case.id).owner == "a-1"
    boss.store.append([make_event("registered", "other-case", "a-2", "dev-2", clock(),
                                  {**sample_case(), "number": "", "received_at": clock().isoformat(),
                                   "owner": "a-2", "team": "team-1"})], boss.lifecycle)
    assert "a-2" in lead.roster(boss)
    lead.reassign(boss, case.id, "a-2")
    lead.remind(boss, case.id, "请今天内反馈")
    kinds = [(e.kind, e.actor) for e in boss.store.events(case.id)]
    assert ("field_edited", "lead-1") in kinds and ("reminder_sent", "lead-1") in kinds
    state = agent.store.state(case.id)
    assert state.owner == "a-2" and state.reminders == 1
    assert list(lead.grouped(lead.overdue_queue(boss), "owner")) == ["a-2"]


def test_approvals_round_trip(pair) -> None:
    agent, boss = pair
    case = agent.register(sample_case(complexity="complex"))
    agent.act(case.id, "extension_requested", {"length": 5, "reason": "需调取病历"})
    agent.act(case.id, "proposed", {"remedy": "额外补偿500元", "non_standard": True})
    pending = lead.approvals(boss)
    assert {(p["number"], p["what"]) for p in pending} == {(case.number, "extension"), (case.number, "remedy")}
    with pytest.raises(ValueError, match="reason"):
        lead.decide(boss, case.id, "remedy", False, " ")
    lead.decide(boss, case.id, "extension", True, "")
    lead.decide(boss, case.id, "remedy", False, "超出标准，请按条款处理")
    state = agent.store.state(case.id)  # the agent sees the answer on the case
    assert state.extension_pending is None and not state.remedy_pending and state.status == "investigating"
    refusal = [e for e in agent.store.events(case.id) if e.kind == "remedy_refused"][0]
    assert refusal.payload["reason"] == "超出标准，请按条款处理" and refusal.actor == "lead-1"
    assert lead.approvals(boss) == []


def test_escalations_acknowledged_and_resolved(pair, clock) -> None:
    agent, boss = pair
    case = agent.register(sample_case())
    agent.act(case.id, "dissatisfaction_reported", {"upset_since": (clock() - __import__("datetime").timedelta(minutes=6)).isoformat()})
    clock.advance(minutes=4)
    [row] = lead.escalations(boss)
    assert row["upset_seconds"] == 600 and row["lead_left_seconds"] == 360 and not row["acknowledged"]
    lead.acknowledge(boss, case.id)
    lead.resolve_escalation(boss, case.id, "已安抚，同意等待处理")
    assert lead.escalations(boss) == []
    assert agent.store.state(case.id).dissatisfaction.outcome == "已安抚，同意等待处理"


@pytest.mark.parametrize("fmt, check", [
    ("json", lambda out: json.loads(out)["figures"]["complaints"]["value"] == 2),
    # for people, in the console's language: headers, title, departments by name (issue 15: `claims_dept` in CSV)
    ("csv", lambda out: out.splitlines()[0] == "指标,数值,分子,分母,案件" and "理赔部" in out
     and "claims_dept" not in out),
    ("markdown", lambda out: out.startswith("# 指标报表") and "| 指标 |" in out and "起：2026-11-01" in out),
    ("html", lambda out: out.startswith("<!doctype html>") and "<table>" in out and "<th>指标</th>" in out),
    ("table", lambda out: "按时办结率" in out and "on_time_closure_rate" not in out and "kpi report" not in out),
])
def test_report_formats(pair, capsys, tmp_path, fmt, check) -> None:
    agent, _ = pair
    agent.register(sample_case())
    agent.register(sample_case())
    code = main(["report", "kpi", "--period", "2026-11", "--format", fmt, "--db", str(tmp_path / "team.db"),
                 "--agent", "lead-1", "--role", "lead"])
    assert code == 0 and check(capsys.readouterr().out)


def test_exports_mask_unless_unmasked_and_unmasking_is_recorded(pair, capsys, tmp_path, clock) -> None:
    agent, boss = pair
    # received weeks ago: overdue by the real clock the command line uses
    agent.register(sample_case(complainant={"name": "赵敏", "phone": "17055556666"},
                               received_at="2026-11-02T09:00:00+08:00"))
    db = str(tmp_path / "team.db")
    args = ["report", "overdue", "--format", "csv", "--db", db, "--agent", "lead-1", "--role", "lead"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "170****6666" in out and "17055556666" not in out and "赵*" in out
    assert main(args + ["--unmask"]) == 0
    assert "17055556666" in capsys.readouterr().out
    log = boss.store.conn.execute("SELECT actor, action, detail FROM audit_log").fetchall()
    assert log == [("lead-1", "unmask", "report overdue  csv")]


def test_monthly_report_names_its_due_date(pair, capsys, tmp_path) -> None:
    code = main(["report", "monthly", "--period", "2026-10", "--format", "json", "--db", str(tmp_path / "team.db"),
                 "--agent", "lead-1", "--role", "lead"])
    assert code == 0 and json.loads(capsys.readouterr().out)["due"] == "2026-11-13"


def test_overdue_queue_rows_equal_the_full_clock_evaluation(tmp_path, clock) -> None:
    """The queue reads only the due and id of each case's nearest running clock; its rows must be what evaluating
    every clock from the stored clocks JSON gives (the way lists show deadlines), at several instants."""
    from datetime import datetime, timedelta

    from agent_console.services.demo_data import generate

    boss = make_workspace(tmp_path, clock, name="q.db", agent="lead-1", role="lead")
    try:
        generate(boss, cases=250, seed=3, history_days=30)
        for later in (timedelta(0), timedelta(hours=5), timedelta(days=3, hours=7)):
            now = clock() + later
            end = lead._queue_end(boss, now, 30)
            want = []
            memo: dict = {}
            today_end = boss.calendar.start_of(now.astimezone(boss.tz).date() + timedelta(days=1))
            for r in boss.store.conn.execute(
                    "SELECT id, number, status, owner, team, department, category, next_due, next_clock, clocks"
                    " FROM cases WHERE is_open = 1 AND next_due IS NOT NULL AND next_due < ? ORDER BY next_due",
                    (end,)):
                due = datetime.fromisoformat(r[7])
                clock_view = boss.deadlines(json.loads(r[9]), now, memo)[r[8]]
                want.append({**dict(zip(("id", "number", "status", "owner", "team", "department", "category"), r)),
                             "horizon": "overdue" if due <= now else ("today" if due <= today_end else "soon"),
                             "due": due.astimezone(boss.tz).isoformat(), "clock": clock_view["label"],
                             "remaining_seconds": clock_view["remaining_seconds"], "unit": clock_view["unit"]})
            got = lead.overdue_queue(boss, 30, now)
            assert len(got) > 20 and {r["horizon"] for r in got} >= {"overdue", "today"}
            assert [r["id"] for r in got] == [r["id"] for r in want]  # ties in next_due: either order is fine
            assert sorted(got, key=lambda r: r["id"]) == sorted(want, key=lambda r: r["id"])
            assert lead.overdue_queue(boss, 30, now, limit=10) == got[:10]
    finally:
        boss.close()


def test_the_overdue_report_reads_no_case_state_per_row(pair, monkeypatch) -> None:
    from agent_console.services import reports

    agent, boss = pair
    for i in range(3):
        agent.register(sample_case(complainant={"name": f"赵敏{i}", "phone": f"1705555666{i}"},
                                   received_at="2026-11-02T09:00:00+08:00"))
    monkeypatch.setattr(boss.store, "state", lambda *a: pytest.fail("a whole case state read for one row"))
    rows = reports.overdue_rows(boss, unmask=False)
    assert sorted(r["phone"] for r in rows) == ["170****6660", "170****6661", "170****6662"]
    assert all(r["name"].startswith("赵") and "敏" not in r["name"] for r in rows)
    assert sorted(r["phone"] for r in reports.overdue_rows(boss, unmask=True)) == [
        "17055556660", "17055556661", "17055556662"]
