"""A narrow, derived table of what the KPIs need of each case, kept up to date from the event log.

Reading a month of 100,000 cases out of the wide `cases` rows (state JSON, list documents) and pulling the routing,
answer and pause events for each costs over a second; the same figures read from `kpi_facts`, one short row per
case ordered by receipt, take a fraction of that. The table is derived like the case projection: before each read,
the cases with events after the stored watermark (events.seq) are recomputed from the projection and their events;
with no watermark (a new or older database; delete the meta key kpi_facts_seq to force it) everything is. A
projection rebuilt by `agent-console rebuild` without new events is not noticed: it folds to the same states anyway.
No Textual here.

`case_facts` returns the same row keys as `kpi_queries.case_facts` plus `assigned_at` (first routing),
`progress_at` (first progress note after it), `pauses` (JSON [[paused, resumed|null], …]) and, for closed cases
when the caller passes its calendar's `timing`, `handling_calendar_s` / `handling_working_s` (paused time out).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

COLUMNS = ("received_at", "id", "number", "status", "is_open", "owner", "team", "department", "category",
           "closed_at", "resolve_due", "resolve_stopped", "resolve_paused", "coord_due", "coord_stopped",
           "coord_missed", "escalated_from", "causes", "outcome", "assigned_at", "progress_at", "pauses",
           "handling_calendar_s", "handling_working_s")
# (received, closed, pauses) -> (calendar seconds, working seconds) of handling, paused time taken out. The store
# knows no calendar: the caller passes this with a key naming its calendar, so a changed calendar recomputes all.
Timing = Callable[[datetime, datetime, list[tuple[datetime, datetime | None]]], tuple[float, float]]
TIMELINE_KINDS = ("assigned", "progress_noted", "paused", "resumed")
FULL_REBUILD = 20_000  # more changed cases than this: one pass over everything beats chunked lookups


def _meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def refresh(conn: sqlite3.Connection, db_path: Path | str | None, resolve_clock: str, coordinator_clock: str,
            timing: Timing | None = None, calendar_key: str = "") -> int:
    """Bring kpi_facts up to date; return how many cases were recomputed.

    The write goes through a connection of its own when the database is a file, so a reader's connection (maybe
    inside its own transaction, maybe on another thread) is never asked to nest one.
    """
    shape = f"{resolve_clock}|{coordinator_clock}"
    same = _meta(conn, "kpi_facts_shape") == shape
    if timing is not None and _meta(conn, "kpi_facts_calendar") != calendar_key:
        same = False  # the stored handling times were computed with another calendar
    last = int(_meta(conn, "kpi_facts_seq") or 0) if same else 0
    top = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
    if top <= last and last:
        return 0
    # a caller without a calendar leaves the handling times of the rows it rebuilds empty; KPIs compute those live
    own = db_path is not None and str(db_path) != ":memory:"
    writer = sqlite3.connect(str(db_path), timeout=5.0, isolation_level=None) if own else conn
    try:
        writer.execute("BEGIN IMMEDIATE")
        try:
            changed = [r[0] for r in writer.execute(
                "SELECT DISTINCT case_id FROM events WHERE seq > ? AND case_id IS NOT NULL", (last,))]
            if last == 0 or len(changed) > FULL_REBUILD:
                writer.execute("DELETE FROM kpi_facts")
                done = _store(writer, _rows(writer, resolve_clock, coordinator_clock, "1", [], timing))
            else:
                done = 0
                for i in range(0, len(changed), 500):
                    chunk = changed[i:i + 500]
                    marks = ",".join("?" * len(chunk))
                    writer.execute(f"DELETE FROM kpi_facts WHERE id IN ({marks})", chunk)
                    done += _store(writer, _rows(writer, resolve_clock, coordinator_clock, f"c.id IN ({marks})",
                                                 chunk, timing))
            stamps = [("kpi_facts_seq", str(top)), ("kpi_facts_shape", shape)]
            if timing is not None and last == 0:
                stamps.append(("kpi_facts_calendar", calendar_key))
            for key, value in stamps:
                writer.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                               (key, value))
        except BaseException:
            writer.execute("ROLLBACK")
            raise
        writer.execute("COMMIT")
    finally:
        if own:
            writer.close()
    return done


def _rows(conn: sqlite3.Connection, resolve: str, coord: str, where: str, params: list[Any],
          timing: Timing | None = None) -> list[tuple[Any, ...]]:
    r, c = f"$.{resolve}", f"$.{coord}"
    cases = conn.execute(
        "SELECT c.received_at, c.id, c.number, c.status, c.is_open, c.owner, c.team, c.department, c.category,"
        " c.closed_at, json_extract(c.clocks, ? || '.due'), json_extract(c.clocks, ? || '.stopped_at'),"
        " json_extract(c.clocks, ? || '.paused_at'), json_extract(c.clocks, ? || '.due'),"
        " json_extract(c.clocks, ? || '.stopped_at'), json_extract(c.clocks, ? || '.missed_cycles'),"
        " json_extract(c.state, '$.escalated_from'), json_extract(c.state, '$.causes'),"
        " json_extract(c.state, '$.outcome')"
        f" FROM cases c WHERE {where}", [r, r, r, c, c, c, *params]).fetchall()
    timelines: dict[str, list[tuple[str, str, str]]] = {}
    marks = ",".join("?" * len(TIMELINE_KINDS))
    for case_id, kind, at, hlc in conn.execute(
            f"SELECT e.case_id, e.kind, e.at, e.hlc FROM events e WHERE e.kind IN ({marks})"
            f" AND {where.replace('c.id', 'e.case_id')}", [*TIMELINE_KINDS, *params]):
        timelines.setdefault(case_id, []).append((hlc, kind, at))
    out = []
    for row in cases:
        assigned = progress = None
        pauses: list[list[str | None]] = []
        for _, kind, at in sorted(timelines.get(row[1], ())):  # the fold's order
            if kind == "assigned":
                assigned = assigned or at
            elif kind == "progress_noted":
                if assigned is not None and progress is None:
                    progress = at
            elif kind == "paused":
                if not pauses or pauses[-1][1] is not None:
                    pauses.append([at, None])
            elif kind == "resumed" and pauses and pauses[-1][1] is None:
                pauses[-1][1] = at
        handling: tuple[float | None, float | None] = (None, None)
        if timing is not None and row[9]:  # closed: how long it took, paused time taken out
            fromiso = datetime.fromisoformat
            spans = [(fromiso(a), fromiso(b) if b else None) for a, b in pauses]  # type: ignore[arg-type]
            handling = timing(fromiso(row[0]), fromiso(row[9]), spans)
        out.append((*row, assigned, progress, json.dumps(pauses) if pauses else None, *handling))
    return out


def _store(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> int:
    conn.executemany(f"INSERT INTO kpi_facts ({', '.join(COLUMNS)}) VALUES ({','.join('?' * len(COLUMNS))})", rows)
    return len(rows)


def case_facts(conn: sqlite3.Connection, start: str, end: str, filters: dict[str, Any], resolve_clock: str,
               coordinator_clock: str, db_path: Path | str | None = None, timing: Timing | None = None,
               calendar_key: str = "") -> list[dict[str, Any]]:
    """Per case received in [start, end) (UTC ISO strings) and matching the filters: the KPI columns."""
    refresh(conn, db_path, resolve_clock, coordinator_clock, timing, calendar_key)
    where = ["received_at >= ?", "received_at < ?"]
    params: list[Any] = [start, end]
    for column in ("team", "owner", "department", "category"):
        if filters.get(column):
            where.append(f"{column} = ?")
            params.append(filters[column])
    cur = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM kpi_facts WHERE {' AND '.join(where)}", params)
    return [dict(zip(COLUMNS, r)) for r in cur.fetchall()]


def overdue_spans(conn: sqlite3.Connection, since: str, teams: list[str] | None) -> list[tuple[str, str | None]]:
    """(resolution due, when the clock stopped) of every accepted case that may have been past its due at some
    point after `since` (UTC ISO): still open, or closed after `since`. Read after `refresh`."""
    sql = ("SELECT resolve_due, resolve_stopped FROM kpi_facts WHERE status != 'not_accepted'"
           " AND resolve_due IS NOT NULL AND (closed_at IS NULL OR closed_at >= ?)")
    params: list[Any] = [since]
    if teams:
        sql += f" AND team IN ({','.join('?' * len(teams))})"
        params.extend(teams)
    return conn.execute(sql, params).fetchall()


def received_per_minute(conn: sqlite3.Connection, since: str, until: str,
                        teams: list[str] | None) -> list[tuple[str, int]]:
    """Cases received in [since, until) counted per UTC minute ("YYYY-MM-DDTHH:MM"): few rows, and every timezone's
    offset is whole minutes, so the caller can place each count on its local day exactly. Read after `refresh`."""
    sql = "SELECT substr(received_at, 1, 16), count(*) FROM kpi_facts WHERE received_at >= ? AND received_at < ?"
    params: list[Any] = [since, until]
    if teams:
        sql += f" AND team IN ({','.join('?' * len(teams))})"
        params.extend(teams)
    return conn.execute(sql + " GROUP BY 1", params).fetchall()


def satisfaction_recorded(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(case id, satisfaction JSON) of every callback with a recorded result: few rows next to the cases, so the
    caller keeps those of its period instead of sending every case id to SQLite."""
    return conn.execute("SELECT case_id, satisfaction FROM callbacks WHERE satisfaction IS NOT NULL").fetchall()


def case_briefs(conn: sqlite3.Connection, numbers: list[str]) -> list[dict[str, Any]]:
    """Short rows (id, number, status, category, owner, department) for case numbers, in the order given: what a
    drill-down lists, read in a few queries instead of one full case per number."""
    found: dict[str, dict[str, Any]] = {}
    for i in range(0, len(numbers), 500):
        chunk = numbers[i:i + 500]
        cur = conn.execute("SELECT id, number, status, category, owner, department FROM cases"
                           f" WHERE number IN ({','.join('?' * len(chunk))})", chunk)
        names = [d[0] for d in cur.description]
        for r in cur.fetchall():
            found[r[1]] = dict(zip(names, r))
    return [found[n] for n in numbers if n in found]
