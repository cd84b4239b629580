"""Events: the immutable facts a case's history is made of, and the payload each kind carries.

An event has a globally unique id (time-ordered, so ids sort by creation), the case it belongs to, the actor, the
device it was recorded on, the wall-clock time, and a hybrid-logical-clock stamp used for ordering across devices.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from decimal import Decimal
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from agent_console.core.text import MAX_FIELD_CHARS, clean_text


def new_id() -> str:
    """A UUIDv7-style id: 48 bits of milliseconds then randomness, so ids sort by creation time."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms << 80) | (0x7 << 76) | ((rand >> 68) & 0xFFF) << 64 | (0b10 << 62) | (rand & ((1 << 62) - 1))
    h = f"{value:032x}"  # str(uuid.UUID(int=value)) at half its cost (a million demo cases make ten million ids)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _clean(cls, value: Any, info: ValidationInfo) -> Any:
        # Pasted text may carry control characters or terminal escapes; they never reach the record.
        if isinstance(value, str):
            if len(value) > MAX_FIELD_CHARS:  # refused with a message, never cut silently
                raise ValueError(f"too long ({len(value):,} characters; at most {MAX_FIELD_CHARS:,})")
            if info.context is CHECK_ONLY:  # only asked whether it is valid (core.event_checks): nothing is kept
                return value
            return clean_text(value)
        return value

    @classmethod
    def stored(cls, payload: dict[str, Any]) -> Any:
        """The payload of a stored event read as this model, without validating it again.

        A stored payload is the model's JSON form, validated when the event was made (`make_event`) or checked by
        the centre: the fold reads it by attribute at a fraction of `model_validate`'s cost (it runs once per event
        of every synced page). Values keep their JSON form: a datetime field holds its ISO text, a nested model its
        dict, an amount its decimal text. A field the payload lacks (written before the field existed) reads as its
        default. The view shares the payload's dict and is read-only, like any payload.
        """
        return payload_reader(cls)(payload)

    def __getattr__(self, name: str) -> Any:
        # only for a name missing from the instance: an optional field a stored payload was written without
        defaults = _DEFAULTS.get(type(self))
        if defaults is None:
            defaults = _DEFAULTS[type(self)] = {
                n: _json_default(f.get_default(call_default_factory=True))
                for n, f in type(self).model_fields.items() if not f.is_required()}
        if name in defaults:
            return defaults[name]
        return super().__getattr__(name)  # type: ignore[misc]


_READERS: dict[type, Any] = {}
_DEFAULTS: dict[type, dict[str, Any]] = {}


def payload_reader(cls: type[BaseModel]) -> Callable[[dict[str, Any]], Any]:
    """`stored` for one model, as a function (the fold keeps one per kind)."""
    found = _READERS.get(cls)
    if found is not None:
        return found
    new, set_attribute = object.__new__, object.__setattr__

    def read(payload: dict[str, Any]) -> Any:
        view = new(cls)
        set_attribute(view, "__dict__", payload)
        set_attribute(view, "__pydantic_fields_set__", set())
        set_attribute(view, "__pydantic_extra__", None)
        set_attribute(view, "__pydantic_private__", None)
        return view

    _READERS[cls] = read
    return read


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return tuple(value)  # shared by every view: never a list someone could append to
    return value


# validation context for "is this payload valid?" without building the cleaned copy (thousands per pulled page)
CHECK_ONLY: dict[str, bool] = {"check_only": True}


class Complainant(_Payload):
    name: str = ""
    title: str = ""  # how to address: 先生 / 女士 / a term id from the vocabulary
    phone: str = ""
    id_number: str = ""  # ID, policy, order or account number
    preferred_contact: str = ""


Money = Decimal


class Registered(_Payload):
    number: str = ""  # empty until the store numbers it
    received_at: datetime
    channel: str
    category: str
    complexity: str = "general"
    complainant: Complainant = Complainant()
    anonymous: bool = False
    respondent: str = ""
    facts: str = ""
    request: str = ""
    amount: Money | None = None
    flags: list[str] = Field(default_factory=list)
    owner: str = ""
    team: str = ""
    department: str = ""
    escalated_from: str | None = None  # case id of the closed case this one escalates
    linked: list[str] = Field(default_factory=list)
    # one intake touching several categories: this case is the copy for one department; `lead_case` leads
    lead_case: str | None = None
    profile: str = ""  # the policy profile it was registered under, kept for good ("": the console's own)


class ReadBack(_Payload):
    summary: str = ""


class Reason(_Payload):
    reason: str

    @field_validator("reason")
    @classmethod
    def _needed(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a reason is required")
        return value


class OptionalNote(_Payload):
    note: str = ""


class Assigned(_Payload):
    department: str
    assignee: str = ""
    note: str = ""


class ReminderSent(_Payload):
    department: str = ""
    note: str = ""


class ContactAttempted(_Payload):
    outcome: Literal["reached", "no_answer", "busy", "wrong_number", "refused"]
    note: str = ""


class Paused(_Payload):
    reason: str
    evidence: str

    @field_validator("reason", "evidence")
    @classmethod
    def _needed(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("required when pausing at the customer's request")
        return value


class ExtensionRequested(_Payload):
    length: int = Field(gt=0)  # in the resolve clock's unit
    reason: str
    clock: str = ""  # empty: the profile's resolve clock


class Decision(_Payload):
    reason: str = ""


class Proposed(_Payload):
    remedy: str
    amount: Money | None = None
    non_standard: bool = False


class Replied(_Payload):
    text: str = ""
    via: str = "phone"


class Closed(_Payload):
    outcome: Literal["at_fault", "not_at_fault", "litigation", "unreachable"]
    causes: list[str] = Field(default_factory=list)
    stage: str = ""
    report: str = ""
    # what was settled and what was paid are their own amounts: the disputed amount of the intake stays as it was
    settled_amount: Money | None = None
    paid_amount: Money | None = None
    amount: Money | None = None  # older events only: read as the settled amount
    fault_description: str = ""


class Escalated(_Payload):
    new_case: str  # id of the new linked case
    reason: str = ""


class FieldEdited(_Payload):
    """A correction of one field: its own event, with the value it replaces (the timeline shows both)."""

    field: str
    value: Any = None
    old: Any = None


class DissatisfactionReported(_Payload):
    upset_since: datetime
    note: str = ""
    to: str = ""  # the lead reported to


class DissatisfactionOutcome(_Payload):
    outcome: str = ""
    note: str = ""


class EnquiryRecorded(_Payload):
    phone: str = ""
    name: str = ""
    topic: str = ""
    answer: str = ""
    reason_not_complaint: str = ""


class CallbackScheduled(_Payload):
    callback: str  # callback id
    kind: Literal["requested", "progress", "satisfaction", "audit"]
    due: datetime
    owner: str = ""
    note: str = ""


class CallbackAttempted(_Payload):
    callback: str
    outcome: Literal["reached", "no_answer", "busy", "wrong_number", "refused"]
    note: str = ""


class CallbackClosed(_Payload):
    callback: str
    reason: str = ""


class SatisfactionRecorded(_Payload):
    callback: str = ""
    proactive_contact: bool
    outcome_view: Literal["satisfied", "neutral", "dissatisfied"]
    attitude: int = Field(ge=1, le=5)
    professionalism: int = Field(ge=1, le=5)
    timeliness: int = Field(ge=1, le=5)
    comment: str = ""


class CallStarted(_Payload):
    """A call began ringing (the phone system's newCall). Call events belong to no case (case_id None): they
    sync like enquiries and never reach the lifecycle, so no case clock moves because of a call."""

    call: str = Field(min_length=1, max_length=250)  # the phone system's callId
    direction: Literal["in", "out"]
    remote: str = ""  # the other party's number; empty when withheld
    local: str = ""  # our side's number or extension
    queue: str = ""
    users: list[str] = Field(default_factory=list)
    team: str = ""  # the agent's team when the call came (for the lead's call figures)


class CallAnswered(_Payload):
    call: str = Field(min_length=1, max_length=250)
    by: str = ""  # the answeringNumber the phone system gave


class CallEnded(_Payload):
    call: str = Field(min_length=1, max_length=250)
    cause: str = ""  # normalClearing, cancel, noAnswer, busy, ... as the phone system says


class CallAttached(_Payload):
    call: str = Field(min_length=1, max_length=250)
    case: str = Field(min_length=1)  # the case registered or opened during the call


class ConflictFlagged(_Payload):
    events: list[str]
    reason: str


class Conflict(_Payload):
    """Kept for completeness of the registry; sync writes ConflictFlagged."""


# kind -> (payload model, lifecycle group) — the lifecycle rules themselves live in lifecycle.py
EVENT_KINDS: dict[str, type[_Payload]] = {
    "registered": Registered,
    "read_back": ReadBack,
    "accepted": OptionalNote,
    "not_accepted": Reason,
    "parked": Reason,
    "info_requested": Reason,
    "assigned": Assigned,
    "returned": Reason,
    "reminder_sent": ReminderSent,
    "progress_noted": OptionalNote,
    "customer_updated": OptionalNote,
    "contact_attempted": ContactAttempted,
    "paused": Paused,
    "resumed": OptionalNote,
    "extension_requested": ExtensionRequested,
    "extension_approved": Decision,
    "extension_refused": Reason,
    "proposed": Proposed,
    "remedy_approved": Decision,
    "remedy_refused": Reason,
    "replied": Replied,
    "closed": Closed,
    "closure_proposed": Reason,  # closing as unreachable needs the lead's approval
    "closure_approved": Decision,
    "closure_refused": Reason,
    "escalated": Escalated,
    "reopened": Reason,
    "archived": OptionalNote,
    "dissatisfaction_reported": DissatisfactionReported,
    "dissatisfaction_acknowledged": OptionalNote,
    "dissatisfaction_resolved": DissatisfactionOutcome,
    "field_edited": FieldEdited,
    "enquiry_recorded": EnquiryRecorded,
    "callback_scheduled": CallbackScheduled,
    "callback_attempted": CallbackAttempted,
    "callback_done": CallbackClosed,
    "callback_cancelled": CallbackClosed,
    "satisfaction_recorded": SatisfactionRecorded,
    "call_started": CallStarted,
    "call_answered": CallAnswered,
    "call_ended": CallEnded,
    "call_attached": CallAttached,
    "conflict_flagged": ConflictFlagged,
    "conflict_resolved": OptionalNote,
}


class Event(BaseModel):
    """One immutable fact. `payload` is validated against the kind's model when the event is made."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=new_id)
    case_id: str | None
    kind: str
    actor: str
    device: str
    at: datetime
    hlc: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)  # e.g. "clock_skew" set by sync; never changes the fact

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("event time needs a timezone offset")
        return value.astimezone(timezone.utc)

    @field_validator("kind")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {value!r}")
        return value

    def data(self) -> Any:
        """The payload as its typed model."""
        return EVENT_KINDS[self.kind].model_validate(self.payload)


def make_event(
    kind: str,
    case_id: str | None,
    actor: str,
    device: str,
    at: datetime,
    payload: BaseModel | dict[str, Any] | None = None,
    hlc: str = "",
) -> Event:
    """Build an event, validating (and cleaning) its payload for the kind."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    model = EVENT_KINDS[kind]
    raw = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else (payload or {})
    typed = model.model_validate(raw)
    return Event(
        case_id=case_id,
        kind=kind,
        actor=actor,
        device=device,
        at=at,
        hlc=hlc,
        payload=typed.model_dump(mode="json", exclude_defaults=False),
    )
