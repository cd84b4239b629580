"""The case as the lifecycle folds it from events, its clocks, and the callback record."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent_console.core.events import Complainant

# The statuses, written once: every list, filter and rule asks these (or `is_open_status`), never its own tuple.
OPEN_STATUS_ORDER = ("registered", "accepted", "needs_info", "parked", "assigned", "investigating", "proposed",
                     "replied")  # the order a status filter offers them in
OPEN_STATUSES = frozenset(OPEN_STATUS_ORDER)
ACTIVE_STATUSES = frozenset({"accepted", "assigned", "investigating", "proposed", "replied"})  # accepted, in work
ROUTED_STATUSES = frozenset({"assigned", "investigating"})  # with a department
FINISHED_STATUSES = frozenset({"closed", "archived"})  # resolved (archived: closed and filed)
ANSWERED_STATUSES = FINISHED_STATUSES | {"replied"}  # the customer has had the answer
ALL_STATUSES = OPEN_STATUSES | {"not_accepted"} | FINISHED_STATUSES


def is_open_status(status: str) -> bool:
    """Whether a case in `status` is still open (not closed, archived or turned away)."""
    return status in OPEN_STATUSES


class ClockTrack(BaseModel):
    """What the fold knows about one clock of one case; `due` is fixed except while paused."""

    model_config = ConfigDict(extra="ignore")

    id: str
    started_at: datetime
    due: datetime | None  # None while paused
    warn_at: datetime | None
    stopped_at: datetime | None = None
    paused_at: datetime | None = None
    remaining_at_pause: float | None = None  # seconds of the clock's own time base
    warn_left_at_pause: float | None = None
    # when stopped: the time left (negative: over) in the clock's own time base, as counted on the calendar the
    # stop was folded on; lists of a million closed cases read it instead of counting it again
    remaining_at_stop: float | None = None
    extended: float = 0  # units added by approved extensions
    cycles: int = 1  # for recurring clocks: how many times it has (re)started
    missed_cycles: int = 0  # recurring cycles that ran past their due before restarting


class Dissatisfaction(BaseModel):
    reported_at: datetime
    upset_since: datetime
    reported_by: str
    acknowledged_at: datetime | None = None
    acknowledged_by: str = ""
    resolved_at: datetime | None = None
    outcome: str = ""


class CaseState(BaseModel):
    """A case's current state: the fold of its events. Never edited directly; replay the events instead."""

    model_config = ConfigDict(extra="ignore")

    id: str
    number: str
    profile: str = ""  # the policy profile it was registered under: its clocks follow that one's rules
    status: str = "registered"
    paused: bool = False
    pause_reason: str = ""
    received_at: datetime
    registered_at: datetime
    registered_by: str = ""
    channel: str
    category: str
    complexity: str = "general"
    complainant: Complainant = Complainant()
    anonymous: bool = False
    respondent: str = ""
    facts: str = ""
    request: str = ""
    amount: Decimal | None = None  # the disputed amount, as the caller gave it (closing never changes it)
    settled_amount: Decimal | None = None
    paid_amount: Decimal | None = None
    flags: list[str] = Field(default_factory=list)
    owner: str = ""
    team: str = ""
    department: str = ""
    assignee: str = ""
    read_back_at: datetime | None = None
    accepted_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str = ""
    causes: list[str] = Field(default_factory=list)
    stage: str = ""
    report: str = ""
    fault_description: str = ""
    remedy: str = ""
    remedy_pending: bool = False
    extension_pending: dict[str, Any] | None = None  # {length, reason, by, at, clock}
    closure_pending: dict[str, Any] | None = None  # unreachable closure waiting for the lead
    escalated_from: str | None = None
    escalated_to: list[str] = Field(default_factory=list)
    linked: list[str] = Field(default_factory=list)
    lead_case: str | None = None  # a copy from a split intake: the main case (its department leads)
    reopened: int = 0
    reminders: int = 0
    contact_attempts: list[dict[str, Any]] = Field(default_factory=list)  # {at, outcome}
    dissatisfaction: Dissatisfaction | None = None
    conflicts: list[dict[str, Any]] = Field(default_factory=list)  # events that could not stand, for the lead
    clocks: dict[str, ClockTrack] = Field(default_factory=dict)
    last_event_at: datetime | None = None
    last_hlc: str = ""
    event_count: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


ClockBand = Literal["in_time", "warning", "breached", "paused", "met", "missed"]


class ClockView(BaseModel):
    """A clock as shown at a given instant: the answer to "how long do I have?"."""

    id: str
    label: str
    label_en: str
    unit: str
    role: str = "other"  # what the clock is for (ClockSpec.role): find "the resolution clock" by this, not its id
    state: Literal["running", "paused", "met", "breached"]
    band: ClockBand
    due: datetime | None
    warn_at: datetime | None
    remaining_seconds: float  # in the clock's time base (working time for working-day clocks); negative when late
    started_at: datetime
    stopped_at: datetime | None = None


class Callback(BaseModel):
    """A callback is its own record (DOMAIN.md §6): it never moves a case's deadlines."""

    id: str
    case_id: str
    kind: Literal["requested", "progress", "satisfaction", "audit"]
    owner: str = ""
    due: datetime
    status: Literal["pending", "done", "cancelled"] = "pending"
    note: str = ""
    attempts: list[dict[str, Any]] = Field(default_factory=list)
