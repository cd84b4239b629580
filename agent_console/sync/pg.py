"""The central store in PostgreSQL (psycopg 3): install, add users, push (COPY into a stage, then ac.push_staged()),
pull pages under row-level security."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
from psycopg import sql

from agent_console.core.events import Event
from agent_console.sync.central import (MAX_DRIFT_MS, CentralUnavailable, Identity, PulledPage, PushResult,
                                        malformed, page_events)

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
        self._staged: psycopg.Connection | None = None  # the connection whose session has its push stage

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            try:
                self._conn = psycopg.connect(self.url, connect_timeout=self._timeout)
                # times travel as ISO text in pulled pages: in UTC, as every console records them
                self._conn.execute("SET TIME ZONE 'UTC'")
                self._conn.commit()
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
        return self.push_rows([(i, e.id, e.case_id, e.kind, e.actor, e.device, e.at.isoformat(), e.hlc,
                                json.dumps(e.payload, ensure_ascii=False, default=str), json.dumps(e.flags))
                               for i, e in enumerate(events)])

    def push_rows(self, rows: list[tuple]) -> PushResult:
        """Push outbox rows as stored (local seq, id, …, payload and flags still JSON text): COPY them into this session's stage, then
        one ac.push_staged() call classifies, numbers and records the batch and names what it did not accept."""
        conn = self._connection()
        try:
            if self._staged is not conn:
                conn.execute("SELECT ac.push_stage()")  # once per session: the stage is a temporary table
            with conn.cursor().copy("COPY pg_temp.ac_stage (ord, id, case_id, kind, actor, device, at, hlc, payload,"
                                    " flags) FROM STDIN") as copy:
                write = copy.write_row
                for r in rows:  # (local seq, id, …): the local order is the order the centre numbers them in
                    write(r)
            row = conn.execute("SELECT ac.push_staged(%s)", (MAX_DRIFT_MS,)).fetchone()
            conn.commit()
            self._staged = conn  # only now: a rolled-back transaction takes the new stage with it
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._drop()
            raise CentralUnavailable(str(exc).strip().splitlines()[0] if str(exc).strip() else "connection lost") \
                from exc
        except psycopg.errors.DataError:
            # a row the centre cannot even load (its time or JSON does not parse): it fails the whole COPY, so find
            # such rows here, keep them as refused with the reason, and send the rest
            conn.rollback()
            bad = [(r[1], reason) for r in rows if (reason := malformed(r))]
            if not bad:
                raise
            skip = {b[0] for b in bad}
            rest = [r for r in rows if r[1] not in skip]
            result = self.push_rows(rest) if rest else PushResult()
            result.refused = bad + result.refused
            return result
        except psycopg.Error:
            conn.rollback()
            raise
        answer = row[0]
        duplicates = answer["duplicates"]
        refused = [(r[0], r[1]) for r in answer["refused"]]
        # the centre names only what it did not accept (short lists); everything else sent was recorded
        accepted = _accepted([r[1] for r in rows], duplicates, refused)
        if len(accepted) != answer["accepted_count"]:  # never acknowledge on an answer that does not add up
            raise RuntimeError(f"the centre recorded {answer['accepted_count']} events, expected {len(accepted)}")
        return PushResult(accepted, duplicates, refused, int(answer["skew_ms"] or 0))

    def pull_page(self, after: int, limit: int) -> PulledPage:
        """The next page after the cursor as one JSON text, built by the server (row-level security applies): no
        per-row fetching or decoding here; the local store reads the page in one pass."""
        conn = self._connection()
        try:
            text, count, last = conn.execute(
                "SELECT coalesce(json_agg(json_build_array(seq, id, case_id, kind, actor, device, at, hlc, payload,"
                " flags) ORDER BY seq)::text, '[]'), count(*), coalesce(max(seq), %(after)s)"
                " FROM (SELECT e.* FROM unnest(ac.my_teams()) AS t(team) CROSS JOIN LATERAL"
                # each team's next rows in order from the (team, seq) index, then the first of them all: a page
                # never scans or sorts what lies beyond it, whatever the planner thinks of the table's size
                "       (SELECT * FROM ac.events x WHERE x.team = t.team AND x.seq > %(after)s ORDER BY x.seq"
                "        LIMIT %(limit)s) e ORDER BY e.seq LIMIT %(limit)s) p",
                {"after": after, "limit": limit}).fetchone()
            conn.commit()
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._drop()
            raise CentralUnavailable(str(exc).strip().splitlines()[0] if str(exc).strip() else "connection lost") \
                from exc
        return PulledPage(text, count, last)

    def pull(self, after: int, limit: int) -> list[tuple[int, Event]]:
        return page_events(self.pull_page(after, limit))

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
        self._conn = None
        self._staged = None

    def close(self) -> None:
        self._drop()


def _accepted(sent: list[str], duplicates: list[str], refused: list[tuple[str, str]]) -> list[str]:
    """What the centre recorded: everything sent, less refusals and duplicates (an id sent twice in one batch is
    recorded once, and its later copies come back as duplicates)."""
    if not duplicates and not refused:
        return list(sent)
    from collections import Counter

    refused_ids = {r[0] for r in refused}
    dup_left = Counter(duplicates)
    occurrences = Counter(sent)
    accepted, seen = [], set()
    for event_id in sent:
        if event_id in refused_ids or event_id in seen:
            continue
        seen.add(event_id)
        # every copy a duplicate: it was at the centre already; one copy fewer: the first was recorded now
        if dup_left[event_id] < occurrences[event_id]:
            accepted.append(event_id)
    return accepted


def with_login(url: str, login: str) -> str:
    """The same database URL with another user (for tests and `central add-user` hints)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{login}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


__all__ = ["PostgresCentral", "add_user", "install", "with_login"]


