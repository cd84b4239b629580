"""SQL for the lead's KPIs and queues: read the case projection and the few events KPIs need, in two queries.

The projection is derived from the event log (it is the fold of each case's events), so figures computed from it
are computed from the log; the event rows read here (pauses, routing, answers, satisfaction) are the log itself.
No Textual here.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from typing import Any

from agent_console.core.kpi import TIMELINE_KINDS, Filters, KpiCase


def _utc(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat()


def _dt(value: str | None) -> datetime | None:
    if not value:
        return None
    if value[-1] == "Z":
        value = value[:-1] + "+00:00"
    return datetime.fromisoformat(value)


def _where(f: Filters) -> tuple[str, list[Any]]:
    where = ["c.received_at >= ?", "c.received_at < ?"]
    params: list[Any] = [_utc(f.start), _utc(f.end)]
    if f.teams is not None:
        where.append(f"c.team IN ({','.join('?' * len(f.teams))})")
        params.extend(f.teams)
    for column, value in (("owner", f.owner), ("department", f.department), ("category", f.category)):
        if value:
            where.append(f"c.{column} = ?")
            params.append(value)
    return " AND ".join(where), params


def kpi_cases(conn: sqlite3.Connection, f: Filters, resolve_clock: str) -> list[KpiCase]:
    """Every case received in the period (and matching the filters) with its KPI timeline."""
    where, params = _where(f)
    path = f"$.{resolve_clock}"
    sql = (
        "SELECT c.id, c.number, c.status, c.category, c.department, c.owner, c.team, c.received_at, c.closed_at,"
        " c.complexity, json_extract(c.clocks, ? || '.due'), json_extract(c.clocks, ? || '.stopped_at'),"
        " json_extract(c.doc, '$.escalated_from'), json_extract(c.doc, '$.causes')"
        f" FROM cases c WHERE {where}"
    )
    cases: dict[str, KpiCase] = {}
    dt = _dt
    for r in conn.execute(sql, [path, path, *params]):
        causes = r[13]
        cases[r[0]] = KpiCase(
            id=r[0], number=r[1], status=r[2], category=r[3], department=r[4], owner=r[5], team=r[6],
            received_at=dt(r[7]), closed_at=dt(r[8]), complexity=r[9], due=dt(r[10]),  # type: ignore[arg-type]
            stopped_at=dt(r[11]), escalated_from=r[12] or None,
            causes=json.loads(causes) if causes and causes != "[]" else [],
        )
    if not cases:
        return []
    kinds = sorted(TIMELINE_KINDS)
    # every event of a case comes after the case was received, so the (kind, at) index prunes by the period start
    rows = conn.execute(
        "SELECT e.case_id, e.kind, e.at, CASE WHEN e.kind = 'satisfaction_recorded' THEN e.payload END"
        f" FROM events e WHERE e.kind IN ({','.join('?' * len(kinds))}) AND e.at >= ? ORDER BY e.at",
        [*kinds, _utc(f.start)],
    )
    get = cases.get
    for case_id, kind, at, payload in rows:
        c = get(case_id)
        if c is not None:
            c.timeline.append((kind, dt(at), json.loads(payload) if payload else {}))  # type: ignore[arg-type]
    return list(cases.values())


def case_briefs(conn: sqlite3.Connection, ids: list[str]) -> list[dict[str, Any]]:
    """Masked list rows for a drill-down: number, status, category, department, owner, caller, received, due."""
    out: list[dict[str, Any]] = []
    for i in range(0, len(ids), 900):
        chunk = ids[i:i + 900]
        cur = conn.execute(
            "SELECT id, number, status, category, department, owner, team, received_at, closed_at, next_due, doc"
            f" FROM cases WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        names = [d[0] for d in cur.description]
        out.extend(dict(zip(names, r)) for r in cur.fetchall())
    order = {case_id: n for n, case_id in enumerate(ids)}
    out.sort(key=lambda r: order[r["id"]])
    return out


def open_due_before(conn: sqlite3.Connection, before: datetime, teams: list[str] | None,
                    limit: int = 5000) -> list[dict[str, Any]]:
    """Open cases whose nearest running clock is due before `before` (the overdue queue), nearest first."""
    sql = ("SELECT id, number, status, category, department, owner, team, next_due, next_clock, paused, doc"
           " FROM cases WHERE is_open = 1 AND next_due IS NOT NULL AND next_due < ?")
    params: list[Any] = [_utc(before)]
    if teams is not None:
        sql += f" AND team IN ({','.join('?' * len(teams))})"
        params.extend(teams)
    sql += " ORDER BY next_due LIMIT ?"
    params.append(limit)
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def pending_approvals(conn: sqlite3.Connection, teams: list[str] | None) -> list[dict[str, Any]]:
    """Open cases waiting for the lead: an extension, a non-standard remedy or a closure as unreachable."""
    sql = ("SELECT id, number, status, category, department, owner, team, next_due, doc,"
           " json_extract(state, '$.extension_pending') AS extension,"
           " json_extract(state, '$.remedy_pending') AS remedy, json_extract(state, '$.remedy') AS remedy_text,"
           " json_extract(state, '$.closure_pending') AS closure FROM cases"
           " WHERE is_open = 1 AND id IN (SELECT case_id FROM events WHERE kind IN"
           " ('extension_requested', 'proposed', 'closure_proposed'))"
           " AND (json_extract(state, '$.extension_pending') IS NOT NULL"
           " OR json_extract(state, '$.remedy_pending') = 1 OR json_extract(state, '$.closure_pending') IS NOT NULL)")
    params: list[Any] = []
    if teams is not None:
        sql += f" AND team IN ({','.join('?' * len(teams))})"
        params.extend(teams)
    sql += " ORDER BY received_at"
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def open_dissatisfaction(conn: sqlite3.Connection, teams: list[str] | None) -> list[dict[str, Any]]:
    """Cases with a dissatisfaction report not yet resolved (live escalations)."""
    sql = ("SELECT id, number, status, owner, team, doc, json_extract(state, '$.dissatisfaction') AS d FROM cases"
           " WHERE id IN (SELECT case_id FROM events WHERE kind = 'dissatisfaction_reported')"
           " AND json_extract(state, '$.dissatisfaction') IS NOT NULL"
           " AND json_extract(state, '$.dissatisfaction.resolved_at') IS NULL")
    params: list[Any] = []
    if teams is not None:
        sql += f" AND team IN ({','.join('?' * len(teams))})"
        params.extend(teams)
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def record_audit(conn: sqlite3.Connection, at: datetime, actor: str, action: str, detail: dict[str, Any]) -> None:
    conn.execute("INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)",
                 (_utc(at), actor, action, json.dumps(detail, ensure_ascii=False)))


def audit_rows(conn: sqlite3.Connection, action: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    sql, params = "SELECT seq, at, actor, action, detail FROM audit_log", []  # type: ignore[var-annotated]
    if action:
        sql += " WHERE action = ?"
        params.append(action)
    sql += " ORDER BY seq DESC LIMIT ?"
    params.append(limit)
    return [{"seq": r[0], "at": r[1], "actor": r[2], "action": r[3], "detail": json.loads(r[4])}
            for r in conn.execute(sql, params)]
