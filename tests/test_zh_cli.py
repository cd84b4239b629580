"""Every CLI command's human output in Chinese: no English (issue 15). JSON stays the scripts' English interface;
argparse's own --help pages are Python's and not checked here."""

from __future__ import annotations

import json
import re

from pathlib import Path

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
    ["reference"],
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


# -- failures (issue 15): what comes from the centre, the phone listener or a bad option, told by key ---------------
def _fake_postgres(tmp_path) -> str:
    """A server that speaks PostgreSQL's protocol just far enough to refuse a password, as a real centre would
    (SQLSTATE 28P01); the test cluster trusts every login, so a wrong password cannot be had from it."""
    import socket
    import struct
    import threading

    server = socket.create_server(("127.0.0.1", 0))

    def one(conn: socket.socket) -> None:
        with conn:
            while True:  # SSLRequest / GSSENCRequest first: "no"; then the startup message
                size, code = struct.unpack("!ii", conn.recv(8))
                if code in (80877103, 80877104):
                    conn.sendall(b"N")
                    continue
                conn.recv(size - 8)
                break
            conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # cleartext password, please
            conn.recv(4096)
            fields = b"SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user \"a-wang\"\0\0"
            conn.sendall(b"E" + struct.pack("!i", len(fields) + 4) + fields)

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return f"postgresql://a-wang:wrong@127.0.0.1:{server.getsockname()[1]}/centre"


def _refusing_listener(status: int, error: str) -> str:
    """An HTTP listener that answers every event with `status` (a console with another token, a busy one)."""
    import http.server
    import threading

    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps({"error": error}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"127.0.0.1:{server.server_address[1]}"


def _pg_database(pg_url: str, install: bool = False) -> str:
    """A fresh database on the test cluster (no centre installed in it unless `install`)."""
    import uuid

    import psycopg

    name = "t_" + uuid.uuid4().hex[:10]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return pg_url.rsplit("/", 1)[0] + "/" + name


# (argv, exit code, words the zh message must have, words the en message must have); {pg} is the test cluster,
# {fake_pg} the password-refusing server, {db} the test's database folder, {number} an open case
FAILURES = [
    (["sync", "--once", "--central", "postgresql://a-wang@127.0.0.1:1/centre"], 1, "连不上中心 127.0.0.1:1",
     "cannot be reached"),
    (["sync", "--once", "--central", "{fake_pg}"], 1, "密码不对", "wrong password"),
    (["sync", "--once", "--central", "{pg_nobody}"], 1, "没有登录名“nobody”", 'has no login "nobody"'),
    (["sync", "--once", "--central", "{pg_nodb}"], 1, "没有数据库“nodb_here”", 'has no database "nodb_here"'),
    (["sync", "--once", "--central", "{pg_empty}"], 1, "中心库还没有安装", "the centre is not installed"),
    (["sync", "--once", "--central", "postgresql://a-wang@nohost.invalid/centre"], 1, "找不到中心的主机",
     "cannot be found"),
    (["sync", "--once", "--central", "mysql://centre"], 2, "不认识中心地址", "unknown central URL"),
    (["sync", "--once", "--central", "sqlite:////proc/nowhere/central.db"], 1, "打不开嵌入式中心文件",
     "cannot be opened"),
    (["sync", "--once", "--retry-refused", "--central", "sqlite:///{db}/central.db"], 0, "以“a-li”的名义记录",
     'written in the name of "a-li"'),
    (["sync", "--quarantine", "--central", "sqlite:///{db}/central.db"], 0, "登记内容不合常理", "implausible registration"),
    (["sync", "--conflicts", "--role", "agent"], 3, "只有班长", "only a team lead"),
    (["central", "init", "postgresql://a-wang@127.0.0.1:1/centre"], 2, "中心安装失败：连不上中心", "central init: "),
    (["central", "add-user", "{pg_empty}", "someone", "--teams", ","], 2, "请至少写一个团队",
     "name at least one team"),
    (["report", "kpi", "--role", "agent"], 3, "只有班长", "only a team lead"),
    (["report", "kpi", "--period", "2026-13"], 2, "请写年-月", "write a month as YYYY-MM"),
    (["report", "kpi", "--period", "garbage"], 2, "请写年-月", "write a month as YYYY-MM"),
    (["report", "kpi", "--period", "2026-11-30..2026-11-01"], 2, "早于起日", "is before the start"),
    (["report", "kpi", "--period", "2026-11-01..11/30"], 2, "两个日期", "two dates"),
    (["report", "monthly", "--period", "2026-1"], 2, "请写年-月", "write a month as YYYY-MM"),
    (["sample", "--month", "2026-13"], 2, "请写年-月", "write a month as YYYY-MM"),
    (["call", "ring", "--from", "17012345678"], 2, "没有控制台在接收来电事件", "no console is listening"),
    (["call", "ring", "--from", "17012345678", "--config", "{db}/down.toml"], 2, "的控制台没有应答",
     "does not answer"),
    (["call", "ring", "--from", "17012345678", "--config", "{db}/refusing.toml"], 1, "令牌不对", "invalid token"),
    (["callback", "new", "{number}", "tomorrow 99pm"], 2, "不是有效时刻", "is not a time of day"),
    (["callback", "new", "{number}", "2020-01-01 10:00"], 2, "已经过去了", "has already passed"),
    (["publish", "calendar", "{tests}/data/CN-2027-test.toml", "--central", "sqlite:///{db}/central.db"], 0,
     "已发布日历“CN-2027-test.toml”", "published calendar CN-2027-test.toml"),
    (["calendar", "load", "{db}/monday.toml"], 2, "调休上班日只能是周六或周日", "a makeup workday is a Saturday"),
    (["publish", "calendar", "{db}/monday.toml", "--central", "sqlite:///{db}/central.db"], 2,
     "调休上班日只能是周六或周日", "a makeup workday is a Saturday"),
    (["publish", "calendar", "{db}/x.toml", "--central", "mysql://centre"], 2, "不认识中心地址",
     "unknown central URL"),
    (["publish", "calendar", "{db}/x.toml", "--central", "sqlite:////proc/nowhere/central.db"], 2,
     "打不开嵌入式中心文件", "cannot be opened"),
]


@pytest.fixture
def failing_db(tmp_path, clock, request):
    """The demo database, with what makes a sync or a listing fail: an event written in another agent's name (the
    centre refuses it) and a pulled registration kept aside; config files naming a phone listener that is down or
    refuses the token."""
    from agent_console.core.case_query import CaseQuery

    ws = make_workspace(tmp_path, clock, name="cli.db", agent="a-wang", role="lead")
    generate(ws, cases=20, seed=7)
    number = ws.list_cases(CaseQuery(open_only=True, limit=1))[0]["number"]
    case = ws.find(number)
    ws.store.append([ws.event("progress_noted", case.id, {"note": "x"}).model_copy(update={"actor": "a-li"})],
                    ws.lifecycle, strict=False)
    ws.store.conn.execute("INSERT INTO sync_quarantine (event_id, seq, reason, row, at) VALUES (?, ?, ?, ?, ?)",
                          ("e-1", 7, "implausible registration: complainant.phone: not a phone number", "[]",
                           "2026-11-24T09:00:00+00:00"))
    ws.store.conn.commit()
    ws.close()
    (tmp_path / "down.toml").write_text(f'[cti]\nlisten = "{tmp_path}/nobody.sock"\ntoken = "{"t" * 16}"\n')
    (tmp_path / "refusing.toml").write_text(f'[cti]\nlisten = "{_refusing_listener(403, "invalid token")}"\n'
                                            f'token = "{"t" * 16}"\n')
    (tmp_path / "x.toml").write_text("")
    (tmp_path / "monday.toml").write_text('year = 2027\nstatus = "official"\nsource = "x"\npublished = 2026-11-01\n'
                                          '[[workday]]\ndate = 2027-01-04\n')
    return tmp_path, number


@pytest.mark.parametrize("command, code, zh, en", FAILURES, ids=lambda c: " ".join(c) if isinstance(c, list) else "")
def test_cli_failures_are_chinese_and_english_complete(capsys, failing_db, command, code, zh, en,
                                                       request) -> None:
    folder, number = failing_db
    values = {"db": str(folder), "number": number, "tests": str(Path(__file__).parent)}
    if "{fake_pg}" in command:
        values["fake_pg"] = _fake_postgres(folder)
    if any(part.startswith("{pg_") for part in command):
        pg_url = request.getfixturevalue("pg_url")
        values |= {"pg_nobody": pg_url.replace("postgres@", "nobody@", 1),
                   "pg_nodb": pg_url.rsplit("/", 1)[0] + "/nodb_here", "pg_empty": _pg_database(pg_url)}
    argv = [part.format(**values) for part in command]
    common = ["--db", str(folder / "cli.db"), "--agent", "a-wang"] + ([] if "--role" in argv else ["--role", "lead"])
    for lang, words in (("zh", zh), ("en", en)):
        got = main(argv + common + ["--lang", lang])
        out, err = capsys.readouterr()
        text = out + err
        assert got == code, (lang, text)
        assert words in text, (lang, text)
        assert "Traceback" not in text
        if lang == "zh":
            # what the test typed (URLs, files, options) may show; nothing else in Latin letters
            typed = {p for part in argv + common + [str(folder / "nobody.sock")] for p in re.split(r"[^A-Za-z]+", part) if p}
            bad = [line for line in text.splitlines() if latin_runs(line, typed | ALLOWED_FAILURE_WORDS)]
            assert not bad, f"English in `{' '.join(argv)}`:\n" + "\n".join(bad[:10])


# the words a message may carry because the user types them: commands to run, settings to set, HTTP
ALLOWED_FAILURE_WORDS = {"agent", "console", "central", "add", "user", "init", "lang", "lead", "role", "period",
                         "month", "cti", "listen", "token", "HTTP", "sqlite", "postgresql", "LOGIN", "PASSWORD",
                         "HOST", "DB", "db"}
