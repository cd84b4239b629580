"""A login the centre does not know as a console user gets a message, not a traceback (PostgreSQL centre)."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from agent_console.sync import pg
from tests.test_cli import run


@pytest.fixture
def centre(pg_url) -> str:
    name = "t_" + uuid.uuid4().hex[:10]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    admin = pg_url.rsplit("/", 1)[0] + "/" + name
    pg.install(admin)
    return admin


def _sync(capsys, tmp_path, url: str, login: str) -> tuple[int, str, str]:
    return run(capsys, "--db", str(tmp_path / f"{login}.db"), "--agent", login, "--central", pg.with_login(url, login),
               "sync", "--once")


def test_a_login_that_is_not_a_team_member(capsys, tmp_path, centre) -> None:
    pg.add_user(centre, "drifter", "agent", ["t1"])
    with psycopg.connect(centre, autocommit=True) as conn:
        conn.execute("DELETE FROM ac.members WHERE login = 'drifter'")
    code, out, err = _sync(capsys, tmp_path, centre, "drifter")
    assert code == 3 and "不属于任何团队" in err and "Traceback" not in err  # said in the console's language


def test_a_login_without_a_console_role(capsys, tmp_path, centre) -> None:
    login = "stranger_" + uuid.uuid4().hex[:6]
    with psycopg.connect(centre, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {login} LOGIN")
    code, out, err = _sync(capsys, tmp_path, centre, login)
    assert code == 3 and "没有控制台角色" in err and "Traceback" not in err
