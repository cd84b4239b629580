"""Every file error names the file the user wrote and the right line."""

from __future__ import annotations

import json

from agent_console.core.errors import toml_error_line
from tests.test_cli import run

ENTRY = '[[entry]]\nid = "x-{n}"\nsituation = "opening"\ntitle = "t"\ntext = "您好"\n\n'


def test_a_phrasebook_syntax_error_at_line_8_is_reported_at_line_8(capsys, tmp_path) -> None:
    book = tmp_path / "book"
    book.mkdir()
    bad = book / "mine.toml"
    bad.write_text(ENTRY.format(n=1) + '[[entry]]\nid = "x-2\n', encoding="utf-8")  # line 8: unclosed string
    config = tmp_path / "config.toml"
    config.write_text(f'phrasebook_dirs = ["{book}"]\n', encoding="utf-8")
    code, out, _ = run(capsys, "--config", str(config), "--db", str(tmp_path / "c.db"), "check", "--json")
    problems = [p for p in json.loads(out)["problems"] if "mine.toml" in p]
    assert code == 1 and len(problems) == 1 and problems[0].startswith(f"{bad}:8: "), problems


def test_an_unknown_phrasebook_table_is_reported_where_it_is(capsys, tmp_path) -> None:
    book = tmp_path / "book"
    book.mkdir()
    bad = book / "mine.toml"
    bad.write_text(ENTRY.format(n=1) + "[[entrys]]\nid = \"typo\"\n", encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'phrasebook_dirs = ["{book}"]\n', encoding="utf-8")
    code, out, _ = run(capsys, "--config", str(config), "--db", str(tmp_path / "c.db"), "check", "--json")
    assert any(p.startswith(f"{bad}:7: unknown table(s) entrys") for p in json.loads(out)["problems"])


def test_a_config_override_error_names_the_config_file_and_its_line(capsys, tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('agent = "a1"\n\n[profile_overrides]\nextension_ceiling = 2\n\n[profile_overrides.ladder]\n'
                      'agent_minutes = "five"\n', encoding="utf-8")
    code, out, err = run(capsys, "--config", str(config), "--db", str(tmp_path / "c.db"), "case", "list")
    # told in the console's language (zh by default): the file and line the user wrote, then the setting
    assert code == 2 and err.startswith(f"agent-console: {config}:7：profile_overrides.ladder.agent_minutes：应为整数")
    assert "insurance.toml" not in err


def test_toml_errors_carry_their_line_on_every_python() -> None:
    import tomllib

    try:
        tomllib.loads('a = 1\nb = 2\n\nc = "open\n')
    except tomllib.TOMLDecodeError as exc:
        assert toml_error_line(exc) == 4


def test_a_config_file_syntax_error_has_its_line(capsys, tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('agent = "a1"\nteam = "t1"\nlang = zh\n', encoding="utf-8")
    code, _, err = run(capsys, "--config", str(config), "--db", str(tmp_path / "c.db"), "case", "list")
    assert code == 2 and f"{config}:3: " in err
