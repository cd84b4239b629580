"""The lifecycle: which event may follow which, and how events fold into a case's state and clocks.

`Lifecycle.apply` refuses an illegal transition with `IllegalTransition` and a reason a person can act on. When
events arrive from other devices (sync) the fold runs with strict=False: an event that cannot stand is kept in the
history, recorded in `state.conflicts` for the lead, and changes nothing else. The fold is deterministic in the
order (hlc, id), so every device reaches the same state from the same events.
"""

from __future__ import annotations

from decimal import Decimal

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Callable

from agent_console.core.clocks import ClockMath
from agent_console.core.events import (
    EVENT_KINDS, Assigned, CallbackAttempted, Closed, ConflictFlagged, ContactAttempted, DissatisfactionOutcome,
    DissatisfactionReported, Escalated, Event, ExtensionRequested, FieldEdited, Paused, Proposed, Registered,
    payload_reader,
)
from agent_console.core.events import Reason as ReasonPayload
from agent_console.core.models import (
    ACTIVE_STATUSES, ANSWERED_STATUSES, OPEN_STATUSES, CaseState, ClockView, Dissatisfaction,
)
from agent_console.core.profiles import ClockSpec, Profile
from agent_console.core.reasons import Reason, known_reason

FAILED_CONTACT = frozenset({"no_answer", "busy", "wrong_number"})
EDITABLE_FIELDS = frozenset(
    {"complainant.name", "complainant.title", "complainant.phone", "complainant.id_number",
     "complainant.preferred_contact", "respondent", "facts", "request", "amount", "flags", "category",
     "complexity", "owner", "team"}
)
# While paused at the customer's request only these may happen; the rest waits for "resume".
ALLOWED_WHILE_PAUSED = frozenset(
    {"resumed", "progress_noted", "contact_attempted", "customer_updated", "reminder_sent", "read_back",
     "field_edited", "dissatisfaction_reported", "dissatisfaction_acknowledged", "dissatisfaction_resolved",
     "callback_scheduled", "callback_attempted", "callback_done", "callback_cancelled", "satisfaction_recorded",
     "conflict_flagged", "conflict_resolved", "extension_requested", "extension_approved", "extension_refused"}
)
# Events that may happen in any status but archived
ANY_LIVE = frozenset(
    {"read_back", "contact_attempted", "dissatisfaction_reported", "field_edited", "callback_scheduled",
     "callback_attempted", "callback_done", "callback_cancelled", "satisfaction_recorded"}
)
# Event kinds an agent works from a case screen, in the order the screen offers them.
CASE_ACTIONS = (
    "accepted", "not_accepted", "parked", "info_requested", "assigned", "returned", "reminder_sent",
    "progress_noted", "customer_updated", "contact_attempted", "paused", "resumed", "extension_requested",
    "extension_approved", "extension_refused", "proposed", "remedy_approved", "remedy_refused", "replied",
    "closed", "closure_proposed", "closure_approved", "closure_refused", "escalated", "reopened", "archived",
    "dissatisfaction_reported", "dissatisfaction_acknowledged", "dissatisfaction_resolved", "read_back",
)
# Closing outcomes an agent cannot record by closing: they go through closure_proposed and the lead's approval
# (closure_approved records them), so the close form does not offer them.
CLOSURE_OUTCOME = "unreachable"  # what closure_approved records
CLOSE_NEEDS_APPROVAL = frozenset({CLOSURE_OUTCOME})
LEAD_ONLY = frozenset(
    {"extension_approved", "extension_refused", "remedy_approved", "remedy_refused", "closure_approved",
     "closure_refused", "dissatisfaction_acknowledged", "conflict_resolved"}
)


class IllegalTransition(ValueError):
    """An event that cannot follow the case's current state; `reason` says why in plain words."""

    def __init__(self, kind: str, reason: str, reason_code: str = "") -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason
        self.code = reason_code


_STATUS_RULES: dict[str, tuple[frozenset[str] | None, str | None]] = {
    # kind: (statuses it may follow (None: any but archived), status after (None: unchanged))
    "accepted": (frozenset({"registered", "needs_info", "parked"}), "accepted"),
    "not_accepted": (frozenset({"registered", "needs_info", "parked"}), "not_accepted"),
    "parked": (frozenset({"registered", "needs_info"}), "parked"),
    "info_requested": (frozenset({"registered", "accepted", "parked"}), "needs_info"),
    "assigned": (frozenset({"accepted", "assigned", "investigating"}), "assigned"),
    "returned": (frozenset({"assigned", "investigating"}), "accepted"),
    "reminder_sent": (frozenset({"assigned", "investigating", "proposed"}), None),
    "progress_noted": (OPEN_STATUSES, None),
    "customer_updated": (OPEN_STATUSES, None),
    "paused": (ACTIVE_STATUSES | {"registered"}, None),
    "resumed": (OPEN_STATUSES, None),
    "extension_requested": (ACTIVE_STATUSES, None),
    "extension_approved": (OPEN_STATUSES, None),
    "extension_refused": (OPEN_STATUSES, None),
    "proposed": (frozenset({"accepted", "assigned", "investigating", "proposed"}), "proposed"),
    "remedy_approved": (frozenset({"proposed"}), None),
    "remedy_refused": (frozenset({"proposed"}), "investigating"),
    "replied": (frozenset({"accepted", "assigned", "investigating", "proposed"}), "replied"),
    "closed": (ACTIVE_STATUSES, "closed"),
    "closure_proposed": (ACTIVE_STATUSES, None),
    "closure_approved": (ACTIVE_STATUSES, "closed"),
    "closure_refused": (ACTIVE_STATUSES, None),
    "escalated": (ANSWERED_STATUSES, None),
    "reopened": (frozenset({"closed"}), "investigating"),
    "archived": (frozenset({"closed", "not_accepted"}), "archived"),
    "dissatisfaction_acknowledged": (None, None),
    "dissatisfaction_resolved": (None, None),
    "conflict_flagged": (None, None),
    "conflict_resolved": (None, None),
}


_MAY_FOLLOW = {kind: allowed for kind, (allowed, _) in _STATUS_RULES.items() if allowed is not None}


class Lifecycle:
    """Folds events into case states under one profile."""

    def __init__(self, profile: Profile, clocks: ClockMath,
                 others: Callable[[str], "Lifecycle | None"] | None = None) -> None:
        """`others(profile_id)`: the lifecycle of another profile, for the cases registered under it (a case keeps
        its profile; None when that profile cannot be had here: the case is then folded under this one)."""
        self.profile = profile
        self.clocks = clocks
        self._others_loader = others
        self._others: dict[str, Lifecycle | None] = {}
        self._specs = {c.id: c for c in profile.clocks}
        # the kinds that can start, restart, stop, pause, resume or extend some clock: any other event leaves the
        # clocks alone, and folding a page of synced events skips the clock rules for it
        every = {"paused", "resumed", "extension_approved"}  # these reach every running clock
        self._kind_specs: dict[str, frozenset[str]] = {}  # kind -> the clocks it can start, restart or stop
        for c in profile.clocks:
            for k in {c.start, *c.restart_on, *c.stop} - {"received"}:
                self._kind_specs[k] = self._kind_specs.get(k, frozenset()) | {c.id}
        all_ids = frozenset(c.id for c in profile.clocks)
        for k in every:
            self._kind_specs[k] = all_ids
        self._clock_kinds = frozenset(self._kind_specs) | {"field_edited"}
        self._applicable: dict[tuple[str, str, frozenset[str], str], list[ClockSpec]] = {}
        # category -> its department (the first category of an id, as Profile.category finds it)
        self._departments = {c.id: c.department for c in reversed(profile.categories)}

    # -- public -----------------------------------------------------------------------------------------------
    def for_profile(self, profile_id: str) -> "Lifecycle":
        """The lifecycle for cases of `profile_id` (this one for its own, an unknown or an empty id)."""
        if not profile_id or profile_id == self.profile.id or self._others_loader is None:
            return self
        if profile_id not in self._others:
            self._others[profile_id] = self._others_loader(profile_id)
        return self._others[profile_id] or self

    def _route(self, state: CaseState | None, event: Event | None = None) -> "Lifecycle":
        if state is not None:
            return self.for_profile(state.profile)
        if event is not None and event.kind == "registered":
            return self.for_profile(event.payload.get("profile") or "")
        return self

    def fold(self, events: Iterable[Event], strict: bool = False) -> CaseState | None:
        """The state of a case from its whole history, in (hlc, id) order.

        Pure for the caller: the state is born of the first event (a registration makes a fresh object) and changed
        in place by the rest, so nothing the caller holds is touched and no event pays for a copy of the whole state
        (the deep copy per event was over half of a rebuild). Same result as chaining `apply`; a test proves it.
        """
        state: CaseState | None = None
        for event in sorted(events, key=_hlc_id):
            state = self._apply(state, state, event, strict)
        return state

    def apply(self, state: CaseState | None, event: Event, strict: bool = True) -> CaseState:
        """The state after `event` (a new object). strict: refuse an illegal event; otherwise record a conflict."""
        return self._apply(state.model_copy(deep=True) if state is not None else None, state, event, strict)

    def advance(self, state: CaseState | None, event: Event) -> CaseState:
        """Like `apply` (strict) but changing `state` itself, which the caller owns: an illegal event raises
        IllegalTransition before anything is touched. For a caller that builds a history event by event (demo
        data, a bulk import) and needs no copy of each step."""
        return self._apply(state, state, event, True)

    def apply_many(self, state: CaseState, events: list[Event]) -> CaseState:
        """The state after several events from elsewhere (non-strict), copying the state once rather than per event."""
        work = state.model_copy(deep=True)
        for event in events:
            work = self._apply(work, work, event, strict=False)
        return work

    def _apply(self, work: CaseState | None, before: CaseState | None, event: Event, strict: bool) -> CaseState:
        """Change `work` (a copy the caller owns) by `event`; `before` is the state to check against."""
        lc = self._route(before, event)
        if lc is not self:  # a case of another profile: its own rules
            return lc._apply(work, before, event, strict)
        try:
            self.check(before, event)
        except IllegalTransition as exc:
            if strict or work is None:
                raise
            work.conflicts.append({"event": event.id, "kind": event.kind, "reason": exc.reason, "actor": event.actor})
            self._touch(work, event)
            return work
        kind = event.kind
        if kind == "registered":
            work = self._register(event)
        else:
            assert work is not None
            if kind in self._clock_kinds:
                snapshot = _Before(work) if work is before else before
                self._change(work, event, kind)
                self._run_clocks(work, event, snapshot)
            else:
                self._change(work, event, kind)
        self._touch(work, event)
        return work

    def check(self, state: CaseState | None, event: Event) -> None:
        """Raise IllegalTransition when `event` cannot follow `state`."""
        lc = self._route(state, event)
        if lc is not self:
            return lc.check(state, event)
        kind = event.kind
        if kind == "registered":
            if state is not None:
                raise IllegalTransition(kind, Reason("exists"), "exists")
            return
        if state is None:
            raise IllegalTransition(kind, Reason("missing"), "missing")
        if kind in ("enquiry_recorded",):
            raise IllegalTransition(kind, Reason("enquiry"), "enquiry")
        if state.status == "archived" and kind not in ("escalated", "conflict_flagged", "conflict_resolved"):
            raise IllegalTransition(kind, Reason("archived"), "archived")
        if state.paused and kind not in ALLOWED_WHILE_PAUSED:
            raise IllegalTransition(kind, Reason("paused"), "paused")
        allowed = _MAY_FOLLOW.get(kind)
        if allowed is not None and state.status not in allowed:
            raise IllegalTransition(kind, Reason("status", status=state.status), "status")
        rule = _EXTRA_CHECKS.get(kind)
        if rule is not None:
            reason = rule(self, state, event)
            if reason:
                raise IllegalTransition(kind, reason, "rule")

    def available(self, state: CaseState, actor: str, is_lead: bool, at: datetime) -> dict[str, str | None]:
        """Every case action with None when it is possible now, or the reason it is not (for dimming)."""
        lc = self._route(state)
        if lc is not self:
            return lc.available(state, actor, is_lead, at)
        out: dict[str, str | None] = {}
        for kind in CASE_ACTIONS:
            if kind in LEAD_ONLY and not is_lead:
                out[kind] = Reason("lead_only")
                continue
            probe = Event.model_construct(
                id="probe", case_id=state.id, kind=kind, actor=actor, device="", at=at, hlc="", payload={}, flags=[]
            )
            try:
                self.check(state, probe)
                out[kind] = None
            except IllegalTransition as exc:
                out[kind] = exc.reason
            assert kind in EVENT_KINDS
        return out

    def views(self, state: CaseState, now: datetime) -> list[ClockView]:
        """Every clock of the case as it stands at `now`, nearest due first."""
        lc = self._route(state)
        if lc is not self:
            return lc.views(state, now)
        views = [self.clocks.view(self._specs[cid], track, now) for cid, track in state.clocks.items()
                 if cid in self._specs]
        return sorted(views, key=_view_order)

    def failed_contacts(self, state: CaseState) -> list[datetime]:
        return [datetime.fromisoformat(a["at"]) if isinstance(a["at"], str) else a["at"]
                for a in state.contact_attempts if a.get("outcome") in FAILED_CONTACT]

    def unreachable_rule(self, state: CaseState) -> str | None:
        """None when the customer counts as unreachable under the profile; otherwise what is still missing."""
        rules = self.profile.callbacks
        fails = sorted(self.failed_contacts(state))
        if len(fails) < rules.unreachable_attempts:
            return Reason("unreachable_attempts", needed=rules.unreachable_attempts, recorded=len(fails))
        span = fails[-1] - fails[0]
        if span < timedelta(hours=rules.unreachable_span_hours):
            return Reason("unreachable_span", hours=rules.unreachable_span_hours,
                          span=f"{span.total_seconds() / 3600:.1f}")
        return None

    # -- folding ----------------------------------------------------------------------------------------------
    def _register(self, event: Event) -> CaseState:
        p: Registered = _read_registered(event.payload)
        received = _time(p.received_at)
        state = CaseState(
            id=event.case_id or "",
            number=p.number,
            profile=self.profile.id,
            status="registered",
            received_at=received,
            registered_at=event.at,
            registered_by=event.actor,
            channel=p.channel,
            category=p.category,
            complexity=p.complexity or "general",
            complainant=p.complainant or {},
            anonymous=p.anonymous,
            respondent=p.respondent,
            facts=p.facts,
            request=p.request,
            amount=p.amount,
            flags=list(p.flags or []),
            owner=p.owner or event.actor,
            team=p.team,
            department=p.department or self._department_for(p.category),
            escalated_from=p.escalated_from,
            linked=list(p.linked or []) + ([p.escalated_from] if p.escalated_from else []),
            lead_case=p.lead_case,
        )
        for spec in self.profile.clocks:
            if spec.start == "received" and spec.applies(state.complexity, state.channel, set(state.flags), state.category):
                state.clocks[spec.id] = self.clocks.start(spec, state.complexity, received)
        return state

    def _department_for(self, category: str) -> str:
        # (Profile.category scans the list: once per registration folded was a thirtieth of a recompute)
        return self._departments.get(category, "")

    def _change(self, s: CaseState, e: Event, kind: str) -> None:
        """What `e` does to the case: its kind's handler over the typed payload, then the status its rule sets."""
        row = _HANDLERS.get(kind)
        if row is not None:
            read, handler = row
            handler(self, s, e, read(e.payload) if read is not None else None)
        to = _STATUS_AFTER.get(kind)
        if to is not None:
            s.status = to

    def _resolve_id(self) -> str:
        spec = self.profile.resolve_clock
        return spec.id if spec else ""

    def _run_clocks(self, s: CaseState, e: Event, before: "CaseState | _Before") -> None:
        if e.kind == "field_edited" and e.payload.get("field") in ("complexity", "flags", "category"):
            self._retier(s, before)
            return
        concerned = self._kind_specs.get(e.kind, frozenset())
        for spec in self._applicable_specs(s):
            if spec.id not in concerned:
                continue
            track = s.clocks.get(spec.id)
            if track is None:
                if spec.start == e.kind:
                    s.clocks[spec.id] = self.clocks.start(spec, s.complexity, e.at)
                continue
            if e.kind in spec.restart_on or (spec.start == e.kind and spec.start != "received"):
                s.clocks[spec.id] = self.clocks.restart(spec, s.complexity, track, e.at)
                continue
            if e.kind in spec.stop:
                s.clocks[spec.id] = self.clocks.stop(spec, track, e.at)
            elif e.kind == "paused":
                s.clocks[spec.id] = self.clocks.pause(spec, track, e.at)
            elif e.kind == "resumed":
                s.clocks[spec.id] = self.clocks.resume(spec, track, e.at)
            elif e.kind == "extension_approved" and before.extension_pending:
                if before.extension_pending.get("clock") == spec.id:
                    s.clocks[spec.id] = self.clocks.extend(spec, track, before.extension_pending["length"])

    def _applicable_specs(self, s: CaseState) -> list[ClockSpec]:
        """The clock specs that apply to a case of this tier, channel, flags and category (a handful of shapes)."""
        key = (s.complexity, s.channel, frozenset(s.flags), s.category)
        found = self._applicable.get(key)
        if found is None:
            found = self._applicable[key] = [spec for spec in self.profile.clocks
                                             if spec.applies(s.complexity, s.channel, set(key[2]), s.category)]
        return found

    def _retier(self, s: CaseState, before: "CaseState | _Before") -> None:
        """A changed tier, category or flag set: recompute running clocks from their own start."""
        flags = set(s.flags)
        for spec in self.profile.clocks:
            applies = spec.applies(s.complexity, s.channel, flags, s.category)
            track = s.clocks.get(spec.id)
            if track is None:
                if applies and spec.start == "received":
                    s.clocks[spec.id] = self.clocks.start(spec, s.complexity, s.received_at)
                continue
            if track.stopped_at is not None or track.paused_at is not None:
                continue
            if not applies:
                del s.clocks[spec.id]
                continue
            fresh = self.clocks.start(spec, s.complexity, track.started_at, track.cycles, track.missed_cycles)
            if track.extended:
                fresh = self.clocks.extend(spec, fresh, track.extended)
            s.clocks[spec.id] = fresh

    def _touch(self, s: CaseState, e: Event) -> None:
        # straight into the model's dict: these three fields are always set (the fields-set bookkeeping of
        # pydantic's __setattr__ has nothing to add), and this runs once per event of every synced page
        d = s.__dict__
        d["last_event_at"] = e.at
        if e.hlc > d["last_hlc"]:
            d["last_hlc"] = e.hlc
        d["event_count"] += 1


class _Before:
    """What the clock rules need to know of the state before an in-place change (pending extension, tiers)."""

    def __init__(self, state: CaseState) -> None:
        self.extension_pending = dict(state.extension_pending) if state.extension_pending else None
        self.complexity = state.complexity
        self.flags = list(state.flags)
        self.category = state.category


def _hlc_id(event: Event) -> tuple[str, str]:
    return (event.hlc, event.id)


def _view_order(view: ClockView) -> tuple[int, float]:
    rank = {"breached": 0, "running": 1, "paused": 2, "met": 3}[view.state]
    return (rank, view.remaining_seconds)


def field_value(s: CaseState, field: str) -> Any:
    """The current value of an editable field (what a correction replaces)."""
    if field.startswith("complainant."):
        return getattr(s.complainant, field.split(".", 1)[1], None)
    value = getattr(s, field, None)
    return list(value) if isinstance(value, list) else value


def _set_field(s: CaseState, field: str, value: Any) -> None:
    if field.startswith("complainant."):
        s.complainant = s.complainant.model_copy(update={field.split(".", 1)[1]: value or ""})
    elif field == "flags":
        s.flags = list(value or [])
    else:
        setattr(s, field, value)


# -- what each kind does to the case ----------------------------------------------------------------------------
# kind -> (the reader of its payload model when the handler reads the payload, handler). The fold calls the kind's
# handler with the stored payload read as that model (`_Payload.stored`), then sets the status the kind's rule names. Kinds in
# RECORD_ONLY change nothing but that status (and the history); every kind of EVENT_KINDS is in exactly one of the
# two (a test holds it so, so a new kind cannot be forgotten here).
Handler = Callable[["Lifecycle", CaseState, Event, Any], None]
_HANDLERS: dict[str, tuple[Callable[[dict[str, Any]], Any] | None, Handler]] = {}
RECORD_ONLY = frozenset(
    {"registered",  # builds the case instead (Lifecycle._register)
     "not_accepted", "parked", "info_requested", "returned", "customer_updated", "replied", "archived",
     "enquiry_recorded", "callback_scheduled", "callback_done", "callback_cancelled", "satisfaction_recorded",
     # calls belong to no case (the store never folds them); a case's history may name one all the same
     "call_started", "call_answered", "call_ended", "call_attached"}
)
_read_registered = payload_reader(Registered)
_STATUS_AFTER = {kind: to for kind, (_, to) in _STATUS_RULES.items() if to is not None}


def _on(*kinds: str, typed: bool = False) -> Callable[[Handler], Handler]:
    """Register a handler for `kinds`; typed: it reads the payload, as the kind's model in EVENT_KINDS."""
    def register(handler: Handler) -> Handler:
        for kind in kinds:
            model = EVENT_KINDS[kind] if typed else None
            # the annotation names the model the table passes (a handler typed for another kind's model fails here)
            assert model is None or model.__name__ in handler.__annotations__["p"], (kind, handler)
            _HANDLERS[kind] = (payload_reader(model) if model is not None else None, handler)
        return handler
    return register


def _time(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


@_on("read_back")
def _read_back(lc: Lifecycle, s: CaseState, e: Event, p: None) -> None:
    s.read_back_at = e.at


@_on("accepted")
def _accepted(lc: Lifecycle, s: CaseState, e: Event, p: None) -> None:
    s.accepted_at = s.accepted_at or e.at


@_on("assigned", typed=True)
def _assigned(lc: Lifecycle, s: CaseState, e: Event, p: Assigned) -> None:
    s.department = p.department
    s.assignee = p.assignee


@_on("reminder_sent")
def _reminder_sent(lc: Lifecycle, s: CaseState, e: Event, p: None) -> None:
    s.reminders += 1


@_on("progress_noted")
def _progress_noted(lc: Lifecycle, s: CaseState, e: Event, p: None) -> None:
    if s.status == "assigned":  # the department's first word on it: it is being investigated
        s.status = "investigating"


@_on("contact_attempted", "callback_attempted", typed=True)
def _contact_attempted(lc: Lifecycle, s: CaseState, e: Event, p: ContactAttempted | CallbackAttempted) -> None:
    s.contact_attempts.append({"at": e.at.isoformat(), "outcome": p.outcome})


@_on("paused", typed=True)
def _paused(lc: Lifecycle, s: CaseState, e: Event, p: Paused) -> None:
    s.paused, s.pause_reason = True, p.reason


@_on("resumed")
def _resumed(lc: Lifecycle, s: CaseState, e: Event, p: None) -> None:
    s.paused, s.pause_reason = False, ""


@_on("extension_requested", typed=True)
def _extension_requested(lc: Lifecycle, s: CaseState, e: Event, p: ExtensionRequested) -> None:
    s.extension_pending = {"length": p.length, "reason": p.reason, "by": e.actor, "at": e.at.isoformat(),
                           "clock": p.clock or lc._resolve_id()}


@_on("extension_approved", "extension_refused")
def _extension_decided(lc: Lifecycle, s: CaseState, e: Event, p: None) -> None:
    s.extension_pending = None  # an approval extends the clock in the clock rules, from the state before


@_on("proposed", typed=True)
def _proposed(lc: Lifecycle, s: CaseState, e: Event, p: Proposed) -> None:
    s.remedy = p.remedy
    s.remedy_pending = bool(p.non_standard)


@_on("remedy_approved", "remedy_refused")
def _remedy_decided(lc: Lifecycle, s: CaseState, e: Event, p: None) -> None:
    s.remedy_pending = False


@_on("closed", typed=True)
def _closed(lc: Lifecycle, s: CaseState, e: Event, p: Closed) -> None:
    s.closed_at = e.at
    s.outcome, s.causes, s.stage = p.outcome, list(p.causes or []), p.stage
    s.report, s.fault_description = p.report, p.fault_description
    # the disputed amount of the intake stays; an older event's `amount` is the settled amount
    settled = p.settled_amount if p.settled_amount is not None else p.amount
    s.settled_amount = None if settled is None else Decimal(str(settled))
    s.paid_amount = None if p.paid_amount is None else Decimal(str(p.paid_amount))


@_on("closure_proposed", typed=True)
def _closure_proposed(lc: Lifecycle, s: CaseState, e: Event, p: ReasonPayload) -> None:
    s.closure_pending = {"by": e.actor, "at": e.at.isoformat(), "reason": p.reason}


@_on("closure_approved")
def _closure_approved(lc: Lifecycle, s: CaseState, e: Event, p: None) -> None:
    s.closure_pending = None
    s.closed_at, s.outcome = e.at, CLOSURE_OUTCOME


@_on("closure_refused")
def _closure_refused(lc: Lifecycle, s: CaseState, e: Event, p: None) -> None:
    s.closure_pending = None


@_on("escalated", typed=True)
def _escalated(lc: Lifecycle, s: CaseState, e: Event, p: Escalated) -> None:
    s.escalated_to.append(p.new_case)
    if p.new_case not in s.linked:
        s.linked.append(p.new_case)


@_on("reopened")
def _reopened(lc: Lifecycle, s: CaseState, e: Event, p: None) -> None:
    s.reopened += 1
    s.closed_at, s.outcome = None, ""


@_on("dissatisfaction_reported", typed=True)
def _dissatisfaction_reported(lc: Lifecycle, s: CaseState, e: Event, p: DissatisfactionReported) -> None:
    s.dissatisfaction = Dissatisfaction(reported_at=e.at, upset_since=_time(p.upset_since), reported_by=e.actor)


@_on("dissatisfaction_acknowledged")
def _dissatisfaction_acknowledged(lc: Lifecycle, s: CaseState, e: Event, p: None) -> None:
    if s.dissatisfaction:
        s.dissatisfaction.acknowledged_at, s.dissatisfaction.acknowledged_by = e.at, e.actor


@_on("dissatisfaction_resolved", typed=True)
def _dissatisfaction_resolved(lc: Lifecycle, s: CaseState, e: Event, p: DissatisfactionOutcome) -> None:
    if s.dissatisfaction:
        s.dissatisfaction.resolved_at, s.dissatisfaction.outcome = e.at, p.outcome


@_on("field_edited", typed=True)
def _field_edited(lc: Lifecycle, s: CaseState, e: Event, p: FieldEdited) -> None:
    _set_field(s, p.field, p.value)


@_on("conflict_flagged", typed=True)
def _conflict_flagged(lc: Lifecycle, s: CaseState, e: Event, p: ConflictFlagged) -> None:
    # a reason named by its key (the centre's: "clock_ahead") is kept as its English sentence, like the fold's own
    s.conflicts.append({"event": ",".join(p.events), "kind": "conflict", "reason": str(known_reason(p.reason)),
                        "actor": e.actor})


@_on("conflict_resolved")
def _conflict_resolved(lc: Lifecycle, s: CaseState, e: Event, p: None) -> None:
    s.conflicts = []


# -- rules beyond the status table ----------------------------------------------------------------------------
def _check_extension_request(lc: Lifecycle, s: CaseState, e: Event) -> str | None:
    if s.extension_pending:
        return Reason("extension_pending")
    spec = lc.profile.resolve_clock
    if spec is None or not spec.extendable or lc.profile.extension_ceiling <= 0:
        return Reason("no_extensions")
    track = s.clocks.get(spec.id)
    if track is None or track.stopped_at is not None:
        return Reason("resolve_not_running")
    length = e.payload.get("length") or 0
    if track.extended + length > lc.profile.extension_ceiling:
        return Reason("extension_ceiling", ceiling=lc.profile.extension_ceiling, unit=spec.unit.value,
                      granted=f"{track.extended:g}")
    return None


def _check_decision(kind: str, key: str) -> Callable[[Lifecycle, CaseState, Event], str | None]:
    def check(lc: Lifecycle, s: CaseState, e: Event) -> str | None:
        pending = getattr(s, key)
        if not pending:
            return Reason("nothing_to_decide", what=kind)
        if isinstance(pending, dict) and pending.get("by") == e.actor:
            return Reason("own_decision", what=kind)
        return None

    return check


def _check_remedy(lc: Lifecycle, s: CaseState, e: Event) -> str | None:
    if not s.remedy_pending:
        return Reason("no_remedy")
    return None


def _check_reply(lc: Lifecycle, s: CaseState, e: Event) -> str | None:
    if s.remedy_pending:
        return Reason("remedy_pending")
    return None


def _check_close(lc: Lifecycle, s: CaseState, e: Event) -> str | None:
    if s.remedy_pending:
        return Reason("remedy_pending")
    if s.closure_pending:
        return Reason("closure_pending")
    p = e.payload
    if not p:  # a probe from `available`: the form will ask for the details
        return None
    if p.get("outcome") in CLOSE_NEEDS_APPROVAL:
        return Reason("propose_unreachable")
    if not p.get("causes"):
        return Reason("need_cause")
    if not (p.get("report") or "").strip():
        return Reason("need_report")
    if not p.get("stage"):
        return Reason("need_stage")
    cat = lc.profile.category(s.category)
    if cat and cat.needs_fault_description and not (p.get("fault_description") or "").strip():
        return Reason("need_fault")
    return None


def _check_closure_proposal(lc: Lifecycle, s: CaseState, e: Event) -> str | None:
    if s.closure_pending:
        return Reason("closure_already")
    return lc.unreachable_rule(s)


def _check_escalate(lc: Lifecycle, s: CaseState, e: Event) -> str | None:
    new_case = e.payload.get("new_case")
    if new_case and new_case == s.id:
        return Reason("self_escalation")
    return None


def _check_resume(lc: Lifecycle, s: CaseState, e: Event) -> str | None:
    return None if s.paused else Reason("not_paused")


def _check_pause(lc: Lifecycle, s: CaseState, e: Event) -> str | None:
    return Reason("already_paused") if s.paused else None


def _check_dissatisfaction(lc: Lifecycle, s: CaseState, e: Event) -> str | None:
    d = s.dissatisfaction
    if d is None or d.resolved_at is not None:
        return Reason("no_dissatisfaction")
    if e.kind == "dissatisfaction_acknowledged" and d.acknowledged_at is not None:
        return Reason("already_acknowledged")
    return None


def _check_edit(lc: Lifecycle, s: CaseState, e: Event) -> str | None:
    field = e.payload.get("field")
    if field and field not in EDITABLE_FIELDS:
        return Reason("not_editable", field=field)
    return None


_EXTRA_CHECKS: dict[str, Callable[[Lifecycle, CaseState, Event], str | None]] = {
    "extension_requested": _check_extension_request,
    "extension_approved": _check_decision("extension", "extension_pending"),
    "extension_refused": _check_decision("extension", "extension_pending"),
    "remedy_approved": _check_remedy,
    "remedy_refused": _check_remedy,
    "replied": _check_reply,
    "closed": _check_close,
    "closure_proposed": _check_closure_proposal,
    "closure_approved": _check_decision("closure", "closure_pending"),
    "closure_refused": _check_decision("closure", "closure_pending"),
    "escalated": _check_escalate,
    "resumed": _check_resume,
    "paused": _check_pause,
    "dissatisfaction_acknowledged": _check_dissatisfaction,
    "dissatisfaction_resolved": _check_dissatisfaction,
    "field_edited": _check_edit,
}
