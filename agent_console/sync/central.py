"""The central store's interface and the identity a console syncs as (opening one from its URL: sync/connect.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Protocol

from agent_console.core.errors import Said
from agent_console.core.events import Event
from agent_console.core.wire import event_from_page_row

MAX_DRIFT_MS = 5 * 60_000  # a device clock further ahead than this is told so and its events are flagged


class CentralUnavailable(ConnectionError):
    """The centre cannot be reached (offline, server down): nothing was lost, try again later."""


class LoginRefused(Said, PermissionError):
    """The centre knows this login but not as an agent or lead of a team (`error.centre.*`)."""


@dataclass(frozen=True)
class Identity:
    actor: str
    role: str = "agent"
    teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class Member:
    """Someone of the login's teams, as the centre knows them (the roster a case can be given to)."""

    login: str
    role: str = ""  # agent | lead ("": the centre does not say)
    teams: tuple[str, ...] = ()


@dataclass
class PushResult:
    accepted: list[str] = field(default_factory=list)  # new at the centre
    duplicates: list[str] = field(default_factory=list)  # already there: also acknowledged
    refused: list[tuple[str, str]] = field(default_factory=list)  # (event id, reason): never retried
    skew_ms: int = 0  # how far ahead of the centre this device's clock runs (0 when within the bound)

    @property
    def acknowledged(self) -> list[str]:
        return self.accepted + self.duplicates


@dataclass(frozen=True)
class PulledPage:
    """A page of the centre's events after a cursor, as one JSON array of rows
    [seq, id, case_id, kind, actor, device, at (ISO-8601), hlc, payload (object), flags (list)] in seq order."""

    text: str
    count: int
    last_seq: int | str  # the cursor after this page (the PostgreSQL centre's: each team's last number, as JSON)
    remaining: int | None = None  # rows the centre holds past that cursor, at most (None: not said)


def page_events(page: PulledPage) -> list[tuple[int, Event]]:
    """A pulled page as (seq, event) pairs (the stores read the JSON text directly; this is for everyone else)."""
    return [(r[0], event_from_page_row(r)) for r in json.loads(page.text)]


class Central(Protocol):
    url: str

    def identity(self) -> Identity: ...

    def push(self, events: list[Event]) -> PushResult: ...

    def push_rows(self, rows: list[tuple]) -> PushResult:
        """Outbox rows as stored: (local seq, id, case_id, kind, actor, device, at, hlc, payload JSON, flags JSON)."""

    def pull_page(self, after: int | str, limit: int, device: str | None = None) -> PulledPage:
        """The next page after the cursor; rows recorded by `device` (the caller's own: it has them) left out."""

    def pull(self, after: int | str, limit: int) -> list[tuple[int, Event]]: ...

    def members(self) -> list[Member] | None:
        """The people of this login's teams (None: the centre does not say; the console then uses who it has seen)."""

    def close(self) -> None: ...


def malformed(row: tuple) -> str | None:
    """Why an outbox row (local seq, id, case_id, kind, actor, device, at, hlc, payload, flags) cannot be read by a
    centre, or None. Only looked at when a batch fails to load: rows are well formed unless the file was tampered with.
    """
    from datetime import datetime

    try:
        at = datetime.fromisoformat(row[6])
    except (TypeError, ValueError):
        return "malformed: time is not ISO-8601"
    if at.tzinfo is None:
        return "malformed: time without an offset"
    try:
        payload, flags = json.loads(row[8]), json.loads(row[9])
    except (TypeError, ValueError):
        return "malformed: payload or flags is not JSON"
    if not isinstance(payload, dict) or not isinstance(flags, list):
        return "malformed: payload is not an object or flags not a list"
    if "\\u0000" in row[8] or "\x00" in "".join(str(x) for x in row[1:8]):
        return "malformed: contains a NUL character"
    return None


def event_team(event: Event, known: dict[str, str]) -> str | None:
    """The team an event belongs to: the registering team, or the team of the case it is about."""
    if event.kind == "registered":
        return str(event.payload.get("team") or "")
    if event.case_id is None:
        return None
    return known.get(event.case_id)
