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

from agent_console.core.case_query import CaseQuery
from agent_console.core.events import Event
from agent_console.core.hlc import HybridClock
from agent_console.core.lifecycle import Lifecycle
from agent_console.core.models import CaseState
from agent_console.core.numbering import case_number, device_code, month_key
from agent_console.core.wire import event_from_page_row, event_row, row_event
from agent_console.core.text import digits, mask_id, mask_name, mask_phone
from agent_console.store import call_rows as call_store
from agent_console.store import callback_rows as callback_store
from agent_console.store.migrations import migrate

if TYPE_CHECKING:
    import sqlite_utils


class StoreError(RuntimeError):
    """The database cannot be used; the message says why and what to do."""


Progress = Callable[[int, int], None]  # (done, total)
REBUILD_BATCH = 2000  # cases per transaction of a rebuild or recompute


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

    def another(self) -> LocalStore:
        """Another connection to the same database, opened the same way (for a thread of its own)."""
        return LocalStore(self.path, timeout=self._timeout)

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

    def ingest_page(self, text: str, lifecycle: Lifecycle, meta: dict[str, str] | None = None) -> Ingested:
        with _cyclic_gc_paused():
            return self._ingest_page(text, lifecycle, meta)

    def _ingest_page(self, text: str, lifecycle: Lifecycle, meta: dict[str, str] | None) -> Ingested:
        """Record a page of events from elsewhere, given as the JSON text a centre sends (see sync.central.PulledPage):
        idempotent by id, never refused, in one transaction with `meta` (e.g. the sync cursor it advances).

        SQLite reads the page and inserts every row in one statement; for a big page that statement runs on another
        thread (SQLite works without Python's lock) while this one builds the events and folds each touched case once:
        just its new events when they all come after what it holds, else its whole history in (hlc, id) order. The
        fold assumes every row is new, as they are unless a page is applied twice; the insert says whether they were,
        and the cases of rows that were already here are worked out again from what is stored.
        """
        with self._replayable_transaction() as conn:
            last_seq = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
            # SQLite starts on the rows at once (it reads the text itself); decoding the page for the fold, reading
            # the states it starts from (on the reader connection: what was committed before this page) and folding
            # all happen while it inserts
            insert = _run(lambda: conn.execute(
                "INSERT OR IGNORE INTO events (id, case_id, kind, actor, device, at, hlc, payload, flags, origin)"
                " SELECT value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->8,"
                " value->9, 'remote' FROM json_each(?)", (text,)).rowcount, threaded=len(text) >= _THREADED_TEXT)
            try:
                rows = json.loads(text)
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
                        folded[case_id] = lifecycle.apply_many(state, arrived)
                    elif state is None and case_id not in history:
                        folded[case_id] = _fold(lifecycle, arrived)  # a case new here, all of it in this page
            finally:
                inserted = insert.result()  # never leave SQLite busy behind us, even on an error
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
            for r in side:
                self._project_side(conn, event_from_page_row(r))
            for case_id in by_case:
                state = folded[case_id] if case_id in folded else _fold(lifecycle, self.events(case_id))
                if state is not None:
                    self._project(conn, state)
            for key, value in (meta or {}).items():  # e.g. the sync cursor, advanced with what it covers
                self.set_meta(key, value)
        return Ingested(new_ids, [r[7] for r in rows])

    def _insert_event(self, conn: sqlite3.Connection, event: Event, origin: str) -> None:
        try:
            conn.execute(
                "INSERT INTO events (id, case_id, kind, actor, device, at, hlc, payload, flags, origin)"
                f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '{origin}')",
                event_row(event),
            )
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"event {event.id} is already recorded") from exc

    def _project(self, conn: sqlite3.Connection, s: CaseState, state_json: str | None = None) -> None:
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
            len(s.conflicts), s.last_hlc, state_json or s.model_dump_json(), json.dumps(clocks),
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
        elif e.kind in call_store.KINDS:
            call_store.project(conn, e)

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
        return [row_event(r) for r in rows]

    def all_events(self, after_seq: int = 0, limit: int | None = None) -> Iterator[tuple[int, Event]]:
        sql = ("SELECT seq, id, case_id, kind, actor, device, at, hlc, payload, flags FROM events WHERE seq>?"
               " ORDER BY seq")
        params: tuple[Any, ...] = (after_seq,)
        if limit:
            sql += " LIMIT ?"
            params += (limit,)
        for r in self.conn.execute(sql, params):
            yield r[0], row_event(r[1:])

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
        return [row_event(r) for r in rows]

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
    def rebuild(self, lifecycle: Lifecycle, progress: Progress | None = None, batch: int = REBUILD_BATCH) -> list[str]:
        """Refold every case from its events; rewrite the projection; return the differences found.

        Set-based and batched: SQLite hands over a batch of cases' events as one JSON text per case (decoded in C,
        not field by field), each case is folded once in place, and the batch's projection rows are written with
        one statement per table, in a transaction of their own. A projection can always be derived again from the
        log, so the batches commit without waiting for the disk (like a pulled page) and a crash midway leaves
        cases that a second rebuild finishes; the event log is never written. `progress(done, total)` after each
        batch.
        """
        differences: list[str] = []
        total = self.conn.execute("SELECT count(*) FROM (SELECT DISTINCT case_id FROM events"
                                  " WHERE case_id IS NOT NULL)").fetchone()[0]
        done, after = 0, ""
        while True:
            with self._replayable_transaction() as conn:
                # the case that ends this batch: `batch` cases on (an index walk, nothing read but ids)
                bound = conn.execute("SELECT max(case_id) FROM (SELECT DISTINCT case_id FROM events WHERE case_id > ?"
                                     " ORDER BY case_id LIMIT ?)", (after, batch)).fetchone()[0]
                if bound is None:
                    break
                folded = self._fold_range(conn, lifecycle, "case_id > ? AND case_id <= ?", (after, bound))
                old = dict(conn.execute("SELECT id, state FROM cases WHERE id > ? AND id <= ?", (after, bound)))
                for fresh, state_json in folded:
                    differences.extend(_differences(fresh, state_json, old.get(fresh.id)))
                self._project_many(conn, folded)
                done += len(folded)
                after = bound
            if progress is not None:
                progress(done, total)
        with self._replayable_transaction() as conn:
            orphans = conn.execute("SELECT number FROM cases WHERE NOT EXISTS"
                                   " (SELECT 1 FROM events e WHERE e.case_id = cases.id)").fetchall()
            for (number,) in orphans:
                differences.append(f"{number}: in the projection without events (removed)")
            if orphans:
                conn.execute("DELETE FROM cases_fts WHERE rowid IN (SELECT rowid FROM cases WHERE NOT EXISTS"
                             " (SELECT 1 FROM events e WHERE e.case_id = cases.id))")
                conn.execute("DELETE FROM cases WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.case_id = cases.id)")
            marks = ",".join("?" * len(callback_store.KINDS))
            callback_events = [row_event(r) for r in conn.execute(
                "SELECT id, case_id, kind, actor, device, at, hlc, payload, flags FROM events"
                f" WHERE kind IN ({marks}) ORDER BY hlc, id", callback_store.KINDS)]
            callback_store.rebuild(conn, callback_events)
            marks = ",".join("?" * len(call_store.KINDS))
            call_store.rebuild(conn, [row_event(r) for r in conn.execute(
                "SELECT id, case_id, kind, actor, device, at, hlc, payload, flags FROM events"
                f" WHERE kind IN ({marks}) ORDER BY hlc, id", call_store.KINDS)])
        return differences

    def recompute_open(self, lifecycle: Lifecycle, progress: Progress | None = None,
                       batch: int = REBUILD_BATCH) -> list[Moved]:
        """Refold the open cases under `lifecycle` (a changed calendar or profile) and rewrite those whose clocks
        moved; return them. Closed cases keep the deadlines they were measured against.

        Safe to run beside the console (on a thread of its own with its own store, say): each batch reads its
        cases' events inside its own write transaction, so a case changed meanwhile is folded with that change.
        `progress(done, total)` after each batch.
        """
        moved: list[Moved] = []
        total = self.conn.execute("SELECT count(*) FROM cases WHERE is_open=1").fetchone()[0]
        done, after = 0, -1
        while True:
            with self._replayable_transaction() as conn:
                page = conn.execute("SELECT rowid, id, number, next_due, clocks FROM cases WHERE is_open=1"
                                    " AND rowid > ? ORDER BY rowid LIMIT ?", (after, batch)).fetchall()
                if not page:
                    break
                after = page[-1][0]
                stored = {r[1]: r for r in page}
                ids = json.dumps(list(stored))
                folded = self._fold_range(conn, lifecycle, "case_id IN (SELECT value FROM json_each(?))", (ids,))
                changed = []
                for fresh, state_json in folded:
                    _, case_id, number, old_due, old_clocks = stored[fresh.id]
                    new_clocks = json.dumps(fresh.model_dump(mode="json", include={"clocks"})["clocks"])
                    if old_clocks is not None and json.loads(old_clocks) == json.loads(new_clocks):
                        continue
                    changed.append((fresh, state_json))
                    due = _next_due(fresh)
                    moved.append(Moved(case_id, number, old_due, _utc(due) if due else None))
                self._project_many(conn, changed)
                done += len(page)
            if progress is not None:
                progress(done, total)
        return moved

    def _fold_range(self, conn: sqlite3.Connection, lifecycle: Lifecycle, where: str,
                    params: tuple[Any, ...]) -> list[tuple[CaseState, str]]:
        """Fold the cases whose events match `where`: (state, its JSON) for each, read one JSON text per case."""
        out = []
        for (text,) in conn.execute(
                "SELECT json_group_array(json_array(0, id, case_id, kind, actor, device, at, hlc, json(payload),"
                f" json(flags))) FROM events WHERE {where} GROUP BY case_id", params):
            fresh = lifecycle.fold([event_from_page_row(r) for r in json.loads(text)], strict=False)
            if fresh is not None:
                out.append((fresh, fresh.model_dump_json()))
        return out

    def _project_many(self, conn: sqlite3.Connection, states: list[tuple[CaseState, str]]) -> None:
        for state, state_json in states:
            self._project(conn, state, state_json)


@dataclass
class Moved:
    """A case whose deadlines a recompute moved: its nearest due before and after (UTC ISO text, None: none runs)."""

    case_id: str
    number: str
    next_due_before: str | None
    next_due_after: str | None


def _differences(fresh: CaseState, state_json: str, stored: str | None) -> list[str]:
    if stored is None:
        return [f"{fresh.number}: missing from the projection"]
    if stored == state_json:  # the common case, decided without decoding either
        return []
    old, new = json.loads(stored), json.loads(state_json)
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return [f"{fresh.number}: {', '.join(changed)} differed"] if changed else []


def _next_due(s: CaseState) -> datetime | None:
    running = [t.due for t in s.clocks.values() if t.due is not None and t.stopped_at is None]
    return min(running) if running else None


@dataclass
class Ingested:
    new_ids: list[str]  # the events that were new here, in page order
    stamps: list[str]  # every row's hybrid-logical-clock stamp (the clock folds in the latest)


_SIDE_KINDS = frozenset({"enquiry_recorded", *callback_store.KINDS, *call_store.KINDS})  # projected beside the cases
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
