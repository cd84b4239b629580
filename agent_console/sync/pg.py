"""The central store in PostgreSQL (psycopg 3): install, add users, push (COPY into a stage, then ac.push_staged()),
pull pages under row-level security."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from agent_console.core.errors import Said
from agent_console.core.events import Event
from agent_console.sync.central import (MAX_DRIFT_MS, CentralUnavailable, Identity, LoginRefused, Member, PulledPage,
                                        PushResult, malformed, page_events)

SCHEMA = Path(__file__).with_name("schema_pg.sql")
# every console session: how long to wait for a lock, for one statement, and how long the server may keep a
# transaction this console left idle (never on purpose: a push commits at once)
SESSION_TIMEOUTS = {"lock_timeout": "10s", "statement_timeout": "60s", "idle_in_transaction_session_timeout": "30s"}
# applied after SCHEMA, each owned by its feature: reference data (sync/reference.py)
EXTRA_SCHEMAS = [Path(__file__).with_name("schema_reference_pg.sql")]


OWNER = "ac_owner"


class InstallRefused(Said, RuntimeError):
    """`central init` will not install the centre this way; the message (`error.centre.*`) says why and what to do."""


class UserRefused(Said, ValueError):
    """`central add-user` will not make this login (`error.centre.*`)."""


def install(url: str, owner: str = OWNER, reown: bool = False) -> None:
    """Create (or update) the schema, functions, roles and policies. Run as a database owner able to create roles.

    Everything in schema `ac` belongs to `owner`, a role of its own that cannot log in and is not a superuser: the
    SECURITY DEFINER functions run with its rights, never a superuser's. A schema `ac` that already belongs to someone
    else (an older install made as `postgres`) is refused unless `reown` hands it and its objects to `owner`.
    """
    from agent_console.sync.rules_pg import payload_problem_sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(771177)")  # two installers at once wait for each other
        try:
            with conn.transaction():
                _prepare(conn, owner, reown)
                conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(owner)))
                conn.execute(payload_problem_sql())
                conn.execute(SCHEMA.read_text(encoding="utf-8"))
                for extra in EXTRA_SCHEMAS:
                    conn.execute(extra.read_text(encoding="utf-8"))
        finally:
            conn.execute("SELECT pg_advisory_unlock(771177)")


def _prepare(conn: psycopg.Connection, owner: str, reown: bool) -> None:
    """The owner role, the group roles and the schema (owned by `owner`), as the installing user."""
    ident = sql.Identifier(owner)
    row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (owner,)).fetchone()
    if row is None:
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS").format(ident))
    elif row[0]:
        raise InstallRefused("centre.superuser_owner", owner=owner)
    me, is_super = conn.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    if not is_super:
        conn.execute(sql.SQL("GRANT {} TO {}").format(ident, sql.Identifier(me)))  # to SET ROLE to it below
    for group in ("ac_agent", "ac_lead"):
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (group,)).fetchone():
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(group)))
    # the owner reads who holds the push lock and may end a session that holds it while idle (ac.push_staged)
    conn.execute(sql.SQL("GRANT pg_read_all_stats, pg_signal_backend TO {}").format(ident))
    conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
        sql.Identifier(conn.info.dbname), ident))
    schema = conn.execute("SELECT r.rolname, r.rolsuper FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner"
                          " WHERE n.nspname = 'ac'").fetchone()
    if schema is None:
        conn.execute(sql.SQL("CREATE SCHEMA ac AUTHORIZATION {}").format(ident))
    elif schema[0] != owner:
        if not reown:
            raise InstallRefused("centre.schema_owned_super" if schema[1] else "centre.schema_owned",
                                 schema_owner=schema[0], owner=owner)
        _reown(conn, owner)


def _reown(conn: psycopg.Connection, owner: str) -> None:
    """Hand schema ac and every table, sequence and function in it to `owner` (an older install's superuser schema)."""
    ident = sql.Identifier(owner)
    conn.execute(sql.SQL("ALTER SCHEMA ac OWNER TO {}").format(ident))
    for (name,) in conn.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                                " WHERE n.nspname = 'ac' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')").fetchall():
        conn.execute(sql.SQL("ALTER TABLE ac.{} OWNER TO {}").format(sql.Identifier(name), ident))
    for (signature,) in conn.execute("SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n"
                                     " ON n.oid = p.pronamespace WHERE n.nspname = 'ac'").fetchall():
        conn.execute(sql.SQL("ALTER ROUTINE {} OWNER TO {}").format(sql.SQL(signature), ident))


def add_user(url: str, login: str, role: str, teams: list[str], password: str | None = None) -> None:
    """A login role for one agent or lead, a member of ac_agent or ac_lead, with the teams they see."""
    if role not in ("agent", "lead"):
        raise UserRefused("centre.user_role", role=role)
    if not teams:
        raise UserRefused("centre.user_teams")
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT rolsuper OR rolcreaterole OR rolbypassrls OR rolname LIKE 'pg\\_%%'"
                              " OR rolname IN (%s, 'ac_agent', 'ac_lead') OR EXISTS (SELECT 1 FROM pg_namespace n"
                              " WHERE n.nspname = 'ac' AND n.nspowner = r.oid) FROM pg_roles r WHERE rolname = %s",
                              (OWNER, login)).fetchone()
        if exists and exists[0]:
            raise UserRefused("centre.user_privileged", login=login)
        if not exists:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(login)))
        # a console that hangs inside a transaction (or a session left open on purpose) does not hold the centre
        conn.execute(sql.SQL("ALTER ROLE {} SET idle_in_transaction_session_timeout = '60s'").format(
            sql.Identifier(login)))
        if password:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(login), sql.Literal(password)))
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(f"ac_{role}"), sql.Identifier(login)))
        other = "ac_lead" if role == "agent" else "ac_agent"
        conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(other), sql.Identifier(login)))
        conn.execute("INSERT INTO ac.members VALUES (%s, %s, %s) ON CONFLICT (login) DO UPDATE"
                     " SET role = excluded.role, teams = excluded.teams", (login, role, teams))


class _Session:
    """One connection to the centre and whether its push stage exists yet (a temporary table, one per session)."""

    def __init__(self, url: str, timeout: int) -> None:
        self.url = url
        self.timeout = timeout
        self.conn: psycopg.Connection | None = None
        self.staged = False
        self.checks = False  # the centre checks a batch before its turn (ac.push_check: an older one does not)

    def connection(self) -> psycopg.Connection:
        if self.conn is None or self.conn.closed or self.conn.broken:
            self.staged = False
            try:
                self.conn = psycopg.connect(self.url, connect_timeout=self.timeout)
                # times travel as ISO text in pulled pages: in UTC, as every console records them
                self.conn.execute("SET TIME ZONE 'UTC'")
                # a busy or stuck centre gives an answer ("centre busy", a timeout) instead of a console that hangs
                for name, value in SESSION_TIMEOUTS.items():
                    self.conn.execute(sql.SQL("SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
                self.conn.commit()
            except psycopg.OperationalError as exc:
                raise CentralUnavailable(_first_line(exc)) from exc
        return self.conn

    def drop(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg.Error:
                pass
        self.conn = None
        self.staged = False

    @contextmanager
    def talking(self, conn: psycopg.Connection) -> Iterator[None]:
        """A lost connection is the centre being unavailable (and the session is dropped: a new one takes a new
        stage); any other error rolls the transaction back and goes on up."""
        try:
            yield
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self.drop()
            raise CentralUnavailable(_first_line(exc)) from exc
        except psycopg.Error:
            conn.rollback()
            raise

    def stage(self, rows: list[tuple]) -> list[tuple[str, str]]:
        """COPY a batch into this session's stage, in a transaction left open for record(); returns the rows refused
        as malformed (a row the centre cannot even load fails the whole COPY: such rows are found here, and the
        others copied again)."""
        conn = self.connection()
        with self.talking(conn):
            try:
                if not self.staged:
                    self.checks = conn.execute("SELECT ac.push_stage(), to_regprocedure('ac.push_check()')"
                                               " IS NOT NULL").fetchone()[1]
                with conn.cursor().copy("COPY pg_temp.ac_stage (ord, id, case_id, kind, actor, device, at, hlc,"
                                        " payload, flags) FROM STDIN") as copy:
                    write = copy.write_row
                    for i, r in enumerate(rows):  # numbered 0, 1, …: recorded in this order, unsorted
                        write((i, *r[1:10]))  # (past the flags: the outbox's own columns, not sent)
                if self.checks:  # each row's own check now, beside the batch before being recorded: not in our turn
                    conn.execute("SELECT ac.push_check()")
                return []
            except psycopg.errors.DataError:
                conn.rollback()  # (a stage created in this transaction goes with it: staged is still False)
                bad = [(r[1], reason) for r in rows if (reason := malformed(r))]
                if not bad:
                    raise
                skip = {b[0] for b in bad}
                return bad + self.stage([r for r in rows if r[1] not in skip])

    def record(self, rows: list[tuple], refused: list[tuple[str, str]]) -> PushResult:
        """One ac.push_staged() call classifies, numbers and records what stage() copied, then commits."""
        conn = self.connection()
        with self.talking(conn):
            # the call and its commit in one round trip: the team's push lock is held only while the server works,
            # never while this console waits for its turn on a busy machine (an idle holder is ended as stuck)
            cur = conn.execute(f"SELECT ac.push_staged({int(MAX_DRIFT_MS)}); COMMIT")
            row = cur.fetchone()
            conn.commit()  # (nothing left to commit: the server did; this keeps the driver's view in step)
            self.staged = True  # only now: a rolled-back transaction takes a new stage with it
        answer = row[0]
        duplicates = answer["duplicates"]
        refused = refused + [(r[0], r[1]) for r in answer["refused"]]
        # the centre names only what it did not accept (short lists); everything else sent was recorded
        accepted = _accepted([r[1] for r in rows], duplicates, refused)
        if len(accepted) != answer["accepted_count"]:  # never acknowledge on an answer that does not add up
            raise RuntimeError(f"the centre recorded {answer['accepted_count']} events, expected {len(accepted)}")
        return PushResult(accepted, duplicates, refused, int(answer["skew_ms"] or 0))

    def rollback(self) -> None:
        if self.conn is not None and not self.conn.closed:
            try:
                self.conn.rollback()
            except psycopg.Error:
                self.drop()


class PushPipeline:
    """Batches pushed through two sessions in turn: one COPYs its batch while the other's is being recorded, and each
    is recorded only after the one before it committed (a batch may hold the notes of a case registered in the one
    before; the counter lock would serialize them anyway). If a batch fails, those after it are not recorded."""

    def __init__(self, central: "PostgresCentral", split: Callable[[list[tuple]], tuple[list[tuple], list]]
                 | None = None) -> None:
        self._sessions = (central._main, central._second)
        self._split = split  # (rows) -> (the rows to send, (id, reason) for those refused before sending)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sync-push")
        self._last: Future[PushResult] | None = None
        self._turn = 0

    def submit(self, rows: list[tuple]) -> Future[PushResult]:
        session = self._sessions[self._turn % 2]
        self._turn += 1
        future = self._pool.submit(self._push, session, rows, self._last, self._split)
        self._last = future
        return future

    @staticmethod
    def _push(session: _Session, rows: list[tuple], before: Future[PushResult] | None,
              split: Callable[[list[tuple]], tuple[list[tuple], list]] | None) -> PushResult:
        rows, bad = split(rows) if split is not None else (rows, [])
        if not rows:
            return PushResult(refused=bad)
        refused = session.stage(rows)
        if before is not None and before.exception() is not None:  # waits for it; an error was its caller's to see
            session.rollback()
            raise CentralUnavailable("an earlier batch was not recorded")
        result = session.record(rows, refused)
        result.refused = bad + result.refused
        return result

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class PostgresCentral:
    """One console's connection to the centre, as its own login role (and a second one while pushing many batches)."""

    def __init__(self, url: str, connect_timeout: int = 5) -> None:
        self.url = url
        self._main = _Session(url, connect_timeout)
        self._second = _Session(url, connect_timeout)

    def _connection(self) -> psycopg.Connection:
        return self._main.connection()

    def identity(self) -> Identity:
        conn = self._connection()
        try:
            row = conn.execute("SELECT login, role, teams FROM ac.whoami()").fetchone()
            conn.commit()
        except psycopg.errors.InsufficientPrivilege as exc:  # a login that is neither ac_agent nor ac_lead
            conn.rollback()
            raise LoginRefused("centre.no_role", detail=_first_line(exc)) from exc
        except (psycopg.errors.InvalidSchemaName, psycopg.errors.UndefinedFunction) as exc:  # no centre installed
            conn.rollback()
            raise CentralUnavailable(_first_line(exc)) from exc
        except psycopg.OperationalError as exc:
            raise CentralUnavailable(str(exc)) from exc
        if row is None or row[1] is None:
            raise LoginRefused("centre.no_team")
        return Identity(row[0], row[1], tuple(row[2]))

    def members(self) -> list[Member] | None:
        """The members of this login's teams (ac.team_members(): only the teams shared with this login); None from a
        centre that does not offer them (installed before the roster existed)."""
        conn = self._connection()
        try:
            rows = conn.execute("SELECT login, role, teams FROM ac.team_members()").fetchall()
            conn.commit()
        except (psycopg.errors.UndefinedFunction, psycopg.errors.InsufficientPrivilege):
            conn.rollback()
            return None
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._drop()
            raise CentralUnavailable(_first_line(exc)) from exc
        return [Member(r[0], r[1], tuple(r[2])) for r in rows]

    def push(self, events: list[Event]) -> PushResult:
        return self.push_rows([(i, e.id, e.case_id, e.kind, e.actor, e.device, e.at.isoformat(), e.hlc,
                                json.dumps(e.payload, ensure_ascii=False, default=str), json.dumps(e.flags))
                               for i, e in enumerate(events)])

    def push_rows(self, rows: list[tuple]) -> PushResult:
        """Push outbox rows as stored (local seq, id, …, payload and flags still JSON text): COPY them into this
        session's stage, then one ac.push_staged() call records the batch and names what it did not accept."""
        return self._main.record(rows, self._main.stage(rows))

    def push_pipeline(self, split: Callable[[list[tuple]], tuple[list[tuple], list]] | None = None) -> PushPipeline:
        """Batches pushed through two sessions in turn; `split` (if given) sets aside, on the pipeline's threads,
        the rows that must not be sent."""
        return PushPipeline(self, split)

    def pull_page(self, after: int | str, limit: int, device: str | None = None) -> PulledPage:
        """The next page after the cursor as one JSON text, built by the server (row-level security applies): no
        per-row fetching or decoding here; the local store reads the page in one pass.

        The cursor is each team's last number read ({"team": tseq} as JSON text; an older console's single number is
        translated once). Rows recorded by `device` under this login (this console: it has them) are left out. When the page is not
        full, every row of the login's teams up to the newest one is covered, so the cursor moves past this
        console's own rows too; a team's numbers become visible in order (its pushers take turns), so nothing
        committed late is ever skipped. The page also says how many rows the teams hold past the new cursor, at
        most (for a progress bar).
        """
        conn = self._connection()
        try:
            cursor = self._team_cursor(conn, after)
            text, count, last, left = conn.execute(
                "WITH cur AS (SELECT t.team, coalesce((%(cursor)s::jsonb ->> t.team)::bigint, 0) AS after"
                "               FROM unnest(ac.my_teams()) AS t(team)),"
                # each team's next rows in order from the (team, tseq) index, then the first of them all: a page
                # never scans or sorts what lies beyond it, whatever the planner thinks of the table's size
                " page AS (SELECT e.* FROM cur CROSS JOIN LATERAL"
                "          (SELECT * FROM ac.events x WHERE x.team = cur.team AND x.tseq > cur.after"
                # this console's own rows: its device, and its login (a teammate who writes another's device id
                # into a crafted row cannot hide that row from them: the actor is the centre's, from the session)
                "            AND NOT (x.device = %(device)s AND x.actor = session_user)"
                "            ORDER BY x.tseq LIMIT %(limit)s) e"
                "          ORDER BY e.tseq, e.team LIMIT %(limit)s),"
                " n AS (SELECT count(*) AS n FROM page),"
                " top AS (SELECT cur.team, cur.after, (SELECT max(x.tseq) FROM ac.events x WHERE x.team = cur.team)"
                "         AS newest, (SELECT max(p.tseq) FROM page p WHERE p.team = cur.team) AS got FROM cur),"
                " nxt AS (SELECT top.team, top.newest, CASE WHEN (SELECT n FROM n) < %(limit)s"
                "           THEN greatest(top.after, coalesce(top.newest, 0))"
                "           ELSE greatest(top.after, coalesce(top.got, 0)) END AS upto FROM top)"
                " SELECT (SELECT coalesce(json_agg(json_build_array(p.seq, p.id, p.case_id, p.kind, p.actor, p.device,"
                # the time as every console writes it (Python's isoformat in UTC), so it reads the same everywhere
                "  to_char(p.at AT TIME ZONE 'UTC', CASE WHEN date_part('microseconds', p.at)::int %% 1000000 = 0"
                "          THEN 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"' ELSE 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"' END),"
                "  p.hlc, p.payload, p.flags) ORDER BY p.tseq, p.team)::text, '[]') FROM page p),"
                " (SELECT n FROM n), (SELECT coalesce(jsonb_object_agg(team, upto), '{}')::text FROM nxt),"
                " (SELECT coalesce(sum(greatest(coalesce(newest, 0) - upto, 0)), 0) FROM nxt)",
                {"cursor": cursor, "limit": limit, "device": device}).fetchone()
            conn.commit()
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._drop()
            raise CentralUnavailable(str(exc).strip().splitlines()[0] if str(exc).strip() else "connection lost") \
                from exc
        return PulledPage(text, count, last, int(left))

    @staticmethod
    def _team_cursor(conn: psycopg.Connection, after: int | str) -> str:
        """The cursor as {"team": tseq} JSON text. A single number is the cursor of a console from before the
        per-team numbering (the old global seq, under which every team's rows were numbered in order): each team's
        last number at or below it."""
        text = str(after or "0").strip()
        if text.startswith("{"):
            return text
        seq = int(text) if text.isdigit() else 0
        if seq == 0:
            return "{}"
        return conn.execute(
            "SELECT coalesce(jsonb_object_agg(t.team, coalesce((SELECT max(x.tseq) FROM ac.events x"
            " WHERE x.team = t.team AND x.seq <= %s), 0)), '{}')::text FROM unnest(ac.my_teams()) AS t(team)",
            (seq,)).fetchone()[0]

    def pull(self, after: int | str, limit: int) -> list[tuple[int, Event]]:
        return page_events(self.pull_page(after, limit))

    # -- reference data (sync/reference.py) -------------------------------------------------------------------
    def publish_reference(self, team: str, kind: str, name: str, body: str) -> Any:
        from agent_console.sync.reference import pg_publish

        return pg_publish(self._connection(), team, kind, name, body)

    def pull_reference(self, after: int) -> list[Any]:
        from agent_console.sync.reference import pg_pull

        return pg_pull(self._connection(), after)

    def _drop(self) -> None:
        self._main.drop()

    def close(self) -> None:
        self._main.drop()
        self._second.drop()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else "connection lost"


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


__all__ = ["InstallRefused", "PostgresCentral", "PushPipeline", "add_user", "install", "with_login"]


