"""Imports are all-or-nothing per row and never guess an encoding; an export re-imports as it is."""

from __future__ import annotations

import json

from tests.test_cli import run

HEADER = "received_at,channel,category,name,title,phone,facts,request\n"


def _row(i: int) -> str:
    return f"2026-11-20T09:00:00+08:00,email,理赔,张三,先生,170{i:08d},第{i}封来信：理赔迟迟不到,尽快赔付\n"


def test_two_bad_bytes_refuse_their_row_only_and_nothing_is_garbled(capsys, tmp_path) -> None:
    db = str(tmp_path / "i.db")
    body = "".join(_row(i) for i in range(1, 10_001)).encode("utf-8")
    line_5000 = _row(5000).encode("utf-8")
    broken = line_5000.replace("理赔迟迟".encode(), b"\xff\xfe", 1)
    path = tmp_path / "letters.csv"
    path.write_bytes(HEADER.encode() + body.replace(line_5000, broken))
    code, out, _ = run(capsys, "import", str(path), "--json", "--db", db)
    result = json.loads(out)
    assert code == 1 and len(result["imported"]) == 9_999
    column = broken.index(b"\xff") + 1
    assert result["errors"] == [f"{path}:5001: byte 0xff at column {column} is not UTF-8 "
                                "(if the file is in another encoding, say which: --encoding gb18030)"]
    code, out, _ = run(capsys, "case", "show", result["imported"][0], "--json", "--db", db)
    assert json.loads(out)["complainant"]["name"] == "张三"  # not 寮犱笁


def test_a_gb18030_file_imports_only_when_said_so(capsys, tmp_path) -> None:
    db = str(tmp_path / "i.db")
    path = tmp_path / "old_office.csv"
    path.write_bytes((HEADER + _row(1) + _row(2)).encode("gb18030"))
    code, out, _ = run(capsys, "import", str(path), "--json", "--db", db)
    result = json.loads(out)
    assert code == 1 and result["imported"] == [] and [e.split(": ")[0] for e in result["errors"]] == [
        f"{path}:2", f"{path}:3"]
    code, out, _ = run(capsys, "import", str(path), "--json", "--encoding", "gb18030", "--db", db)
    imported = json.loads(out)["imported"]
    assert code == 0 and len(imported) == 2
    code, out, _ = run(capsys, "case", "show", imported[0], "--json", "--db", db)
    assert json.loads(out)["complainant"]["name"] == "张三"


def test_utf8_with_a_bom_imports(capsys, tmp_path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + _row(1)).encode("utf-8"))
    code, out, err = run(capsys, "import", str(path), "--json", "--db", str(tmp_path / "i.db"))
    assert code == 0, out + err


def test_an_unclosed_quote_is_reported_with_its_line(capsys, tmp_path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text(HEADER + _row(1) + _row(2).replace("第2封", '"第2封') + _row(3), encoding="utf-8")
    code, out, err = run(capsys, "import", str(path), "--json", "--db", str(tmp_path / "i.db"))
    result = json.loads(out)
    assert code == 1 and len(result["imported"]) == 1 and "Traceback" not in err
    assert result["errors"] == [f"{path}:3: a quote (\") opened on this line is never closed; nothing after it was "
                                "read"]


def test_extra_fields_and_unknown_columns_are_reported(capsys, tmp_path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text(HEADER + _row(1) + _row(2).rstrip("\n") + ",多出来的\n", encoding="utf-8")
    code, out, _ = run(capsys, "import", str(path), "--json", "--db", str(tmp_path / "i.db"))
    result = json.loads(out)
    assert code == 1 and len(result["imported"]) == 1
    assert result["errors"] == [f"{path}:3: 9 fields, the header has 8"]
    path.write_text(HEADER.replace("request", "request,wish") + _row(1), encoding="utf-8")
    code, out, _ = run(capsys, "import", str(path), "--json", "--db", str(tmp_path / "j.db"))
    assert code == 1 and "unknown column(s) wish" in json.loads(out)["errors"][0]


def test_an_export_reimports_as_it_is(capsys, tmp_path) -> None:
    first, lead = str(tmp_path / "first.db"), ["--role", "lead"]
    path = tmp_path / "cases.csv"
    path.write_text("received_at,channel,category,name,title,phone,id_number,facts,request,amount,flags\n"
                    '2026-11-20T09:00:00+08:00,email,收付费,周杰,先生,17011112222,P123456789012,"重复扣费, ""两次""\n'
                    '第二行 [/] 价格",退款,120.50,"media,repeat"\n', encoding="utf-8")
    code, out, err = run(capsys, "import", str(path), "--json", "--db", first)
    assert code == 0, out + err
    keys = ("received_at", "channel", "category", "complexity", "complainant", "respondent", "facts", "request",
            "amount", "flags")
    code, original, _ = run(capsys, "export", "--unmask", *lead, "--format", "jsonl", "--db", first)
    want = {k: json.loads(original)[k] for k in keys}
    for fmt in ("jsonl", "csv"):
        code, text, _ = run(capsys, "export", "--unmask", *lead, "--format", fmt, "--db", first)
        again = tmp_path / f"again.{fmt}"
        again.write_text(text, encoding="utf-8")
        second = str(tmp_path / f"second-{fmt}.db")
        code, out, err = run(capsys, "import", str(again), "--json", "--db", second)
        assert code == 0, out + err
        code, out, _ = run(capsys, "export", "--unmask", *lead, "--format", "jsonl", "--db", second)
        assert {k: json.loads(out)[k] for k in keys} == want, fmt
