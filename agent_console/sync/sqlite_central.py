"""An embedded central store in one SQLite file: for one machine or a demo, same semantics as PostgreSQL.

SQLite has one writer at a time, so the ordering number (`seq`) is assigned in commit order: a reader never skips
an event that commits late. The identity is the one the console is configured with (there are no logins here).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime, timezone
import time
from pathlib import Path
from typing import Any

from agent_console.core.events import Event
from agent_console.core.hlc import Stamp
from agent_console.core.lifecycle import LEAD_ONLY
from agent_console.core.event_checks import outbox_problem
from agent_console.sync.central import (MAX_DRIFT_MS, CentralUnavailable, Identity, Member, PulledPage,
                                        PushResult, event_team, malformed, page_events)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, case_id TEXT, kind TEXT NOT NULL,
    actor TEXT NOT NULL, device TEXT NOT NULL, at TEXT NOT NULL, hlc TEXT NOT NULL, payload TEXT NOT NULL,
    flags TEXT NOT NULL, team TEXT NOT NULL, received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_team_seq ON events (team, seq);
CREATE TABLE IF NOT EXISTS case_teams (case_id TEXT PRIMARY KEY, team TEXT NOT NULL);
-- the events stamped by a clock running ahead of the centre, with when they arrived (see _flag_fast_clocks)
CREATE TABLE IF NOT EXISTS skewed (id TEXT PRIMARY KEY, case_id TEXT NOT NULL, device TEXT NOT NULL,
                                   hlc TEXT NOT NULL, received_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS skewed_case ON skewed (case_id);
-- who has recorded events of each team (the roster: there are no logins here), kept as events arrive
CREATE TABLE IF NOT EXISTS people (team TEXT NOT NULL, actor TEXT NOT NULL, PRIMARY KEY (team, actor)) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'central events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'central events are append-only'); END;
"""


class SqliteCentral:
    def __init__(self, url: str, ident: Identity, now_ms: object = None) -> None:
        self.url = url
        # as in SQLAlchemy: sqlite:///relative/path.db, sqlite:////absolute/path.db
        self.path = Path(url.removeprefix("sqlite:///"))
        self._ident = ident
        self._now_ms = now_ms or (lambda: time.time_ns() // 1_000_000)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            had_people = self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'people'").fetchone()
            self.conn.executescript(SCHEMA)
            if not had_people:  # a centre file from before the roster: its people once, from its events
                self.conn.execute("INSERT OR IGNORE INTO people SELECT DISTINCT team, actor FROM events")
        except (sqlite3.Error, OSError) as exc:
            raise CentralUnavailable(f"{self.path}: {exc}") from exc

    def identity(self) -> Identity:
        return self._ident

    def push(self, events: list[Event]) -> PushResult:
        result = PushResult()
        now = self._now_ms()
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            known = dict(self.conn.execute(
                f"SELECT case_id, team FROM case_teams WHERE case_id IN ({','.join('?' * len(events))})",
                [e.case_id for e in events]).fetchall()) if events else {}
            people: set[tuple[str, str]] = set()
            for e in events:
                if e.actor != self._ident.actor:
                    result.refused.append((e.id, f"written in the name of {e.actor!r}, not {self._ident.actor!r}"))
                    continue
                team = event_team(e, known)
                if e.case_id is not None and team is None:
                    result.refused.append((e.id, "the case is unknown at the centre"))
                    continue
                team = team or (self._ident.teams[0] if self._ident.teams else "")
                if team not in self._ident.teams:
                    result.refused.append((e.id, "the case is unknown at the centre or not of your team"))
                    continue
                if e.kind in LEAD_ONLY and self._ident.role != "lead":
                    result.refused.append((e.id, f"only a lead of team {team!r} may record {e.kind}"))
                    continue
                flags = list(e.flags)
                drift = Stamp.parse(e.hlc).wall_ms - now if e.hlc else 0
                if drift > MAX_DRIFT_MS:
                    result.skew_ms = max(result.skew_ms, drift)
                    flags.append("clock_skew")
                cur = self.conn.execute(
                    "INSERT OR IGNORE INTO events (id, case_id, kind, actor, device, at, hlc, payload, flags, team,"
                    " received_at) VALUES (?,?,?,?,?,?,?,?,?,?,datetime('now'))",
                    (e.id, e.case_id, e.kind, e.actor, e.device, e.at.isoformat(), e.hlc,
                     json.dumps(e.payload, ensure_ascii=False, default=str), json.dumps(flags), team))
                if cur.rowcount:
                    result.accepted.append(e.id)
                    if drift > MAX_DRIFT_MS and e.case_id:
                        self.conn.execute("INSERT OR IGNORE INTO skewed VALUES (?, ?, ?, ?, ?)",
                                          (e.id, e.case_id, e.device, e.hlc, now))
                    elif e.case_id and e.kind != "conflict_flagged" and "clock_skew" not in flags:
                        self._flag_fast_clocks(e, team)
                    if (team, e.actor) not in people:
                        people.add((team, e.actor))
                        self.conn.execute("INSERT OR IGNORE INTO people VALUES (?, ?)", (team, e.actor))
                    if e.kind == "registered" and e.case_id:
                        self.conn.execute("INSERT OR IGNORE INTO case_teams VALUES (?, ?)", (e.case_id, team))
                        known[e.case_id] = team
                else:
                    result.duplicates.append(e.id)
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise CentralUnavailable(f"{self.path}: {exc}") from exc
        return result

    def _flag_fast_clocks(self, f: Event, team: str) -> None:
        """As the PostgreSQL centre does: `f` was stamped after a fast-clock event of another device on its case had
        arrived here, yet orders before it (that event's stamp runs ahead): record a conflict_flagged event."""
        wall = Stamp.parse(f.hlc).wall_ms
        for e_id, e_hlc in self.conn.execute(
                "SELECT id, hlc FROM skewed WHERE case_id = ? AND device <> ? AND hlc > ? AND received_ms < ?"
                " ORDER BY rowid", (f.case_id, f.device, f.hlc, wall)).fetchall():
            stamp = Stamp.parse(e_hlc)
            self.conn.execute(
                "INSERT OR IGNORE INTO events (id, case_id, kind, actor, device, at, hlc, payload, flags, team,"
                " received_at) VALUES (?, ?, 'conflict_flagged', 'centre', 'centre', ?, ?, ?, '[]', ?,"
                " datetime('now'))",
                ("clock-" + hashlib.md5(f"{e_id} {f.id}".encode()).hexdigest(), f.case_id,
                 datetime.now(timezone.utc).isoformat(), f"{stamp.wall_ms:013d}-{stamp.counter + 1:04d}-centre",
                 json.dumps({"events": [e_id, f.id], "reason": "clock_ahead"}), team))

    def push_rows(self, rows: list[tuple]) -> PushResult:
        from agent_console.store.local import row_event

        # the same shape rules as the PostgreSQL centre (and the consoles): cheap enough for one machine's centre
        bad = [(r[1], reason) for r in rows if (reason := malformed(r) or outbox_problem(r))]
        skip = {b[0] for b in bad}
        result = self.push([row_event(r[1:10]) for r in rows if r[1] not in skip])
        result.refused = bad + result.refused
        return result

    def pull_page(self, after: int | str, limit: int, device: str | None = None) -> PulledPage:
        """The next page after the cursor (one writer at a time: seq is commit order), without the rows of `device`;
        a page that is not full moves the cursor past the caller's own rows after it too."""
        teams = self._ident.teams
        after = int(after) if str(after).isdigit() else 0
        marks = ",".join("?" * len(teams))
        try:
            self.conn.execute("BEGIN")  # one snapshot for the page and the newest number
            text, count, last = self.conn.execute(
                "SELECT coalesce(json_group_array(json_array(seq, id, case_id, kind, actor, device, at, hlc,"
                " json(payload), json(flags))), '[]'), count(*), coalesce(max(seq), ?) FROM (SELECT * FROM events"
                f" WHERE seq > ? AND team IN ({marks}) AND NOT (device IS ? AND actor = ?) ORDER BY seq LIMIT ?)",
                (after, after, *teams, device, self._ident.actor, limit)).fetchone()
            newest = self.conn.execute(f"SELECT coalesce(max(seq), 0) FROM events WHERE team IN ({marks})",
                                       teams).fetchone()[0]
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise CentralUnavailable(f"{self.path}: {exc}") from exc
        if count < limit:
            last = max(last, newest)
        return PulledPage(text, count, last, max(newest - last, 0))

    def pull(self, after: int | str, limit: int) -> list[tuple[int, Event]]:
        return page_events(self.pull_page(after, limit))

    def members(self) -> list[Member] | None:
        """No logins here: the team's people are everyone who recorded an event of its cases at this centre."""
        teams = self._ident.teams
        if not teams:
            return None
        try:
            rows = self.conn.execute(
                "SELECT actor, group_concat(team, char(31)) FROM (SELECT actor, team FROM people"
                f" WHERE team IN ({','.join('?' * len(teams))}) ORDER BY team) GROUP BY actor", teams).fetchall()
        except sqlite3.Error as exc:
            raise CentralUnavailable(f"{self.path}: {exc}") from exc
        seen = {actor: tuple(joined.split("\x1f")) for actor, joined in rows}
        seen.setdefault(self._ident.actor, teams)
        return [Member(login, self._ident.role if login == self._ident.actor else "", seen[login])
                for login in sorted(seen)]

    # -- reference data (sync/reference.py) -------------------------------------------------------------------
    def publish_reference(self, team: str, kind: str, name: str, body: str) -> Any:
        from agent_console.sync.reference import sqlite_publish

        return sqlite_publish(self.conn, self._ident, team, kind, name, body)

    def pull_reference(self, after: int) -> list[Any]:
        from agent_console.sync.reference import sqlite_pull

        return sqlite_pull(self.conn, self._ident, after)

    def close(self) -> None:
        self.conn.close()

