"""SQL for counting phrasebook use (table `phrase_usage`)."""

from __future__ import annotations

import sqlite3
from datetime import datetime


def record(conn: sqlite3.Connection, entry_id: str, category: str, agent: str, at: datetime) -> None:
    conn.execute(
        "INSERT INTO phrase_usage VALUES (?, ?, ?, 1, ?) ON CONFLICT(entry_id, category, agent)"
        " DO UPDATE SET used = used + 1, last_used = excluded.last_used",
        (entry_id, category or "", agent, at.isoformat()),
    )


def counts(conn: sqlite3.Connection, agent: str | None = None) -> dict[str, int]:
    sql = "SELECT entry_id, sum(used) FROM phrase_usage"
    params: tuple[str, ...] = ()
    if agent:
        sql += " WHERE agent = ?"
        params = (agent,)
    return {row[0]: row[1] for row in conn.execute(sql + " GROUP BY entry_id", params)}


def by_category(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    """(category, entry id, uses), most used first."""
    return [tuple(r) for r in conn.execute(
        "SELECT category, entry_id, sum(used) AS n FROM phrase_usage GROUP BY category, entry_id ORDER BY n DESC")]
