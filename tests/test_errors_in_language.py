"""Errors from the store, the files and the CLI are told in the console's language (issue 14): each failure below,
run on the zh default, says no English word (tests/latin.py), and with --lang en the English is complete.

On the old code every one of these was English on a Chinese console: `case new` validation ("facts: Input should be
a valid string"), `case act:` prefixes and "no field --x", the closures file's details, `check`'s problems."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from agent_console.core.errors import Said
from agent_console.core.shipped import shipped_locale_dir
from agent_console.support.i18n import Translator
from tests.latin import latin_runs
from tests.test_cli import NEW, run


def chinese(err: str, *allowed: str) -> str:
    """`err` with its message, asserting it has no English word but what the user typed or a file's path."""
    assert err.strip() and "Traceback" not in err
    paths = {part for word in allowed for part in Path(word).parts} | set(allowed)
    found = latin_runs(err, paths | {"db", "JSON", "UTF", "MB"})
    assert not found, (found, err)
    return err


def test_case_new_problems_in_chinese_and_in_english(capsys, monkeypatch, tmp_path) -> None:
    db = str(tmp_path / "c.db")
    bad = dict(NEW, facts=3, received_at="2026-09-30T10:00:00", category="天气", typo=1)
    code, _, err = run(capsys, "--db", db, "case", "new", stdin=json.dumps(bad), monkeypatch=monkeypatch)
    assert code == 2 and "登记案件" in chinese(err, db, "typo") and "主要事实：应为文字" in err
    assert "typo：不是案件的字段" in err and "受理时间：时间要带时区" in err
    bad = dict(NEW, category="天气")
    code, _, err = run(capsys, "--db", db, "case", "new", stdin=json.dumps(bad), monkeypatch=monkeypatch)
    assert code == 2 and "投诉类别：" in chinese(err, db) and "天气" in err
    code, _, err = run(capsys, "--db", db, "case", "new", stdin=json.dumps(dict(NEW, facts="长" * 30_000)),
                       monkeypatch=monkeypatch)
    assert code == 2 and "主要事实：内容过长（30,000 字" in chinese(err, db)
    for stdin, words in (("", "什么也没有"), ("[1]", "JSON 对象"), ('{"a": ', "不是有效的 JSON")):
        code, _, err = run(capsys, "--db", db, "case", "new", stdin=stdin, monkeypatch=monkeypatch)
        assert code == 2 and words in chinese(err, db)
    # the English is still complete
    bad = dict(NEW, facts=3, received_at="2026-09-30T10:00:00", typo=1)
    code, _, err = run(capsys, "--db", db, "--lang", "en", "case", "new", stdin=json.dumps(bad),
                       monkeypatch=monkeypatch)
    assert code == 2 and err.startswith("agent-console: case new: ")
    assert "facts: must be text" in err and "typo: not a field of a case" in err
    assert "received_at: needs a timezone offset, e.g. 2026-11-24T09:30:00+08:00" in err
    code, _, err = run(capsys, "--db", db, "--lang", "en", "case", "new", stdin="", monkeypatch=monkeypatch)
    assert "case new: expected one JSON object on stdin, got nothing" in err


def test_case_act_problems_in_chinese_and_in_english(capsys, monkeypatch, tmp_path) -> None:
    db = str(tmp_path / "c.db")
    code, out, err = run(capsys, "--db", db, "case", "new", stdin=json.dumps(NEW), monkeypatch=monkeypatch)
    number = json.loads(out)["number"]
    tries = [
        (["closed"], "办理案件未完成：--outcome：必填"),
        (["closed", "--bogus", "x"], "没有字段 --bogus"),
        (["closed", "--outcome"], "--outcome 后面缺少值"),
        (["closed", "oops"], "应为 --字段 值"),
        (["frobnicate"], "没有“frobnicate”这个操作"),
        (["closed", "--outcome", "x"], "不在可选项中"),
    ]
    for extra, words in tries:
        code, _, err = run(capsys, "--db", db, "case", "act", number, *extra)
        # the action and field ids are what the user types: allowed
        ids = {"bogus", "oops", "frobnicate", "outcome", "causes", "stage", "report", "settled", "paid", "amount",
               "fault", "description", *re.findall(r"[a-z_]+", err.split("可用：")[-1])}
        assert code == 2 and words in chinese(err, db, *ids), err
    code, _, err = run(capsys, "--db", db, "case", "act", "2609-ZZZ-999", "closed")
    assert code == 1 and "没有案件" in chinese(err, db)
    code, _, err = run(capsys, "--db", db, "--lang", "en", "case", "act", number, "closed")
    assert code == 2 and "case act: --outcome: required" in err
    code, _, err = run(capsys, "--db", db, "--lang", "en", "case", "act", number, "closed", "--bogus", "x")
    assert "case act: closed has no field --bogus (its fields: --outcome" in err


def test_closures_file_and_check_problems_in_chinese_and_in_english(capsys, monkeypatch, tmp_path) -> None:
    db = str(tmp_path / "c.db")
    closures = tmp_path / "closures.toml"
    monkeypatch.setenv("AGENT_CONSOLE_CALENDAR_FILE", str(closures))
    cases = [
        ('[[closed]]\ndate = "2026-12-10"\n[[working]]\ndate = "2026-12-10"\n', ":4: ", "既列为休息又列为上班",
         "2026-12-10 is listed both as closed and as working"),
        ('[[closed]]\ndate = 2026-13-01x\n', ":2: ", "语法错误", "(at line 2"),
        ('[[closed]]\nnote = "x"\n', ":1: ", "缺少日期", "[[closed]] entry 1 needs date = YYYY-MM-DD"),
    ]
    for text, line, zh, en in cases:
        closures.write_text(text, encoding="utf-8")
        code, out, err = run(capsys, "--db", db, "check")
        assert code == 1 and f"{closures}{line}" in out and zh in chinese(out, str(closures), "closed", "date")
        code, _, err = run(capsys, "--db", db, "case", "list")
        assert f"{closures}{line}" in err and zh in chinese(err, str(closures), "closed", "date")
        code, out, _ = run(capsys, "--db", db, "--lang", "en", "check")
        assert code == 1 and f"{closures}{line}" in out and en in out
        code, out, _ = run(capsys, "--db", db, "check", "--json")  # the scripts' JSON stays English
        assert en in json.loads(out)["problems"][0]
    closures.write_bytes(b'[[closed]]\nnote = "\xff"\n')
    code, out, _ = run(capsys, "--db", db, "check")
    assert code == 1 and f"{closures}:2: 不是 UTF-8 编码" in chinese(out, str(closures), "closed", "date")


def test_a_keymap_problem_in_check_is_in_chinese(capsys, monkeypatch, tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keymap]\nnew_intak = "f9"\n', encoding="utf-8")
    code, out, _ = run(capsys, "--db", str(tmp_path / "c.db"), "--config", str(config), "check")
    assert code == 1 and "没有这个按键编号“new_intak”（是不是 new_intake" in out
    assert chinese(out.split("（是不是")[0], "new_intak")
    code, out, _ = run(capsys, "--db", str(tmp_path / "c.db"), "--config", str(config), "--lang", "en", "check")
    assert "unknown key binding id 'new_intak' (did you mean new_intake" in out


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"{(\w+)", text))


def test_every_error_has_words_in_both_languages_with_no_unknown_parameter() -> None:
    tables = {}
    for lang in ("zh", "en"):
        flat: dict[str, str] = {}

        def walk(prefix: str, node: dict) -> None:
            for key, value in node.items():
                (walk(f"{prefix}{key}.", value) if isinstance(value, dict) else flat.__setitem__(prefix + key, value))

        walk("", tomllib.loads((shipped_locale_dir() / lang / "errors.toml").read_text(encoding="utf-8")))
        tables[lang] = flat
    assert tables["zh"].keys() == tables["en"].keys()
    for key, zh in tables["zh"].items():
        assert _placeholders(zh) <= _placeholders(tables["en"][key]), key  # zh may leave out English details
        # what the user types stays as typed: options, file syntax, a command to run
        typed = (r"--role lead|{\w+}|--\w+|\[\[\w+\]\]|date = |central = |true|false|agent-console [\w .-]+|"
                 r"\b(?:id|text|phrase|say_instead|block|include|placeholders)\b|"
                 # the keys of an official year's schedule file, as typed in it
                 r"\b(?:year|country|status|source|published|url|number|name_en|name|from|to|date|note|CN)\b")
        assert not latin_runs(re.sub(typed, "", zh),
                              {"SQLite", "UTF", "JSON", "MB", "db", "jsonl", "csv", "gb", "d", "h", "m"}), (key, zh)


def test_a_said_error_renders_nested_parameters_and_survives_a_thread_copy() -> None:
    import pickle

    from agent_console.store.local import StoreDamaged

    e = StoreDamaged("db.damaged", path="/x/a.db", check=Said("db.check_pages", pages="3", detail="Page 3: bad"))
    again = pickle.loads(pickle.dumps(e))
    assert type(again) is StoreDamaged and again.kind == "damaged" and again.params["check"].key == "db.check_pages"
    assert "第 3 页损坏" in Translator("zh").error(again) and "Page 3" not in Translator("zh").error(again)
    assert str(e) == Translator("en").error(e) and "quick_check failed on page 3: Page 3: bad" in str(e)


def test_import_problems_in_chinese_with_their_lines_and_in_english(capsys, monkeypatch, tmp_path) -> None:
    """The import's bad rows were English on a Chinese console ("byte 0xff at column 69 is not UTF-8")."""
    db = str(tmp_path / "c.db")
    header = "received_at,channel,category,name,title,phone,facts,request\n"
    good = "2026-11-20T09:00:00+08:00,email,收付费,周杰,先生,17011112222,重复扣费,退款\n"
    files = {
        "bytes.csv": (header + good).encode() + "2026-11-20T09:00:00+08:00,email,收付费,周杰,先生,1701111,".encode()
        + b"\xff\xfe,x\n",
        "quote.csv": (header + '2026-11-20T09:00:00+08:00,email,收付费,"周杰,先生,17011112222,x,y\n').encode(),
        "extra.csv": (header.strip() + ",colour\n" + good.strip() + ",red\n").encode(),
        "rows.jsonl": ('{"facts": 3, "category": "天气"}\n{"broken\n').encode(),
    }
    expected = {"bytes.csv": (":3: ", "不是 UTF-8 编码", "is not UTF-8"),
                "quote.csv": (":2: ", "引号", "a quote"),
                "extra.csv": (":1: ", "不认识的列：colour", "unknown column(s) colour"),
                "rows.jsonl": (":1: ", "主要事实：应为文字", "facts: must be text")}
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        line, zh, en = expected[name]
        code, out, err = run(capsys, "--db", db, "import", str(path))
        assert code == 1 and f"{path}{line}" in err and zh in err, err
        problems = err.split("\n")[:-1]
        chinese("\n".join(problems), str(path), "colour", "received_at", "channel", "category", "complexity", "name",
                "title", "phone", "id_number", "respondent", "facts", "request", "amount", "flags", "encoding", "gb", "xff")
        code, out, err = run(capsys, "--db", db, "--lang", "en", "import", str(path))
        assert code == 1 and f"{path}{line}" in err and en in err, err
        code, out, _ = run(capsys, "--db", db, "import", str(path), "--json")
        assert en in json.loads(out)["errors"][0]  # the scripts' JSON stays English


def test_other_command_refusals_in_chinese_and_in_english(capsys, monkeypatch, tmp_path) -> None:
    db = str(tmp_path / "c.db")
    tries = [(["demo", "--cases", "0"], "至少为 1", "--cases must be at least 1"),
             (["phrase", "search", "道歉", "--set", "x"], "请写成 名称=值", "use NAME=VALUE"),
             (["sync", "--once"], "没有设置中心库", "no central store configured"),
             (["publish", "calendar", "x.toml"], "没有设置中心库", "no central store configured"),
             (["case", "list", "--due-within", "3x"], "看不懂时长", "cannot read duration '3x'")]
    for argv, zh, en in tries:
        code, _, err = run(capsys, "--db", db, *argv)
        assert code == 2 and zh in chinese(err, db, "cases", "set", "central", "due", "within"), (argv, err)
        code, _, err = run(capsys, "--db", db, "--lang", "en", *argv)
        assert code == 2 and en in err, (argv, err)


def test_phrasebook_problems_in_check_are_in_chinese_with_their_lines(capsys, monkeypatch, tmp_path) -> None:
    """A lead's phrasebook error was English on a Chinese console ("Expected ']]' … (file left out)")."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "bad.toml").write_text('[[entry]]\nid = "x.1"\n\n\n\n\n\n[[entry]\n', encoding="utf-8")
    (book / "dup.toml").write_text('[[entry]]\nid = "y.1"\nsituation = "s"\ntitle = "t"\ntext = "您好"\n\n'
                                   '[[entry]]\nid = "y.1"\nsituation = "s"\ntitle = "t"\ntext = "您好"\n',
                                   encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'phrasebook_dirs = ["{book}"]\n', encoding="utf-8")
    code, out, _ = run(capsys, "--db", str(tmp_path / "c.db"), "--config", str(config), "check")
    assert code == 1 and f"{book / 'bad.toml'}:8: 语法错误" in out and f"{book / 'dup.toml'}:7: 话术编号“y.1”重复" in out
    problems = "\n".join(line for line in out.splitlines() if str(book) in line)
    chinese(problems, str(book / "bad.toml"), str(book / "dup.toml"))
    code, out, _ = run(capsys, "--db", str(tmp_path / "c.db"), "--config", str(config), "--lang", "en", "check")
    assert f"{book / 'bad.toml'}:8: Expected" in out and "(file left out)" in out and "duplicate id 'y.1'" in out


def test_every_refusal_reason_a_console_or_the_centre_gives_has_words() -> None:
    """The reasons travel as English text (core/event_checks.py, the centre's SQL verdicts, the embedded centre);
    core.sync_reasons tells each by key. A reason written anywhere in those files that has no key would reach a
    Chinese console as English (issue 15): every literal one is found here and must be known."""
    from agent_console.core.sync_reasons import told_reason

    root = Path(__file__).parent.parent / "agent_console"
    sources = [root / "core" / "event_checks.py", root / "sync" / "central.py", root / "sync" / "sqlite_central.py",
               root / "sync" / "schema_pg.sql"]
    found = set()
    for path in sources:
        text = path.read_text(encoding="utf-8")
        starts = r"(?:malformed|implausible registration|the case|nobody|registered for)"
        found |= {m for q in "\"'" for m in re.findall(f"{q}({starts}[^{q}{{|]*){q}", text)
                  if not m.endswith((": ", ":"))}
    assert len(found) > 15, found
    samples = found | {"written in the name of 'a-li', not 'a-wang'", "only a lead of team 'team-1' may record x",
                       "malformed: registered: complainant.phone: Value error, not a phone number",
                       "malformed: progress_noted: note: not text", "implausible registration: phone: too short"}
    zh, en = Translator("zh"), Translator("en")
    for reason in samples:
        said = told_reason(reason)
        assert said.key != "refused.other", reason
        assert not latin_runs(zh.error(said), {"a-li", "a-wang", "team-1", "x", "registered", "progress_noted"}), \
            (reason, zh.error(said))
        assert en.error(said)
    assert told_reason("something new").key == "refused.other" and "something new" in zh.error(told_reason(
        "something new"))
