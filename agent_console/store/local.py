"""The local SQLite store: append events and update the case projection in one transaction, and query cases.

The database file is created readable by its owner only, in WAL mode, with foreign writers waited for briefly;
events can only be appended (triggers refuse UPDATE and DELETE). Every write that records an event also queues it
in the outbox for sync, in the same transaction.
"""

from __future__ import annotations

import errno
import gc
import itertools
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import cached_property, lru_cache
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_console.core.case_query import CaseQuery
from agent_console.core.errors import Said
from agent_console.core.event_checks import page_row_problem
from agent_console.core.events import Event
from agent_console.core.hlc import HybridClock
from agent_console.core.calendar import reach_recorded
from agent_console.core.lifecycle import Lifecycle
from agent_console.core.models import CaseState
from agent_console.core.numbering import case_number, device_code, month_key
from agent_console.core.wire import built_event, event_from_page_row, event_row, row_event
from agent_console.core import search_terms
from agent_console.core.search_terms import scope_token
from agent_console.core.text import digits, mask_id, mask_name, mask_phone
from agent_console.store import call_rows as call_store
from agent_console.store import callback_rows as callback_store
from agent_console.store.migrations import migrate

if TYPE_CHECKING:
    import sqlite_utils


class StoreError(Said, RuntimeError):
    """The database cannot be used: a key and parameters (core.errors.Said; words in the locale's errors.toml)
    saying why and what to do. `kind` names the bad day (busy, read_only, damaged, full, unusable) for the
    console's words and the CLI's exit code."""

    kind = "unusable"


class StoreBusy(StoreError):
    kind = "busy"


class StoreReadOnly(StoreError):
    kind = "read_only"


class StoreDamaged(StoreError):
    kind = "damaged"


class StoreFull(StoreError):
    kind = "full"


def store_error(path: Path, exc: BaseException) -> StoreError:
    """What an SQLite or OS error on `path` means for the person, with what to do about it. SQLite's own words
    (English) go in `detail`, which only the English text shows."""
    msg = str(exc)
    low = msg.lower()
    if isinstance(exc, sqlite3.Error) and ("locked" in low or "busy" in low):
        return StoreBusy("db.busy", path=str(path), detail=msg)
    if "readonly" in low or "read-only" in low or getattr(exc, "errno", None) in (errno.EROFS, errno.EACCES,
                                                                                   errno.EPERM):
        return StoreReadOnly("db.read_only", path=str(path), detail=msg)
    if "full" in low or getattr(exc, "errno", None) == errno.ENOSPC:
        return StoreFull("db.full", path=str(path), detail=msg, **_space_needed(path))
    if "malformed" in low or "not a database" in low or "corrupt" in low:
        return StoreDamaged("db.damaged", path=str(path), check=which_check_failed(path, msg))
    return StoreError("db.unusable", path=str(path), detail=msg)


def _space_needed(path: Path) -> dict[str, str]:
    import shutil

    folder = path.parent if path.parent.exists() else Path(".")
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = 0
    # a write needs room for its pages in the log and, at a checkpoint, in the file: a few MB, more for a big file
    size = path.stat().st_size if path.exists() else 0
    needed = max(16 * 1024 * 1024, size // 10)
    return {"needed": f"{needed / 2**20:.0f}", "folder": str(folder), "free": f"{free / 2**20:.1f}"}


def which_check_failed(path: Path, msg: str = "") -> Said:
    """The first problems SQLite's own check finds (the damaged pages), else why it cannot even read the file,
    else the error itself."""
    import re

    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            rows = conn.execute("PRAGMA quick_check(3)").fetchall()
        finally:
            conn.close()
        found = [r[0] for r in rows if r[0] != "ok"]
        if found:
            pages = sorted({int(n) for line in found for n in re.findall(r"[Pp]age (\d+)", line)})
            return Said("db.check_pages" if pages else "db.check_failed", pages=", ".join(map(str, pages)),
                        detail="; ".join(found))
        if not msg:
            return Said("db.check_ok")
    except sqlite3.Error as exc:  # the check cannot even start: the file's header, or its table of tables
        return Said("db.check_header" if "not a database" in str(exc) else "db.check_schema", detail=str(exc))
    return Said("db.check_reported", detail=msg)


def move_aside(path: Path, when: datetime) -> Path:
    """Rename a damaged database, with its -wal and -shm files, to NAME.damaged-YYYYMMDD-HHMMSS.db beside it: kept
    as it was, for repair or a support engineer, while a fresh file takes its name. Returns the new name."""
    stamp = when.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.stem}.damaged-{stamp}{path.suffix}")
    n = 1
    while aside.exists():  # twice in one second: never overwrite what was kept
        aside = path.with_name(f"{path.stem}.damaged-{stamp}-{n}{path.suffix}")
        n += 1
    try:
        for suffix in ("-wal", "-shm"):
            side = Path(str(path) + suffix)
            if side.exists():
                side.rename(str(aside) + suffix)
        path.rename(aside)
    except OSError as exc:
        raise store_error(path, exc) from exc
    return aside


Progress = Callable[[int, int], None]  # (done, total)
REBUILD_BATCH = 2000  # cases per transaction of a rebuild or recompute


def _utc(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat()


def _cannot_write(conn: sqlite3.Connection) -> str:
    """Why this connection cannot write (a read-only or immutable file, a read-only file system), or ""."""
    timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout=0")  # another writer at work means the file is writable: do not wait for it
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            conn.execute(f"PRAGMA user_version={int(version)}")  # a write of nothing: refused when read-only
        finally:
            conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "readonly" in str(exc).lower():
            return str(exc)
        if "locked" not in str(exc).lower() and "busy" not in str(exc).lower():
            raise
    finally:
        conn.execute(f"PRAGMA busy_timeout={int(timeout)}")
    return ""


def _migrations_pending(conn: sqlite3.Connection) -> bool:
    from agent_console.store.migrations import MIGRATIONS_DIR

    try:
        done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
    except sqlite3.OperationalError:
        return True
    return any(p.stem not in done for p in MIGRATIONS_DIR.glob("*.sql"))


_DEFER_INDEXES_FROM = 10_000  # cases a bulk load adds from which it builds the secondary indexes after


def _deferred(text: str | None) -> dict[str, Any]:
    """The mark of a bulk load's dropped indexes: the loading process and the indexes' definitions."""
    data = json.loads(text) if text else {}
    if isinstance(data, list):  # the first form of the mark: the definitions alone
        data = {"indexes": data}
    return {"pid": int(data.get("pid") or 0), "indexes": list(data.get("indexes") or [])}


def _alive(pid: int) -> bool:
    """Whether a process of this machine with that id is running (0: none)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # there, but not ours to signal
        return True
    return True


def _set_journal(conn: sqlite3.Connection, mode: str) -> str:
    """Switch the journal mode; the mode it was, or "" when it could not change (another connection is open)."""
    before = conn.execute("PRAGMA journal_mode").fetchone()[0]
    try:
        now = conn.execute(f"PRAGMA journal_mode={mode}").fetchone()[0]
    except sqlite3.OperationalError:
        return ""
    return before if now.lower() == mode.lower() and before.lower() != mode.lower() else ""


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
        if self.meta("search_index") in ("fill", "sounds") and not self.read_only:
            self.fill_search_index()
        if not self.read_only:
            self.restore_indexes(at_open=True)  # a bulk load that stopped half way (bulk_load)

    # -- opening ----------------------------------------------------------------------------------------------
    read_only: StoreReadOnly | None = None  # why this database is open for reading only (None: it can be written)

    def _open(self, timeout: float) -> None:
        new = str(self.path) != ":memory:" and not self.path.exists()
        if new:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # created 0600 before SQLite touches it: case material is confidential
                fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
            except OSError as exc:
                raise StoreReadOnly("db.cannot_create", path=str(self.path),
                                    detail=str(exc.strerror or exc)) from exc
        try:
            conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # a registered complaint survives a power cut
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            why = "" if str(self.path) == ":memory:" else _cannot_write(conn)
            if why:
                # a read-only file or file system: open it for reading and say so (lists and phrasebook work)
                if _migrations_pending(conn):
                    raise StoreReadOnly("db.read_only_old", path=str(self.path), detail=why)
                conn.execute("PRAGMA query_only=1")
                self.read_only = StoreReadOnly("db.read_only_open", path=str(self.path), detail=why)
            else:
                migrate(conn)
        except sqlite3.DatabaseError as exc:
            raise store_error(self.path, exc) from exc
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
        """BEGIN IMMEDIATE … COMMIT (rolled back on any error). A bad day (busy, read-only, damaged, disk full)
        comes out as the StoreError saying so, and nothing of the transaction is kept."""
        if self.read_only:
            raise StoreReadOnly(self.read_only.key, **self.read_only.params)
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise store_error(self.path, exc) from exc
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:
                try:
                    self.conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # SQLite already rolled back (a full disk does)
            if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError) and not isinstance(
                    exc, sqlite3.IntegrityError):
                raise store_error(self.path, exc) from exc
            raise

    @contextmanager
    def _replayable_transaction(self) -> Iterator[sqlite3.Connection]:
        """A transaction for what the centre can give or take again (a pulled page with the cursor it advances, an
        acknowledgement), committed without waiting for the disk: a power cut may undo the last of them, cursor and
        all, and they are then pulled or pushed again (the centre ignores what it has) -- nothing is lost. The next
        durable commit (local work stays synchronous=FULL) makes them durable too, since the log is written in order.
        """
        self.conn.execute(f"PRAGMA synchronous={self._relaxed}")
        try:
            with self.transaction() as conn:
                yield conn
        finally:
            self.conn.execute("PRAGMA synchronous=FULL")

    _relaxed = "NORMAL"  # how a replayable transaction commits (bulk_load: OFF)

    @contextmanager
    def bulk_load(self, coming: int = 0) -> Iterator[None]:
        """Settings for writing a lot of data that can be made again (demo data), restored after: replayable
        transactions commit without syncing at all (checkpoints included: a power cut may lose the last of it, and
        it is made again), a 256 MiB page cache for the indexes' random inserts, and checkpoints every 40 MB of
        log instead of 4 MB (a page changed by many batches is copied to the file once).

        `coming`: how many cases are about to be added. When they outnumber what is there (and are many), the
        secondary indexes of events and cases are dropped and built again after, from sorted keys, instead of
        taking one random insert per row (see _defer_indexes; a load that stops half way gets them back when the
        database is next opened). Into an empty database the rollback journal is kept in memory instead of the
        write-ahead log, so each page is written once rather than into the log and again into the file; a crash
        during such a load leaves a database to delete and make again (there was nothing in it), and WAL is back
        after, the file synced."""
        conn = self.conn
        cache = conn.execute("PRAGMA cache_size").fetchone()[0]
        pages = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        self._relaxed = "OFF"
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("PRAGMA wal_autocheckpoint=10000")
        journal = ""
        deferred = False
        if coming >= _DEFER_INDEXES_FROM and not self.read_only:
            existing = self.count_cases()
            deferred = existing < coming
            if existing == 0 and conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0:
                journal = _set_journal(conn, "MEMORY")
        try:
            if deferred:
                self._defer_indexes()
            yield
        finally:
            del self._relaxed  # the class's NORMAL again
            if deferred:
                self.restore_indexes()
            if journal:
                conn.execute("PRAGMA synchronous=FULL")
                _set_journal(conn, journal)
            conn.execute(f"PRAGMA cache_size={int(cache)}")
            conn.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")

    def _defer_indexes(self) -> None:
        """Drop the secondary indexes of events and cases (a unique one stays: it is a rule), their definitions
        kept in meta `deferred_indexes` in the same transaction, for restore_indexes."""
        with self.transaction() as conn:
            found = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name IN ('events', 'cases')"
                " AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name").fetchall()
            if not found:
                return
            kept = _deferred(self.meta("deferred_indexes"))["indexes"]
            mark = {"pid": os.getpid(), "indexes": kept + [sql for _, sql in found]}
            conn.execute("INSERT INTO meta VALUES ('deferred_indexes', ?) ON CONFLICT(key) DO UPDATE"
                         " SET value=excluded.value", (json.dumps(mark),))
            for name, _ in found:
                conn.execute(f'DROP INDEX "{name}"')

    def restore_indexes(self, at_open: bool = False) -> None:
        """Build again the indexes a bulk load dropped (meta `deferred_indexes`), in one transaction with the
        mark's removal; nothing to do when none were dropped. Also run when the database is opened (at_open), so a
        load that stopped half way never leaves a database without its indexes -- but not while the process that
        is loading is still alive (a console opened during a demo load leaves them to it)."""
        kept = self.meta("deferred_indexes")
        if not kept:
            return
        mark = _deferred(kept)
        if at_open and mark["pid"] != os.getpid() and _alive(mark["pid"]):
            return
        with self.transaction() as conn:
            for sql in mark["indexes"]:
                conn.execute(sql.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
            conn.execute("DELETE FROM meta WHERE key='deferred_indexes'")

    def fill_search_index(self, progress: Progress | None = None, batch: int = 5000) -> None:
        """Write the search index of every case from the projection (after the migration that made the index), in
        batches; the mark that asks for it goes with the last one. Marked 'sounds' (a database indexed before the
        sound tables): only the sound rows are written."""
        if self.meta("search_index") == "sounds":
            return self._fill_sounds(progress, batch)

        def write(conn: sqlite3.Connection, page: list[Any]) -> None:
            rows = [(r[0], *_search_row(r[1], r[2], r[3], [x or "" for x in r[4:9]], bool(r[9]), r[10], r[11]))
                    for r in page]
            _insert_search(conn, rows, [r for r, p in zip(rows, page) if p[9]])

        self._fill_in_pages(
            "SELECT rowid, number, name, phone_digits, state ->> '$.facts', state ->> '$.request',"
            " state ->> '$.respondent', state ->> '$.complainant.id_number', state ->> '$.report', is_open,"
            " owner, team FROM cases WHERE rowid > ? ORDER BY rowid LIMIT ?", _SEARCH_TABLES, write, progress, batch)

    def _fill_sounds(self, progress: Progress | None, batch: int) -> None:
        """Write only the sound rows of every case (search_terms.sound_terms, as _search_row makes them), the rest of
        the index being there already."""

        def write(conn: sqlite3.Connection, page: list[Any]) -> None:
            rows = [(r[0], _sound_of(r[1], r[2], r[3]), r[5]) for r in page]
            conn.executemany(_SOUND_INSERT, rows)
            conn.executemany(_OPEN_SOUND_INSERT, [r for r, p in zip(rows, page) if p[4]])

        self._fill_in_pages(
            "SELECT c.rowid, c.name, c.state ->> '$.facts', c.state ->> '$.request', c.is_open, s.scope"
            " FROM cases c JOIN cases_search s ON s.rowid = c.rowid"
            " WHERE c.rowid > ? ORDER BY c.rowid LIMIT ?", ("cases_sound", "open_sound"), write, progress, batch)

    def _fill_in_pages(self, select: str, tables: Sequence[str],
                       write: Callable[[sqlite3.Connection, list[Any]], None], progress: Progress | None,
                       batch: int) -> None:
        """Page through the cases in rowid order (`select` takes the last rowid and the page size; each row starts
        with its rowid), a transaction a page: clear the page's rowid range in `tables`, `write` the page. The mark
        asking for the index goes with the last (empty) page, so a fill stopped half way is still asked for."""
        total = self.conn.execute("SELECT count(*) FROM cases").fetchone()[0]
        done, after = 0, 0
        while True:
            with self._replayable_transaction() as conn:
                page = conn.execute(select, (after, batch)).fetchall()
                if not page:
                    conn.execute("DELETE FROM meta WHERE key='search_index'")
                    break
                after = page[-1][0]
                for table in tables:
                    conn.execute(f"DELETE FROM {table} WHERE rowid > ? AND rowid <= ?", (page[0][0] - 1, after))
                write(conn, page)
            done += len(page)
            if progress is not None:
                progress(done, total)

    # -- meta and counters ------------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def meta_dict(self, key: str) -> dict[str, Any]:
        """A meta value that holds a JSON object; {} when it is missing or is not one (never raises)."""
        raw = self.meta(key)
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

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
        # what each case's fold has counted over: the stored one widened by these events (a local event comes
        # last in the fold's order, so the fold of the whole history is this apply on the stored state); None:
        # not known (no row for the stored state), and so not recorded
        reach: dict[str, list[int] | None] = {}
        tz = lifecycle.clocks.calendar.tz
        with self.transaction() as conn:
            for event in events:
                event = self._numbered(conn, event, tz)
                if event.case_id is not None:
                    before = states.get(event.case_id) or self.state(event.case_id)
                    if event.case_id not in reach:
                        reach[event.case_id] = new_span() if before is None else _stored_reach(conn, event.case_id)
                    with reach_recorded() as days:
                        states[event.case_id] = lifecycle.apply(before, event, strict=strict)
                    widen(reach[event.case_id], days)
                self._insert_event(conn, event, origin="local")
                # validated just now (make_event): a push need not check it again (migration 0800)
                conn.execute("INSERT INTO outbox (event_id, seq, checked) VALUES (?, last_insert_rowid(), 1)",
                             (event.id,))
                self._project_side(conn, event)
            for state in states.values():
                span = reach.get(state.id)
                self._project(conn, state, reach=None if span is None else reach_row(span, state))
            conn.execute("UPDATE counters SET value = value + ? WHERE name = 'outbox'", (len(events),))
            self.set_meta("hlc_last", self.hlc.last)
        return states

    def append_cases(self, cases: list[list[Event]], lifecycle: Lifecycle, durable: bool = True,
                     states: list[CaseState] | None = None) -> int:
        """Record the local histories of many cases at once (demo data, a bulk registration): the same checks as
        `append` (a strict fold: an illegal event refuses the whole call), numbered in the same transaction, but
        one statement per table for all of them and one fold per case. `durable=False` commits without waiting
        for the disk (data that can be made again). Returns the number of events recorded.

        `states`: each history's own strict fold, when the caller built it event by event (Lifecycle.advance
        refuses an illegal event before it is kept), so it is not folded again; such histories must be stamped
        already (their order is their stamps'), and a registration still without a number gets it here, in its
        state too."""
        if states is not None and len(states) != len(cases):
            raise ValueError("append_cases: one state per history")
        if states is not None and any(not e.hlc for history in cases for e in history):
            raise ValueError("append_cases: folded histories must be stamped (store.stamp) before they are folded")
        tz = lifecycle.clocks.calendar.tz
        rows: list[tuple[Any, ...]] = []
        folded: list[tuple[CaseState, str]] = []
        # what each fold counted over, as `append` records it (not known for states folded by the caller)
        reach: dict[str, tuple[int, int, str, str]] | None = {} if states is None else None
        texts: dict[int, tuple[Any, str]] = {}  # id(payload) -> (payload, its JSON): stories share payload objects
        with (self.transaction() if durable else self._replayable_transaction()) as conn:
            numbers = _Numbers(conn, self.device_code, tz)
            side = []
            for i, history in enumerate(cases):
                history = [numbers.give(self.stamp(e)) for e in history]
                if states is None:
                    with reach_recorded() as days:
                        state = lifecycle.fold(history, strict=True)
                    if state is not None and reach is not None:
                        reach[state.id] = reach_row(days, state)
                else:
                    state = states[i]
                    if history and history[0].kind == "registered" and not state.number:
                        state.number = history[0].payload["number"]
                if state is not None:
                    folded.append((state, state.model_dump_json()))
                for e in history:
                    known = texts.get(id(e.payload))
                    if known is not None and known[0] is e.payload:  # (held here, so no other object has its id)
                        text = known[1]
                    else:
                        text = json.dumps(e.payload, ensure_ascii=False, default=str)
                        texts[id(e.payload)] = (e.payload, text)
                    rows.append((e.id, e.case_id, e.kind, e.actor, e.device, e.at.isoformat(), e.hlc, text,
                                 json.dumps(e.flags) if e.flags else "[]"))
                    if e.kind in _SIDE_KINDS:
                        side.append(e)
            numbers.save()
            last_seq = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
            conn.executemany("INSERT INTO events (id, case_id, kind, actor, device, at, hlc, payload, flags, origin)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'local')", rows)
            conn.execute("INSERT INTO outbox (event_id, seq, checked) SELECT id, seq, 1 FROM events WHERE seq > ?",
                         (last_seq,))  # made by make_event: validated (migration 0800)
            for e in side:
                self._project_side(conn, e)
            self._project_many(conn, folded, reach=reach)
            conn.execute("UPDATE counters SET value = value + ? WHERE name = 'outbox'", (len(rows),))
            self.set_meta("hlc_last", self.hlc.last)
        return len(rows)

    def append_prepared(self, prepared: list[PreparedCase], durable: bool = True) -> int:
        """Record cases made and folded elsewhere (prepare_cases, in any process: demo data from worker processes).
        Here only what needs this database is done, in one transaction: each case gets its number (counted per
        month) and each event its stamp, in story order, written into the prepared texts where prepare_cases left
        their marks; then one statement per table. Returns the number of events recorded."""
        events: list[tuple[Any, ...]] = []
        inserts: list[tuple[Any, ...]] = []
        search: list[tuple[Any, ...]] = []
        open_search: list[tuple[Any, ...]] = []
        reach: list[tuple[Any, ...]] = []
        now = self.hlc.now
        with (self.transaction() if durable else self._replayable_transaction()) as conn:
            numbers = _Numbers(conn, self.device_code, None)
            rowid = conn.execute("SELECT coalesce(max(rowid), 0) FROM cases").fetchone()[0]
            for case in prepared:
                number = numbers.next(case.received_local)
                hlc = ""
                for e in case.events:
                    hlc = now()
                    payload = e[6].replace(NUMBER_MARK, number) if e[2] == "registered" else e[6]
                    events.append((*e[:6], hlc, payload, e[7]))
                row = list(case.row)
                row[1] = number
                row[18] = hlc
                for i in (19, 21):  # the state and the list document
                    row[i] = row[i].replace(NUMBER_MARK, number).replace(HLC_MARK, hlc)
                rowid += 1
                inserts.append((rowid, *row))
                search.append((rowid, *_who_terms(number, row[13], row[14]), *case.terms))
                if row[3]:
                    open_search.append(search[-1])
                    if case.reach is not None:
                        reach.append((rowid, *case.reach))
            numbers.save()
            last_seq = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
            conn.executemany("INSERT INTO events (id, case_id, kind, actor, device, at, hlc, payload, flags, origin)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'local')", events)
            conn.execute("INSERT INTO outbox (event_id, seq, checked) SELECT id, seq, 1 FROM events WHERE seq > ?",
                         (last_seq,))  # made by make_event: validated (migration 0800)
            conn.executemany(_CASE_INSERT, inserts)
            _insert_search(conn, search, open_search)
            conn.executemany("INSERT OR REPLACE INTO case_reach (rowid, first_day, last_day, profile, clocks)"
                             " VALUES (?,?,?,?,?)", reach)
            conn.execute("UPDATE counters SET value = value + ? WHERE name = 'outbox'", (len(events),))
            self.set_meta("hlc_last", self.hlc.last)
        return len(events)

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
        raise StoreError("db.page_failed")

    def _ingest_page(self, text: str, lifecycle: Lifecycle, meta: dict[str, str] | None,
                     held: list[tuple[Any, str]], teams: tuple[str, ...] | None) -> Ingested:
        """Record a page of events from elsewhere, given as the JSON text a centre sends (see sync.central.PulledPage):
        idempotent by id, in one transaction with `meta` (e.g. the sync cursor it advances) and the rows `held` aside.

        SQLite reads the page and inserts every row in one statement; for a big page that statement runs on another
        thread (SQLite works without Python's lock) while this one checks every row (the shape rules the centre
        applies too: core.event_checks), builds the events and folds each touched case once: just its new events when
        they all come after what it holds, else its whole history in (hlc, id) order. The fold assumes every row is
        new, as they are unless a page is applied twice; the insert says whether they were, and the cases of rows that
        were already here are worked out again from what is stored. A row that fails a check or the fold raises _Poisoned
        (the transaction is rolled back, and ingest_page applies the page again without it).
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
            bad: dict[int, str] = {}  # place in the page -> why it is kept aside
            culprits: dict[str, str] = {}  # event id -> why it does not fold
            reach: dict[str, list[int] | None] = {}  # case id -> the days its fold counted over (None: not known)
            try:
                rows = json.loads(text)
                now_ms = _now_ms()
                limits = getattr(getattr(lifecycle, "profile", None), "intake", None)  # the intake's own rules
                for i, r in enumerate(rows):
                    if (reason := page_row_problem(r, now_ms, teams, limits)) is not None:
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
                            # what it counted over: the stored span widened by these events (as `append` does)
                            reach[case_id] = _stored_reach(reader, case_id)
                            with reach_recorded() as days:
                                folded[case_id] = _guarded(lifecycle, state, arrived, culprits)
                            widen(reach[case_id], days)
                        elif state is None and case_id not in history:
                            with reach_recorded() as days:  # new here, all of it
                                folded[case_id] = _guarded(lifecycle, None, arrived, culprits)
                            reach[case_id] = new_span()
                            widen(reach[case_id], days)
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
                    with reach_recorded() as days:  # its whole history, in the fold's order
                        state = _guarded(lifecycle, None, self.events(case_id), mine)
                    reach[case_id] = new_span()
                    widen(reach[case_id], days)
                    if set(mine) - page_ids:  # an event stored here before does not fold: not the page's doing
                        raise StoreError("db.no_fold", case=case_id, detail=str(mine))
                    culprits.update(mine)
                if state is not None and not culprits:
                    span = reach.get(case_id)
                    self._project(conn, state, reach=None if span is None else reach_row(span, state))
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
                event_row(event),
            )
        except sqlite3.IntegrityError as exc:
            raise StoreError("db.event_recorded", id=event.id) from exc

    def _project(self, conn: sqlite3.Connection, s: CaseState, state_json: str | None = None,
                 stored: tuple[Any, ...] | None = None, reach: tuple[int, int, str, str] | None = None) -> None:
        """Write a case's projection row and its search rows. `stored`: what is there now (state, clocks, doc,
        search row, in the open index), when the caller read it (a rebuild): rows found as they would be written
        are left alone. `reach`: what the case's fold counted over (case_reach's columns), when known."""
        row, terms = _projection(s, state_json)
        if stored is not None and stored == (row[19], row[20], row[21], terms[:6], s.is_open):
            return  # a rebuild finding the rows as it would write them: nothing to do
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
        _delete_search(conn, [(rowid,)], [(rowid,)])
        search = (rowid, *terms)
        # the open cases' own index: what the open-cases screen searches
        _insert_search(conn, [search], [search] if s.is_open else [])
        if reach is not None and s.is_open:
            conn.execute("INSERT OR REPLACE INTO case_reach (rowid, first_day, last_day, profile, clocks)"
                         " VALUES (?,?,?,?,?)", (rowid, *reach))
        else:  # folded here without its days recorded (or closed: no recompute refolds it)
            conn.execute("DELETE FROM case_reach WHERE rowid=?", (rowid,))

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

    def case_rows(self, q: CaseQuery, columns: str = "c.*", stream: bool = False) -> Any:
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
        search, first = self._search_expressions(q)
        if q.text and q.text.strip() and not any(search_terms.runs(t) for t in q.text.split()):
            return []  # only punctuation: nothing a person sees can hold it (and it is no empty search)
        if q.phone:
            d = digits(q.phone)
            if len(d) >= 11:  # a whole number: the phone index
                where.append("c.phone_digits = ?")
                params.append(d)
            elif len(d) == 1:
                where.append("instr(c.phone_digits, ?) > 0")
                params.append(d)
        if search is not None and q.limit:
            return self._ranked(q, columns, where, params, search, first)
        sound, rest = self._sound_expressions(q) if search is not None else (None, None)
        if sound is not None:  # after the exact hits, the cases found by sound alone (issue 15)
            heard = [*where, "c.rowid IN (SELECT rowid FROM cases_sound WHERE cases_sound MATCH ?)",
                     "c.rowid NOT IN (SELECT rowid FROM cases_search WHERE cases_search MATCH ?)"]
            also = [*params, sound, search]
            if rest is not None:
                heard.append("c.rowid IN (SELECT rowid FROM cases_search WHERE cases_search MATCH ?)")
                also.append(rest)
        if search is not None:
            where.append("c.rowid IN (SELECT rowid FROM cases_search WHERE cases_search MATCH ?)")
            params.append(search)
        if sound is not None:
            exact = self._listed(columns, where, params, None, stream)
            by_sound = self._listed(columns, heard, also, None, stream)
            return itertools.chain(exact, by_sound) if stream else exact + by_sound
        return self._listed(columns, where, params, q.limit, stream)

    def _listed(self, columns: str, where: list[str], params: list[Any], limit: int | None,
                stream: bool) -> Any:
        """The cases `where` picks, nearest due first, then the newest of those without a due (case_rows)."""
        sql = f"SELECT {columns} FROM cases c WHERE " + " AND ".join(where or ["1"])
        # Two queries instead of `ORDER BY next_due IS NULL, …`: each walks an index in order (and stops at the
        # limit), where the single query sorted every matching row, JSON and all, first: the search-as-you-type
        # path, where a one-character term matches thousands of an agent's open cases, and the CLI's whole list.
        limit_sql = " LIMIT ?" if limit else ""
        due = sql + " AND c.next_due IS NOT NULL ORDER BY c.next_due, c.received_at DESC" + limit_sql
        undue = sql + " AND c.next_due IS NULL ORDER BY c.received_at DESC" + limit_sql
        if stream:
            return self._stream(due, undue, params, limit)
        rows = self._rows(due, [*params, limit] if limit else params)
        if not limit or len(rows) < limit:
            rows += self._rows(undue, [*params, limit - len(rows)] if limit else params)
        return rows

    def iter_case_rows(self, q: CaseQuery, columns: str = "c.*") -> Iterator[tuple[Any, ...]]:
        """Like case_rows, one row at a time as SQLite finds them, each a tuple of `columns` in their order: a
        whole list of a million cases is written out without ever being held (the CLI's --json lists). Use the
        store for nothing else until it is exhausted."""
        return iter(self.case_rows(q, columns, stream=True))

    def _stream(self, due: str, undue: str, params: list[Any], limit: int | None) -> Iterator[tuple[Any, ...]]:
        count = 0
        for sql, args in ((due, [*params, limit] if limit else params), (undue, None)):
            if args is None:
                if limit and count >= limit:
                    return
                args = [*params, limit - count] if limit else params
            for r in self.conn.execute(sql, args):
                count += 1
                yield r

    @staticmethod
    def _search_expressions(q: CaseQuery) -> tuple[str | None, str | None]:
        """The FTS5 expressions of a query's text and partial phone: (anywhere, in number/name/phone only), or
        (None, None) when it has neither. Each term must be found; a term is found as a substring (search_terms)."""
        anywhere, who = [], []
        for term in (q.text or "").split():
            expr = search_terms.term_query(term, "{who1 body1}", "{who2 body2}")
            if expr is not None:
                anywhere.append(f"({expr})")
                who.append(f"({search_terms.term_query(term, 'who1', 'who2')})")
        if q.phone:
            d = digits(q.phone)
            if 2 <= len(d) < 11:  # a part of a number (the tail an agent remembers): its pairs, in order
                tel = '(tel : "' + " ".join(d[i:i + 2] for i in range(len(d) - 1)) + '")'
                anywhere.append(tel)
                who.append(tel)
        if not anywhere:
            return None, None
        return " AND ".join(anywhere), (" AND ".join(who) if q.text and q.text.split() else None)

    @staticmethod
    def _sound_expressions(q: CaseQuery) -> tuple[str | None, str | None]:
        """A query by sound (issue 15): (the sound tables' expression of its terms that sound like Chinese: two
        syllables or more in characters or pinyin, the exact expression its other terms and partial phone must
        match, or None), or (None, None) when no term has a sound."""
        heard, rest = [], []
        for term in (q.text or "").split():
            sound = search_terms.sound_query(term)
            if sound is not None:
                heard.append(f"({sound})")
                continue
            expr = search_terms.term_query(term, "{who1 body1}", "{who2 body2}")
            if expr is not None:
                rest.append(f"({expr})")
        if not heard:
            return None, None
        if q.phone:
            tel, _ = LocalStore._search_expressions(CaseQuery(phone=q.phone))  # a partial number: its pairs
            if tel:
                rest.append(tel)
        return " AND ".join(heard), (" AND ".join(rest) if rest else None)

    def _ranked(self, q: CaseQuery, columns: str, where: list[str], params: list[Any], search: str,
                first: str | None) -> list[dict[str, Any]]:
        """A search for a screen: the best `q.limit` matches, straight from the index and stopping there. Cases
        whose number, name or phone hold every term come first, then those with a term in the text; newest first
        within each. The index also knows each case's owner, team and openness (its scope column), so the
        screen's usual filters are answered inside it rather than by visiting every match."""
        scope = []
        if q.owner:
            scope.append(scope_token("o", q.owner))
        if q.team:
            scope.append(scope_token("t", q.team))
        if q.teams:
            scope.append("(" + " OR ".join(scope_token("t", t) for t in q.teams) + ")")
        scoped = f" AND scope : ({' AND '.join(scope)})" if scope else ""
        index = "open_search" if q.open_only else "cases_search"  # open cases: their own, short doclists
        sql = (f"SELECT {columns}, s.rowid AS _hit FROM {index} s CROSS JOIN cases c ON c.rowid = s.rowid"
               f" WHERE {index} MATCH ? AND " + " AND ".join(where or ["1"]) + " ORDER BY s.rowid DESC LIMIT ?")
        passes = [(sql, [f"({expr}){scoped}", *params]) for expr in ([first] if first else []) + [search]]
        sound, rest = self._sound_expressions(q)
        if sound is not None:  # last, the cases found by sound alone (a homophone the IME picked)
            heard = "open_sound" if q.open_only else "cases_sound"
            also = f" AND c.rowid IN (SELECT rowid FROM {index} WHERE {index} MATCH ?)" if rest else ""
            passes.append((f"SELECT {columns}, s.rowid AS _hit FROM {heard} s CROSS JOIN cases c ON c.rowid = s.rowid"
                           f" WHERE {heard} MATCH ? AND " + " AND ".join(where or ["1"]) + also
                           + " ORDER BY s.rowid DESC LIMIT ?",
                           [f"({sound}){scoped}", *params, *([f"({rest}){scoped}"] if rest else [])]))
        rows: list[dict[str, Any]] = []
        seen: set[int] = set()
        for sql, args in passes:
            for row in self._rows(sql, [*args, q.limit + len(seen)]):
                hit = row.pop("_hit")
                if hit not in seen and len(rows) < (q.limit or 0):
                    seen.add(hit)
                    rows.append(row)
            if len(rows) >= (q.limit or 0):
                break
        return rows

    def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def has_cases_without_documents(self) -> bool:
        """Whether a case row predates the list documents (a database from before them)."""
        return self.conn.execute("SELECT 1 FROM cases WHERE clocks IS NULL LIMIT 1").fetchone() is not None

    def people(self, case_ids: list[str]) -> dict[str, tuple[str, str]]:
        """Case id -> (complainant's name, phone digits) from the projection's columns, for many cases at once."""
        return {r[0]: (r[1], r[2]) for r in self.conn.execute(
            "SELECT id, name, phone_digits FROM cases WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(case_ids),))}

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
        with self.transaction() as conn:  # a bad day is a StoreError saying which, never a raw SQLite error
            conn.execute(
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
        with self.transaction() as conn:
            conn.execute("DELETE FROM drafts WHERE key=?", (key,))

    @contextmanager
    def waiting_at_most(self, seconds: float) -> Iterator[None]:
        """Writes in this block wait for another writer at most `seconds` (the console's screen must not freeze
        for the full timeout: it says it is waiting and tries again instead)."""
        self.conn.execute(f"PRAGMA busy_timeout={int(seconds * 1000)}")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA busy_timeout={int(self._timeout * 1000)}")

    # -- outbox (sync) ----------------------------------------------------------------------------------------
    def outbox_count(self) -> int:
        """Events waiting for the centre: a counter kept with the outbox, so asking costs nothing at any size."""
        row = self.conn.execute("SELECT value FROM counters WHERE name = 'outbox'").fetchone()
        return max(row[0], 0) if row else 0

    def outbox_batch(self, limit: int) -> list[Event]:
        """The oldest events not yet acknowledged by the centre, in the order they were recorded."""
        rows = self.conn.execute(
            "SELECT e.id, e.case_id, e.kind, e.actor, e.device, e.at, e.hlc, e.payload, e.flags FROM outbox o"
            " JOIN events e ON e.id = o.event_id ORDER BY o.seq LIMIT ?", (limit,)).fetchall()
        return [row_event(r) for r in rows]

    def outbox_rows(self, limit: int, after: int | None = None) -> list[tuple[Any, ...]]:
        """Like outbox_batch, but rows as stored, led by their local order: (seq, id, case_id, kind, actor, device,
        at, hlc, payload JSON, flags JSON, checked). The fast path for pushing: nothing is decoded. `checked` is 1
        for a row the store queued from an event it had just validated (append paths), 0 for any other (queued again
        by requeue_refused, from before migration 0800, or written behind the store's back): only those are checked
        again before sending.

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
            "SELECT e.seq, e.id, e.case_id, e.kind, e.actor, e.device, e.at, e.hlc, e.payload, e.flags, o.checked"
            " FROM events e CROSS JOIN outbox o WHERE e.seq > ? AND o.event_id = e.id ORDER BY e.seq LIMIT ?",
            (after, limit)).fetchall()

    def acknowledge(self, acked: list[str], refused: list[tuple[str, str]]) -> None:
        """Take acknowledged and refused events out of the outbox; remember the refusals and their reasons."""
        with self._replayable_transaction() as conn:
            # one statement for the whole batch: SQLite does the loop (and lets other threads run meanwhile)
            gone = conn.execute("DELETE FROM outbox WHERE event_id IN (SELECT value FROM json_each(?))",
                                (json.dumps(acked),)).rowcount
            now = datetime.now(timezone.utc).isoformat()
            for event_id, reason in refused:
                gone += conn.execute("DELETE FROM outbox WHERE event_id = ?", (event_id,)).rowcount
                conn.execute("INSERT OR REPLACE INTO sync_refused VALUES (?, ?, ?)", (event_id, reason, now))
            self._count_outbox(conn, gone)

    def _count_outbox(self, conn: sqlite3.Connection, gone: int) -> None:
        """Take `gone` off the outbox counter. A row queued behind the store's back (a damaged or edited file) is
        not counted, so the counter is set right whenever that shows: the outbox empties (an O(1) look), or the
        counter would go below zero (then counted once)."""
        if conn.execute("SELECT 1 FROM outbox LIMIT 1").fetchone() is None:
            conn.execute("UPDATE counters SET value = 0 WHERE name = 'outbox'")
            return
        left = conn.execute("UPDATE counters SET value = value - ? WHERE name = 'outbox' RETURNING value",
                            (gone,)).fetchone()
        if left is None or left[0] < 0:
            conn.execute("INSERT INTO counters VALUES ('outbox', (SELECT count(*) FROM outbox))"
                         " ON CONFLICT(name) DO UPDATE SET value = excluded.value")

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
            conn.execute("UPDATE counters SET value = value + ? WHERE name = 'outbox'", (n,))
        return n

    def quarantined(self, limit: int = 50) -> list[dict[str, Any]]:
        """Pulled rows kept aside because they did not parse or fold, newest first, with the reason (for the lead)."""
        cur = self.conn.execute("SELECT event_id, seq, reason, at, row FROM sync_quarantine ORDER BY n DESC LIMIT ?",
                                (limit,))
        return [dict(zip(("event_id", "seq", "reason", "at", "row"), r)) for r in cur.fetchall()]

    def conflicted_count(self) -> int:
        """How many cases carry sync conflicts for the lead (a scan of the cases: for the CLI, not a timer)."""
        return self.conn.execute("SELECT count(*) FROM cases WHERE conflicts > 0").fetchone()[0]

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
    def rebuild(self, lifecycle: Lifecycle, progress: Progress | None = None, batch: int = REBUILD_BATCH,
                rewrite: bool = False) -> list[str]:
        """Refold every case from its events; rewrite the projection; return the differences found. `rewrite`:
        write every row and search row whether or not it differs (what a raw rewrite of the rows does: the
        benchmark's like for like, on a database left as it was).

        Set-based and batched: SQLite hands over a batch of cases' events as one JSON text per case (decoded in C,
        not field by field), each case is folded once in place, and a row found exactly as it would be written
        (state, clocks, list document) is left alone; each batch is a transaction of its own. A projection can always be derived again from the
        log, so the batches commit without waiting for the disk (like a pulled page) and a crash midway leaves
        cases that a second rebuild finishes; the event log is never written. `progress(done, total)` after each
        batch.
        """
        differences: list[str] = []
        refill = self.meta("search_index") is not None  # search rows still to be written: write every row
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
                folded, reach = self._fold_range(conn, lifecycle, "case_id > ? AND case_id <= ?", (after, bound))
                old = self._stored_rows(conn, "c.id > ? AND c.id <= ?", (after, bound))
                for fresh, state_json in folded:
                    stored = old.get(fresh.id)
                    differences.extend(_differences(fresh, state_json, stored[_STATE] if stored else None))
                if refill:  # search rows still to be written: every one (whatever is there replaced)
                    old = {case_id: (*r[:-7], "", "", "", "", "", "", 0) for case_id, r in old.items()}
                self._project_many(conn, folded, None if rewrite else old, reach)
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
                for table in (*_SEARCH_TABLES, "case_reach"):
                    conn.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM cases WHERE NOT EXISTS"
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
                       batch: int = REBUILD_BATCH, only: list[int] | None = None) -> list[Moved]:
        """Refold the open cases under `lifecycle` (a changed calendar or profile) and rewrite those whose clocks
        moved; return them. Closed cases keep the deadlines they were measured against. `only`: the rowids of the
        open cases a change can reach (reached_by_days, of_profile), the others left as they are; each refolded
        case's days are recorded (case_reach).

        Safe to run beside the console (on a thread of its own with its own store, say): each batch is read and
        folded outside any write transaction, and written in a short one that first refolds the cases written
        meanwhile (an event after the fold began), so such a case is folded with that change. (Folding a batch
        inside the write transaction held the database's write lock for seconds: the console's own writes -- a call
        event, an intake draft -- waited that long, and past their busy timeout failed with "database is locked".)
        `progress(done, total)` after each batch.
        """
        moved: list[Moved] = []
        if only is None:  # every open case, from the open cases' index (walking the table read every case's row)
            only = [r[0] for r in self.conn.execute("SELECT rowid FROM cases WHERE is_open=1")]
        only = sorted(only)
        total = len(only)
        done = 0
        each = "case_id IN (SELECT value FROM json_each(?))"
        batches = [only[at:at + batch] for at in range(0, total, batch)]
        # the next batch's cases and events are read on a thread of their own (SQLite reads without Python's lock,
        # from the reader connection: what was committed) while this one folds and writes the batch before
        threaded = str(self.path) != ":memory:"
        reader = self._read_conn() if threaded else self.conn
        ahead = _run(lambda: self._open_batch(reader, batches[0]), threaded) if batches else None
        try:
            for k, some in enumerate(batches):
                assert ahead is not None
                page, mark, texts = ahead.result()
                ahead = _run(lambda nxt=batches[k + 1]: self._open_batch(reader, nxt), threaded) if k + 1 < len(
                    batches) else None
                step = len(some)
                rowid_of = {case_id: rowid for rowid, case_id in page}
                ids = json.dumps(list(rowid_of))
                folded, reach = self._fold_texts(lifecycle, texts)  # the slow part, outside the lock
                with self._replayable_transaction() as conn:
                    touched = json.dumps([r[0] for r in conn.execute(
                        f"SELECT DISTINCT case_id FROM events WHERE seq > ? AND {each}", (mark, ids))])
                    if touched != "[]":  # written meanwhile: folded again, now, with what was written
                        refolded, reached = self._fold_range(conn, lifecycle, each, (touched,))
                        reach.update(reached)
                        again = {fresh.id: (fresh, text) for fresh, text in refolded}
                        folded = [again.pop(f.id, (f, t)) for f, t in folded] + list(again.values())
                    stored = {r[0]: r for r in conn.execute(
                        "SELECT id, number, next_due, clocks, state, rowid FROM cases"
                        " WHERE id IN (SELECT value FROM json_each(?))", (ids,))}
                    changed = []  # (fresh, its JSON): written whole (_project_many)
                    clocks_only = []  # (state, clocks, next due, next clock, rowid): nothing but the clocks changed
                    for fresh, state_json in folded:
                        old = stored.get(fresh.id)
                        if old is None:
                            continue
                        case_id, number, old_due, old_clocks, old_state, at = old
                        cut = _clocks_at(state_json)
                        new_clocks = state_json[cut[0] + len(_CLOCKS_KEY):cut[1]] if cut else fresh.model_dump_json(
                            include=_ONLY_CLOCKS)[len('{"clocks":'):-1]
                        if old_clocks is not None and (old_clocks == new_clocks
                                                       or json.loads(old_clocks) == json.loads(new_clocks)):
                            continue
                        due, clock = _nearest(fresh)
                        moved.append(Moved(case_id, number, old_due, _utc(due) if due else None))
                        if cut and _same_beside_clocks(old_state, state_json, cut):
                            clocks_only.append((state_json, new_clocks, _utc(due) if due else None, clock, at))
                        else:
                            changed.append((fresh, state_json))
                    # the common case of a calendar change: the clocks moved and nothing else of the state did, so the
                    # list document (the state without its clocks) and the search rows are as stored: four columns
                    conn.executemany("UPDATE cases SET state=?, clocks=?, next_due=?, next_clock=? WHERE rowid=?",
                                     sorted(clocks_only, key=_last))
                    if changed:
                        ids = json.dumps([fresh.id for fresh, _ in changed])
                        self._project_many(conn, changed, self._stored_rows(
                            conn, "c.id IN (SELECT value FROM json_each(?))", (ids,)), same_terms=True)
                    _record_reach(conn, rowid_of, reach, folded)
                    done += step
                if progress is not None:
                    progress(done, total)
        finally:
            if ahead is not None:  # stopped half way: the read under way ends before the reader is used again
                try:
                    ahead.result()
                except Exception:  # noqa: BLE001 - what stopped this recompute is what the caller hears of
                    pass
        return moved

    def reached_cases(self, days: tuple[list[int], int, int] | None = None, profiles: frozenset[str] = frozenset(),
                      profile: str | None = None, clocks: frozenset[str] | None = None) -> list[int]:
        """The open cases (rowids) a change can reach, from what their last recompute counted over (case_reach),
        and every open case whose days are not known.

        `days` (a calendar change): (the days whose status changed, first, last: ordinals; every other day of
        first..last is unchanged): the cases that counted over one of those days or outside first..last, and the
        cases of `profiles` (folded on a calendar of their own). `profile` (that profile changed): its cases, or
        with `clocks` only those holding one of those clocks (nothing else of the profile changed)."""
        import bisect

        marks = sorted(set(days[0])) if days else []
        found = {r[0] for r in self.conn.execute(
            "SELECT rowid FROM cases WHERE is_open=1 AND rowid NOT IN (SELECT rowid FROM case_reach)")}
        for rowid, lo, hi, of, held in self.conn.execute(
                "SELECT rowid, first_day, last_day, profile, clocks FROM case_reach"):
            if profile is not None and of == profile and (clocks is None or any(f" {c} " in held for c in clocks)):
                found.add(rowid)
            elif days is not None and (of in profiles or lo <= hi and (
                    lo < days[1] or hi > days[2]
                    or (i := bisect.bisect_left(marks, lo)) < len(marks) and marks[i] <= hi)):
                found.add(rowid)
        return sorted(found)

    def reach_profiles(self) -> list[str]:
        """The profiles the open cases with known days were folded under."""
        return [r[0] for r in self.conn.execute("SELECT DISTINCT profile FROM case_reach")]

    def reach_days(self) -> tuple[int, int] | None:
        """The first and last day (ordinals) any case's recorded fold counted over (None: none recorded)."""
        row = self.conn.execute("SELECT min(first_day), max(last_day) FROM case_reach WHERE first_day <= last_day"
                                ).fetchone()
        return (row[0], row[1]) if row and row[0] is not None else None

    def _fold_range(self, conn: sqlite3.Connection, lifecycle: Lifecycle, where: str, params: tuple[Any, ...]
                    ) -> tuple[list[tuple[CaseState, str]], dict[str, tuple[int, int, str, str]]]:
        """Fold the cases whose events match `where`: (state, its JSON) for each, read one JSON text per case; and
        by case id what each fold counted over (first day, last day, profile, clocks: case_reach's columns)."""
        return self._fold_texts(lifecycle, self._event_texts(conn, where, params))

    @staticmethod
    def _event_texts(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> list[str]:
        """The events of each case `where` picks as one JSON text (page rows: decoded in C, not field by field)."""
        return [text for (text,) in conn.execute(
            "SELECT json_group_array(json_array(0, id, case_id, kind, actor, device, at, hlc, json(payload),"
            f" json(flags))) FROM events WHERE {where} GROUP BY case_id", params)]

    @classmethod
    def _open_batch(cls, conn: sqlite3.Connection, rowids: list[int]) -> tuple[list[tuple[int, str]], int, list[str]]:
        """For a recompute's batch: (rowid, id) of the cases of `rowids` still open, the last event's seq before
        their events are read (what comes after is folded again inside the write), and their events' texts."""
        page = conn.execute("SELECT rowid, id FROM cases WHERE rowid IN (SELECT value FROM json_each(?))"
                            " AND is_open=1 ORDER BY rowid", (json.dumps(rowids),)).fetchall()
        mark = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
        ids = json.dumps([case_id for _, case_id in page])
        return page, mark, cls._event_texts(conn, "case_id IN (SELECT value FROM json_each(?))", (ids,))

    @staticmethod
    def _fold_texts(lifecycle: Lifecycle, texts: list[str]
                    ) -> tuple[list[tuple[CaseState, str]], dict[str, tuple[int, int, str, str]]]:
        """Fold each case's events (an _event_texts text): (state, its JSON) and what each fold counted over."""
        out, reach = [], {}
        for text in texts:
            with reach_recorded() as days:
                fresh = lifecycle.fold([event_from_page_row(r) for r in json.loads(text)], strict=False)
            if fresh is not None:
                out.append((fresh, fresh.model_dump_json()))
                reach[fresh.id] = reach_row(days, fresh)
        return out, reach

    def _project_many(self, conn: sqlite3.Connection, states: list[tuple[CaseState, str]],
                      stored: dict[str, tuple[Any, ...]] | None = None,
                      reach: dict[str, tuple[int, int, str, str]] | None = None, same_terms: bool = False) -> None:
        """Write many cases' projection and search rows: one statement per table for all of them (what `_project`
        does case by case). Rows of cases already here are updated in place (their search rows replaced); new cases
        get the next rowids, given explicitly so their search rows can be written in the same pass.

        `stored`: what is there now by case id (_stored_rows: rowid, the projection's columns, the search row, in the
        open index), when the caller read it (a rebuild, a recompute): then only what differs is written -- the
        columns that changed (cases changed alike go in one statement; an index is touched only when its columns
        change) and the search rows only when their terms or the case's openness did. A calendar change moves
        deadlines: the clocks and documents are written, the search index is left as it is.

        `reach`: what each fold counted over (_fold_range), recorded for the open cases; without it, the rows of the
        cases written here are dropped from case_reach (their days are not known)."""
        if not states:
            return
        keep = stored if same_terms and stored is not None else {}  # (`same_terms`: a deadline recompute)
        made = {s.id: (_projection(s, state_json, keep.get(s.id)), s.is_open)  # a case twice: the last
                for s, state_json in states}
        if stored is None:
            have = dict(conn.execute("SELECT id, rowid FROM cases WHERE id IN (SELECT value FROM json_each(?))",
                                     (json.dumps(list(made)),)))
            stored = {case_id: (rowid,) for case_id, rowid in have.items()}
            exact = False
        else:
            exact = True
        rowid = conn.execute("SELECT coalesce(max(rowid), 0) FROM cases").fetchone()[0]
        updates: dict[tuple[int, ...], list[tuple[Any, ...]]] = {}
        inserts, search, open_search, unsearch, unopen = [], [], [], [], []
        width = len(_CASE_COLUMNS)
        for case_id, ((row, terms), is_open) in made.items():
            old = stored.get(case_id)
            if old is None:
                rowid += 1
                inserts.append((rowid, *row))
                search.append((rowid, *terms))
                if is_open:
                    open_search.append(search[-1])
                continue
            at = old[0]
            if not exact:  # nothing known of the row: all of it, search rows included
                updates.setdefault(tuple(range(1, width)), []).append((*row[1:], at))
                unsearch.append((at,))
                unopen.append((at,))
                search.append((at, *terms))
                if is_open:
                    open_search.append(search[-1])
                continue
            changed = tuple(i for i in range(1, width) if row[i] != old[1 + i])
            if changed:
                updates.setdefault(changed, []).append((*(row[i] for i in changed), at))
            old_terms, in_open = old[1 + width:1 + width + 6], old[-1] is not None
            if terms[:6] != old_terms:  # (the sound column follows from the same texts)
                if old_terms[0] is not None:
                    unsearch.append((at,))
                search.append((at, *terms))
            if in_open and (not is_open or terms[:6] != old_terms):
                unopen.append((at,))
                in_open = False
            if is_open and not in_open:
                open_search.append((at, *terms))
        # every statement in rowid order (the cases come in case id order: random; see _insert_search)
        for changed, rows in updates.items():
            conn.executemany(f"UPDATE cases SET {', '.join(f'{_CASE_COLUMNS[i]}=?' for i in changed)} WHERE rowid=?",
                             sorted(rows, key=_last))
        _delete_search(conn, unsearch, unopen)
        if inserts:
            conn.executemany(_CASE_INSERT, inserts)
        _insert_search(conn, search, open_search)
        rowids = {case_id: (stored[case_id][0] if case_id in stored else None) for case_id in made}
        for r in inserts:
            rowids[r[1]] = r[0]
        if reach is None:
            conn.executemany("DELETE FROM case_reach WHERE rowid=?", sorted((at,) for at in rowids.values()))
        else:
            _record_reach(conn, rowids, reach, states)

    @staticmethod
    def _stored_rows(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> dict[str, tuple[Any, ...]]:
        """The stored rows of the cases `where` picks (on c.): case id -> (rowid, every projection column, the search
        row's six columns, the open index's rowid or None), what _project_many compares with."""
        return {r[1]: r for r in conn.execute(
            f"SELECT c.rowid, {', '.join('c.' + c for c in _CASE_COLUMNS)}, s.who1, s.who2, s.body1, s.body2, s.tel,"
            " s.scope, o.rowid FROM cases c LEFT JOIN cases_search s ON s.rowid = c.rowid"
            f" LEFT JOIN open_search o ON o.rowid = c.rowid WHERE {where}", params)}


class _Numbers:
    """Case numbers for many registrations in one transaction: each month's counter read once, counted here and
    written back once (store._next_case_number does it one statement per case)."""

    def __init__(self, conn: sqlite3.Connection, code: str, tz: Any) -> None:
        self.conn, self.code, self.tz = conn, code, tz
        self.counts: dict[str, int] = {}

    def give(self, event: Event) -> Event:
        """A registration without a number gets the next one; any other event is returned as it is."""
        if event.kind != "registered" or event.payload.get("number"):
            return event
        local = datetime.fromisoformat(event.payload["received_at"]).astimezone(self.tz)
        payload = {**event.payload, "number": self.next(local)}
        return built_event(event.id, event.case_id, event.kind, event.actor, event.device, event.at, event.hlc,
                           payload, event.flags)  # what model_copy(update=payload) makes, without its copying

    def next(self, local: datetime) -> str:
        """The next number for a case received at `local` (its local time)."""
        name = f"case:{month_key(local)}"
        count = self.counts.get(name)
        if count is None:
            row = self.conn.execute("SELECT value FROM counters WHERE name=?", (name,)).fetchone()
            count = row[0] if row else 0
        self.counts[name] = count = count + 1
        return case_number(local, self.code, count)

    def save(self) -> None:
        self.conn.executemany("INSERT INTO counters VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value=excluded.value",
                              list(self.counts.items()))


NUMBER_MARK = "\ue001number\ue001"  # where append_prepared writes a prepared case's number (private-use characters:
HLC_MARK = "\ue001hlc\ue001"  # never in real text) and its last stamp


@dataclass
class PreparedCase:
    """A case made and folded elsewhere, as rows ready to write (plain data: it crosses processes cheaply). Its
    number and stamps are still to come: NUMBER_MARK and HLC_MARK stand where they go."""

    received_local: datetime  # when it was received, local time: the month its number counts in
    events: list[tuple[Any, ...]]  # (id, case_id, kind, actor, device, at, payload JSON, flags JSON), in story order
    row: tuple[Any, ...]  # the projection row (_CASE_COLUMNS order)
    terms: tuple[str, ...]  # the search row's body1, body2, tel, scope, sound (who1, who2 need the number)
    reach: tuple[int, int, str, str] | None = None  # what its fold counted over (reach_row), when recorded


def prepare_cases(histories: list[list[Event]], states: list[CaseState], tz: Any,
                  spans: list[list[int]] | None = None) -> list[PreparedCase]:
    """Cases as rows for LocalStore.append_prepared, without a database: each history (in story order, not yet
    stamped or numbered) with the state its strict fold made (Lifecycle.advance, event by event) and, in `spans`,
    the days that fold counted over (recorded with reach_recorded and `widen`, as `append` records them). Histories
    with events projected beside the cases (enquiries, callbacks, calls) are refused: they go through append_cases."""
    out: list[PreparedCase] = []
    texts: dict[int, tuple[Any, str]] = {}  # id(payload) -> (payload, its JSON): stories share payload objects
    if spans is not None and len(spans) != len(states):
        raise ValueError("prepare_cases: one span per state")
    for n, (history, state) in enumerate(zip(histories, states, strict=True)):
        first = history[0]
        if first.kind != "registered" or first.payload.get("number") or any(e.hlc for e in history):
            raise ValueError("prepare_cases: a history starts with its registration, not numbered or stamped yet")
        rows = []
        for e in history:
            if e.kind in _SIDE_KINDS:
                raise ValueError(f"prepare_cases: {e.kind} is projected beside the case; use append_cases")
            payload = e.payload
            if e is first:
                text = json.dumps({**payload, "number": NUMBER_MARK}, ensure_ascii=False, default=str)
            else:
                known = texts.get(id(payload))
                if known is not None and known[0] is payload:  # (held here, so no other object has its id)
                    text = known[1]
                else:
                    text = json.dumps(payload, ensure_ascii=False, default=str)
                    texts[id(payload)] = (payload, text)
            rows.append((e.id, e.case_id, e.kind, e.actor, e.device, e.at.isoformat(), text,
                         json.dumps(e.flags) if e.flags else "[]"))
        state.__dict__["number"] = NUMBER_MARK
        state.__dict__["last_hlc"] = HLC_MARK
        row, terms = _projection(state)
        received = datetime.fromisoformat(first.payload["received_at"]).astimezone(tz)
        out.append(PreparedCase(received, rows, row, terms[2:], None if spans is None else reach_row(spans[n], state)))
    return out


@dataclass
class Moved:
    """A case whose deadlines a recompute moved: its nearest due before and after (UTC ISO text, None: none runs)."""

    case_id: str
    number: str
    next_due_before: str | None
    next_due_after: str | None


def _projection(s: CaseState, state_json: str | None = None,
                stored: tuple[Any, ...] | None = None) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    """A case's projection row (the columns of `cases`, in _CASE_COLUMNS order) and its search row's columns.

    `stored` (a _stored_rows row, for a deadline recompute): when the texts the search row is made of are those of
    the stored state, the stored search row's six columns are given back instead of being made again (a clock moved:
    the words did not; making them was half the cost of writing a moved case)."""
    next_due, next_clock = _nearest(s)
    # both texts from pydantic's own serialiser (Rust: a tenth of json.dumps on the dumped dict), the list document
    # being the state without its clocks and with the complainant masked
    state_json = state_json or s.model_dump_json()
    doc, clocks = _doc_and_clocks(s, state_json)
    row = (
        s.id, s.number, s.status, int(s.is_open), int(s.paused), s.channel, s.category, s.complexity,
        s.owner, s.team, s.department, _utc(s.received_at), _utc(s.closed_at) if s.closed_at else None,
        s.complainant.name, digits(s.complainant.phone), _utc(next_due) if next_due else None, next_clock,
        len(s.conflicts), s.last_hlc, state_json, clocks, doc,
    )
    if stored is not None and _same_words(s, row, stored):
        return row, stored[1 + len(_CASE_COLUMNS):1 + len(_CASE_COLUMNS) + 6]
    terms = _search_row(s.number, s.complainant.name, digits(s.complainant.phone),
                        (s.facts, s.request, s.respondent, s.complainant.id_number, s.report), s.is_open, s.owner,
                        s.team)
    return row, terms


def _doc_and_clocks(s: CaseState, state_json: str) -> tuple[str, str]:
    """The list document (the state without its clocks, the complainant masked) and the clocks' text, cut out of
    the state's own JSON (`state_json`, pydantic's text of `s`) instead of serialising the state twice more (a third
    of a rebuild's projection). The state's fields come in model order: `clocks` is followed only by scalars, so its
    last `,"clocks":` is the field itself (a quote inside a string is escaped), and `complainant` comes after scalars
    only, so its first mention is the field. Whatever the text does not show as expected is serialised as before."""
    person = s.complainant
    masked = person.model_copy(update={"phone": mask_phone(person.phone), "id_number": mask_id(person.id_number),
                                       "name": mask_name(person.name)})
    at, end = _clocks_at(state_json) or (-1, -1)
    plain, hidden = _COMPLAINANT_KEY + person.model_dump_json(), _COMPLAINANT_KEY + masked.model_dump_json()
    who = state_json.find(_COMPLAINANT_KEY)
    if at < 0 or who < 0 or not state_json.startswith(plain, who):
        doc = s.model_copy(update={"complainant": masked}).model_dump_json(exclude=_NO_CLOCKS)
        return doc, s.model_dump_json(include=_ONLY_CLOCKS)[len('{"clocks":'):-1]
    doc = state_json[:who] + hidden + state_json[who + len(plain):at] + state_json[end:]
    return doc, state_json[at + len(_CLOCKS_KEY):end]


_CLOCKS_KEY = ',"clocks":'
_AFTER_CLOCKS = ',"last_event_at":'  # the field after clocks (CaseState's order)


def _clocks_at(state_json: str) -> tuple[int, int] | None:
    """Where a state's JSON holds its clocks: from `,"clocks":` to the next field (see _doc_and_clocks); None when
    the text does not show them as expected."""
    at = state_json.rfind(_CLOCKS_KEY)
    end = state_json.find(_AFTER_CLOCKS, at) if at >= 0 else -1
    return (at, end) if end >= 0 else None


def _same_beside_clocks(old: str | None, new: str, cut: tuple[int, int]) -> bool:
    """Whether two states' JSON texts are the same but for their clocks (`cut`: where `new` holds them): then every
    column of the case but the clocks' own (state, clocks, next due and clock) is as stored, the list document (the
    state without its clocks, made from the same text) and the search rows too."""
    if old is None:
        return False
    old_cut = _clocks_at(old)
    return old_cut is not None and old_cut[0] == cut[0] and old[:cut[0]] == new[:cut[0]] and \
        old[old_cut[1]:] == new[cut[1]:]


def _nearest(s: CaseState) -> tuple[datetime | None, str | None]:
    """The nearest due of the case's running clocks and that clock's id ((None, None): none runs)."""
    running = [(t.due, cid) for cid, t in s.clocks.items() if t.due is not None and t.stopped_at is None]
    return min(running) if running else (None, None)
_COMPLAINANT_KEY = '"complainant":'

def _same_words(s: CaseState, row: tuple[Any, ...], stored: tuple[Any, ...]) -> bool:
    """Whether the search row stored for a case was made of the texts `s` has (its columns from `row`, the rest
    from the stored state)."""
    if stored[1 + len(_CASE_COLUMNS)] is None or any(row[i] != stored[1 + i] for i in _WORD_COLUMNS) or (
            row[3] and stored[-1] is None):  # (a search row missing from the open index is written whole)
        return False
    try:
        old = json.loads(stored[_STATE])
    except (TypeError, ValueError):
        return False
    person = old.get("complainant") or {}
    return (old.get("facts"), old.get("request"), old.get("respondent"), person.get("id_number"),
            old.get("report")) == (s.facts, s.request, s.respondent, s.complainant.id_number, s.report)


_CASE_COLUMNS = ("id", "number", "status", "is_open", "paused", "channel", "category", "complexity", "owner", "team",
                 "department", "received_at", "closed_at", "name", "phone_digits", "next_due", "next_clock",
                 "conflicts", "updated_hlc", "state", "clocks", "doc")  # the order of a _projection row
_CASE_INSERT = (f"INSERT INTO cases (rowid, {', '.join(_CASE_COLUMNS)})"
                f" VALUES ({', '.join('?' * (len(_CASE_COLUMNS) + 1))})")
_CASE_UPDATE = f"UPDATE cases SET {', '.join(f'{c}=?' for c in _CASE_COLUMNS[1:])} WHERE rowid=?"
_STATE = 1 + 19  # where a _stored_rows row holds the state JSON
_WORD_COLUMNS = (1, 3, 8, 9, 13, 14)  # number, is_open, owner, team, name, phone_digits: what a search row is made of
_NO_CLOCKS = frozenset({"clocks"})
_ONLY_CLOCKS = frozenset({"clocks"})
_SEARCH_INSERT = "INSERT INTO cases_search (rowid, who1, who2, body1, body2, tel, scope) VALUES (?,?,?,?,?,?,?)"
_OPEN_SEARCH_INSERT = _SEARCH_INSERT.replace("cases_search", "open_search")
# (OR REPLACE: a rebuild repairing a damaged search row writes its sound row again over the one still there)
_SOUND_INSERT = "INSERT OR REPLACE INTO cases_sound (rowid, sound, scope) VALUES (?,?,?)"
_OPEN_SOUND_INSERT = _SOUND_INSERT.replace("cases_sound", "open_sound")
_SEARCH_TABLES = ("cases_search", "open_search", "cases_sound", "open_sound")


_NO_DAY = date.max.toordinal() + 1  # the first day of a span that has counted over none yet


def new_span() -> list[int]:
    """[first day, last day] of a fold that has counted over no day yet (widen it with `widen`)."""
    return [_NO_DAY, 0]


def widen(span: list[int] | None, days: list[int]) -> None:
    """Widen `span` by the days a reach_recorded saw (nothing when it saw none; a span not known stays so)."""
    if span is not None and days[0] <= days[1]:
        span[0], span[1] = min(span[0], days[0]), max(span[1], days[1])


def reach_row(span: Sequence[int], state: CaseState) -> tuple[int, int, str, str]:
    """case_reach's columns for a case whose fold counted over `span`: first and last day ((1, 0): none), the
    profile it was folded under, the clocks it holds (" a b ": found by " a " in it)."""
    first, last = (span[0], span[1]) if span[0] <= span[1] else (1, 0)
    return first, last, state.profile, f" {' '.join(state.clocks)} "


def _stored_reach(conn: sqlite3.Connection, case_id: str) -> list[int] | None:
    """[first day, last day] case_reach holds for a case (None: not known)."""
    row = conn.execute("SELECT r.first_day, r.last_day FROM case_reach r JOIN cases c ON c.rowid = r.rowid"
                       " WHERE c.id = ?", (case_id,)).fetchone()
    if row is None:
        return None
    return [row[0], row[1]] if row[0] <= row[1] else new_span()


def _record_reach(conn: sqlite3.Connection, rowids: dict[str, int | None], reach: dict[str, tuple[int, int, str, str]],
                  states: list[tuple[CaseState, str]]) -> None:
    """Keep what each open case's fold counted over (case_reach) and forget it for the closed ones."""
    keep, drop = [], []
    for s, _ in states:
        at = rowids.get(s.id)
        if at is None or s.id not in reach:
            continue
        if s.is_open:
            keep.append((at, *reach[s.id]))
        else:
            drop.append((at,))
    conn.executemany("INSERT OR REPLACE INTO case_reach (rowid, first_day, last_day, profile, clocks)"
                     " VALUES (?,?,?,?,?)", sorted(keep))
    conn.executemany("DELETE FROM case_reach WHERE rowid=?", sorted(drop))


def _insert_search(conn: sqlite3.Connection, rows: list[tuple[Any, ...]], open_rows: list[tuple[Any, ...]]) -> None:
    """Write search rows (rowid and _search_row's columns) into the index, `open_rows` into the open cases' too: the
    one way every path writes them (a case recorded, many folded, a rebuild, demo data in bulk, a refill).

    In rowid order: a full-text index given a rowid below the last one it took flushes what it holds as a segment
    of its own -- one per row, merged later -- and a rebuild's batch comes in case id order (random): its search
    rows cost three times what the same rows cost in order."""
    rows, open_rows = sorted(rows, key=_first), sorted(open_rows, key=_first)
    conn.executemany(_SEARCH_INSERT, [r[:7] for r in rows])
    conn.executemany(_OPEN_SEARCH_INSERT, [r[:7] for r in open_rows])
    conn.executemany(_SOUND_INSERT, [(r[0], r[7], r[6]) for r in rows])
    conn.executemany(_OPEN_SOUND_INSERT, [(r[0], r[7], r[6]) for r in open_rows])


def _delete_search(conn: sqlite3.Connection, rowids: list[tuple[int]], open_rowids: list[tuple[int]]) -> None:
    """Remove search rows (what _insert_search wrote) by rowid: `rowids` from the index, `open_rowids` from the open
    cases' own (in rowid order, as _insert_search writes)."""
    rowids, open_rowids = sorted(rowids), sorted(open_rowids)
    conn.executemany("DELETE FROM cases_search WHERE rowid=?", rowids)
    conn.executemany("DELETE FROM cases_sound WHERE rowid=?", rowids)
    conn.executemany("DELETE FROM open_search WHERE rowid=?", open_rowids)
    conn.executemany("DELETE FROM open_sound WHERE rowid=?", open_rowids)


def _search_row(number: str, name: str, phone_digits: str, body: Sequence[str], is_open: bool, owner: str,
                team: str) -> tuple[str, str, str, str, str, str, str]:
    """The search index's columns for a case: what a person sees of it, as characters and pairs, and its scope;
    last, the sound of its Chinese (the sound tables' column)."""
    who1, who2 = _who_terms(number, name, phone_digits)
    body1, body2 = search_terms.terms_of(body)
    scope = [_scope("o", owner), _scope("t", team)]
    if is_open:
        scope.append("open")
    return (who1, who2, body1, body2,
            search_terms.bigrams_of([phone_digits] if phone_digits else []), " ".join(scope),
            _sound_of(name, *body[:2]))


def _sound_of(name: str | None, facts: str | None, request: str | None) -> str:
    """The sound column of a case: its caller's name, facts and request (what an agent searches for in words; the
    respondent and the closing report, boilerplate mostly, are left to the exact index: a third fewer tokens)."""
    return search_terms.sound_terms((name or "", facts or "", request or ""))


def _who_terms(number: str, name: str, phone_digits: str) -> tuple[str, str]:
    """The search row's who1 and who2: the case's number, caller's name (and its sound) and phone."""
    who = search_terms.text_runs((number, name, phone_digits)) + list(search_terms.sound_runs(name))
    return search_terms.unigrams_of(who), search_terms.bigrams_of(who)


@lru_cache(maxsize=4096)
def _scope(kind: str, value: str) -> str:
    return scope_token(kind, value)


def _differences(fresh: CaseState, state_json: str, stored: str | None) -> list[str]:
    if stored is None:
        return [f"{fresh.number}: missing from the projection"]
    if stored == state_json:  # the common case, decided without decoding either
        return []
    old, new = json.loads(stored), json.loads(state_json)
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return [f"{fresh.number}: {', '.join(changed)} differed"] if changed else []


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


cyclic_gc_paused = _cyclic_gc_paused  # for other bulk work (demo data's batches)


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
_first, _last = itemgetter(0), itemgetter(-1)  # a row's rowid, first or last


def _fold(lifecycle: Lifecycle, events: list[Event]) -> CaseState | None:
    """The same state as lifecycle.fold(events, strict=False), copying the state once instead of once per event."""
    if not events:
        return None
    events = sorted(events, key=_hlc_order)
    state = lifecycle.apply(None, events[0], strict=False)
    return lifecycle.apply_many(state, events[1:]) if len(events) > 1 else state
