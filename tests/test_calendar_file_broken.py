"""A broken or missing calendar_file: reported (file:line) by every command and in the console, which still starts on
the national calendar with a banner saying deadlines ignore the team's closures until it is fixed."""

from __future__ import annotations

import json

import pytest

from agent_console.app import AgentConsoleApp
from agent_console.screens.cases import CasesScreen
from agent_console.widgets.plain import content_of
from tests.conftest import make_workspace, sample_case
from tests.test_cli import NEW, run
from tests.test_ui_console import SIZE, settle

BROKEN = '[[closed]]\ndate = "2026-12-07"\nnote = "团建"\n\n[[closed]]\ndate = "2026-12-32"\nnote = "typo"\n'


@pytest.fixture
def broken(tmp_path, monkeypatch):
    path = tmp_path / "closures.toml"
    path.write_text(BROKEN, encoding="utf-8")
    monkeypatch.setenv("AGENT_CONSOLE_CALENDAR_FILE", str(path))
    return path


@pytest.mark.parametrize("argv", [["case", "list", "--json"], ["calendar", "--days", "2", "--json"],
                                  ["case", "new"]])
def test_every_command_runs_and_names_the_file_and_line(capsys, monkeypatch, tmp_path, broken, argv) -> None:
    stdin = json.dumps(NEW) if argv == ["case", "new"] else None
    code, out, err = run(capsys, "--db", str(tmp_path / "c.db"), "--lang", "en", *argv, stdin=stdin,
                         monkeypatch=monkeypatch)
    assert code == 0 and "Traceback" not in err
    assert f"{broken}:5:" in err and "ignore the team's closures" in err and err.count("calendar_file") == 1


def test_the_warning_is_in_the_consoles_language(capsys, monkeypatch, tmp_path, broken) -> None:
    """On a zh console the warning was English ("warning: calendar_file …; deadlines ignore the team's closures")."""
    code, out, err = run(capsys, "--db", str(tmp_path / "c.db"), "case", "list")
    assert code == 0 and f"{broken}:5:" in err and "团队自己的休息日" in err and err.count(f"{broken}:5:") == 1
    assert "ignore the team's closures" not in err and "agent-console: 注意：" in err


def test_a_missing_file_is_reported_too(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("AGENT_CONSOLE_CALENDAR_FILE", str(tmp_path / "nowhere.toml"))
    code, out, err = run(capsys, "--db", str(tmp_path / "c.db"), "case", "list", "--json")
    assert code == 0 and "nowhere.toml: 文件不存在" in err
    code, out, err = run(capsys, "--db", str(tmp_path / "c.db"), "--lang", "en", "case", "list", "--json")
    assert code == 0 and "nowhere.toml: no such file" in err


async def test_the_console_starts_with_a_banner_and_the_status_line_says_so(tmp_path, clock, broken) -> None:
    ws = make_workspace(tmp_path, clock, calendar_file=broken)
    ws.register(sample_case())
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CasesScreen)
        toasts = " ".join(str(n.message) for n in app._notifications)
        assert f"{broken}:5:" in toasts and "团队自己的休息日" in toasts
        assert f"{broken}:5:" in content_of(app.screen.query_one("#status-line"))
        assert app.screen.query_one("#cases").row_count == 1
    ws.close()
