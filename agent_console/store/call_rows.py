"""SQL for the caller log: the `calls` table, kept up to date inside the same transaction as each call event.

Each event fills in its own columns only, so events arriving out of order (from sync) still end in the same row.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from typing import Any

from agent_console.core.events import Event
from agent_console.core.text import digits

KINDS = ("call_started", "call_answered", "call_ended", "call_attached")


def _utc(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat()


def project(conn: sqlite3.Connection, e: Event) -> None:
    """Apply one call event to the calls table (events of other kinds are ignored)."""
    p = e.payload
    key = (e.actor, p.get("call", ""))
    if e.kind == "call_started":
        conn.execute(
            "INSERT INTO calls (agent, call_id, direction, remote, remote_digits, local, queue, team, rang_at)"
            " VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(agent, call_id) DO UPDATE SET direction=excluded.direction,"
            " remote=excluded.remote, remote_digits=excluded.remote_digits, local=excluded.local,"
            " queue=excluded.queue, team=excluded.team, rang_at=coalesce(calls.rang_at, excluded.rang_at)",
            (*key, p["direction"], p.get("remote", ""), digits(p.get("remote", "")), p.get("local", ""),
             p.get("queue", ""), p.get("team", ""), _utc(e.at)))
    elif e.kind == "call_answered":
        conn.execute(
            "INSERT INTO calls (agent, call_id, answered_at) VALUES (?,?,?) ON CONFLICT(agent, call_id) DO UPDATE"
            " SET answered_at=coalesce(calls.answered_at, excluded.answered_at)", (*key, _utc(e.at)))
    elif e.kind == "call_ended":
        conn.execute(
            "INSERT INTO calls (agent, call_id, ended_at, cause) VALUES (?,?,?,?) ON CONFLICT(agent, call_id)"
            " DO UPDATE SET ended_at=coalesce(calls.ended_at, excluded.ended_at),"
            " cause=CASE WHEN calls.ended_at IS NULL THEN excluded.cause ELSE calls.cause END",
            (*key, _utc(e.at), p.get("cause", "")))
    elif e.kind == "call_attached":
        conn.execute(
            "INSERT INTO calls (agent, call_id, case_id) VALUES (?,?,?) ON CONFLICT(agent, call_id) DO UPDATE"
            " SET case_id=excluded.case_id", (*key, p["case"]))


def rows(conn: sqlite3.Connection, where: str = "1", params: tuple[Any, ...] = (),
         limit: int = 200) -> list[dict[str, Any]]:
    """Calls newest first, with the number of the case each is attached to."""
    cur = conn.execute(
        "SELECT k.*, c.number FROM calls k LEFT JOIN cases c ON c.id = k.case_id"
        f" WHERE {where} ORDER BY k.rang_at DESC LIMIT ?", (*params, limit))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def find(conn: sqlite3.Connection, *, agent: str | None = None, call_id: str | None = None,
         remote_digits: str | None = None, ongoing_since: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Calls newest first matching every filter given: the agent's, one call id, one caller's number, or the ones
    still going (not ended) that rang at or after `ongoing_since` (UTC ISO-8601)."""
    where, params = [], []  # type: ignore[var-annotated]
    for clause, value in (("k.agent = ?", agent), ("k.call_id = ?", call_id), ("k.remote_digits = ?", remote_digits),
                          ("k.ended_at IS NULL AND k.rang_at >= ?", ongoing_since)):
        if value is not None:
            where.append(clause)
            params.append(value)
    return rows(conn, " AND ".join(where) or "1", tuple(params), limit)


def handling(conn: sqlite3.Connection, start: str, end: str, teams: list[str] | None = None,
             agent: str = "") -> list[tuple[str, int, float]]:
    """(agent, answered calls, seconds from answer to hang-up) for the calls that rang in [start, end)."""
    where, params = ["answered_at IS NOT NULL", "ended_at IS NOT NULL", "rang_at >= ?", "rang_at < ?"], [start, end]
    if teams is not None:
        where.append(f"team IN ({','.join('?' * len(teams))})")
        params.extend(teams)
    if agent:
        where.append("agent = ?")
        params.append(agent)
    return [(a, n, s or 0.0) for a, n, s in conn.execute(
        "SELECT agent, count(*), sum(round(max(julianday(ended_at) - julianday(answered_at), 0) * 86400.0, 3)) FROM calls"
        f" WHERE {' AND '.join(where)} GROUP BY agent ORDER BY agent", params)]


def rebuild(conn: sqlite3.Connection, events: list[Event]) -> None:
    conn.execute("DELETE FROM calls")
    for e in events:
        project(conn, e)
