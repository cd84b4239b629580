"""The database on a bad day, from the CLI: busy, read-only, damaged, full; messages and exit codes, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

from tests import faults
from tests.latin import latin_runs
from tests.test_cli import NEW, run


def chinese_only(err: str, db: Path) -> bool:
    """The message has no English word (the file's path and the --db option aside)."""
    assert "Traceback" not in err
    found = latin_runs(err, {*db.parts, "db", "MB"})
    assert not found, (found, err)
    return True


def _db(capsys, monkeypatch, tmp_path: Path) -> Path:
    db = tmp_path / "bad.db"
    code, _, err = run(capsys, "--db", str(db), "case", "new", stdin=json.dumps(NEW), monkeypatch=monkeypatch)
    assert code == 0, err
    return db


def _new(capsys, monkeypatch, db: Path) -> tuple[int, str, str]:
    return run(capsys, "--db", str(db), "case", "new", stdin=json.dumps(NEW), monkeypatch=monkeypatch)


def test_busy_is_a_message_to_try_again(capsys, monkeypatch, tmp_path) -> None:
    db = _db(capsys, monkeypatch, tmp_path)
    with faults.locked(db):
        code, out, err = _new(capsys, monkeypatch, db)
        assert code == 75 and out == "" and "正忙" in err and "稍等再试" in err and chinese_only(err, db)
        code, out, err = run(capsys, "--db", str(db), "--lang", "en", "case", "new", stdin=json.dumps(NEW),
                             monkeypatch=monkeypatch)
    assert code == 75 and out == "" and "is busy: another program" in err and "Traceback" not in err
    code, out, err = _new(capsys, monkeypatch, db)
    assert code == 0, err


def test_a_read_only_file_opens_for_reading_and_refuses_writes_with_the_reason(capsys, monkeypatch, tmp_path) -> None:
    db = _db(capsys, monkeypatch, tmp_path)
    with faults.read_only(db):
        code, out, err = run(capsys, "--db", str(db), "case", "list", "--json")
        assert code == 0 and len(json.loads(out)) == 1
        code, out, err = run(capsys, "--db", str(db), "phrase", "search", "道歉", "--json")
        assert code == 0, err
        code, out, err = _new(capsys, monkeypatch, db)
        assert code == 4 and out == "" and "只读" in err and chinese_only(err, db)
        assert "恢复备份" not in err
        code, out, err = run(capsys, "--db", str(db), "--lang", "en", "case", "new", stdin=json.dumps(NEW),
                             monkeypatch=monkeypatch)
    assert code == 4 and out == "" and "read-only" in err
    assert "not usable" not in err and "restore a backup" not in err and "Traceback" not in err


def test_a_new_db_in_a_read_only_folder_is_a_message(capsys, tmp_path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    with faults.read_only(folder):
        code, out, err = run(capsys, "--db", str(folder / "new.db"), "case", "list", "--json")
        assert code == 4 and "无法创建数据库" in err and chinese_only(err, folder / "new.db")
        code, out, err = run(capsys, "--db", str(folder / "new.db"), "--lang", "en", "case", "list", "--json")
    assert code == 4 and "cannot create the database" in err and "Traceback" not in err


def test_a_damaged_file_says_which_check_failed_and_is_kept(capsys, monkeypatch, tmp_path) -> None:
    db = _db(capsys, monkeypatch, tmp_path)
    faults.damage(db)
    before = db.read_bytes()
    code, out, err = run(capsys, "--db", str(db), "case", "list", "--json")
    assert code == 5 and "已损坏" in err and "SQLite 自检" in err and chinese_only(err, db)
    code, out, err = run(capsys, "--db", str(db), "--lang", "en", "case", "list", "--json")
    assert code == 5 and "damaged" in err and "quick_check" in err
    assert "--db NEW.db" in err and "Traceback" not in err
    assert db.read_bytes() == before  # kept as it was, for repair


def test_a_full_disk_refuses_the_write_and_says_how_much_space(capsys, monkeypatch, tmp_path) -> None:
    db = _db(capsys, monkeypatch, tmp_path)
    faults.disk_full(monkeypatch)
    big = dict(NEW, facts="理赔" * 9_000)
    code, out, err = run(capsys, "--db", str(db), "case", "new", stdin=json.dumps(big), monkeypatch=monkeypatch)
    assert code == 4 and "磁盘已满" in err and "腾出至少" in err and " MB" in err and chinese_only(err, db)
    code, out, err = run(capsys, "--db", str(db), "--lang", "en", "case", "new", stdin=json.dumps(big),
                         monkeypatch=monkeypatch)
    assert code == 4 and "disk is full" in err and "free at least" in err and " MB" in err and "Traceback" not in err
    monkeypatch.undo()
    code, out, _ = run(capsys, "--db", str(db), "case", "list", "--json")
    assert len(json.loads(out)) == 1  # nothing half-written
