"""The CLI's stable JSON interface and its answers to bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_console.cli import main


def run(capsys, *argv: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        import io
        import sys

        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "cli.db")


NEW = {
    "received_at": "2026-09-30T10:00:00+08:00",
    "channel": "信函",
    "category": "理赔",
    "complexity": "一般",
    "complainant": {"name": "李雷", "title": "先生", "phone": "170 9876 5432", "id_number": "110101199001011234"},
    "respondent": "理赔部",
    "facts": "理赔款迟迟未到账",
    "request": "一周内到账",
}


def test_case_new_show_list(capsys, monkeypatch, db) -> None:
    code, out, _ = run(capsys, "--db", db, "--agent", "clerk", "case", "new", stdin=json.dumps(NEW),
                       monkeypatch=monkeypatch)
    assert code == 0
    case = json.loads(out)
    assert case["channel"] == "letter" and case["category"] == "claims" and case["complexity"] == "general"
    assert case["number"].startswith("2609-") and case["status"] == "registered"
    resolve = case["deadlines"]["resolve"]
    assert resolve["due"] == "2026-10-11T00:00:00+08:00"  # 3rd working day: Saturday 10-10, a makeup workday
    assert resolve["state"] in ("running", "breached") and "remaining_seconds" in resolve
    assert case["deadlines"]["confirm"]["due"] == "2026-10-09T00:00:00+08:00"

    code, out, _ = run(capsys, "case", "show", case["number"], "--json", "--db", db)
    shown = json.loads(out)
    assert code == 0 and shown["complainant"]["phone"] == "170 9876 5432"

    code, out, _ = run(capsys, "case", "list", "--open", "--json", "--db", db)
    listed = json.loads(out)
    assert [c["number"] for c in listed] == [case["number"]]
    assert listed[0]["complainant"]["phone"] == "170****5432"  # lists mask personal numbers
    assert "1234" not in listed[0]["complainant"]["id_number"][:-2]


def test_case_list_filters(capsys, monkeypatch, db) -> None:
    run(capsys, "demo", "--cases", "80", "--seed", "2", "--db", db, "--agent", "me")
    _, out, _ = run(capsys, "case", "list", "--json", "--db", db)
    everything = json.loads(out)
    assert len(everything) == 80
    _, out, _ = run(capsys, "case", "list", "--open", "--json", "--db", db)
    open_ = json.loads(out)
    assert open_ and all(c["status"] not in ("closed", "archived", "not_accepted") for c in open_)
    _, out, _ = run(capsys, "case", "list", "--overdue", "--json", "--db", db)
    overdue = json.loads(out)
    assert overdue and all(any(d["state"] == "breached" for d in c["deadlines"].values()) for c in overdue)
    _, out, _ = run(capsys, "case", "list", "--due-within", "2d", "--json", "--db", db)
    assert len(json.loads(out)) >= len(overdue)
    _, out, _ = run(capsys, "case", "list", "--mine", "--open", "--json", "--db", db, "--agent", "me")
    mine = json.loads(out)
    assert mine and all(c["owner"] == "me" for c in mine)


def test_case_new_bad_input(capsys, monkeypatch, db) -> None:
    code, _, err = run(capsys, "case", "new", "--db", db, "--lang", "en", stdin='{"channel": ', monkeypatch=monkeypatch)
    assert code == 2 and "invalid JSON at line 1" in err
    bad = dict(NEW, category="天气", received_at="2026-09-30T10:00:00")
    code, _, err = run(capsys, "case", "new", "--db", db, "--lang", "en", stdin=json.dumps(bad), monkeypatch=monkeypatch)
    assert code == 2 and "received_at" in err and "timezone" in err
    bad = dict(NEW, category="天气")
    code, _, err = run(capsys, "case", "new", "--db", db, "--lang", "en", stdin=json.dumps(bad), monkeypatch=monkeypatch)
    assert code == 2 and "category: unknown category '天气'" in err
    huge = dict(NEW, facts="长" * 1_000_000)
    code, _, err = run(capsys, "case", "new", "--db", db, "--lang", "en", stdin=json.dumps(huge), monkeypatch=monkeypatch)
    assert code == 2 and "facts" in err and "too long" in err
    code, _, err = run(capsys, "case", "show", "2609-ZZZ-999", "--db", db)
    assert code == 1 and "没有案件" in err


def test_import_reports_bad_rows_and_keeps_good_ones(capsys, tmp_path, db) -> None:
    path = tmp_path / "letters.jsonl"
    rows = [json.dumps(NEW), '{"broken', json.dumps(dict(NEW, channel="pigeon")), json.dumps(NEW)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "import", str(path), "--json", "--db", db)
    result = json.loads(out)
    assert code == 1 and len(result["imported"]) == 2
    assert [e.split(": ")[0] for e in result["errors"]] == [f"{path}:2", f"{path}:3"]
    assert "channel" in result["errors"][1]


def test_import_csv_and_export_round_trip(capsys, tmp_path, db) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("received_at,channel,category,name,title,phone,facts,request,flags\n"
                    "2026-11-20T09:00:00+08:00,email,收付费,周杰,先生,17011112222,重复扣费,退款,\"media,repeat\"\n",
                    encoding="utf-8")
    code, out, _ = run(capsys, "import", str(path), "--json", "--db", db)
    assert code == 0 and len(json.loads(out)["imported"]) == 1
    code, out, _ = run(capsys, "export", "--format", "jsonl", "--db", db)
    exported = [json.loads(line) for line in out.splitlines()]
    assert exported[0]["flags"] == ["media", "repeat"] and exported[0]["complainant"]["phone"] == "170****2222"
    again = tmp_path / "again.jsonl"
    again.write_text(out, encoding="utf-8")
    code, out, err = run(capsys, "import", str(again), "--json", "--db", db)
    assert code == 0, err
    code, out, _ = run(capsys, "export", "--format", "csv", "--db", db)
    assert out.splitlines()[0].startswith("number,status,received_at")
    code, _, err = run(capsys, "export", "--unmask", "--db", db)
    assert code == 3 and "只有班长" in err


def test_calendar_preview(capsys, db) -> None:
    code, out, _ = run(capsys, "calendar", "--from", "2026-09-30", "--days", "3", "--json", "--db", db)
    data = json.loads(out)
    assert [d["date"] for d in data["working_days"]] == ["2026-10-08", "2026-10-09", "2026-10-10"]
    assert data["working_days"][2]["makeup_workday"] is True
    assert any(d["date"] == "2026-10-01" for d in data["closed_days"])


def test_check_reports_broken_team_profile(capsys, tmp_path, monkeypatch, db) -> None:
    code, out, _ = run(capsys, "check", "--db", db)
    assert code == 0 and "全部文件有效" in out  # in the console's language (issue 15)
    profiles = tmp_path / "config" / "agent-console" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "team.toml").write_text('id = "team"\nname = 3\n', encoding="utf-8")
    code, out, _ = run(capsys, "check", "--db", db)
    assert code == 1 and "team.toml:2：name：应为文字" in out  # a profile's problems in the console's language
    assert "Input should" not in out and "Field required" not in out
    code, out, _ = run(capsys, "--lang", "en", "check", "--db", db)
    assert code == 1 and "team.toml:2: name: " in out


def test_rebuild_and_demo(capsys, db) -> None:
    code, out, _ = run(capsys, "demo", "--cases", "40", "--seed", "9", "--db", db, "--agent", "me")
    assert code == 0 and json.loads(out)["added"] == 40
    code, out, _ = run(capsys, "rebuild", "--json", "--db", db)
    assert code == 0 and json.loads(out) == {"cases": 40, "differences": []}


def test_demo_covers_every_state_and_clock_band(tmp_path, clock) -> None:
    from agent_console.services.demo_data import generate
    from agent_console.core.case_query import CaseQuery
    from tests.conftest import make_workspace

    ws = make_workspace(tmp_path, clock)
    generate(ws, cases=300, seed=7)
    cases = ws.list_cases(CaseQuery())
    statuses = {c["status"] for c in cases}
    assert {"accepted", "assigned", "investigating", "proposed", "closed", "archived"} <= statuses
    bands = {d["band"] for c in cases for d in c["deadlines"].values()}
    assert {"in_time", "warning", "breached", "paused", "met"} <= bands
    assert {c["channel"] for c in cases} >= {"phone", "email", "letter"}
    assert len({c["category"] for c in cases}) == len(ws.profile.categories)
    mine = [c for c in cases if c["owner"] == ws.actor and c["status"] not in ("closed", "archived")]
    assert len(mine) >= 20
    assert {e.actor for c in cases[:20] for e in ws.store.events(c["id"])} == {ws.actor}
    ws.close()


def test_settings_from_config_file_and_environment(capsys, tmp_path, monkeypatch) -> None:
    cfg = tmp_path / "config" / "agent-console" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(f'db = "{tmp_path / "fromfile.db"}"\nagent = "file-agent"\nlang = "en"\n'
                   '[profile_overrides.clocks.resolve.length]\ngeneral = 5\n', encoding="utf-8")
    monkeypatch.setenv("AGENT_CONSOLE_AGENT", "env-agent")
    code, out, _ = run(capsys, "case", "new", stdin=json.dumps(NEW), monkeypatch=monkeypatch)
    case = json.loads(out)
    assert case["registered_by"] == "env-agent"  # environment beats the file
    assert (tmp_path / "fromfile.db").exists()
    assert case["deadlines"]["resolve"]["due"] == "2026-10-14T00:00:00+08:00"  # 10-13 is the 5th working day (override)
    assert case["deadlines"]["resolve"]["label"] == "Resolve"


@pytest.mark.parametrize("command", [[], ["case"], ["case", "list"], ["demo"], ["import"], ["export"], ["calendar"],
                                     ["check"], ["rebuild"], ["phrase"], ["callback"], ["sample"], ["sync"],
                                     ["central"], ["report"]])
def test_every_help_page_renders(capsys, command) -> None:
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0 and "usage: agent-console" in capsys.readouterr().out


def test_case_act_goes_through_the_screens_rules_and_messages(capsys, monkeypatch, db) -> None:
    code, out, _ = run(capsys, "case", "new", "--db", db, "--agent", "a-1",
                       stdin=json.dumps(NEW | {"amount": "1500"}), monkeypatch=monkeypatch)
    number = json.loads(out)["number"]
    # nothing chosen: refused field by field, in the console's language, nothing recorded
    code, _, err = run(capsys, "case", "act", number, "closed", "--db", db, "--agent", "a-1")
    assert code == 2 and "--outcome：必填" in err and "--report：必填" in err
    code, _, err = run(capsys, "case", "act", number, "closed", "--db", db, "--agent", "a-1",
                       "--outcome", "有责", "--causes", "process_delay", "--stage", "claims", "--report", "已处理")
    assert code == 2 and "不能执行此操作" in err  # a letter is not accepted yet: the lifecycle's own refusal
    code, out, err = run(capsys, "case", "act", number, "accepted", "--db", db, "--agent", "a-1")
    assert code == 0 and "受理" in out, err
    code, out, err = run(capsys, "case", "act", number, "closed", "--db", db, "--agent", "a-1",
                         "--outcome", "有责", "--causes", "process_delay", "--stage", "claims",
                         "--report", "已处理", "--settled-amount", "0", "--paid-amount", "200", "--json")
    assert code == 0, err
    case = json.loads(out)
    assert case["status"] == "closed" and case["outcome"] == "at_fault"
    assert case["amount"] == "1500" and case["settled_amount"] == "0" and case["paid_amount"] == "200"
    code, _, err = run(capsys, "case", "act", number, "closed", "--db", db, "--agent", "a-1", "--bogus", "x")
    assert code == 2 and "没有字段 --bogus" in err
    code, _, err = run(capsys, "case", "act", number, "closed", "--db", db, "--agent", "a-1", "--bogus", "x",
                       "--lang", "en")
    assert code == 2 and "no field --bogus" in err
    code, _, err = run(capsys, "case", "act", number, "frobnicate", "--db", db, "--agent", "a-1", "--lang", "en")
    assert code == 2 and "unknown action" in err
    with pytest.raises(SystemExit):  # other commands still refuse an option they do not know
        run(capsys, "case", "list", "--db", db, "--nonsense")


def test_case_act_refuses_a_choice_that_is_not_on_the_list(capsys, monkeypatch, db) -> None:
    """A typo in a choice (`--causes x`, `--stage y`) was recorded as it was typed: the screen's dropdowns never allow
    it, so the shell must not either; the message lists what may be chosen and nothing is recorded."""
    code, out, _ = run(capsys, "case", "new", "--db", db, "--agent", "a-1", stdin=json.dumps(NEW),
                       monkeypatch=monkeypatch)
    number = json.loads(out)["number"]
    run(capsys, "case", "act", number, "accepted", "--db", db, "--agent", "a-1")
    code, _, err = run(capsys, "case", "act", number, "closed", "--db", db, "--agent", "a-1", "--outcome", "有责",
                       "--causes", "process_delay,x", "--stage", "y", "--report", "已处理")
    assert code == 2 and "--causes" in err and "“x”" in err and "流程时效" in err, err
    code, out, _ = run(capsys, "case", "show", number, "--db", db, "--json")
    assert json.loads(out)["status"] != "closed"
    code, _, err = run(capsys, "case", "act", number, "closed", "--db", db, "--agent", "a-1", "--outcome", "有责",
                       "--causes", "process_delay", "--stage", "y", "--report", "已处理")
    assert code == 2 and "--stage" in err and "“y”" in err, err
    code, _, err = run(capsys, "case", "act", number, "assigned", "--db", db, "--agent", "a-1",
                       "--department", "no_such_dept")
    assert code == 2 and "--department" in err, err


def test_case_act_says_what_a_number_should_look_like_in_the_consoles_language(capsys, monkeypatch, db) -> None:
    """`--length abc` was refused with "a whole number", `--amount 12x` with "an amount such as 800 or 1234.50": English
    on a zh console, on the screen's forms as on the shell."""
    from tests.latin import latin_runs

    code, out, _ = run(capsys, "case", "new", "--db", db, "--agent", "a-1", stdin=json.dumps(NEW),
                       monkeypatch=monkeypatch)
    number = json.loads(out)["number"]
    run(capsys, "case", "act", number, "accepted", "--db", db, "--agent", "a-1")
    typed = {"case", "act", "length", "amount", "remedy", "upset", "since"}  # what was typed
    for action, *fields in (("extension_requested", "--length", "abc", "--reason", "等材料"),
                            ("proposed", "--remedy", "退费", "--amount", "12x"),
                            ("dissatisfaction_reported", "--upset-since", "刚才")):
        code, _, err = run(capsys, "case", "act", number, action, *fields, "--db", db, "--agent", "a-1")
        assert code == 2 and not latin_runs(err, typed), err
        code, _, err = run(capsys, "case", "act", number, action, *fields, "--db", db, "--agent", "a-1",
                           "--lang", "en")
        assert code == 2 and ("whole number" in err or "amount such as" in err or "minutes ago" in err), err


def test_case_act_refuses_implausible_amounts_like_the_intake(capsys, monkeypatch, db) -> None:
    """Closing recorded a settled amount of 1e308 and a paid amount of -5 元: the intake refuses both."""
    code, out, _ = run(capsys, "case", "new", "--db", db, "--agent", "a-1", stdin=json.dumps(NEW),
                       monkeypatch=monkeypatch)
    number = json.loads(out)["number"]
    run(capsys, "case", "act", number, "accepted", "--db", db, "--agent", "a-1")
    code, _, err = run(capsys, "case", "act", number, "proposed", "--db", db, "--agent", "a-1", "--remedy", "退费",
                       "--amount", "1e308")
    assert code == 2 and "--amount" in err and "最大金额" in err, err
    code, _, err = run(capsys, "case", "act", number, "closed", "--db", db, "--agent", "a-1", "--outcome", "有责",
                       "--causes", "流程时效", "--stage", "claims", "--report", "已处理", "--settled-amount", "1e308",
                       "--paid-amount", "-5")
    assert code == 2 and "最大金额" in err and "负数" in err, err
    code, out, _ = run(capsys, "case", "show", number, "--db", db, "--json")
    case = json.loads(out)
    assert case["status"] != "closed" and case["remedy"] == "" and case["settled_amount"] is None


def test_case_act_correction_and_show_events_print_the_timeline(capsys, monkeypatch, db) -> None:
    code, out, _ = run(capsys, "case", "new", "--db", db, "--agent", "a-1", stdin=json.dumps(NEW),
                       monkeypatch=monkeypatch)
    number = json.loads(out)["number"]
    code, out, err = run(capsys, "case", "act", number, "field_edited", "--db", db, "--agent", "a-1",
                         "--field", "facts", "--value", "理赔款两个月未到账")
    assert code == 0, err
    code, out, _ = run(capsys, "case", "show", number, "--events", "--db", db)
    assert code == 0 and "理赔款迟迟未到账 → 理赔款两个月未到账" in out and "登记" in out


def test_check_refuses_an_unknown_key_binding_id(capsys, monkeypatch, db) -> None:
    monkeypatch.setenv("AGENT_CONSOLE_KEYMAP__NEW_INTAKE", "f2")
    code, out, _ = run(capsys, "check", "--db", db)
    assert code == 0, out
    monkeypatch.setenv("AGENT_CONSOLE_KEYMAP__NEW_INTAK", "f9")  # a typo: it would silently do nothing
    code, out, _ = run(capsys, "check", "--db", db, "--lang", "en")
    assert code == 1 and "unknown key binding id 'new_intak'" in out and "new_intake" in out


def test_progress_bar_tells_speed_and_time_left(capsys, monkeypatch) -> None:
    """The bar says how fast it goes and how long is left at that speed, then how long it took (a bare count
    said neither: a million demo cases gave no idea of the wait)."""
    import sys

    from agent_console.commands.common import ProgressBar

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    now = [100.0]
    with ProgressBar("en", clock=lambda: now[0]) as bar:
        now[0] = 110.0
        bar(25_000, 1_000_000)  # 2,500 a second: 390 s left
        now[0] = 500.0
        bar(1_000_000, 1_000_000)
    err = capsys.readouterr().err
    first, last = err.split("\r")[1:]
    assert first.startswith("[") and "25000/1000000  2500/s, 6:30 left" in first
    assert "1000000/1000000  2500/s, took 6:40" in last and last.endswith("\n")
    assert len(last.rstrip("\n")) >= len(first)  # a shorter line would leave the end of the longer one showing
    with ProgressBar("zh", clock=lambda: now[0]) as bar:
        now[0] = 1000.0  # 500 s after the first bar ended: 0.2 a second
        bar(100, 200)
    assert "100/200  每秒 0.2，剩余 8:20" in capsys.readouterr().err  # a rate below one keeps a decimal


def test_demo_draws_its_progress_with_speed_on_a_terminal(capsys, monkeypatch, db) -> None:
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    code, out, err = run(capsys, "--lang", "en", "demo", "--cases", "30", "--db", db, "--agent", "me")
    assert code == 0 and json.loads(out)["added"] == 30
    assert "\r[" in err and "30/30" in err and "/s, took " in err
