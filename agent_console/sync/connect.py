"""Opening a centre from its URL: the embedded SQLite centre or PostgreSQL (psycopg is imported with it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent_console.sync.central import Central, Identity

if TYPE_CHECKING:
    from agent_console.support.config import Settings


def open_central(url: str, settings: Settings) -> Central:
    """The centre a URL names: an embedded SQLite centre (sqlite:///…) or PostgreSQL (postgresql://…)."""
    if url.startswith("sqlite:///"):
        from agent_console.sync.sqlite_central import SqliteCentral  # psycopg stays unloaded without PostgreSQL

        teams = tuple(dict.fromkeys([settings.team, *settings.lead_teams]))
        return SqliteCentral(url, Identity(settings.agent, settings.role, teams))
    if url.startswith(("postgresql://", "postgres://")):
        from agent_console.sync.pg import PostgresCentral

        return PostgresCentral(url)
    raise ValueError(f"unknown central URL {url!r}: use sqlite:///path/central.db or postgresql://…")
