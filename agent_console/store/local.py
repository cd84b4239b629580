"""The local SQLite store: append events and update the case projection in one transaction, and query cases.

The database file is created readable by its owner only, in WAL mode, with foreign writers waited for briefly;
events can only be appended (triggers refuse UPDATE and DELETE). Every write that records an event also queues it
in the outbox for sync, in the same transaction.
"""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_console.core.events import Event
from agent_console.core.hlc import HybridClock
from agent_console.core.lifecycle import Lifecycle
from agent_console.core.models import CaseState
from agent_console.core.numbering import case_number, device_code, month_key
from agent_console.core.text import digits, mask_id, mask_name, mask_phone
from agent_console.store import callbacks as callback_store
from agent_console.store.migrations import migrate

if TYPE_CHECKING:
    import sqlite_utils


class StoreError(RuntimeError):
    """The database cannot be used; the message says why and what to do."""


@dataclass
class CaseQuery:
    """Which cases to list. Every filter is optional; `text` uses the FTS index."""

    open_only: bool = False
    owner: str | None = None
    team: str | None = None
    teams: list[str] | None = None
    status: str | None = None
    category: str | None = None
    channel: str | None = None
    due_before: datetime | None = None  # nearest running clock due before this instant
    phone: str | None = None
    text: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    limit: int | None = None


def _utc(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat()


class LocalStore:
    """One agent's local database."""

    def __init__(self, path: Path | str, *, timeout: float = 5.0) -> None:
        self.path = Path(path)
        self._reader: sqlite3.Connection | None = None
        self._timeout = timeout
        self._open(timeout)
        self.device_id = self._meta_default("device_id", lambda: str(uuid.uuid4()))
        self.device_code = self._meta_default("device_code", lambda: device_code(self.device_id))
        self.hlc = HybridClock(self.device_id[:8], self.meta("hlc_last") or "")

    # -- opening ----------------------------------------------------------------------------------------------
    def _open(self, timeout: float) -> None:
        new = str(self.path) != ":memory:" and not self.path.exists()
        if new:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # created 0600 before SQLite touches it: case material is confidential
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        try:
            conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # a registered complaint survives a power cut
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            migrate(conn)
        except sqlite3.DatabaseError as exc:
            msg = str(exc)
            if "locked" in msg or "busy" in msg:
                raise StoreError(
                    f"{self.path} is locked by another program (another console?). Close it and try again."
                ) from exc
            raise StoreError(
                f"{self.path} is not a usable Agent Console database ({msg}). Nothing was changed; move the file "
                "aside and restore a backup, or start with another --db."
            ) from exc
        self.conn = conn
        for suffix in ("-wal", "-shm"):
            side = Path(str(self.path) + suffix)
            if side.exists():
                os.chmod(side, 0o600)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self.conn.close()

    @cached_property
    def db(self) -> "sqlite_utils.Database":
        """The same connection through sqlite-utils, for ad hoc table work; imported on first use (~30 ms that
        every start of the console and the CLI paid for nothing)."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    def _read_conn(self) -> sqlite3.Connection:
        """A second, read-only connection: it sees what was committed before the page being ingested, while the
        main connection's thread inserts that page (one connection cannot read while another thread writes on it)."""
        if self._reader is None:
            self._reader = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False,
                                           timeout=self._timeout)
            self._reader.execute("PRAGMA query_only=1")
        return self._reader

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT (rolled back on any error)."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path} is locked by another writer; try again in a moment ({exc})") from exc
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    @contextmanager
    def _replayable_transaction(self) -> Iterator[sqlite3.Connection]:
        """A transaction for what the centre can give or take again (a pulled page with the cursor it advances, an
        acknowledgement), committed without waiting for the disk: a power cut may undo the last of them, cursor and
        all, and they are then pulled or pushed again (the centre ignores what it has) -- nothing is lost. The next
        durable commit (local work stays synchronous=FULL) makes them durable too, since the log is written in order.
        """
        self.conn.execute("PRAGMA synchronous=NORMAL")
        try:
            with self.transaction() as conn:
                yield conn
        finally:
            self.conn.execute("PRAGMA synchronous=FULL")

    # -- meta and counters ------------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                          (key, value))

    def _meta_default(self, key: str, make: Any) -> str:
        value = self.meta(key)
        if value is None:
            value = make()
            self.set_meta(key, value)
        return value

    def _next_case_number(self, conn: sqlite3.Connection, received: datetime, tz: Any) -> str:
        """The next number for this device and the month of receipt, inside the caller's transaction."""
        local = received.astimezone(tz)
        row = conn.execute(
            "INSERT INTO counters VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value=value+1 RETURNING value",
            (f"case:{month_key(local)}",),
        ).fetchone()
        return case_number(local, self.device_code, row[0])

    def _numbered(self, conn: sqlite3.Connection, event: Event, tz: Any) -> Event:
        """A registration without a number gets the next one here, so a failed write leaves no gap."""
        if event.kind != "registered" or event.payload.get("number"):
            return event
        received = datetime.fromisoformat(event.payload["received_at"])
        number = self._next_case_number(conn, received, tz)
        return event.model_copy(update={"payload": {**event.payload, "number": number}})

    # -- writing ----------------------------------------------------------------------------------------------
    def stamp(self, event: Event) -> Event:
        """Give a local event its hybrid-logical-clock stamp."""
        return event if event.hlc else event.model_copy(update={"hlc": self.hlc.now()})

    def append(self, events: Iterable[Event], lifecycle: Lifecycle, strict: bool = True) -> dict[str, CaseState]:
        """Record local events and update their cases, all in one transaction; refuse illegal ones."""
        events = [self.stamp(e) for e in events]
        states: dict[str, CaseState] = {}
        tz = lifecycle.clocks.calendar.tz
        with self.transaction() as conn:
            for event in events:
                event = self._numbered(conn, event, tz)
                if event.case_id is not None:
                    before = states.get(event.case_id) or self.state(event.case_id)
                    states[event.case_id] = lifecycle.apply(before, event, strict=strict)
                self._insert_event(conn, event, origin="local")
                conn.execute("INSERT INTO outbox VALUES (?, last_insert_rowid())", (event.id,))
                self._project_side(conn, event)
            for state in states.values():
                self._project(conn, state)
            self.set_meta("hlc_last", self.hlc.last)
        return states

    def ingest(self, events: Iterable[Event], lifecycle: Lifecycle,
               meta: dict[str, str] | None = None) -> list[str]:
        """Record events from elsewhere (sync, import of an event log): idempotent by id, never refused.

        Cases touched are refolded from all their events in (hlc, id) order, so late arrivals land in place.
        Returns the ids of the events that were new here.
        """
        rows = [[0, e.id, e.case_id, e.kind, e.actor, e.device, e.at.isoformat(), e.hlc, e.payload, e.flags]
                for e in events]
        return self.ingest_page(json.dumps(rows, ensure_ascii=False, default=str), lifecycle, meta).new_ids

    def ingest_page(self, text: str, lifecycle: Lifecycle, meta: dict[str, str] | None = None,
                    teams: tuple[str, ...] | None = None) -> Ingested:
        """Record a page of events from elsewhere (see _ingest_page). A row that does not parse or does not fold is
        kept aside in `sync_quarantine` with its reason, in the same transaction, and the rest of the page applies:
        one poisoned event never stops a sync. `teams`: the login's teams, when the centre said so."""
        held: list[tuple[Any, str]] = []
        with _cyclic_gc_paused():
            for _ in range(_POISON_ROUNDS):
                try:
                    return self._ingest_page(text, lifecycle, meta, held, teams)
                except _Poisoned as poisoned:  # rolled back: apply the page again without the rows found
                    held.extend(poisoned.bad)
                    text = json.dumps(poisoned.rest, ensure_ascii=False)
        raise StoreError("a pulled page kept failing to apply; nothing of it was recorded")

    def _ingest_page(self, text: str, lifecycle: Lifecycle, meta: dict[str, str] | None,
                     held: list[tuple[Any, str]], teams: tuple[str, ...] | None) -> Ingested:
        """Record a page of events from elsewhere, given as the JSON text a centre sends (see sync.central.PulledPage):
        idempotent by id, in one transaction with `meta` (e.g. the sync cursor it advances) and the rows `held` aside.

        SQLite reads the page and inserts every row in one statement; for a big page that statement runs on another
        thread (SQLite works without Python's lock) while this one checks every row (the shape rules the centre
        applies too: sync.checks), builds the events and folds each touched case once: just its new events when they
        all come after what it holds, else its whole history in (hlc, id) order. The fold assumes every row is new, as
        they are unless a page is applied twice; the insert says whether they were, and the cases of rows that were
        already here are worked out again from what is stored. A row that fails a check or the fold raises _Poisoned
        (the transaction is rolled back, and ingest_page applies the page again without it).
        """
        from agent_console.sync.checks import page_row_problem

        with self._replayable_transaction() as conn:
            last_seq = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
            # SQLite starts on the rows at once (it reads the text itself); decoding the page for the fold, reading
            # the states it starts from (on the reader connection: what was committed before this page) and folding
            # all happen while it inserts
            insert = _run(lambda: conn.execute(
                "INSERT OR IGNORE INTO events (id, case_id, kind, actor, device, at, hlc, payload, flags, origin)"
                " SELECT value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->8,"
                " value->9, 'remote' FROM json_each(?)", (text,)).rowcount, threaded=len(text) >= _THREADED_TEXT)
            bad: dict[int, str] = {}  # place in the page -> why it is kept aside
            culprits: dict[str, str] = {}  # event id -> why it does not fold
            try:
                rows = json.loads(text)
                now_ms = _now_ms()
                for i, r in enumerate(rows):
                    if (reason := page_row_problem(r, now_ms, teams)) is not None:
                        bad[i] = reason
                if not bad:
                    by_case: dict[str, list[Event]] = {}
                    for r in rows:
                        if r[2] is not None:
                            by_case.setdefault(r[2], []).append(event_from_page_row(r))
                    reader = self._read_conn()
                    before = {case_id: _state_from(reader, case_id) for case_id in by_case}
                    history = {case_id for case_id, state in before.items() if state is None and reader.execute(
                        "SELECT 1 FROM events WHERE case_id=? LIMIT 1", (case_id,)).fetchone() is not None}
                    folded: dict[str, CaseState | None] = {}
                    for case_id, arrived in by_case.items():
                        state = before[case_id]
                        arrived.sort(key=_hlc_order)
                        if state is not None and arrived[0].hlc > state.last_hlc:
                            folded[case_id] = _guarded(lifecycle, state, arrived, culprits)
                        elif state is None and case_id not in history:
                            folded[case_id] = _guarded(lifecycle, None, arrived, culprits)  # new here, all of it
            finally:
                try:
                    inserted = insert.result()  # never leave SQLite busy behind us, even on an error
                except sqlite3.Error:
                    if not bad:
                        raise
            if bad:
                raise _Poisoned(rows, bad)
            new_ids = [r[1] for r in rows]
            if inserted != len(rows) or len(set(new_ids)) != len(new_ids):
                # some rows were here already (a page applied twice, an id repeated): keep the new ones only
                new = {r[0] for r in conn.execute("SELECT id FROM events WHERE seq > ?", (last_seq,))}
                new_ids, stale, side = [], set(), []
                for r in rows:
                    if r[1] in new:  # its first copy in the page
                        new.discard(r[1])
                        new_ids.append(r[1])
                        if r[3] in _SIDE_KINDS:
                            side.append(r)
                    elif r[2] is not None:
                        stale.add(r[2])
                new_set = set(new_ids)
                for case_id in stale:
                    folded.pop(case_id, None)
                    if not any(e.id in new_set for e in by_case[case_id]):
                        by_case.pop(case_id)  # nothing new for this case: it stays as it is
            else:
                side = [r for r in rows if r[3] in _SIDE_KINDS]
            page_ids = set(new_ids)
            for r in side:
                try:
                    self._project_side(conn, event_from_page_row(r))
                except (sqlite3.IntegrityError, KeyError, TypeError, ValueError) as exc:
                    culprits[r[1]] = _fold_reason(exc)
            for case_id in by_case:
                if case_id in folded:
                    state = folded[case_id]
                else:
                    mine: dict[str, str] = {}
                    state = _guarded(lifecycle, None, self.events(case_id), mine)
                    if set(mine) - page_ids:  # an event stored here before does not fold: not the page's doing
                        raise StoreError(f"case {case_id}: stored events do not fold ({mine})")
                    culprits.update(mine)
                if state is not None and not culprits:
                    self._project(conn, state)
            if culprits:
                raise _Poisoned(rows, {i: culprits[r[1]] for i, r in enumerate(rows) if r[1] in culprits})
            now = datetime.now(timezone.utc).isoformat()
            for row, reason in held:
                conn.execute("INSERT OR IGNORE INTO sync_quarantine (event_id, seq, reason, row, at) VALUES"
                             " (?, ?, ?, ?, ?)", (_text_or_none(row, 1), _int_or_none(row, 0), reason,
                                                  json.dumps(row, ensure_ascii=False, default=str), now))
            for key, value in (meta or {}).items():  # e.g. the sync cursor, advanced with what it covers
                self.set_meta(key, value)
        return Ingested(new_ids, [r[7] for r in rows], len(held))

    def _insert_event(self, conn: sqlite3.Connection, event: Event, origin: str) -> None:
        try:
            conn.execute(
                "INSERT INTO events (id, case_id, kind, actor, device, at, hlc, payload, flags, origin)"
                f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '{origin}')",
                _event_row(event),
            )
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"event {event.id} is already recorded") from exc

    def _project(self, conn: sqlite3.Connection, s: CaseState) -> None:
        running = [(t.due, cid) for cid, t in s.clocks.items() if t.due is not None and t.stopped_at is None]
        next_due, next_clock = (min(running) if running else (None, None))
        data = s.model_dump(mode="json")
        clocks = data.pop("clocks")
        person = data["complainant"]
        person.update(phone=mask_phone(person["phone"]), id_number=mask_id(person["id_number"]),
                      name=mask_name(person["name"]))
        row = (
            s.id, s.number, s.status, int(s.is_open), int(s.paused), s.channel, s.category, s.complexity,
            s.owner, s.team, s.department, _utc(s.received_at), _utc(s.closed_at) if s.closed_at else None,
            s.complainant.name, digits(s.complainant.phone), _utc(next_due) if next_due else None, next_clock,
            len(s.conflicts), s.last_hlc, s.model_dump_json(), json.dumps(clocks),
            json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        )
        rowid = conn.execute(
            "INSERT INTO cases (id, number, status, is_open, paused, channel, category, complexity, owner, team,"
            " department, received_at, closed_at, name, phone_digits, next_due, next_clock, conflicts, updated_hlc,"
            " state, clocks, doc) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET"
            " number=excluded.number, status=excluded.status, is_open=excluded.is_open, paused=excluded.paused,"
            " channel=excluded.channel, category=excluded.category, complexity=excluded.complexity,"
            " owner=excluded.owner, team=excluded.team, department=excluded.department,"
            " received_at=excluded.received_at, closed_at=excluded.closed_at, name=excluded.name,"
            " phone_digits=excluded.phone_digits, next_due=excluded.next_due, next_clock=excluded.next_clock,"
            " conflicts=excluded.conflicts, updated_hlc=excluded.updated_hlc, state=excluded.state,"
            " clocks=excluded.clocks, doc=excluded.doc RETURNING rowid",
            row,
        ).fetchone()[0]
        body = "\n".join(x for x in (s.facts, s.request, s.respondent, s.complainant.id_number, s.report) if x)
        conn.execute("DELETE FROM cases_fts WHERE rowid=?", (rowid,))
        conn.execute(
            "INSERT INTO cases_fts (rowid, number, name, phone, body) VALUES (?,?,?,?,?)",
            (rowid, s.number, s.complainant.name, digits(s.complainant.phone), body),
        )

    def _project_side(self, conn: sqlite3.Connection, e: Event) -> None:
        """Projections beside the case: enquiries and callbacks."""
        if e.kind == "enquiry_recorded":
            self._project_enquiry(conn, e)
        elif e.kind in callback_store.KINDS:
            callback_store.project(conn, e)

    def _project_enquiry(self, conn: sqlite3.Connection, e: Event) -> None:
        p = e.payload
        conn.execute(
            "INSERT OR IGNORE INTO enquiries VALUES (?,?,?,?,?,?,?,?)",
            (e.id, _utc(e.at), e.actor, digits(p.get("phone", "")), p.get("name", ""), p.get("topic", ""),
             p.get("answer", ""), p.get("reason_not_complaint", "")),
        )

    # -- reading ----------------------------------------------------------------------------------------------
    def events(self, case_id: str) -> list[Event]:
        rows = self.conn.execute(
            "SELECT id, case_id, kind, actor, device, at, hlc, payload, flags FROM events WHERE case_id=?"
            " ORDER BY hlc, id", (case_id,)
        ).fetchall()
        return [_row_event(r) for r in rows]

    def all_events(self, after_seq: int = 0, limit: int | None = None) -> Iterator[tuple[int, Event]]:
        sql = ("SELECT seq, id, case_id, kind, actor, device, at, hlc, payload, flags FROM events WHERE seq>?"
               " ORDER BY seq")
        params: tuple[Any, ...] = (after_seq,)
        if limit:
            sql += " LIMIT ?"
            params += (limit,)
        for r in self.conn.execute(sql, params):
            yield r[0], _row_event(r[1:])

    def state(self, case_id: str) -> CaseState | None:
        return _state_from(self.conn, case_id)

    def find(self, number_or_id: str) -> CaseState | None:
        key = number_or_id.strip()
        row = self.conn.execute(
            "SELECT state FROM cases WHERE number=? OR id=?", (key.upper(), key)
        ).fetchone()
        return CaseState.model_validate_json(row[0]) if row else None

    def case_rows(self, q: CaseQuery, columns: str = "c.*") -> list[dict[str, Any]]:
        """Matching cases as projection rows (`state` left as JSON text), nearest due first."""
        where, params = [], []  # type: ignore[var-annotated]
        if q.open_only:
            where.append("c.is_open=1")
        for column, value in (("owner", q.owner), ("team", q.team), ("status", q.status),
                              ("category", q.category), ("channel", q.channel)):
            if value:
                where.append(f"c.{column}=?")
                params.append(value)
        if q.teams is not None:
            where.append(f"c.team IN ({','.join('?' * len(q.teams))})")
            params.extend(q.teams)
        if q.due_before is not None:
            where.append("c.next_due IS NOT NULL AND c.next_due < ?")
            params.append(_utc(q.due_before))
        if q.received_from is not None:
            where.append("c.received_at >= ?")
            params.append(_utc(q.received_from))
        if q.received_to is not None:
            where.append("c.received_at < ?")
            params.append(_utc(q.received_to))
        if q.phone:
            # a whole number uses the index; a part of one (the tail an agent remembers) is searched anywhere
            d = digits(q.phone)
            where.append("c.phone_digits = ?" if len(d) >= 11 else "c.phone_digits LIKE ?")
            params.append(d if len(d) >= 11 else f"%{d}%")
        if q.text and q.text.strip():
            for term in q.text.split():
                if len(term) >= 3:  # the trigram index finds it among all cases
                    where.append("c.rowid IN (SELECT rowid FROM cases_fts WHERE cases_fts MATCH ?)")
                    params.append('"' + term.replace('"', '""') + '"')
                else:  # too short for trigrams: look inside the rows the other filters already chose
                    like = "%" + term.replace("%", "").replace("_", "") + "%"
                    where.append("(c.number LIKE ? OR c.name LIKE ? OR c.phone_digits LIKE ? OR c.doc LIKE ?)")
                    params.extend([like] * 4)
        sql = f"SELECT {columns} FROM cases c WHERE " + " AND ".join(where or ["1"])
        # Two queries instead of `ORDER BY next_due IS NULL, …`: each walks an index in order (and stops at the
        # limit), where the single query sorted every matching row, JSON and all, first: the search-as-you-type
        # path, where a one-character term matches thousands of an agent's open cases, and the CLI's whole list.
        limit = " LIMIT ?" if q.limit else ""
        rows = self._rows(sql + " AND c.next_due IS NOT NULL ORDER BY c.next_due, c.received_at DESC" + limit,
                          [*params, q.limit] if q.limit else params)
        if not q.limit or len(rows) < q.limit:
            rows += self._rows(sql + " AND c.next_due IS NULL ORDER BY c.received_at DESC" + limit,
                               [*params, q.limit - len(rows)] if q.limit else params)
        return rows

    def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def count_cases(self, open_only: bool = False) -> int:
        sql = "SELECT count(*) FROM cases" + (" WHERE is_open=1" if open_only else "")
        return self.conn.execute(sql).fetchone()[0]

    def cases_by_phone(self, phone: str, limit: int = 50) -> list[dict[str, Any]]:
        d = digits(phone)
        if len(d) < 5:
            return []
        return self.case_rows(CaseQuery(phone=d, limit=limit))

    # -- drafts -----------------------------------------------------------------------------------------------
    def save_draft(self, key: str, agent: str, data: dict[str, Any]) -> None:
        self.conn.execute(
            "INSERT INTO drafts VALUES (?,?,?,?) ON CONFLICT(key) DO UPDATE SET data=excluded.data,"
            " updated_at=excluded.updated_at",
            (key, agent, json.dumps(data, ensure_ascii=False), datetime.now(timezone.utc).isoformat()),
        )

    def drafts(self, agent: str) -> list[tuple[str, dict[str, Any]]]:
        rows = self.conn.execute(
            "SELECT key, data FROM drafts WHERE agent=? ORDER BY updated_at DESC", (agent,)
        ).fetchall()
        return [(k, json.loads(d)) for k, d in rows]

    def delete_draft(self, key: str) -> None:
        self.conn.execute("DELETE FROM drafts WHERE key=?", (key,))

    # -- outbox (sync) ----------------------------------------------------------------------------------------
    def outbox_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM outbox").fetchone()[0]

    def outbox_batch(self, limit: int) -> list[Event]:
        """The oldest events not yet acknowledged by the centre, in the order they were recorded."""
        rows = self.conn.execute(
            "SELECT e.id, e.case_id, e.kind, e.actor, e.device, e.at, e.hlc, e.payload, e.flags FROM outbox o"
            " JOIN events e ON e.id = o.event_id ORDER BY o.seq LIMIT ?", (limit,)).fetchall()
        return [_row_event(r) for r in rows]

    def outbox_rows(self, limit: int, after: int | None = None) -> list[tuple[Any, ...]]:
        """Like outbox_batch, but rows as stored, led by their local order: (seq, id, case_id, kind, actor, device,
        at, hlc, payload JSON, flags JSON). The fast path for pushing: nothing is decoded.

        `after` continues from the last seq of the previous page. The outbox has no index on its order, so the page is
        read walking the events in order (their primary key) from the oldest waiting one and probing the outbox by id:
        a push round reads each waiting event once instead of sorting the whole outbox for every page.
        """
        if after is None:
            first = self.conn.execute("SELECT min(seq) FROM outbox").fetchone()[0]
            if first is None:
                return []
            after = first - 1
        return self.conn.execute(
            "SELECT e.seq, e.id, e.case_id, e.kind, e.actor, e.device, e.at, e.hlc, e.payload, e.flags"
            " FROM events e CROSS JOIN outbox o WHERE e.seq > ? AND o.event_id = e.id ORDER BY e.seq LIMIT ?",
            (after, limit)).fetchall()

    def acknowledge(self, acked: list[str], refused: list[tuple[str, str]]) -> None:
        """Take acknowledged and refused events out of the outbox; remember the refusals and their reasons."""
        with self._replayable_transaction() as conn:
            # one statement for the whole batch: SQLite does the loop (and lets other threads run meanwhile)
            conn.execute("DELETE FROM outbox WHERE event_id IN (SELECT value FROM json_each(?))", (json.dumps(acked),))
            now = datetime.now(timezone.utc).isoformat()
            for event_id, reason in refused:
                conn.execute("DELETE FROM outbox WHERE event_id = ?", (event_id,))
                conn.execute("INSERT OR REPLACE INTO sync_refused VALUES (?, ?, ?)", (event_id, reason, now))

    def refused(self, limit: int = 20) -> list[tuple[str, str]]:
        return [tuple(r) for r in self.conn.execute(
            "SELECT event_id, reason FROM sync_refused ORDER BY at DESC LIMIT ?", (limit,))]

    def requeue_refused(self) -> int:
        """Queue every refused event to be sent again (after its reason was fixed: a wrong login, an old centre);
        returns how many. The refusal is forgotten; if the centre refuses again, it is recorded again."""
        with self.transaction() as conn:
            n = conn.execute("INSERT OR IGNORE INTO outbox (event_id, seq) SELECT r.event_id, e.seq"
                             " FROM sync_refused r JOIN events e ON e.id = r.event_id").rowcount
            conn.execute("DELETE FROM sync_refused")
        return n

    def quarantined(self, limit: int = 50) -> list[dict[str, Any]]:
        """Pulled rows kept aside because they did not parse or fold, newest first, with the reason (for the lead)."""
        cur = self.conn.execute("SELECT event_id, seq, reason, at, row FROM sync_quarantine ORDER BY n DESC LIMIT ?",
                                (limit,))
        return [dict(zip(("event_id", "seq", "reason", "at", "row"), r)) for r in cur.fetchall()]

    def quarantine_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM sync_quarantine").fetchone()[0]

    def event_ids(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT id FROM events")}

    def enquiries(self, phone: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM enquiries", []  # type: ignore[var-annotated]
        if phone:
            sql += " WHERE phone_digits=?"
            params.append(digits(phone))
        sql += " ORDER BY at DESC LIMIT ?"
        params.append(limit)
        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    # -- rebuilding -------------------------------------------------------------------------------------------
    def rebuild(self, lifecycle: Lifecycle) -> list[str]:
        """Refold every case from its events; rewrite the projection; return the differences found."""
        differences: list[str] = []
        case_ids = [r[0] for r in self.conn.execute("SELECT DISTINCT case_id FROM events WHERE case_id IS NOT NULL")]
        with self.transaction() as conn:
            for case_id in case_ids:
                fresh = lifecycle.fold(self.events(case_id), strict=False)
                if fresh is None:
                    continue
                row = conn.execute("SELECT state FROM cases WHERE id=?", (case_id,)).fetchone()
                if row is None:
                    differences.append(f"{fresh.number}: missing from the projection")
                else:
                    old = json.loads(row[0])
                    new = json.loads(fresh.model_dump_json())
                    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
                    if changed:
                        differences.append(f"{fresh.number}: {', '.join(changed)} differed")
                self._project(conn, fresh)
            orphans = conn.execute(
                "SELECT number FROM cases WHERE id NOT IN (SELECT DISTINCT case_id FROM events WHERE case_id IS NOT NULL)"
            ).fetchall()
            for (number,) in orphans:
                differences.append(f"{number}: in the projection without events (removed)")
            conn.execute(
                "DELETE FROM cases WHERE id NOT IN (SELECT DISTINCT case_id FROM events WHERE case_id IS NOT NULL)"
            )
            marks = ",".join("?" * len(callback_store.KINDS))
            callback_events = [_row_event(r) for r in conn.execute(
                "SELECT id, case_id, kind, actor, device, at, hlc, payload, flags FROM events"
                f" WHERE kind IN ({marks}) ORDER BY hlc, id", callback_store.KINDS)]
            callback_store.rebuild(conn, callback_events)
        return differences


@dataclass
class Ingested:
    new_ids: list[str]  # the events that were new here, in page order
    stamps: list[str]  # every row's hybrid-logical-clock stamp (the clock folds in the latest)
    quarantined: int = 0  # rows of the page kept aside (sync_quarantine), not applied


class _Poisoned(Exception):
    """Rows of a page that must be kept aside: the transaction is rolled back and the rest applied again."""

    def __init__(self, rows: list[Any], bad: dict[int, str]) -> None:
        super().__init__(f"{len(bad)} row(s) kept aside")
        self.bad = [(rows[i], reason) for i, reason in sorted(bad.items())]
        self.rest = [r for i, r in enumerate(rows) if i not in bad]


_POISON_ROUNDS = 6  # a page is applied again at most this often (each round keeps aside what it found)


def _now_ms() -> int:
    import time

    return time.time_ns() // 1_000_000


def _text_or_none(row: Any, i: int) -> str | None:
    value = row[i] if isinstance(row, list) and len(row) > i else None
    return value if isinstance(value, str) else None


def _int_or_none(row: Any, i: int) -> int | None:
    value = row[i] if isinstance(row, list) and len(row) > i else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _fold_reason(exc: Exception) -> str:
    from agent_console.core.lifecycle import IllegalTransition

    if isinstance(exc, IllegalTransition):
        return f"does not fold: {exc.reason}"
    return f"does not fold: {type(exc).__name__}: {exc}"


def _guarded(lifecycle: Lifecycle, state: CaseState | None, events: list[Event],
             culprits: dict[str, str]) -> CaseState | None:
    """The case after `events` (sorted), as the fold makes it; when the fold fails, the events that make it fail are
    named in `culprits` (event id -> reason) and the state is what the others make."""
    try:
        if state is None:
            return _fold(lifecycle, events)
        return lifecycle.apply_many(state, events)
    except Exception:  # noqa: BLE001 - any failure of a pulled event is the event's, never the sync's
        work = state
        for event in sorted(events, key=_hlc_order):
            try:
                work = lifecycle.apply(work, event, strict=False)
            except Exception as exc:  # noqa: BLE001
                culprits[event.id] = _fold_reason(exc)
        return work


_SIDE_KINDS = frozenset({"enquiry_recorded", *callback_store.KINDS})  # projected beside the cases
_FIELDS_SET = frozenset(Event.model_fields)
_new_object = object.__new__
_set_attribute = object.__setattr__
_from_iso = datetime.fromisoformat


def event_from_page_row(r: list[Any]) -> Event:
    """An event from a row of a pulled page, without validation: it was validated where it was made and checked by
    the centre. This is what Event.model_construct does, minus its per-field bookkeeping (a pulled page builds
    thousands; tests hold it equal to model_construct)."""
    event = _new_object(Event)
    _set_attribute(event, "__dict__", {"id": r[1], "case_id": r[2], "kind": r[3], "actor": r[4], "device": r[5],
                                       "at": _from_iso(r[6]), "hlc": r[7], "payload": r[8], "flags": r[9]})
    _set_attribute(event, "__pydantic_fields_set__", set(_FIELDS_SET))
    _set_attribute(event, "__pydantic_extra__", None)
    _set_attribute(event, "__pydantic_private__", None)
    return event


_THREADED_TEXT = 50_000  # characters (about 250 events) from which a page is inserted on a thread of its own


def _state_from(conn: sqlite3.Connection, case_id: str) -> CaseState | None:
    row = conn.execute("SELECT state FROM cases WHERE id=?", (case_id,)).fetchone()
    return CaseState.model_validate_json(row[0]) if row else None


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Hold back Python's cycle collector while a page is applied. A page builds tens of thousands of objects that
    live until it is done (they hold no cycles: reference counting frees them at the end), so the collector would
    promote them and then walk the whole heap again and again, about a fifth of a pull's time. Objects freed in the
    meantime still go at once; only cycles wait, until the page is applied (the previous setting is restored)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _run(work: Callable[[], Any], threaded: bool) -> Future[Any]:
    """`work` on a thread of its own (threaded) or right here; either way its result or error comes from the future."""
    future: Future[Any] = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the result
            future.set_exception(exc)

    if threaded:
        threading.Thread(target=run, name="store-ingest", daemon=True).start()
    else:
        run()
    return future


_hlc_order = attrgetter("hlc", "id")  # the fold's order, (hlc, id)


def _fold(lifecycle: Lifecycle, events: list[Event]) -> CaseState | None:
    """The same state as lifecycle.fold(events, strict=False), copying the state once instead of once per event."""
    if not events:
        return None
    events = sorted(events, key=_hlc_order)
    state = lifecycle.apply(None, events[0], strict=False)
    return lifecycle.apply_many(state, events[1:]) if len(events) > 1 else state


def _event_row(e: Event) -> tuple[Any, ...]:
    return (e.id, e.case_id, e.kind, e.actor, e.device, e.at.isoformat(), e.hlc,
            json.dumps(e.payload, ensure_ascii=False, default=str), json.dumps(e.flags))


def row_event(r: tuple[Any, ...]) -> Event:
    """An event from a stored row (id, case_id, kind, actor, device, at, hlc, payload, flags)."""
    return _row_event(r)


def _row_event(r: tuple[Any, ...]) -> Event:
    return Event.model_construct(
        id=r[0], case_id=r[1], kind=r[2], actor=r[3], device=r[4], at=datetime.fromisoformat(r[5]), hlc=r[6],
        payload=json.loads(r[7]), flags=json.loads(r[8]),
    )
