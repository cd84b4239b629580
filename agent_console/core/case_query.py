"""Which cases to list: the filters a screen, a report or a command asks for; the store answers it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class CaseQuery:
    """Which cases to list. Every filter is optional; `text` uses the FTS index."""

    open_only: bool = False
    owner: str | None = None
    team: str | None = None
    teams: list[str] | None = None
    status: str | None = None
    category: str | None = None
    channel: str | None = None
    due_before: datetime | None = None  # nearest running clock due before this instant
    phone: str | None = None
    text: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    limit: int | None = None
