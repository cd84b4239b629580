"""The CLI on bad input: messages, never tracebacks (exit codes in README)."""

from __future__ import annotations

import io
import json
import stat
import sys


from agent_console.cli import EXIT_CRASH, main
from tests.test_cli import NEW


class _BytesStdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def run_bytes(capsys, monkeypatch, data: bytes, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", _BytesStdin(data))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_invalid_utf8_on_stdin_is_a_message_with_its_line(capsys, monkeypatch, tmp_path) -> None:
    data = json.dumps(NEW, ensure_ascii=False, indent=1).encode("utf-8").replace("理赔款".encode(), b"\xff\xfe", 1)
    code, out, err = run_bytes(capsys, monkeypatch, data, "--db", str(tmp_path / "c.db"), "--lang", "en", "case", "new")
    assert code == 2 and out == ""
    assert "not UTF-8" in err and "line 13" in err and "Traceback" not in err


def test_utf8_with_a_bom_on_stdin_is_read(capsys, monkeypatch, tmp_path) -> None:
    data = b"\xef\xbb\xbf" + json.dumps(NEW, ensure_ascii=False).encode("utf-8")
    code, out, err = run_bytes(capsys, monkeypatch, data, "--db", str(tmp_path / "c.db"), "case", "new")
    assert code == 0, err
    assert json.loads(out)["facts"] == NEW["facts"]


def test_deeply_nested_json_is_a_message(capsys, monkeypatch, tmp_path) -> None:
    data = b"[" * 200_000 + b"]" * 200_000
    code, _, err = run_bytes(capsys, monkeypatch, data, "--db", str(tmp_path / "c.db"), "--lang", "en", "case", "new")
    assert code == 2 and "nested too deeply" in err and "Traceback" not in err


def test_an_unexpected_error_is_a_short_message_and_a_private_masked_log(capsys, monkeypatch, tmp_path) -> None:
    import agent_console.commands.case as case_cmd

    def boom(args):
        raise RuntimeError("cannot go on with 17098765432 and 110101199001011234")

    monkeypatch.setattr(case_cmd, "cmd_show", boom)
    code = main(["--db", str(tmp_path / "c.db"), "--lang", "en", "case", "show", "X"])
    out, err = capsys.readouterr()
    assert code == EXIT_CRASH
    assert "Traceback" not in err and "17098765432" not in err and "did not finish" in err
    logs = list((tmp_path / "data" / "agent-console" / "crash").glob("crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err
    assert stat.S_IMODE(logs[0].stat().st_mode) == 0o600
    body = logs[0].read_text(encoding="utf-8")
    assert "RuntimeError" in body and "17098765432" not in body and "110101199001011234" not in body
