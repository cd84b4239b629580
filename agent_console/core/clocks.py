"""Clock arithmetic: starting, pausing, extending and reading a case's deadlines in the clock's own unit.

Working-day clocks measure time on working days only (a paused case gets back exactly the working time it lost);
calendar-day and month clocks count whole days the same way; hour and minute clocks run on the wall clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from agent_console.core.calendar import DAY, WorkingCalendar
from agent_console.core.models import ClockTrack, ClockView
from agent_console.core.profiles import ClockSpec, Unit

_TINY = timedelta(microseconds=1)
# Clock time one unit stands for, when an extension is added to a paused clock's remaining budget.
UNIT_SECONDS = {
    Unit.minutes: 60.0,
    Unit.hours: 3600.0,
    Unit.calendar_days: 86400.0,
    Unit.working_days: 86400.0,
    Unit.months: 30 * 86400.0,
}


# the bands of a clock still counting down (a stopped clock is "met" or "missed", a paused one "paused")
LIVE_BANDS = frozenset({"in_time", "warning", "breached"})


def nearest_deadline(deadlines: dict[str, dict[str, Any]],
                     paused_too: bool = True) -> tuple[str, dict[str, Any]] | None:
    """The deadline that matters most now (of a case's deadlines as Workspace.deadlines tells them): the live one
    with the least time left, breached ones first; else (paused_too) a paused one. A clock stopped late is
    history, never the one to watch."""
    live = [(k, d) for k, d in deadlines.items() if d["band"] in LIVE_BANDS]
    if live:
        return min(live, key=lambda kd: kd[1]["remaining_seconds"])
    if paused_too:
        return next(((k, d) for k, d in deadlines.items() if d["state"] == "paused"), None)
    return None


class TimeBase:
    """Deadline arithmetic for one unit. Day units use a calendar; wall units use plain timedeltas."""

    def __init__(self, unit: Unit, calendar: WorkingCalendar) -> None:
        self.unit = unit
        self.cal = calendar

    def deadline(self, start: datetime, length: float) -> datetime:
        n = int(length)
        if self.unit in (Unit.working_days, Unit.calendar_days):
            return self.cal.add_working_days(start, n) if n >= 1 else start
        if self.unit == Unit.months:
            day = self.cal.local_day(start) + relativedelta(months=n)
            return self.cal.start_of(day + DAY)
        if self.unit == Unit.hours:
            return start + timedelta(hours=length)
        return start + timedelta(minutes=length)

    def extend(self, due: datetime, length: float) -> datetime:
        """A due instant pushed on by `length` units (an approved extension).

        Day and wall units add clock time (working time for working-day clocks), the same amount a paused clock
        adds to what it has left: so an extension ends at the same instant whether it is approved before a pause,
        during it or after the resume. (Rounding up to the end of a day, as before, made an extension approved
        after a resume end later than the same one approved while paused.) A due at midnight, as every day clock's
        is until a pause shifts it, moves to the end of the length-th working day after its day, as before.
        """
        if self.unit == Unit.months:
            return self.deadline(due - _TINY, length)
        return self.advance(due, timedelta(seconds=length * UNIT_SECONDS[self.unit]))

    def measure(self, a: datetime, b: datetime) -> timedelta:
        """Clock time between two instants (working time for working-day clocks)."""
        if self.unit in (Unit.working_days, Unit.calendar_days):
            return self.cal.working_time_between(a, b)
        return b - a

    def advance(self, start: datetime, amount: timedelta) -> datetime:
        if self.unit in (Unit.working_days, Unit.calendar_days):
            return self.cal.advance_working_time(start, max(amount, timedelta(0)))
        return start + amount


class ClockMath:
    """The time bases for a profile's calendar; one per workspace, cached per unit."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        self.calendar_days = WorkingCalendar(tz=str(calendar.tz), all_days=True)
        self._bases: dict[Unit, TimeBase] = {}

    def base(self, unit: Unit | str) -> TimeBase:
        hit = self._bases.get(unit)  # (a Unit hashes as its value: the str and the member find the same entry)
        if hit is None:
            unit = Unit(unit)
            cal = self.calendar_days if unit == Unit.calendar_days else self.calendar
            hit = self._bases[unit] = TimeBase(unit, cal)
        return hit

    # -- changes the fold makes -------------------------------------------------------------------------------
    def start(self, spec: ClockSpec, tier: str, at: datetime, cycles: int = 1, missed: int = 0) -> ClockTrack:
        base = self.base(spec.unit)
        length = spec.length_for(tier) or 0
        warn = spec.warn_for(tier)
        due = base.deadline(at, length)
        if warn is not None:
            warn_at = base.deadline(at, warn)
        else:
            warn_at = base.advance(at, base.measure(at, due) * 0.8)
        return _track(id=spec.id, started_at=at, due=due, warn_at=warn_at, cycles=cycles, missed_cycles=missed)

    def restart(self, spec: ClockSpec, tier: str, track: ClockTrack, at: datetime) -> ClockTrack:
        missed = track.missed_cycles + (1 if track.due is not None and at > track.due else 0)
        return self.start(spec, tier, at, cycles=track.cycles + 1, missed=missed)

    def pause(self, spec: ClockSpec, track: ClockTrack, at: datetime) -> ClockTrack:
        if not spec.pause_gives_time_back or track.stopped_at or track.paused_at or track.due is None:
            return track
        base = self.base(spec.unit)
        warn_left = base.measure(at, track.warn_at).total_seconds() if track.warn_at else None
        return _changed(track, {"paused_at": at, "remaining_at_pause": base.measure(at, track.due).total_seconds(),
                                "warn_left_at_pause": warn_left, "due": None, "warn_at": None})

    def resume(self, spec: ClockSpec, track: ClockTrack, at: datetime) -> ClockTrack:
        if track.paused_at is None or track.remaining_at_pause is None:
            return track
        base = self.base(spec.unit)
        due = base.advance(at, timedelta(seconds=max(track.remaining_at_pause, 0)))
        if track.remaining_at_pause < 0:  # paused after breaching: the lateness stays
            due = at - timedelta(seconds=-track.remaining_at_pause)
        warn_left = track.warn_left_at_pause
        warn_at = base.advance(at, timedelta(seconds=warn_left)) if warn_left and warn_left > 0 else at
        return _changed(track, {"paused_at": None, "remaining_at_pause": None, "warn_left_at_pause": None,
                                "due": due, "warn_at": min(warn_at, due)})

    def extend(self, spec: ClockSpec, track: ClockTrack, length: float) -> ClockTrack:
        base = self.base(spec.unit)
        if track.due is None:  # paused: the extension adds to what is left
            extra = length * UNIT_SECONDS[Unit(spec.unit)]
            return _changed(track, {"remaining_at_pause": (track.remaining_at_pause or 0) + extra,
                                    "extended": track.extended + length})
        return _changed(track, {"due": base.extend(track.due, length), "extended": track.extended + length})

    def stop(self, spec: ClockSpec, track: ClockTrack, at: datetime) -> ClockTrack:
        if track.stopped_at is not None:
            return track
        if track.paused_at is not None:
            # stopped while paused: it was within its time (the budget was frozen)
            return _changed(track, {"stopped_at": at, "due": at, "paused_at": None, "remaining_at_stop": 0.0})
        assert track.due is not None
        left = self.base(spec.unit).measure(at, track.due).total_seconds()
        return _changed(track, {"stopped_at": at, "remaining_at_stop": left})

    # -- reading ----------------------------------------------------------------------------------------------
    def evaluate(
        self,
        spec: ClockSpec,
        started_at: datetime,
        due: datetime | None,
        warn_at: datetime | None,
        stopped_at: datetime | None,
        paused_at: datetime | None,
        remaining_at_pause: float | None,
        now: datetime,
        remaining_at_stop: float | None = None,
    ) -> tuple[str, str, datetime | None, float]:
        """(state, band, due, remaining seconds in the clock's time base) of one clock at `now`.

        The one place that decides whether a clock is in time, warning, breached, paused, met or missed; both the
        detail view and the fast list path call it.
        """
        base = self.base(spec.unit)
        if stopped_at is not None:
            due = due or stopped_at
            # what the fold counted when the clock stopped (a track folded before that was kept: counted now)
            remaining = (remaining_at_stop if remaining_at_stop is not None
                         else base.measure(stopped_at, due).total_seconds())
            return ("met", "met", due, remaining) if stopped_at <= due else ("breached", "missed", due, remaining)
        if paused_at is not None:
            return "paused", "paused", None, remaining_at_pause or 0.0
        assert due is not None
        remaining = base.measure(now, due).total_seconds()
        if now >= due:
            return "breached", "breached", due, remaining
        if warn_at is not None and now >= warn_at:
            return "running", "warning", due, remaining
        return "running", "in_time", due, remaining

    def view(self, spec: ClockSpec, track: ClockTrack, now: datetime) -> ClockView:
        state, band, due, remaining = self.evaluate(
            spec, track.started_at, track.due, track.warn_at, track.stopped_at, track.paused_at,
            track.remaining_at_pause, now, track.remaining_at_stop,
        )
        return ClockView(
            id=spec.id,
            label=spec.label,
            label_en=spec.label_en,
            unit=spec.unit.value,
            role=spec.role,
            state=state,
            band=band,
            due=due,
            warn_at=track.warn_at,
            remaining_seconds=remaining,
            started_at=track.started_at,
            stopped_at=track.stopped_at,
        )

    def evaluate_raw(self, spec: ClockSpec, raw: dict[str, Any], now: datetime) -> tuple[str, str, datetime | None, float]:
        """`evaluate` for a track as stored in JSON (ISO strings), without building models: the list fast path."""
        parse = parse_instant
        return self.evaluate(
            spec, parse(raw["started_at"]), parse(raw.get("due")), parse(raw.get("warn_at")),
            parse(raw.get("stopped_at")), parse(raw.get("paused_at")), raw.get("remaining_at_pause"), now,
            raw.get("remaining_at_stop"),
        )


_TRACK_DEFAULTS = {name: field.default for name, field in ClockTrack.model_fields.items() if not field.is_required()}
_TRACK_TEMPLATE = {name: _TRACK_DEFAULTS.get(name) for name in ClockTrack.model_fields}
_new, _set = object.__new__, object.__setattr__


def _track(**values: Any) -> ClockTrack:
    """A ClockTrack from values already of their fields' types (what the clock rules compute), without validating
    them again: a rebuild starts a few clocks per case and changes them at each pause, resume and stop, and
    validating (or pydantic's model_construct, slower still) was a tenth of the fold. The same object, fields in
    the model's order."""
    track = _new(ClockTrack)
    fields = dict(_TRACK_TEMPLATE)  # in the model's order
    fields.update(values)
    _set(track, "__dict__", fields)
    _set(track, "__pydantic_fields_set__", set(values))
    _set(track, "__pydantic_extra__", None)
    _set(track, "__pydantic_private__", None)
    return track


def _changed(track: ClockTrack, update: dict[str, Any]) -> ClockTrack:
    """`track.model_copy(update=update)` (no validation either), without pydantic's generic copying."""
    new = _new(ClockTrack)
    _set(new, "__dict__", {**track.__dict__, **update})
    _set(new, "__pydantic_fields_set__", track.__pydantic_fields_set__ | update.keys())
    _set(new, "__pydantic_extra__", None)
    _set(new, "__pydantic_private__", None)
    return new


def parse_instant(value: str | None) -> datetime | None:
    """A stored ISO instant (or None for none)."""
    if not value:
        return None
    if value[-1] == "Z":  # pydantic writes UTC as Z; fromisoformat in 3.11 reads it too, this is just faster
        value = value[:-1] + "+00:00"
    return datetime.fromisoformat(value)
