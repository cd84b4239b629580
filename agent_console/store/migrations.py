"""Versioned schema migrations: SQL files in `migrations/`, applied once each, in name order.

Each feature ships its own numbered file; the `schema_migrations` table remembers what ran, so a database made by an
older console is brought up to date when it is opened.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def pending(conn: sqlite3.Connection) -> list[Path]:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
    return [p for p in sorted(MIGRATIONS_DIR.glob("*.sql")) if p.stem not in done]


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply every pending migration, each in its own transaction; return the names applied."""
    applied = []
    for path in pending(conn):
        script = path.read_text(encoding="utf-8")
        stamp = datetime.now(timezone.utc).isoformat()
        # executescript commits first; wrap the file and its bookkeeping in one explicit transaction
        conn.executescript(
            "BEGIN IMMEDIATE;\n" + script + f"\nINSERT INTO schema_migrations VALUES ('{path.stem}', '{stamp}');\nCOMMIT;"
        )
        applied.append(path.stem)
    return applied
