"""Every year knows where its days come from; deadlines never go stale.

The official 2025 and 2026 schedules (data files written from the State Council's notices) against the calendar and
against the independent `holidays` package, day by day; a provisional year in the case JSON and on screen; loading a
new year (or a closures file, a profile override, a package upgrade) moves open cases' deadlines without `rebuild`.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest

from agent_console.cli import main
from agent_console.core.calendar import WorkingCalendar
from agent_console.core.calendar_years import ScheduleError, parse_schedule, shipped_schedules
from tests.conftest import make_workspace
from tests.test_lifecycle import sample_case

TZ = ZoneInfo("Asia/Shanghai")
TEST_2027 = Path(__file__).parent / "data" / "CN-2027-test.toml"

# What the notices say, typed from them once more (the data files are the thing under test)
NOTICE_OFF = {
    2025: ["2025-01-01", ("2025-01-28", "2025-02-04"), ("2025-04-04", "2025-04-06"), ("2025-05-01", "2025-05-05"),
           ("2025-05-31", "2025-06-02"), ("2025-10-01", "2025-10-08")],
    2026: [("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"), ("2026-04-04", "2026-04-06"),
           ("2026-05-01", "2026-05-05"), ("2026-06-19", "2026-06-21"), ("2026-09-25", "2026-09-27"),
           ("2026-10-01", "2026-10-07")],
}
NOTICE_MAKEUP = {
    2025: ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
    2026: ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
}


def _days(spec: list) -> set[date]:
    out = set()
    for item in spec:
        a, b = (item, item) if isinstance(item, str) else item
        d = date.fromisoformat(a)
        while d <= date.fromisoformat(b):
            out.add(d)
            d += timedelta(days=1)
    return out


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_official_schedule_day_by_day(year: int) -> None:
    cal = WorkingCalendar()
    package = holidays.country_holidays("CN", years=[year])
    off, makeup = _days(NOTICE_OFF[year]), {date.fromisoformat(d) for d in NOTICE_MAKEUP[year]}
    d, checked = date(year, 1, 1), 0
    while d.year == year:
        expected = d in makeup or (d.weekday() < 5 and d not in off)
        assert cal.is_working_day(d) == expected, d
        assert cal.is_working_day(d) == package.is_working_day(d), f"{d}: the holidays package disagrees"
        checked += 1
        d += timedelta(days=1)
    assert checked in (365, 366)
    assert cal.year_status(year) == "official"
    schedule = shipped_schedules()[year]
    assert schedule.source.startswith("国务院办公厅关于") and schedule.published is not None


def test_the_shipped_notices_metadata() -> None:
    """Checked against the notices as the State Council published them (Xinhua's release of each, reprinted by
    gmw.cn on 2024-11-12 and 2025-11-04) and the `holidays` package's list of notices (the same gov.cn pages)."""
    y2025, y2026 = shipped_schedules()[2025], shipped_schedules()[2026]
    assert (y2025.source, y2025.number, y2025.published) == (
        "国务院办公厅关于2025年部分节假日安排的通知", "国办发明电〔2024〕12号", date(2024, 11, 12))
    assert (y2026.source, y2026.published) == ("国务院办公厅关于2026年部分节假日安排的通知", date(2025, 11, 4))
    assert y2026.number == ""  # not verified: left out rather than guessed
    assert y2025.url.endswith("content_6989767.html") and y2026.url.endswith("content_7048922.html")
    from holidays.countries import china

    listed = Path(china.__file__).read_text(encoding="utf-8")  # the package names the same notices
    assert "content_6989767" in listed and "content_7048922" in listed


def test_a_schedule_number_must_be_text() -> None:
    text = TEST_2027.read_text(encoding="utf-8").replace('status = "official"', 'status = "official"\nnumber = 12')
    with pytest.raises(ScheduleError, match=r":5: number"):
        parse_schedule(text, "CN-2027.toml")
    assert parse_schedule(text.replace("number = 12", 'number = "国办发明电〔2026〕1号"')).number == \
        "国办发明电〔2026〕1号"


def test_official_years_need_no_holidays_package(tmp_path: Path) -> None:
    cal = WorkingCalendar(cache=tmp_path / "cache.json")
    assert cal.is_working_day(date(2026, 9, 20)) and not cal.is_working_day(date(2026, 10, 7))
    assert cal.holiday_name(date(2026, 10, 2)) == "国庆节"
    assert cal.holiday_name(date(2026, 10, 10)) == "国庆节调休上班"


def test_where_each_year_comes_from() -> None:
    cal = WorkingCalendar()
    assert [cal.year_status(y) for y in (2024, 2025, 2026, 2027)] == ["historical", "official", "official",
                                                                       "provisional"]
    assert cal.provisional_years(date(2026, 12, 2), date(2027, 1, 15)) == [2027]
    assert cal.provisional_years(date(2026, 1, 2), date(2026, 12, 31)) == []


def test_a_deadline_at_the_end_of_the_last_working_day_of_the_year_is_not_provisional(ws, clock) -> None:
    clock.set(datetime(2026, 12, 28, 10, 0, tzinfo=TZ))  # Monday: 3 working days end at midnight on 31 December
    s = ws.register(sample_case())
    resolve = ws.case_dict(s)["deadlines"]["resolve"]
    assert resolve["due"] == "2027-01-01T00:00:00+08:00" and "provisional" not in resolve


@pytest.mark.parametrize("change, message", [
    (('date = 2027-01-30', 'date = 2027-01-29'), "a makeup workday is a Saturday or Sunday"),
    (('to = 2027-02-14', 'to = 2028-02-14'), "2028-02-14 is not in 2027"),
    (('published = 2026-11-20', 'published = "soon"'), "published = YYYY-MM-DD"),
    (('name = "春节"', 'title = "春节"'), "unknown key 'title'"),
    (('date = 2027-01-30', 'date = 2027-02-06'), "both a makeup workday and in the holiday 春节"),
    (('status = "official"', 'status = "maybe"'), "status must be one of"),
    (('to = 2027-01-03', 'to = 2027-01-0'), ""),
])
def test_a_broken_schedule_names_file_and_line(change: tuple[str, str], message: str) -> None:
    text = TEST_2027.read_text(encoding="utf-8")
    assert change[0] in text
    broken = text.replace(change[0], change[1], 1)
    line = next(i for i, l in enumerate(broken.splitlines(), 1) if l == change[1])
    with pytest.raises(ScheduleError) as info:
        parse_schedule(broken, "CN-2027.toml")
    assert str(info.value).startswith(f"CN-2027.toml:{line}:"), str(info.value)
    assert message in str(info.value)


# -- provisional deadlines ------------------------------------------------------------------------------------
def test_a_deadline_in_a_provisional_year_says_so_in_the_case_json(ws, clock) -> None:
    clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=TZ))
    s = ws.register(sample_case(complexity="major"))  # 30 working days: mid-January 2027
    data = ws.case_dict(s)
    resolve = data["deadlines"]["resolve"]
    assert resolve["due"].startswith("2027-01")
    assert resolve["provisional"] is True and "2027" in resolve["provisional_reason"]
    assert "provisional" not in data["deadlines"]["update_customer"]  # due in December 2026: official days
    listed = json.loads(ws.list_cases_json(ws_query(ws)))
    assert listed[0]["deadlines"]["resolve"]["provisional"] is True


def ws_query(ws):
    from agent_console.core.case_query import CaseQuery

    return CaseQuery(open_only=True)


def test_calendar_and_check_warn_when_the_next_60_working_days_reach_a_provisional_year(tmp_path, capsys) -> None:
    db = tmp_path / "x.db"
    assert main(["check", "--json", "--db", str(db), "--today", "2026-12-02"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and "2027" in out["warnings"][0] and "provisional" in out["warnings"][0]
    assert main(["check", "--json", "--db", str(db), "--today", "2026-06-01"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"] == []
    assert main(["calendar", "--json", "--db", str(db), "--from", "2026-12-28", "--days", "5"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["provisional"] for r in out["working_days"]] == [False, False, False, True, True]
    assert {y["year"]: y["status"] for y in out["years"]} == {2026: "official", 2027: "provisional"}


async def test_a_provisional_deadline_is_marked_on_screen(ws, clock) -> None:
    from textual.widgets import Static

    from agent_console.app import AgentConsoleApp
    from agent_console.screens.case_detail import CaseDetailScreen
    from agent_console.widgets.case_table import CaseTable
    from tests.test_ui_console import settle

    clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=TZ))
    s = ws.register(sample_case(complexity="major"))
    app = AgentConsoleApp(ws)
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        row = app.screen.query_one("#cases", CaseTable).get_row_at(0)
        # the nearest clock (the customer update, December) is official; the list shows it unmarked
        assert "≈" not in str(row[6])
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseDetailScreen)
        clocks = app.screen.query_one("#clocks")
        dues = [str(clocks.get_row_at(i)[3]) for i in range(clocks.row_count)]
        assert any(d.startswith("01-15") and d.endswith("≈") for d in dues), dues
        help_line = str(app.screen.query_one("#provisional-help", Static).render())
        assert "2027年节假日安排尚未由国务院公布" in help_line
    # the list marks a provisional nearest clock and explains the mark in the status line
    clock.set(datetime(2027, 1, 5, 10, 0, tzinfo=TZ))
    later = ws.register(sample_case())
    app = AgentConsoleApp(ws)
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#cases", CaseTable)
        row = next(table.get_row_at(i) for i in range(table.row_count) if table.get_row_at(i)[0] == later.number)
        assert str(row[6]).endswith("≈")
        assert "推算期限" in str(app.screen.query_one("#status-line", Static).render())


# -- deadlines never go stale ---------------------------------------------------------------------------------
def test_loading_a_new_year_moves_open_deadlines_without_rebuild(tmp_path, clock) -> None:
    clock.set(datetime(2027, 1, 25, 10, 0, tzinfo=TZ))  # Monday; 15 working days run into the Spring Festival
    agent = make_workspace(tmp_path, clock, name="shared.db")
    s = agent.register(sample_case(complexity="complex"))
    before = s.clocks["resolve"].due
    assert agent.case_dict(s)["deadlines"]["resolve"]["provisional"] is True
    agent.close()

    lead = make_workspace(tmp_path, clock, name="shared.db", agent="lead-1", role="lead")
    schedule, report = lead.load_calendar_year(TEST_2027)
    assert schedule.year == 2027 and lead.calendar.year_status(2027) == "official"
    after = lead.case(s.id).clocks["resolve"].due
    assert after == lead.calendar.add_working_days(s.received_at, 15) != before
    moved = [m for m in report.moved if m.case_id == s.id]
    assert moved and moved[0].number == s.number and moved[0].shift_days != 0
    assert "provisional" not in lead.case_dict(lead.case(s.id))["deadlines"]["resolve"]
    assert lead.last_recompute()["cases_moved"] >= 1
    lead.close()
    # every later console on this database counts the loaded year, and nothing is stale
    again = make_workspace(tmp_path, clock, name="shared.db")
    assert again.stale_reasons == [] and again.calendar.year_status(2027) == "official"
    again.close()


def test_calendar_load_on_the_command_line(tmp_path, capsys) -> None:
    db = tmp_path / "x.db"
    broken = tmp_path / "CN-2027.toml"
    broken.write_text(TEST_2027.read_text(encoding="utf-8").replace("date = 2027-01-30", "date = 2027-01-29"),
                      encoding="utf-8")
    assert main(["calendar", "load", str(broken), "--db", str(db), "--role", "lead"]) == 2
    err = capsys.readouterr().err
    line = next(i for i, l in enumerate(broken.read_text(encoding="utf-8").splitlines(), 1) if "2027-01-29" in l)
    assert f"{broken}:{line}:" in err and "没有载入任何内容" in err
    assert main(["calendar", "load", str(TEST_2027), "--db", str(db)]) == 2
    assert "只有班长" in capsys.readouterr().err
    assert main(["calendar", "load", str(TEST_2027), "--db", str(db), "--lang", "en"]) == 2
    assert "team lead" in capsys.readouterr().err
    assert main(["calendar", "load", str(TEST_2027), "--db", str(db), "--role", "lead", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["loaded"] == 2027
    assert main(["calendar", "--json", "--db", str(db), "--from", "2027-01-28", "--days", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["date"] for r in out["working_days"]] == ["2027-01-29", "2027-01-30"]  # the loaded makeup day


def _a_case_then_team_closures(tmp_path, clock):
    """A case registered, then the console reopened with a team closure on a day its clock counts: its stored
    deadline is stale by one working day. -> (workspace, case, the old due, the closures file)"""
    ws = make_workspace(tmp_path, clock, name="shared.db")
    s = ws.register(sample_case(complexity="complex"))
    due = s.clocks["resolve"].due
    ws.close()
    closures = tmp_path / "closures.toml"
    closures.write_text('[[closed]]\ndate = 2026-11-27\nnote = "团建"\n', encoding="utf-8")
    ws = make_workspace(tmp_path, clock, name="shared.db", calendar_file=closures)
    assert ws.stale_reasons == ["calendar"]
    return ws, s, due, closures


def test_a_closures_file_a_profile_override_and_a_package_upgrade_each_recompute(tmp_path, clock, monkeypatch):
    ws, s, due, closures = _a_case_then_team_closures(tmp_path, clock)
    report = ws.recompute_deadlines()
    assert ws.case(s.id).clocks["resolve"].due == due + timedelta(days=1) or \
        ws.case(s.id).clocks["resolve"].due == ws.calendar.add_working_days(s.received_at, 15)
    assert ws.case(s.id).clocks["resolve"].due != due
    assert report.cases_moved == 1 and report.largest_shift_days >= 1
    ws.close()

    ws = make_workspace(tmp_path, clock, name="shared.db", calendar_file=closures,
                        profile_overrides={"clocks": {"resolve": {"length": {"complex": 10}}}})
    assert ws.stale_reasons == ["profile"]
    ws.recompute_deadlines()
    assert ws.case(s.id).clocks["resolve"].due == ws.calendar.add_working_days(s.received_at, 10)
    ws.close()

    import agent_console.core.calendar as calendar_module

    real = calendar_module.metadata.version
    monkeypatch.setattr(calendar_module.metadata, "version",
                        lambda name: "999.0" if name == "holidays" else real(name))
    ws = make_workspace(tmp_path, clock, name="shared.db", calendar_file=closures,
                        profile_overrides={"clocks": {"resolve": {"length": {"complex": 10}}}})
    assert ws.stale_reasons == ["calendar"]
    ws.close()


def test_the_command_line_never_answers_from_stale_deadlines(tmp_path, clock, capsys) -> None:
    ws = make_workspace(tmp_path, clock, name="shared.db")
    s = ws.register(sample_case(complexity="complex"))
    ws.close()
    closures = tmp_path / "closures.toml"
    closures.write_text('[[closed]]\ndate = 2026-11-27\n', encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'calendar_file = "{closures}"\n', encoding="utf-8")
    assert main(["calendar", "changes", "--json", "--db", str(tmp_path / "shared.db"), "--config", str(config)]) == 0
    captured = capsys.readouterr()
    assert "1 件期限变动" in captured.err
    moved = json.loads(captured.out)["moved"]
    assert [m["number"] for m in moved] == [s.number]


# -- the property: stored deadlines are what the events give, whatever changed ------------------------------------
from hypothesis import HealthCheck, example, given, settings as hsettings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.conftest import FakeClock  # noqa: E402
from tests.test_lifecycle import CLOSE  # noqa: E402

OPS = st.lists(st.one_of(
    st.tuples(st.just("register"), st.sampled_from(["general", "complex", "major"])),
    st.tuples(st.just("act"), st.sampled_from(["paused", "resumed", "extension", "closed"])),
    st.tuples(st.just("closure"), st.integers(min_value=1, max_value=60)),
    st.tuples(st.just("override"), st.integers(min_value=5, max_value=20)),
    st.tuples(st.just("year"), st.just(2027)),
    st.tuples(st.just("advance"), st.integers(min_value=1, max_value=96)),
    st.tuples(st.just("profile"), st.sampled_from(["insurance", "power-hotline"])),
), min_size=1, max_size=12)


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
# a case of one profile (with the organisation's override) recomputed by a console of another after a closure
@example(ops=[("override", 7), ("register", "complex"), ("profile", "power-hotline"), ("closure", 2)])
# the first console of a second profile, then an override of that profile: its cases are stale too
@example(ops=[("register", "general"), ("profile", "power-hotline"), ("register", "complex"), ("override", 5)])
def test_stored_deadlines_equal_a_fold_of_the_events_after_any_changes(tmp_path_factory, ops) -> None:
    """Calendar changes (closures, a new official year, a package's projection), profile overrides, consoles of
    another profile on the same database, and events, in any order; after each, a console opened on the database
    (which recomputes stale deadlines) holds exactly the deadlines an independent fold gives: each case's events
    under the profile it was registered under, with the overrides its own consoles last used, on today's
    calendar."""
    from agent_console.core.clocks import ClockMath
    from agent_console.core.lifecycle import Lifecycle
    from agent_console.core.profiles import load_profile

    root = tmp_path_factory.mktemp("prop")
    clock = FakeClock(datetime(2026, 12, 1, 10, 0, tzinfo=TZ))
    closures = root / "closures.toml"
    closed_days: list[date] = []
    conf: dict = {}
    cases: list[str] = []
    used: dict[str, dict | None] = {}  # profile id -> the overrides its consoles last opened with

    def open_console(role: str = "agent"):
        from agent_console.commands.common import recompute_line  # noqa: F401 - the CLI's path is the same call
        agent = "lead-1" if role == "lead" else "a-test"
        ws = make_workspace(root, clock, name="db.sqlite", agent=agent, role=role, **conf)
        used[ws.profile.id] = conf.get("profile_overrides")
        if ws.stale_reasons:
            ws.recompute_deadlines()
        return ws

    for op, arg in ops:
        if op == "register":
            ws = open_console()
            category = "claims" if ws.profile.id == "insurance" else ws.profile.categories[0].id
            cases.append(ws.register(sample_case(complexity=arg, category=category)).id)
            ws.close()
        elif op == "act" and cases:
            ws = open_console()
            s = ws.case(cases[-1])
            try:
                if arg == "paused":
                    ws.act(s.id, "paused", {"reason": "客户出差", "evidence": "录音"})
                elif arg == "resumed":
                    ws.act(s.id, "resumed", {})
                elif arg == "closed":
                    ws.act(s.id, "closed", CLOSE)
                else:
                    ws.act(s.id, "extension_requested", {"length": 3, "reason": "需调查"})
                    lead = open_console("lead")
                    lead.act(s.id, "extension_approved", {"reason": "同意"})
                    lead.close()
            except ValueError:
                pass  # refused in this state: nothing recorded
            ws.close()
        elif op == "closure":
            day = clock.t.date() + timedelta(days=arg)
            if day not in closed_days:
                closed_days.append(day)
            closures.write_text("".join(f"[[closed]]\ndate = {d.isoformat()}\n" for d in closed_days),
                                encoding="utf-8")
            conf["calendar_file"] = closures
        elif op == "override":
            conf["profile_overrides"] = {"clocks": {"resolve": {"length": {"complex": arg}}}}
        elif op == "year":
            lead = open_console("lead")
            if lead.calendar.year_status(2027) != "official":
                lead.load_calendar_year(TEST_2027)
            lead.close()
        elif op == "advance":
            clock.advance(hours=arg)
        elif op == "profile":
            conf["profile"] = arg
        ws = open_console()
        assert ws.stale_reasons == []
        for case_id in cases:
            stored = ws.case(case_id)
            if not stored.is_open:
                continue
            own = Lifecycle(load_profile(stored.profile, used[stored.profile] or None), ClockMath(ws.calendar))
            fresh = own.fold(ws.timeline(case_id), strict=False)
            assert {k: v.model_dump() for k, v in stored.clocks.items()} == \
                {k: v.model_dump() for k, v in fresh.clocks.items()}, (op, arg)
        ws.close()


# -- a case keeps its profile -----------------------------------------------------------------------------------
def test_a_case_keeps_the_profile_it_was_registered_under_in_rebuild_too(tmp_path, clock) -> None:
    insurance = make_workspace(tmp_path, clock, name="shared.db")  # general: 3 working days
    a = insurance.register(sample_case())
    assert a.profile == "insurance"
    insurance.close()
    power = make_workspace(tmp_path, clock, name="shared.db", profile="power-hotline")  # general: 5
    b = power.register(sample_case(category=power.profile.categories[0].id))
    assert power.case(a.id).clocks["resolve"].due == power.calendar.add_working_days(a.received_at, 3)
    assert b.clocks["resolve"].due == power.calendar.add_working_days(b.received_at, 5)
    before = {cid: power.case(cid).model_dump() for cid in (a.id, b.id)}
    assert power.store.rebuild(power.lifecycle) == []  # nothing differs: each case folded under its own profile
    assert {cid: power.case(cid).model_dump() for cid in (a.id, b.id)} == before
    views = {v.id for v in power.views(power.case(a.id))}
    assert "resolve" in views and power.case(a.id).profile == "insurance"
    power.close()


def test_the_leads_queue_and_the_overdue_report_mark_a_provisional_due(tmp_path, clock) -> None:
    from agent_console.services import lead, reports

    clock.set(datetime(2026, 12, 28, 10, 0, tzinfo=TZ))
    agent = make_workspace(tmp_path, clock, name="shared.db")
    early = agent.register(sample_case())  # due at the end of 31 December: official
    clock.set(datetime(2027, 1, 4, 10, 0, tzinfo=TZ))
    late = agent.register(sample_case())  # due in January 2027: provisional
    agent.close()
    boss = make_workspace(tmp_path, clock, name="shared.db", agent="lead-1", role="lead")
    queue = {r["number"]: r for r in lead.overdue_queue(boss, working_hours=24 * 10)}
    assert queue[late.number].get("provisional") is True and "provisional" not in queue[early.number]
    rows = {r["number"]: r for r in reports.overdue_rows(boss, unmask=False, hours=24 * 10)}
    assert rows[late.number]["due"].endswith("≈") and not rows[early.number]["due"].endswith("≈")
    boss.close()


async def test_the_console_recomputes_stale_deadlines_in_the_background_and_says_so(tmp_path, clock) -> None:
    from agent_console.app import AgentConsoleApp
    from tests.test_ui_console import settle

    ws, s, due, _ = _a_case_then_team_closures(tmp_path, clock)
    app = AgentConsoleApp(ws)
    messages: list[str] = []
    app.notify = lambda message, **kw: messages.append(str(message))  # type: ignore[method-assign]
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
    assert any("1 件期限变动" in m for m in messages), messages
    assert ws.case(s.id).clocks["resolve"].due == due + timedelta(days=1)
    assert ws.stale_reasons == []
    ws.close()


def test_case_show_marks_a_provisional_due_too(tmp_path, clock, capsys) -> None:
    """The JSON said provisional; `case show`'s human lines printed the 2027 due as plain fact."""
    from agent_console.cli import main

    clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=TZ))
    ws = make_workspace(tmp_path, clock, name="show.db")
    s = ws.register(sample_case(complexity="major"))  # resolve: mid-January 2027 (provisional), update: December
    ws.close()
    assert main(["case", "show", s.number, "--db", str(tmp_path / "show.db")]) == 0
    lines = capsys.readouterr().out.splitlines()
    resolve = next(line for line in lines if "2027年" in line)
    update = next(line for line in lines if "⏱" in line and "2026年12月" in line)
    assert "≈ 推算" in resolve and "推算" not in update


def test_case_list_marks_a_provisional_nearest_due(tmp_path, clock, capsys) -> None:
    from agent_console.cli import main

    clock.set(datetime(2026, 12, 28, 10, 0, tzinfo=TZ))
    ws = make_workspace(tmp_path, clock, name="list.db")
    ws.register(sample_case(complexity="major"))  # every clock ends in January 2027
    clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=TZ))
    ws.register(sample_case())  # due 8 December 2026: official
    ws.close()
    assert main(["case", "list", "--db", str(tmp_path / "list.db")]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert sum("≈ 推算" in line for line in lines) == 1 and any("2027-01" in line and "≈ 推算" in line for line in lines)
