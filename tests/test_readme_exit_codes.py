"""The README's exit-code table is what the CLI does: every row's bad day, run, ends with that row's code (issue 14)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agent_console import cli
from tests import faults
from tests.test_cli import NEW, run

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_codes() -> dict[int, str]:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("Exit codes"):]
    table = table[:table.index("\n\n", table.index("| code |"))]
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d+) \| (.+) \|$", table, re.MULTILINE)}


def test_the_table_names_every_code_the_cli_has() -> None:
    codes = readme_codes()
    assert set(codes) == {0, 1, 2, 3, 4, 5, 70, 75, 130}
    assert set(cli.STORE_EXIT.values()) | {cli.EXIT_CRASH} <= set(codes)
    assert cli.STORE_EXIT == {"busy": 75, "read_only": 4, "full": 4, "damaged": 5}


def _case(capsys, monkeypatch, db: Path) -> str:
    code, out, err = run(capsys, "--db", str(db), "case", "new", stdin=json.dumps(NEW), monkeypatch=monkeypatch)
    assert code == 0, err
    return json.loads(out)["number"]


def test_every_bad_day_ends_with_the_code_the_readme_gives(capsys, monkeypatch, tmp_path) -> None:
    codes = readme_codes()
    db = tmp_path / "c.db"
    number = _case(capsys, monkeypatch, db)
    seen: dict[int, str] = {}

    def expect(code: int, words: str, got: int, err: str) -> None:
        assert got == code and words in codes[code] and "Traceback" not in err, (code, got, err)
        seen[code] = err

    expect(0, "done", run(capsys, "--db", str(db), "case", "show", number)[0], "")
    code, _, err = run(capsys, "--db", str(db), "case", "show", "2609-ZZZ-999")
    expect(1, "no such case", code, err)
    code, _, err = run(capsys, "--db", str(db), "case", "new", stdin='{"a": ', monkeypatch=monkeypatch)
    expect(2, "unreadable JSON", code, err)
    code, _, err = run(capsys, "--db", str(db), "case", "list", "--unmask")
    expect(3, "--unmask", code, err)
    with faults.locked(db):
        code, _, err = run(capsys, "--db", str(db), "case", "new", stdin=json.dumps(NEW), monkeypatch=monkeypatch)
    expect(75, "busy", code, err)
    with faults.read_only(db):
        code, _, err = run(capsys, "--db", str(db), "case", "new", stdin=json.dumps(NEW), monkeypatch=monkeypatch)
    expect(4, "read-only", code, err)
    with monkeypatch.context() as m:
        faults.disk_full(m)
        big = dict(NEW, facts="理赔" * 9_000)
        code, _, err = run(capsys, "--db", str(db), "case", "new", stdin=json.dumps(big), monkeypatch=m)
    expect(4, "full disk", code, err)

    import agent_console.commands.case as case_cmd

    with monkeypatch.context() as m:
        m.setattr(case_cmd, "cmd_show", lambda args: 1 / 0)
        code, _, err = run(capsys, "--db", str(db), "case", "show", number)
    expect(70, "unexpected error", code, err)
    with monkeypatch.context() as m:
        def interrupted(args):
            raise KeyboardInterrupt

        m.setattr(case_cmd, "cmd_show", interrupted)
        code, _, err = run(capsys, "--db", str(db), "case", "show", number)
    expect(130, "interrupted", code, err)
    faults.damage(db)
    code, _, err = run(capsys, "--db", str(db), "case", "list")
    expect(5, "damaged", code, err)
    assert set(seen) == set(codes)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_codes_do_not_depend_on_the_language(capsys, monkeypatch, tmp_path, lang) -> None:
    db = tmp_path / "c.db"
    _case(capsys, monkeypatch, db)
    with faults.locked(db):
        code, _, _ = run(capsys, "--db", str(db), "--lang", lang, "case", "new", stdin=json.dumps(NEW),
                         monkeypatch=monkeypatch)
    assert code == 75
