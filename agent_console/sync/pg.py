"""The central store in PostgreSQL (psycopg 3): install, add users, push through ac.push(), pull under RLS."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
from psycopg import sql

from agent_console.core.events import Event
from agent_console.sync.central import MAX_DRIFT_MS, CentralUnavailable, Identity, PushResult

SCHEMA = Path(__file__).with_name("schema_pg.sql")


def install(url: str) -> None:
    """Create (or update) the schema, functions, roles and policies. Run as a database owner."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(771177)")  # two installers at once wait for each other
        try:
            conn.execute(SCHEMA.read_text(encoding="utf-8"))
        finally:
            conn.execute("SELECT pg_advisory_unlock(771177)")


def add_user(url: str, login: str, role: str, teams: list[str], password: str | None = None) -> None:
    """A login role for one agent or lead, a member of ac_agent or ac_lead, with the teams they see."""
    if role not in ("agent", "lead"):
        raise ValueError("role must be agent or lead")
    if not teams:
        raise ValueError("name at least one team")
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(login)))
        if password:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(login), sql.Literal(password)))
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(f"ac_{role}"), sql.Identifier(login)))
        other = "ac_lead" if role == "agent" else "ac_agent"
        conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(other), sql.Identifier(login)))
        conn.execute("INSERT INTO ac.members VALUES (%s, %s, %s) ON CONFLICT (login) DO UPDATE"
                     " SET role = excluded.role, teams = excluded.teams", (login, role, teams))


class PostgresCentral:
    """One console's connection to the centre, as its own login role."""

    def __init__(self, url: str, connect_timeout: int = 5) -> None:
        self.url = url
        self._timeout = connect_timeout
        self._conn: psycopg.Connection | None = None

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            try:
                self._conn = psycopg.connect(self.url, connect_timeout=self._timeout)
            except psycopg.OperationalError as exc:
                raise CentralUnavailable(str(exc).strip().splitlines()[0]) from exc
        return self._conn

    def identity(self) -> Identity:
        conn = self._connection()
        try:
            row = conn.execute("SELECT login, role, teams FROM ac.whoami()").fetchone()
            conn.commit()
        except psycopg.OperationalError as exc:
            raise CentralUnavailable(str(exc)) from exc
        if row is None or row[1] is None:
            raise PermissionError("this login is not a member of any team at the centre")
        return Identity(row[0], row[1], tuple(row[2]))

    def push(self, events: list[Event]) -> PushResult:
        return self.push_rows([(e.id, e.case_id, e.kind, e.actor, e.device, e.at.isoformat(), e.hlc,
                                json.dumps(e.payload, ensure_ascii=False, default=str), json.dumps(e.flags))
                               for e in events])

    def push_rows(self, rows: list[tuple]) -> PushResult:
        """Push stored rows as they are: their payload is already JSON text, so it is spliced, not re-encoded."""
        dumps = json.dumps
        payload = "[" + ",".join(
            f'{{"id":{dumps(r[0])},"case_id":{dumps(r[1])},"kind":{dumps(r[2])},"actor":{dumps(r[3])},'
            f'"device":{dumps(r[4])},"at":{dumps(r[5])},"hlc":{dumps(r[6])},"payload":{r[7]},"flags":{r[8]}}}'
            for r in rows) + "]"
        conn = self._connection()
        try:
            row = conn.execute("SELECT ac.push(%s::jsonb, %s)", (payload, MAX_DRIFT_MS)).fetchone()
            conn.commit()
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._drop()
            raise CentralUnavailable(str(exc).strip().splitlines()[0] if str(exc).strip() else "connection lost") \
                from exc
        except psycopg.Error:
            conn.rollback()
            raise
        answer = row[0]
        return PushResult(answer["accepted"], answer["duplicates"], [tuple(r) for r in answer["refused"]],
                          int(answer["skew_ms"] or 0))

    def pull(self, after: int, limit: int) -> list[tuple[int, Event]]:
        conn = self._connection()
        try:
            rows = conn.execute(
                "SELECT seq, id, case_id, kind, actor, device, at, hlc, payload, flags FROM ac.events"
                " WHERE seq > %s ORDER BY seq LIMIT %s", (after, limit)).fetchall()
            conn.commit()
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._drop()
            raise CentralUnavailable(str(exc).strip().splitlines()[0] if str(exc).strip() else "connection lost") \
                from exc
        return [(r[0], Event.model_construct(id=r[1], case_id=r[2], kind=r[3], actor=r[4], device=r[5], at=r[6],
                                             hlc=r[7], payload=r[8], flags=list(r[9] or [])))
                for r in rows]

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
        self._conn = None

    def close(self) -> None:
        self._drop()


def with_login(url: str, login: str) -> str:
    """The same database URL with another user (for tests and `central add-user` hints)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{login}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


__all__ = ["PostgresCentral", "add_user", "install", "with_login"]


