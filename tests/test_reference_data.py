"""Reference data from the centre: a lead publishes the team's calendar year, profile overrides and phrasebook files;
every console of the team pulls them at sync, applies them atomically, recomputes its open cases and shows the
version in use; a broken file never leaves the lead's console; offline, the last good version stays."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent_console.cli import main
from agent_console.sync.central import Identity
from agent_console.sync.reference import NotALead
from agent_console.sync.sqlite_central import SqliteCentral
from tests.conftest import FakeClock, make_workspace
from tests.test_lifecycle import sample_case

TZ = ZoneInfo("Asia/Shanghai")
TEST_2027 = Path(__file__).parent / "data" / "CN-2027-test.toml"


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_two_consoles_of_one_team_show_the_same_deadlines_after_a_lead_publishes(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'central.db'}"
    clock = FakeClock(datetime(2027, 1, 25, 10, 0, tzinfo=TZ))  # 15 working days run into the Spring Festival
    a = make_workspace(tmp_path, clock, name="a.db", agent="a1", central=url)
    case = a.register(sample_case(complexity="complex"))
    projected = case.clocks["resolve"].due
    a.close()
    console = {"a": ["--db", str(tmp_path / "a.db"), "--agent", "a1", "--central", url],
               "b": ["--db", str(tmp_path / "b.db"), "--agent", "b1", "--central", url],
               "lead": ["--db", str(tmp_path / "lead.db"), "--agent", "lead-1", "--role", "lead", "--central", url]}
    assert cli(capsys, "sync", "--once", *console["a"])[0] == 0
    assert cli(capsys, "sync", "--once", *console["b"])[0] == 0

    # a broken file never reaches the centre; an agent cannot publish
    broken = tmp_path / "CN-2027.toml"
    broken.write_text(TEST_2027.read_text(encoding="utf-8").replace("date = 2027-01-30", "date = 2027-01-29"),
                      encoding="utf-8")
    code, _, err = cli(capsys, "publish", "calendar", str(broken), *console["lead"])
    line = next(i for i, l in enumerate(broken.read_text(encoding="utf-8").splitlines(), 1) if "01-29" in l)
    assert code == 2 and f"CN-2027.toml:{line}:" in err and "没有发布任何内容" in err
    code, _, err = cli(capsys, "publish", "calendar", str(TEST_2027), *console["a"])
    assert code == 2 and "只有班长" in err
    with pytest.raises(NotALead):  # nor by going round the command: the centre itself refuses
        SqliteCentral(url, Identity("a1", "agent", ("team-1",))).publish_reference("team-1", "calendar", "x.toml",
                                                                                   TEST_2027.read_text())

    code, out, _ = cli(capsys, "publish", "calendar", str(TEST_2027), "--json", *console["lead"])
    assert code == 0 and json.loads(out)["version"] == 1 and json.loads(out)["published_by"] == "lead-1"

    for name in ("a", "b"):
        code, out, err = cli(capsys, "sync", "--once", *console[name])
        assert code == 0 and "日历“CN-2027-test.toml”第 1 版" in out
    dues = {}
    for name in ("a", "b"):
        ws = make_workspace(tmp_path, clock, name=f"{name}.db", agent=f"{name}1", central=url)
        assert ws.stale_reasons == [] and ws.calendar.year_status(2027) == "official"
        dues[name] = ws.case(case.id).clocks["resolve"].due
        ws.close()
    assert dues["a"] == dues["b"] != projected
    code, out, _ = cli(capsys, "reference", "--json", *console["b"])
    assert json.loads(out)["in_use"] == [{"kind": "calendar", "name": "CN-2027-test.toml", "version": 1,
                                          "published_by": "lead-1",
                                          "published_at": json.loads(out)["in_use"][0]["published_at"]}]

    # overrides: a fractional length is refused at publish time; a good one moves both consoles' deadlines
    overrides = tmp_path / "team-overrides.toml"
    overrides.write_text("[clocks.resolve.length]\ncomplex = 2.5\n", encoding="utf-8")
    code, _, err = cli(capsys, "publish", "overrides", str(overrides), *console["lead"])
    assert code == 2 and "team-overrides.toml" in err and "整数" in err  # the profile's problem, in the console's language
    overrides.write_text("[clocks.resolve.length]\ncomplex = 10\n", encoding="utf-8")
    assert cli(capsys, "publish", "overrides", str(overrides), *console["lead"])[0] == 0
    for name in ("a", "b"):
        assert "规范“team-overrides.toml”第 1 版" in cli(capsys, "sync", "--once", *console[name])[1]
    for name in ("a", "b"):
        ws = make_workspace(tmp_path, clock, name=f"{name}.db", agent=f"{name}1", central=url)
        assert ws.stale_reasons == [] and ws.profile.clock("resolve").length_for("complex") == 10
        assert ws.case(case.id).clocks["resolve"].due == ws.calendar.add_working_days(case.received_at, 10)
        dues[name] = ws.case(case.id).clocks["resolve"].due
        ws.close()
    assert dues["a"] == dues["b"]

    # offline: the last good versions stay in use
    offline = ["--db", str(tmp_path / "b.db"), "--agent", "b1", "--central", "sqlite:////proc/nowhere/central.db"]
    assert cli(capsys, "sync", "--once", *offline)[0] == 1
    ws = make_workspace(tmp_path, clock, name="b.db", agent="b1", central=url)
    assert ws.calendar.year_status(2027) == "official"
    assert ws.case(case.id).clocks["resolve"].due == dues["b"]
    ws.close()


def test_a_publication_is_applied_whole_or_not_at_all(tmp_path, clock) -> None:
    """A row whose body does not match its digest (tampered on the way) is refused; the rest of the pull and the
    cursor are applied together, and the last good version of that file stays."""
    from agent_console.services import reference_data
    from agent_console.sync.reference import Published

    ws = make_workspace(tmp_path, clock, name="a.db")

    class Centre:
        url = "test://centre"

        def __init__(self, rows):
            self.rows = rows

        def pull_reference(self, after):
            return [r for r in self.rows if r.seq > after]

    body = TEST_2027.read_text(encoding="utf-8")
    from agent_console.sync.reference import body_digest

    good = Published(1, "team-1", "calendar", "CN-2027.toml", 1, body, body_digest(body), "lead-1", "2026-12-01")
    bad = Published(2, "team-1", "calendar", "CN-2027.toml", 2, body.replace("2027-02-14", "2027-02-13"),
                    body_digest(body), "lead-1", "2026-12-02")
    assert reference_data.pull(ws.store, Centre([good, bad]), ws.settings) == ["calendar:CN-2027.toml v1"]
    assert reference_data.in_use(ws.store)[0]["version"] == 1
    assert ws.store.meta(reference_data.cursor_key("test://centre")) == "2"
    assert "digest" in ws.store.meta(reference_data.REFUSED_KEY)
    assert ws.reload_reference() == ["calendar"]
    ws.close()


# -- the centre's side, both kinds ----------------------------------------------------------------------------
from tests.test_sync import Centre, centre  # noqa: E402,F401 - the fixture: an SQLite and a PostgreSQL centre


def test_the_centre_keeps_reference_data_versioned_signed_and_append_only(centre) -> None:
    import sqlite3

    body = TEST_2027.read_text(encoding="utf-8")
    boss = centre.connect("boss")
    first = boss.publish_reference("t1", "calendar", "CN-2027.toml", body)
    second = boss.publish_reference("t1", "calendar", "CN-2027.toml", body + "\n# 更正\n")
    assert (first.version, second.version) == (1, 2) and first.published_by == second.published_by == "boss"
    boss.publish_reference("t2", "phrasebook", "t2.toml", "# t2\n")
    me = centre.connect("me")
    with pytest.raises(NotALead):
        me.publish_reference("t1", "calendar", "CN-2027.toml", body)
    with pytest.raises(NotALead):  # a lead of other teams only
        boss.publish_reference("t9", "calendar", "CN-2027.toml", body)
    mine = me.pull_reference(0)
    assert [(r.team, r.version) for r in mine] == [("t1", 1), ("t1", 2)]
    assert me.pull_reference(mine[-1].seq) == []
    assert [r.team for r in centre.connect("other").pull_reference(0)] == ["t2"]
    if centre.kind == "sqlite":
        conn = sqlite3.connect(f"{centre.tmp}/central.db")
        for statement in ("UPDATE reference SET body='x'", "DELETE FROM reference"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(statement)
    else:
        import psycopg

        from agent_console.sync import pg

        with psycopg.connect(centre.admin) as conn:  # not even the owner rewrites history
            with pytest.raises(psycopg.Error, match="append-only|cannot be changed|refuse"):
                conn.execute("UPDATE ac.reference SET body = 'x'")
        with psycopg.connect(pg.with_login(centre.admin, "me")) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("INSERT INTO ac.reference (team, kind, name, version, body, digest, published_by)"
                             " VALUES ('t1', 'calendar', 'x', 9, 'x', 'x', 'boss')")
        with psycopg.connect(pg.with_login(centre.admin, "boss")) as conn:
            with pytest.raises(psycopg.Error, match="digest"):
                conn.execute("SELECT * FROM ac.publish_reference('t1', 'calendar', 'y', 'body', 'wrong')")
            conn.rollback()
            fn = conn.execute("SELECT proconfig, prosecdef FROM pg_proc WHERE proname = 'publish_reference'").fetchone()
            assert fn[1] and any(c.startswith("search_path=") for c in fn[0])
            assert not conn.execute("SELECT has_function_privilege('public', 'ac.publish_reference(text, text, text,"
                                    " text, text)', 'EXECUTE')").fetchone()[0]
    for c in (boss, me):
        c.close()


def test_after_a_lead_publishes_both_consoles_agree_on_either_centre(centre, tmp_path, capsys) -> None:
    from agent_console.sync import pg

    def url(login: str) -> str:
        return centre.url if centre.kind == "sqlite" else pg.with_login(centre.admin, login)

    def args(login: str) -> list[str]:
        role = "lead" if login == "boss" else "agent"
        return ["--db", str(tmp_path / f"{login}.db"), "--agent", login, "--role", role, "--team", "t1",
                "--central", url(login)]

    clock = FakeClock(datetime(2027, 1, 25, 10, 0, tzinfo=TZ))
    me = make_workspace(tmp_path, clock, name="me.db", agent="me", team="t1", central=url("me"))
    case = me.register(sample_case(complexity="complex"))
    projected = case.clocks["resolve"].due
    me.close()
    for login in ("me", "you", "boss"):  # the lead learns at its first sync what the centre grants it
        assert cli(capsys, "sync", "--once", *args(login))[0] == 0
    code, out, err = cli(capsys, "publish", "calendar", str(TEST_2027), "--json", *args("boss"))
    assert code == 0, err
    assert json.loads(out)["published_by"] == "boss" and json.loads(out)["team"] == "t1"
    dues = {}
    for login in ("me", "you"):
        code, out, _ = cli(capsys, "sync", "--once", *args(login))
        assert code == 0 and "日历“CN-2027-test.toml”第 1 版" in out
        ws = make_workspace(tmp_path, clock, name=f"{login}.db", agent=login, team="t1", central=url(login))
        assert ws.stale_reasons == [] and ws.calendar.year_status(2027) == "official"
        dues[login] = ws.case(case.id).clocks["resolve"].due
        ws.close()
    assert dues["me"] == dues["you"] != projected


# -- told in the console's language (a refused version, the versions now in use) ------------------------------
def _tampered_pull(ws):
    """Version 1 good, version 2 tampered (its digest is version 1's): pulled, version 2 refused."""
    from agent_console.services import reference_data
    from agent_console.sync.reference import Published, body_digest

    class Centre:
        url = "test://centre"

        def pull_reference(self, after):
            body = TEST_2027.read_text(encoding="utf-8")
            return [r for r in (
                Published(1, "team-1", "calendar", "CN-2027.toml", 1, body, body_digest(body), "lead-1", "2026-12-01"),
                Published(2, "team-1", "calendar", "CN-2027.toml", 2, body.replace("2027-02-14", "2027-02-13"),
                          body_digest(body), "lead-1", "2026-12-02")) if r.seq > after]

    return reference_data.pull(ws.store, Centre(), ws.settings), Centre()


def test_a_refused_version_is_told_in_chinese(tmp_path, clock, capsys) -> None:
    ws = make_workspace(tmp_path, clock, name="a.db")
    _tampered_pull(ws)
    ws.close()
    assert main(["reference", "--db", str(tmp_path / "a.db")]) == 0
    out = capsys.readouterr().out
    assert "未启用日历“CN-2027.toml”第 2 版：CN-2027.toml: 内容与其摘要不符" in out, out
    assert "digest" not in out and "calendar:" not in out
    assert main(["reference", "--json", "--db", str(tmp_path / "a.db")]) == 0
    refused = json.loads(capsys.readouterr().out)["refused"]
    assert refused == [{"kind": "calendar", "name": "CN-2027.toml", "version": 2,
                        "reason": "CN-2027.toml: the body does not match its digest"}]
    assert main(["reference", "--lang", "en", "--db", str(tmp_path / "a.db")]) == 0
    assert "refused: calendar CN-2027.toml v2: CN-2027.toml: the body does not match its digest" in \
        capsys.readouterr().out


def test_a_refusal_kept_by_an_older_console_still_reads(tmp_path, clock) -> None:
    from agent_console.services import reference_data
    from agent_console.support.i18n import Translator

    ws = make_workspace(tmp_path, clock, name="a.db")
    ws.store.set_meta(reference_data.REFUSED_KEY, json.dumps(["calendar:CN-2027.toml v2: CN-2027.toml: broken"]))
    [row] = reference_data.refused_versions(ws)
    t = Translator("zh")
    assert (t.reference_file(row["kind"], row["name"], row["version"]), t.error(row["error"])) == \
        ("日历“CN-2027.toml”第 2 版", "CN-2027.toml: broken")
    ws.close()


def test_the_versions_now_in_use_are_told_in_chinese(tmp_path, clock) -> None:
    """`sync` printed (and the console's note showed) "calendar:CN-2027.toml v1" on a Chinese screen."""
    from agent_console.commands.sync import _reference

    a = make_workspace(tmp_path, clock, name="a.db")
    changed, centre = _tampered_pull(a)
    assert changed == ["calendar:CN-2027.toml v1"]  # the text for logs and --json stays
    a.close()
    b = make_workspace(tmp_path, clock, name="b.db")
    notes = _reference(b, centre)
    assert notes[0] == "已启用新的参考数据：日历“CN-2027.toml”第 1 版", notes
    b.close()


async def test_the_consoles_note_names_the_version_in_chinese(tmp_path, clock) -> None:
    from agent_console.app import AgentConsoleApp
    from agent_console.services.reference_data import FileVersion
    from agent_console.sync.engine import SyncReport
    from agent_console.widgets.sync_status import SyncStatus
    from tests.test_ui_console import SIZE

    ws = make_workspace(tmp_path, clock, name="a.db")
    app = AgentConsoleApp(ws)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        status = app.screen.query_one(SyncStatus)
        report = SyncReport()
        report.reference = [FileVersion("calendar", "CN-2027.toml", 3)]
        status._done(report)
        await pilot.pause()
        told = [n.message for n in app._notifications]
        assert "已启用组长发布的参考数据：日历“CN-2027.toml”第 3 版" in told, told
    ws.close()


def test_a_name_the_centre_refuses_is_told_in_chinese(tmp_path) -> None:
    from agent_console.support.i18n import Translator
    from agent_console.sync.reference import RefusedReference

    central = SqliteCentral(f"sqlite:///{tmp_path / 'central.db'}", Identity("lead-1", role="lead", teams=("team-1",)))
    with pytest.raises(RefusedReference) as caught:
        central.publish_reference("team-1", "calendar", "../CN-2027.toml", "x")
    assert Translator("zh").error(caught.value) == "“../CN-2027.toml”不能用作文件名（只写文件名，不带文件夹）"
    central.close()
