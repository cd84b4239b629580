"""SQL for the callbacks projection: kept up to date inside the same transaction as each callback event."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from typing import Any

from agent_console.core.events import Event

KINDS = ("callback_scheduled", "callback_attempted", "callback_done", "callback_cancelled", "satisfaction_recorded")


def _utc(value: str | datetime) -> str:
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    return dt.astimezone(timezone.utc).isoformat()


def project(conn: sqlite3.Connection, e: Event) -> None:
    """Apply one event to the callbacks table (events of other kinds are ignored)."""
    if e.kind not in KINDS:
        return
    p = e.payload
    cb = p.get("callback") or ""
    if e.kind == "callback_scheduled":
        conn.execute(
            "INSERT OR IGNORE INTO callbacks (id, case_id, kind, owner, due, status, note, created_at)"
            " VALUES (?,?,?,?,?,'pending',?,?)",
            (cb, e.case_id, p["kind"], p.get("owner") or e.actor, _utc(p["due"]), p.get("note", ""), _utc(e.at)),
        )
    elif e.kind == "callback_attempted":
        row = conn.execute("SELECT attempts FROM callbacks WHERE id=?", (cb,)).fetchone()
        if row:
            attempts = json.loads(row[0]) + [{"at": _utc(e.at), "outcome": p["outcome"], "note": p.get("note", ""),
                                               "by": e.actor}]
            conn.execute("UPDATE callbacks SET attempts=? WHERE id=?", (json.dumps(attempts, ensure_ascii=False), cb))
    elif e.kind in ("callback_done", "callback_cancelled"):
        status = "done" if e.kind == "callback_done" else "cancelled"
        conn.execute("UPDATE callbacks SET status=?, closed_at=?, note=CASE WHEN ?='' THEN note ELSE ? END"
                     " WHERE id=? AND status='pending'", (status, _utc(e.at), p.get("reason", ""),
                                                          p.get("reason", ""), cb))
    elif e.kind == "satisfaction_recorded" and cb:
        data = {k: v for k, v in p.items() if k != "callback"}
        conn.execute("UPDATE callbacks SET satisfaction=? WHERE id=?", (json.dumps(data, ensure_ascii=False), cb))


def rows(conn: sqlite3.Connection, where: str = "1", params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    cur = conn.execute(
        "SELECT cb.*, c.number, c.status AS case_status, c.name, c.phone_digits FROM callbacks cb"
        f" LEFT JOIN cases c ON c.id = cb.case_id WHERE {where} ORDER BY cb.due", params)
    names = [d[0] for d in cur.description]
    out = []
    for r in cur.fetchall():
        row = dict(zip(names, r))
        row["attempts"] = json.loads(row["attempts"])
        row["satisfaction"] = json.loads(row["satisfaction"]) if row["satisfaction"] else None
        out.append(row)
    return out


def by_id(conn: sqlite3.Connection, callback_id: str) -> dict[str, Any] | None:
    found = rows(conn, "cb.id = ?", (callback_id,))
    return found[0] if found else None


def pending(conn: sqlite3.Connection, owner: str | None = None) -> list[dict[str, Any]]:
    """Pending callbacks (of one owner, or everyone's), soonest first."""
    if owner:
        return rows(conn, "cb.status = 'pending' AND cb.owner = ?", (owner,))
    return rows(conn, "cb.status = 'pending'")


def for_case(conn: sqlite3.Connection, case_id: str) -> list[dict[str, Any]]:
    return rows(conn, "cb.case_id = ?", (case_id,))


def pending_for_phone(conn: sqlite3.Connection, phone_digits: str) -> list[dict[str, Any]]:
    return rows(conn, "cb.status = 'pending' AND c.phone_digits = ?", (phone_digits,))


def exists(conn: sqlite3.Connection, case_id: str, kind: str, note: str) -> bool:
    """Whether the case already has a callback of this kind with this note (automatic callbacks are made once)."""
    return conn.execute("SELECT 1 FROM callbacks WHERE case_id = ? AND kind = ? AND note = ?",
                        (case_id, kind, note)).fetchone() is not None


def closed_without_satisfaction(conn: sqlite3.Connection, since: datetime) -> list[tuple[str, str]]:
    """(case id, closed at) of the cases closed since `since` that have no satisfaction callback yet."""
    return conn.execute(
        "SELECT id, closed_at FROM cases WHERE status = 'closed' AND closed_at IS NOT NULL"
        " AND closed_at >= ? AND id NOT IN (SELECT case_id FROM callbacks WHERE kind = 'satisfaction')",
        (since.astimezone(timezone.utc).isoformat(),)).fetchall()


def open_cases_with_clocks(conn: sqlite3.Connection, complexities: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(case id, clocks JSON, owner) of the open cases of these complexity tiers."""
    marks = ",".join("?" * len(complexities))
    return conn.execute(f"SELECT id, clocks, owner FROM cases WHERE is_open = 1 AND complexity IN ({marks})",
                        complexities).fetchall()


def rebuild(conn: sqlite3.Connection, events: list[Event]) -> None:
    conn.execute("DELETE FROM callbacks")
    for e in events:
        project(conn, e)
