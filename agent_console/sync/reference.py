"""Reference data at the centre: the team's calendar years, profile overrides and phrasebook files a lead publishes.

Each publication is a new version of one (team, kind, name), stamped with the publisher's login, append-only like the
events: a console pulls the versions after its cursor and keeps the newest of each. This module only carries them;
what a file must look like is checked before publishing and again before applying (services/reference_data.py).

SQLite centre: a table of its own beside the events (created on first use). PostgreSQL: schema_reference_pg.sql
(installed by `central init` after the main schema), written only through ac.publish_reference(), which takes the
publisher from the session and refuses anyone but a lead of that team; read through ac.reference_after().
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from agent_console.core.errors import Said
from agent_console.sync.central import CentralUnavailable, Identity

KINDS = ("calendar", "overrides", "phrasebook")
MAX_BODY = 1_000_000  # characters: a reference file is a page of TOML, not a data dump


@dataclass(frozen=True)
class Published:
    seq: int
    team: str
    kind: str
    name: str
    version: int
    body: str
    digest: str
    published_by: str
    published_at: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def body_digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class RefusedReference(Said, ValueError):
    """A file the centre will not keep (`error.reference.*`: its kind, its name, its size), told by key."""


class NotALead(Said, PermissionError):
    """Only a lead of the team publishes its reference data (`error.centre.not_a_lead`)."""


# -- the embedded SQLite centre -------------------------------------------------------------------------------
SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS reference (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, team TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
    version INTEGER NOT NULL, body TEXT NOT NULL, digest TEXT NOT NULL, published_by TEXT NOT NULL,
    published_at TEXT NOT NULL, UNIQUE (team, kind, name, version)
);
CREATE TRIGGER IF NOT EXISTS reference_no_update BEFORE UPDATE ON reference
BEGIN SELECT RAISE(ABORT, 'reference data is append-only'); END;
CREATE TRIGGER IF NOT EXISTS reference_no_delete BEFORE DELETE ON reference
BEGIN SELECT RAISE(ABORT, 'reference data is append-only'); END;
"""
_COLUMNS = "seq, team, kind, name, version, body, digest, published_by, published_at"


def _check(kind: str, name: str, body: str) -> None:
    if kind not in KINDS:
        raise RefusedReference("reference.unknown_kind", name=name, kind=kind, known=", ".join(KINDS))
    if not name or len(name) > 100 or any(c in name for c in "/\\\0") or name.startswith("."):
        raise RefusedReference("reference.bad_name", name=name)
    if len(body) > MAX_BODY:
        raise RefusedReference("reference.too_large", name=name, limit=MAX_BODY)


def sqlite_publish(conn: sqlite3.Connection, ident: Identity, team: str, kind: str, name: str,
                   body: str) -> Published:
    _check(kind, name, body)
    if ident.role != "lead" or team not in ident.teams:
        raise NotALead("centre.not_a_lead", login=ident.actor, team=team, detail="")
    try:
        conn.executescript(SQLITE_SCHEMA)
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("SELECT coalesce(max(version), 0) + 1 FROM reference WHERE team=? AND kind=?"
                                   " AND name=?", (team, kind, name)).fetchone()[0]
            at = datetime.now(timezone.utc).isoformat(timespec="seconds")
            seq = conn.execute(
                "INSERT INTO reference (team, kind, name, version, body, digest, published_by, published_at)"
                " VALUES (?,?,?,?,?,?,?,?) RETURNING seq",
                (team, kind, name, version, body, body_digest(body), ident.actor, at)).fetchone()[0]
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise CentralUnavailable(str(exc)) from exc
    return Published(seq, team, kind, name, version, body, body_digest(body), ident.actor, at)


def sqlite_pull(conn: sqlite3.Connection, ident: Identity, after: int) -> list[Published]:
    teams = list(ident.teams)
    try:
        conn.executescript(SQLITE_SCHEMA)
        rows = conn.execute(f"SELECT {_COLUMNS} FROM reference WHERE seq > ? AND team IN"
                            f" ({','.join('?' * len(teams))}) ORDER BY seq", (after, *teams)).fetchall()
    except sqlite3.Error as exc:
        raise CentralUnavailable(str(exc)) from exc
    return [Published(*r) for r in rows]


# -- PostgreSQL -----------------------------------------------------------------------------------------------
def pg_publish(conn: Any, team: str, kind: str, name: str, body: str) -> Published:
    """Through ac.publish_reference (SECURITY DEFINER): the publisher is the session's login, a lead of the team."""
    import psycopg

    _check(kind, name, body)
    try:
        row = conn.execute(f"SELECT {_COLUMNS} FROM ac.publish_reference(%s, %s, %s, %s, %s)",
                           (team, kind, name, body, body_digest(body))).fetchone()
        conn.commit()
    except psycopg.errors.InsufficientPrivilege as exc:
        conn.rollback()
        raise NotALead("centre.not_a_lead", login="", team=team, detail=str(exc).strip().splitlines()[0]) from exc
    except psycopg.OperationalError as exc:
        raise CentralUnavailable(str(exc)) from exc
    return _pg_row(row)


def pg_pull(conn: Any, after: int) -> list[Published]:
    import psycopg

    try:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM ac.reference_after(%s)", (after,)).fetchall()
        conn.commit()
    except psycopg.OperationalError as exc:
        raise CentralUnavailable(str(exc)) from exc
    return [_pg_row(r) for r in rows]


def _pg_row(r: tuple) -> Published:
    at = r[8].isoformat(timespec="seconds") if hasattr(r[8], "isoformat") else str(r[8])
    return Published(int(r[0]), r[1], r[2], r[3], int(r[4]), r[5], r[6], r[7], at)
