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
when the caller passes its calendar's `timing`, `handling_calendar_s` / `handling_working_s` (paused time out);
plus what each case contributes to the KPIs, worked out when its row is built (`flags`, `late_from_us`,
`coord_ok_until_us`, `response_s`: see `derive`; `sat_n`, `sat_satisfied`, `sat_score`: its recorded satisfaction
follow-ups). `summary` reads a period's figures from those in a few aggregate scans of one narrow index
(migrations 0404, 0405), "now" applied in SQL to the few facts that depend on it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple

from agent_console.core import kpi_rules as rules

COLUMNS = ("received_at", "id", "number", "status", "is_open", "owner", "team", "department", "category",
           "closed_at", "resolve_due", "resolve_stopped", "resolve_paused", "coord_due", "coord_stopped",
           "coord_missed", "escalated_from", "causes", "outcome", "assigned_at", "progress_at", "pauses",
           "handling_calendar_s", "handling_working_s", "flags", "late_from_us", "coord_ok_until_us", "response_s",
           "sat_n", "sat_satisfied", "sat_score")
# (received, closed, pauses) -> (calendar seconds, working seconds) of handling, paused time taken out, and whether
# it was closed before the end of the 9th calendar day after the day of receipt. The store knows no calendar: the
# caller passes this with a key naming its calendar, so a changed calendar recomputes all.
Timing = Callable[[datetime, datetime, list[tuple[datetime, datetime | None]]], tuple[float, float, bool]]

# The bits of kpi_facts.flags: facts about a case that do not depend on when the KPIs are read (kpi.py defines
# the figures built from them). NINE_DAY is known only with a calendar: trust it only where handling_working_s is.
ESCALATED = 1  # an escalation of an earlier case (counts 2)
ON_TIME = 2  # closed or archived, its resolution clock stopped by its due
LATE = 4  # its resolution clock stopped after its due (a running one: late_from_us)
CLOSED = 8  # has a closing time
NINE_DAY = 16  # closed before the end of the 9th calendar day after receipt
ROUTED = 32  # has a coordinator clock, or is with a department (assigned / investigating)
COORD_IN_TIME = 64  # routed, no missed cycle, its clock stopped in time or has no due (running: coord_ok_until_us)
ASSIGNED = 128  # routed to a department at some point
RESPONDED = 256  # and answered with a progress note after that (response_s)
SURVEYED = 512  # a satisfaction follow-up's result is recorded (sat_n of them)
SATISFIED = 1024  # and one at least says "satisfied" (sat_satisfied of them)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
TIMELINE_KINDS = ("assigned", "progress_noted", "paused", "resumed")
FULL_REBUILD = 20_000  # more changed cases than this: one pass over everything beats chunked lookups
FULL_CHUNK = 20_000  # cases read and written at a time by that pass


class GroupFacts(NamedTuple):
    """One (category, owner, department) group of a period's cases, as `summary` sums it up."""

    category: str
    owner: str
    department: str
    cases: int
    escalated: int
    late: int  # past the resolution due at the `now` of the read
    routed: int
    assigned: int
    response_s: float  # the sum over those responded
    handled: int  # closed cases with a stored handling time
    calendar_s: float  # the sums of those handling times
    working_s: float
    closed: int
    surveys: int  # recorded satisfaction results
    satisfied: int
    score: float  # the sum of their scores


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
        changed = [] if last == 0 else [r[0] for r in writer.execute(
            "SELECT DISTINCT case_id FROM events WHERE seq > ? AND case_id IS NOT NULL", (last,))]
        full = last == 0 or len(changed) > FULL_REBUILD
        if full:
            _rebuild_in_chunks(writer, resolve_clock, coordinator_clock, timing)
        writer.execute("BEGIN IMMEDIATE")
        try:
            if full:
                done = writer.execute("SELECT count(*) FROM kpi_facts").fetchone()[0]
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


def _rebuild_in_chunks(conn: sqlite3.Connection, resolve: str, coord: str, timing: Timing | None,
                       chunk: int = FULL_CHUNK) -> None:
    """Every case's facts again, `chunk` cases (a range of ids) at a time, each range in a transaction of its own:
    memory stays flat in the number of cases (a million read at once took 2.5 GB), and writers wait for one chunk
    at most, never for the whole pass. Facts of cases no longer projected go at the end."""
    after = ""
    while True:
        bound = conn.execute("SELECT max(id) FROM (SELECT id FROM cases WHERE id > ? ORDER BY id LIMIT ?)",
                             (after, chunk)).fetchone()[0]
        conn.execute("BEGIN IMMEDIATE")
        try:
            if bound is None:
                conn.execute("DELETE FROM kpi_facts WHERE id > ?", (after,))
            else:
                conn.execute("DELETE FROM kpi_facts WHERE id > ? AND id <= ?", (after, bound))
                _store(conn, _rows(conn, resolve, coord, "c.id > ? AND c.id <= ?", [after, bound], timing))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        if bound is None:
            return
        after = bound


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
            # `+e.kind`: the range of cases is what narrows (events_case); the kind index would have every chunk read
            # every timeline event of the database (a first KPI read at 1M cases did not finish in 8 CPU minutes)
            f"SELECT e.case_id, e.kind, e.at, e.hlc FROM events e WHERE +e.kind IN ({marks})"
            f" AND {where.replace('c.id', 'e.case_id')}", [*TIMELINE_KINDS, *params]):
        timelines.setdefault(case_id, []).append((hlc, kind, at))
    surveys: dict[str, tuple[int, int, float]] = {}  # case id -> (results, satisfied, sum of the scores)
    for case_id, view, attitude, professionalism, timeliness in conn.execute(
            "SELECT case_id, json_extract(satisfaction, '$.outcome_view'), json_extract(satisfaction, '$.attitude'),"
            " json_extract(satisfaction, '$.professionalism'), json_extract(satisfaction, '$.timeliness')"
            f" FROM callbacks WHERE satisfaction IS NOT NULL AND {where.replace('c.id', 'case_id')}", params):
        n, satisfied, score = surveys.get(case_id, (0, 0, 0.0))
        surveys[case_id] = (n + 1, satisfied + (view == "satisfied"),
                            score + (attitude + professionalism + timeliness) / 3)
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
        derived = derive(row, assigned, progress, pauses, timing)
        n, satisfied, score = surveys.get(row[1], (0, 0, None))
        if n:  # the follow-ups are flags too, so the lists of their cases come out of the same scan
            derived = (*derived[:2], derived[2] | SURVEYED | (SATISFIED if satisfied else 0), *derived[3:])
        out.append((*row, assigned, progress, json.dumps(pauses) if pauses else None, *derived, n, satisfied,
                    score))
    return out


def _us(at: datetime) -> int:
    """Microseconds since the epoch: exact, and comparable whatever offset the text was written with."""
    return (at - _EPOCH) // timedelta(microseconds=1)


def derive(row: tuple[Any, ...], assigned: str | None, progress: str | None, pauses: list[list[str | None]],
           timing: Timing | None) -> tuple[float | None, float | None, int, int | None, int | None, float | None]:
    """(handling_calendar_s, handling_working_s, flags, late_from_us, coord_ok_until_us, response_s) of one case
    from its projection row (the first 19 COLUMNS) and its timeline, under the rules of core/kpi_rules.py."""
    fromiso = datetime.fromisoformat
    status, closed_at, escalated_from = row[3], row[9], row[16]
    due_s, stopped_s, paused_s, coord_due_s, coord_stopped_s, coord_missed = row[10:16]
    flags = ESCALATED if escalated_from else 0
    due = fromiso(due_s) if due_s else None
    stopped = fromiso(stopped_s) if stopped_s else None
    late_from = coord_until = None
    since = rules.late_from(due, stopped, paused_s is not None)
    if since is not None:
        if stopped is not None:
            flags |= LATE  # for good
        else:
            late_from = _us(since)  # late once now > due: applied at read time
    if rules.on_time(status, due, stopped):
        flags |= ON_TIME
    coord_due = fromiso(coord_due_s) if coord_due_s else None
    if rules.is_routed(status, coord_due):
        flags |= ROUTED
        in_time, until = rules.coordinator_in_time_until(
            coord_due, fromiso(coord_stopped_s) if coord_stopped_s else None, coord_missed or 0)
        if in_time:
            flags |= COORD_IN_TIME
        elif until is not None:
            coord_until = _us(until)  # in time while now <= due
    response = None
    if assigned:
        flags |= ASSIGNED
        response = rules.response_seconds(fromiso(assigned), fromiso(progress) if progress else None)
        if response is not None:
            flags |= RESPONDED
    handling: tuple[float | None, float | None] = (None, None)
    if closed_at:
        flags |= CLOSED
        if timing is not None:  # how long it took, paused time taken out; and the 9-day rule
            spans = [(fromiso(a), fromiso(b) if b else None) for a, b in pauses]  # type: ignore[arg-type]
            calendar_s, working_s, nine_day = timing(fromiso(row[0]), fromiso(closed_at), spans)
            handling = (calendar_s, working_s)
            flags |= NINE_DAY if nine_day else 0
    return (*handling, flags, late_from, coord_until, response)


def _store(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> int:
    conn.executemany(f"INSERT INTO kpi_facts ({', '.join(COLUMNS)}) VALUES ({','.join('?' * len(COLUMNS))})", rows)
    return len(rows)


def case_facts(conn: sqlite3.Connection, start: str, end: str, filters: dict[str, Any], resolve_clock: str,
               coordinator_clock: str, db_path: Path | str | None = None, timing: Timing | None = None,
               calendar_key: str = "") -> list[dict[str, Any]]:
    """Per case received in [start, end) (UTC ISO strings) and matching the filters: the KPI columns."""
    refresh(conn, db_path, resolve_clock, coordinator_clock, timing, calendar_key)
    where, params = period_where(start, end, filters)
    cur = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM kpi_facts WHERE {where}", params)
    return [dict(zip(COLUMNS, r)) for r in cur.fetchall()]


SEP = "\x1f"  # joins case numbers in group_concat: a control character no case number holds


def period_where(start: str, end: str, filters: dict[str, Any], prefix: str = "") -> tuple[str, list[Any]]:
    """The WHERE text and its parameters for cases received in [start, end) matching the filters (team, owner,
    department, category): the one period filter of the KPI reads."""
    where = [f"{prefix}received_at >= ?", f"{prefix}received_at < ?"]
    params: list[Any] = [start, end]
    for column in ("team", "owner", "department", "category"):
        if filters.get(column):
            where.append(f"{prefix}{column} = ?")
            params.append(filters[column])
    return " AND ".join(where), params


def _numbers(joined: str | None) -> list[str]:
    # the scan runs in number order, so this sort only confirms it (linear on sorted input); it keeps the lists
    # sorted whatever order SQLite happens to aggregate in
    return sorted(joined.split(SEP)) if joined else []


def summary(conn: sqlite3.Connection, start: str, end: str, filters: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A period's KPI material (cases received in [start, end), UTC ISO, matching the filters), read after `refresh`:

    - sorted case numbers: `numbers` (all) and those `escalated`, `on_time`, `nine_day`, `late` (past the
      resolution due at `now`), `in_time` (routed, the coordinator in time at `now`), `responded`, `closed`;
    - `groups`: a GroupFacts per (category, owner, department): cases, escalated, late, routed, assigned, the sum of
      response_s over those responded, how many closed cases have a stored handling time with the sums of those
      times, the closed cases, and the satisfaction results, "satisfied" ones and the sum of their scores;
    - `unhandled`: (number, received_at, closed_at, pauses) of closed cases whose row was built without a calendar
      (no handling time, no 9-day fact): the caller works those out;
    - `causes`: (causes JSON, cases) per distinct cause list;
    - `surveyed` / `satisfied`: the sorted numbers of the cases once per recorded follow-up result / per
      "satisfied" one; the groups end with their counts and the sum of the scores.
    """
    now_us = _us(now)
    where, params = period_where(start, end, filters)
    late = f"(flags & {LATE} OR late_from_us < {now_us})"
    # "now" folded into the bits: the rows sorted by number are just (number, bits), the cheapest sort
    bits = (f"flags | CASE WHEN late_from_us < {now_us} THEN {LATE} ELSE 0 END"
            f" | CASE WHEN coord_ok_until_us >= {now_us} THEN {COORD_IN_TIME} ELSE 0 END")
    # NINE_DAY is set only by a row build that had the calendar, which stored the handling time too
    lists = {"escalated": f"f & {ESCALATED}", "on_time": f"f & {ON_TIME}", "late": f"f & {LATE}",
             "nine_day": f"f & {NINE_DAY}", "in_time": f"f & {ROUTED} AND f & {COORD_IN_TIME}",
             "responded": f"f & {RESPONDED}", "closed": f"f & {CLOSED}", "surveyed": f"f & {SURVEYED}",
             "satisfied": f"f & {SATISFIED}"}
    # one scan in number order (its ORDER BY keeps the subquery from being flattened into the aggregate)
    row = conn.execute(
        "SELECT group_concat(number, char(31)), "
        + ", ".join(f"group_concat(number, char(31)) FILTER (WHERE {c})" for c in lists.values())
        + f" FROM (SELECT number, {bits} AS f FROM kpi_facts WHERE {where} ORDER BY number)", params).fetchone()
    out: dict[str, Any] = {"numbers": _numbers(row[0])} | {k: _numbers(v) for k, v in zip(lists, row[1:])}
    out["groups"] = [GroupFacts._make(g) for g in conn.execute(
        f"SELECT category, owner, department, count(*), count(*) FILTER (WHERE flags & {ESCALATED}),"
        f" count(*) FILTER (WHERE {late}), count(*) FILTER (WHERE flags & {ROUTED}),"
        # response_s is there only when RESPONDED, the handling times only for closed cases (with a calendar)
        f" count(*) FILTER (WHERE flags & {ASSIGNED}), total(response_s), count(handling_working_s),"
        f" total(handling_calendar_s), total(handling_working_s), count(*) FILTER (WHERE flags & {CLOSED}),"
        " sum(sat_n), sum(sat_satisfied), total(sat_score)"
        f" FROM kpi_facts WHERE {where} GROUP BY 1, 2, 3", params)]
    unhandled = sum(g.closed - g.handled for g in out["groups"])
    out["unhandled"] = conn.execute(
        f"SELECT number, received_at, closed_at, pauses FROM kpi_facts WHERE {where} AND flags & {CLOSED}"
        " AND handling_working_s IS NULL", params).fetchall() if unhandled else []
    out["causes"] = conn.execute(
        f"SELECT causes, count(*) FROM kpi_facts WHERE {where} AND causes IS NOT NULL AND causes != '[]'"
        " GROUP BY causes", params).fetchall()
    surveys, satisfied = sum(g.surveys for g in out["groups"]), sum(g.satisfied for g in out["groups"])
    if surveys != len(out["surveyed"]) or satisfied != len(out["satisfied"]):
        # a case followed up more than once counts once per result, as the follow-ups are counted: rare
        for number, n, n_satisfied in conn.execute(
                f"SELECT number, sat_n, sat_satisfied FROM kpi_facts WHERE {where} AND sat_n > 1", params):
            out["surveyed"] += [number] * (n - 1)
            out["satisfied"] += [number] * max(n_satisfied - 1, 0)
        out["surveyed"].sort()
        out["satisfied"].sort()
    return out


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
