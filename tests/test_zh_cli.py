"""Every CLI command's human output in Chinese: no English (issue 15). JSON stays the scripts' English interface;
argparse's own --help pages are Python's and not checked here."""

from __future__ import annotations

import pytest

from agent_console.cli import main
from agent_console.services.demo_data import generate
from tests.conftest import make_workspace
from tests.latin import latin_runs

COMMANDS = [
    ["case", "list"],
    ["case", "list", "--overdue"],
    ["case", "show", "{number}"],
    ["calendar", "--from", "2026-09-28", "--days", "5"],
    ["calendar", "--from", "2026-13-01"],
    ["callback", "list", "--all"],
    ["callback", "new", "{number}", "明天下午3点"],
    ["callback", "new", "{number}", "xyz"],
    ["sample", "--month", "2026-11"],
    ["check"],
    ["phrase", "lipei", "--limit", "3"],
    ["report", "kpi"],
    ["report", "overdue"],
    ["report", "weekly"],
    ["report", "monthly", "--period", "2026-11"],
    ["report", "kpi", "--format", "csv"],
    ["report", "overdue", "--format", "csv"],
    ["report", "kpi", "--format", "markdown"],
    ["rebuild"],
    ["case", "show", "2601-ZZZ-999"],  # a number nobody registered: said in Chinese too
    ["case", "act", "2601-ZZZ-999", "accepted"],
]


@pytest.fixture
def demo_db(tmp_path, clock):
    ws = make_workspace(tmp_path, clock, name="cli.db", agent="a-wang", role="lead")
    generate(ws, cases=60, seed=7)
    number = ws.list_cases(__import__("agent_console.core.case_query", fromlist=["CaseQuery"]).CaseQuery(
        open_only=True, limit=1))[0]["number"]
    ws.close()
    return str(tmp_path / "cli.db"), number


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_cli_human_output_is_chinese(capsys, demo_db, command) -> None:
    db, number = demo_db
    argv = [part.format(number=number) for part in command] + ["--db", db, "--agent", "a-wang", "--role", "lead"]
    main(argv)
    out, err = capsys.readouterr()
    # the program's name and the options the agent typed may show; "xyz" was typed
    allowed = {"agent", "console", "calendar", "load", "from", "days", "xyz", "lipei"}
    bad = [line for line in (out + err).splitlines() if latin_runs(line, allowed)]
    assert not bad, f"English in `{' '.join(command)}`:\n" + "\n".join(bad[:10])
    assert out.strip() or err.strip()
