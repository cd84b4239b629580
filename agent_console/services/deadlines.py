"""Deadlines that never go stale, and years that say where their days come from.

A case's clocks are a function of its events, its profile and the calendar's version (`WorkingCalendar.version`: the
official schedules, the team's closures, the `holidays` package that projects provisional years). The store remembers
the basis its projections were computed on; when the basis of a console differs (a closures file, a new official
year loaded, a profile override, a package upgrade) every open case is refolded from its events, and the console says
how many deadlines moved and by how much (the last report is kept for the lead: `agent-console calendar changes`).

Official years beyond the shipped ones are loaded into the local database (`agent-console calendar load FILE`), so the
calendar, the recompute and, later, what the centre hands out all read one place.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_console.core.errors import Said
from agent_console.core.calendar import LocalDays, WorkingCalendar
from agent_console.core.calendar_years import ScheduleError, YearSchedule, load_schedule, parse_schedule, \
    shipped_schedules
from agent_console.core.clocks import ClockMath
from agent_console.core.lifecycle import Lifecycle
from agent_console.core.profiles import Profile, Unit
from agent_console.store.local import LocalStore, Progress

if TYPE_CHECKING:
    from agent_console.services.workspace import Workspace
    from agent_console.support.config import Settings

BASIS_KEY = "deadline_basis"
# profile id -> the profile (overrides applied) its consoles last folded its cases under: a console of another
# profile folds those cases under it, so a case keeps the rules it was registered under, the organisation's too
PROFILES_KEY = "deadline_profiles"
REPORT_KEY = "deadline_recompute"
# what the stored deadlines were counted on, beyond the basis's digests: the calendar's exceptions to Monday-Friday
# over the years the open cases count through and each profile as it was (so a change is told day by day and clock
# by clock: the incremental recompute refolds only the open cases it can reach)
COUNTED_KEY = "deadline_counted"
# the settings of a clock that change no other clock and no case's other rules (with the same tiers given a length)
_CLOCK_ONLY = frozenset({"length", "warn", "unit", "pause_gives_time_back", "label", "label_en"})
YEARS_KEY = "calendar_years"
_TINY = timedelta(microseconds=1)


# -- official years kept in the database ----------------------------------------------------------------------
def loaded_years(store: LocalStore) -> dict[str, dict[str, Any]]:
    """"CN-2027" -> {text, name, loaded_at, loaded_by, source, published} for each year loaded here."""
    return store.meta_dict(YEARS_KEY)


def schedules_for(store: LocalStore, country: str) -> dict[int, YearSchedule]:
    """The shipped official years with those loaded here on top (a loaded year replaces a shipped one)."""
    found = dict(shipped_schedules(country))
    for key, entry in sorted(loaded_years(store).items()):
        try:
            schedule = parse_schedule(entry["text"], entry.get("name", key))
        except (ScheduleError, KeyError, TypeError):
            continue  # checked when it was loaded; a damaged entry falls back to the shipped or projected year
        if schedule.country == country:
            found[schedule.year] = schedule
    from agent_console.services.reference_data import calendar_texts

    for name, text in calendar_texts(store):  # published by the team's lead: the team's word
        try:
            schedule = parse_schedule(text, name)
        except ScheduleError:
            continue
        if schedule.country == country and schedule.official:
            found[schedule.year] = schedule
    return found


def local_days(settings: Settings) -> tuple[LocalDays | None, Said | None]:
    """The team's closures file and, when it cannot be used, why (a Said naming file:line): a typo in a shared
    file must not stop the console or any command -- they run on the national calendar and say so until the file
    is fixed."""
    from agent_console.core.calendar import CalendarFileError

    path = settings.calendar_file
    if not path:
        return None, None
    try:
        return LocalDays.load(path), None
    except CalendarFileError as exc:
        return None, exc
    except FileNotFoundError:
        return None, CalendarFileError("calendar.no_file", path=str(path))
    except OSError as exc:
        return None, CalendarFileError("calendar.unreadable", path=str(path), detail=str(exc.strerror or exc))


def make_calendar(settings: Settings, profile: Profile, store: LocalStore) -> WorkingCalendar:
    local, _ = local_days(settings)
    return WorkingCalendar(profile.country, profile.timezone, local,
                           cache=Path(settings.db).parent / "calendar-cache.json",
                           schedules=schedules_for(store, profile.country))


def other_lifecycle(settings: Settings, store: LocalStore, calendar: WorkingCalendar,
                    profile_id: str) -> Lifecycle | None:
    """The lifecycle for cases registered under `profile_id` on a console configured with another profile (the
    organisation's overrides belong to the configured one; this one is taken as shipped or as in profile_dirs)."""
    from agent_console.core.profiles import ProfileError, load_profile

    profile = stored_profile(store, profile_id)
    if profile is None:  # no console of that profile has used this database: the profile as shipped
        try:
            profile = load_profile(profile_id, None, settings.profile_dirs)
        except (ProfileError, OSError):
            return None
    if (profile.country, profile.timezone) != (calendar.country, str(calendar.tz)):
        calendar = make_calendar(settings, profile, store)
    return Lifecycle(profile, ClockMath(calendar))


def stored_profile(store: LocalStore, profile_id: str) -> Profile | None:
    """The profile `profile_id`'s consoles last folded its cases under here (None: none has, or it is unreadable)."""
    from pydantic import ValidationError

    entry = store.meta_dict(PROFILES_KEY).get(profile_id)
    if not isinstance(entry, dict) or not isinstance(entry.get("profile"), str):
        return None
    try:
        return Profile.model_validate_json(entry["profile"])
    except (ValidationError, ValueError):
        return None


def remember_profile(store: LocalStore, profile: Profile) -> None:
    """Keep this console's profile (overrides applied) for the consoles of other profiles (written only when it
    changed: opening a console writes nothing otherwise)."""
    known = store.meta_dict(PROFILES_KEY)
    digest = profile_digest(profile)
    if (known.get(profile.id) or {}).get("digest") == digest:
        return
    known[profile.id] = {"digest": digest, "profile": profile.model_dump_json()}
    with store.transaction():
        store.set_meta(PROFILES_KEY, json.dumps(known, ensure_ascii=False))


def save_year(store: LocalStore, schedule: YearSchedule, name: str, by: str) -> None:
    years = loaded_years(store)
    years[f"{schedule.country}-{schedule.year}"] = {
        "text": schedule.text, "name": Path(name).name, "by": by, "loaded_at": _now_iso(),
        "source": schedule.source, "published": schedule.published.isoformat() if schedule.published else "",
        "status": schedule.status,
    }
    from agent_console.services.reference_data import GENERATION_KEY

    with store.transaction():
        store.set_meta(YEARS_KEY, json.dumps(years, ensure_ascii=False))
        store.set_meta(GENERATION_KEY, uuid.uuid4().hex)  # a console running on this database notices it


def check_year_file(path: Path, country: str) -> YearSchedule:
    """A schedule a lead wants to load, checked: file:line on any problem."""
    schedule = load_schedule(path)
    if schedule.country != country:
        raise ScheduleError(f"{path}:1: this schedule is for {schedule.country}; the profile counts {country} days")
    if not schedule.official:
        raise ScheduleError(f"{path}:1: only an official schedule (status = \"official\") can be loaded; "
                            "provisional years are projected by the console itself")
    return schedule


def generation(store: LocalStore, settings: Settings) -> tuple[str, int]:
    """What a running console compares on a timer to learn that another process changed its calendar or the team's
    reference data: one short row of the database and the closures file's modification time (neither grows with
    the number of cases)."""
    from agent_console.services.reference_data import GENERATION_KEY

    mtime = 0
    if settings.calendar_file:
        try:
            mtime = Path(settings.calendar_file).stat().st_mtime_ns
        except OSError:
            mtime = -1
    return store.meta(GENERATION_KEY) or "", mtime


# -- the basis and its changes --------------------------------------------------------------------------------
def profile_digest(profile: Profile) -> str:
    body = profile.model_dump_json(exclude={"source_file"})
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def current_basis(calendar: WorkingCalendar, profile: Profile) -> dict[str, Any]:
    return {"calendar": calendar.version(), "profiles": {profile.id: profile_digest(profile)}}


def stored_basis(store: LocalStore) -> dict[str, Any] | None:
    raw = store.meta(BASIS_KEY)
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def stale_reasons(store: LocalStore, calendar: WorkingCalendar, profile: Profile) -> list[str]:
    """Why the stored deadlines may be stale ([] when they are not): "calendar", "profile", "unknown".

    Another profile's digest is left alone: cases of other profiles are not refolded under this one.
    """
    stored = stored_basis(store)
    now = current_basis(calendar, profile)
    if stored is None:
        return ["unknown"] if store.count_cases(open_only=True) else []
    reasons = []
    if stored.get("calendar") != now["calendar"]:
        reasons.append("calendar")
    old = (stored.get("profiles") or {}).get(profile.id)
    if old is not None and old != now["profiles"][profile.id]:
        reasons.append("profile")
    return reasons


def record_basis(store: LocalStore, calendar: WorkingCalendar, profile: Profile) -> str:
    stored = stored_basis(store) or {}
    now = current_basis(calendar, profile)
    merged = {"calendar": now["calendar"], "profiles": {**(stored.get("profiles") or {}), **now["profiles"]}}
    return json.dumps(merged, sort_keys=True)


def record_counted(store: LocalStore, calendar: WorkingCalendar, profile: Profile, today: date) -> str:
    """COUNTED_KEY's text for the basis being recorded: the calendar's exceptions to Monday-Friday (ordinals) over
    the years the recorded cases count through (and a year either side of `today`), and this profile as it is
    (merged with the others' recorded)."""
    known = store.reach_days()
    first = min(date.fromordinal(known[0]).year if known else today.year, today.year) - 1
    last = max(date.fromordinal(known[1]).year if known else today.year, today.year) + 2
    old = stored_counted(store) or {}
    profiles = {**(old.get("profiles") or {}), profile.id: profile.model_dump_json(exclude={"source_file"})}
    return json.dumps({"calendar": calendar.version(), "first_year": first, "last_year": last,
                       "exceptions": _exceptions(calendar, first, last), "profiles": profiles})


def stored_counted(store: LocalStore) -> dict[str, Any] | None:
    try:
        data = json.loads(store.meta(COUNTED_KEY) or "null")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _exceptions(calendar: WorkingCalendar, first_year: int, last_year: int) -> list[int]:
    """The days of first_year..last_year whose status is not Monday-Friday's (ordinals)."""
    out, d = [], date(first_year, 1, 1)
    end = date(last_year, 12, 31)
    while d <= end:
        if calendar.is_working_day(d) != (d.weekday() < 5):
            out.append(d.toordinal())
        d += timedelta(days=1)
    return out


def reached(store: LocalStore, settings: Settings, calendar: WorkingCalendar, profile: Profile,
            reasons: list[str]) -> list[int] | None:
    """The open cases (rowids) the change behind `reasons` can reach; None: all of them (what was counted on is
    not known, or the reason is not a calendar or profile change).

    A case's clocks depend on its events, its profile's rules and the status of the days its fold counted over
    (recorded: case_reach). A calendar change reaches the cases that counted over a day whose status changed
    (from its clocks' start to the furthest deadline the fold looked at); a profile change reaches that profile's
    cases, and when only some clocks' lengths, warnings, unit or pausing changed, only those holding one of them.
    Every other open case folds to the state it has (a property test holds this against a full recompute)."""
    counted = stored_counted(store)
    basis = stored_basis(store) or {}
    if not counted or not set(reasons) <= {"calendar", "profile"} or counted.get("calendar") != basis.get("calendar"):
        return None
    days = None
    others: set[str] = set()
    if "calendar" in reasons:
        first, last = int(counted["first_year"]), int(counted["last_year"])
        changed = set(_exceptions(calendar, first, last)) ^ set(counted.get("exceptions") or [])
        days = (sorted(changed), date(first, 1, 1).toordinal(), date(last, 12, 31).toordinal())
        for pid in store.reach_profiles():  # cases folded on another calendar (another country or timezone)
            if pid != profile.id:
                other = other_lifecycle(settings, store, calendar, pid)
                if other is not None and other.clocks.calendar is not calendar:
                    others.add(pid)
    clocks: frozenset[str] | None = None
    of = None
    if "profile" in reasons:
        of = profile.id
        before = (counted.get("profiles") or {}).get(profile.id)
        clocks = _changed_clocks(before, profile) if isinstance(before, str) else None
    return store.reached_cases(days, frozenset(others), of, clocks)


def _changed_clocks(before: str, profile: Profile) -> frozenset[str] | None:
    """The clocks whose own settings alone changed between `before` (a profile's JSON) and `profile`; None when
    anything else changed (then every case of the profile can be reached)."""
    try:
        old = json.loads(before)
    except ValueError:
        return None
    new = json.loads(profile.model_dump_json(exclude={"source_file"}))
    old_clocks, new_clocks = old.pop("clocks", None), new.pop("clocks", None)
    if old != new or not isinstance(old_clocks, list) or [c.get("id") for c in old_clocks] != [
            c["id"] for c in new_clocks]:
        return None
    out = set()
    for a, b in zip(old_clocks, new_clocks):
        differ = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
        if differ - _CLOCK_ONLY or _tiers(a.get("length")) != _tiers(b.get("length")):
            return None  # when it applies, what starts or stops it, its role: other cases, other rules
        if differ - {"label", "label_en"}:  # a label is never folded
            out.add(b["id"])
    return frozenset(out)


def _tiers(length: Any) -> Any:
    return frozenset(length) if isinstance(length, dict) else "all"


@dataclass
class Shift:
    """A case whose nearest deadline a recompute moved."""

    case_id: str
    number: str
    old: str | None  # ISO instants (None: no clock running)
    new: str | None
    shift_days: float  # new - old in calendar days (negative: earlier); 0 when one side has none


@dataclass
class RecomputeReport:
    at: str
    reasons: list[str]
    cases: int  # open cases refolded
    moved: list[Shift] = field(default_factory=list)

    @property
    def cases_moved(self) -> int:
        return len({m.case_id for m in self.moved})

    @property
    def largest_shift_days(self) -> float:
        return max((abs(m.shift_days) for m in self.moved), default=0.0)

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "reasons": self.reasons, "cases": self.cases, "cases_moved": self.cases_moved,
                "largest_shift_days": self.largest_shift_days,
                "moved": [dict(m.__dict__) for m in self.moved]}  # (asdict copies each deeply: slower)


def report_from_json(data: dict[str, Any]) -> RecomputeReport:
    """A report as last_report keeps it (written by this process or another)."""
    return RecomputeReport(str(data.get("at", "")), list(data.get("reasons") or []), int(data.get("cases") or 0),
                           [Shift(**m) for m in data.get("moved") or []])


def _shift(old: str | None, new: str | None) -> float:
    if not old or not new:
        return 0.0
    delta = datetime.fromisoformat(new) - datetime.fromisoformat(old)
    return round(delta.total_seconds() / 86400, 2)


def recompute(settings: Settings, profile: Profile, reasons: list[str], store: LocalStore, today: date,
              progress: Progress | None = None, full: bool = False) -> RecomputeReport:
    """Refold the open cases the change behind `reasons` can reach (`reached`; every open case when that is not
    known, or `full`) under the current calendar and profile (the store's batched recompute: safe beside the
    console, on a worker thread's own connection), then record the new basis, what it counted on and the report.
    Safe to repeat. `progress(done, total)` after each batch of cases."""
    calendar = make_calendar(settings, profile, store)  # its own: a calendar fills in its days lazily
    lifecycle = Lifecycle(profile, ClockMath(calendar),
                          lambda pid: other_lifecycle(settings, store, calendar, pid))
    only = None if full else reached(store, settings, calendar, profile, reasons)
    cases = store.count_cases(open_only=True) if only is None else len(only)
    moved = store.recompute_open(lifecycle, progress, only=only)
    report = RecomputeReport(_now_iso(), reasons, cases, [
        Shift(m.case_id, m.number, m.next_due_before, m.next_due_after, _shift(m.next_due_before, m.next_due_after))
        for m in moved])
    counted = record_counted(store, calendar, profile, today)
    with store.transaction():
        store.set_meta(BASIS_KEY, record_basis(store, calendar, profile))
        store.set_meta(COUNTED_KEY, counted)
        store.set_meta(REPORT_KEY, json.dumps(report.to_json(), ensure_ascii=False))
    return report


def recompute_line(lang: str, report: RecomputeReport) -> str:
    """What the console and the CLI say after a recompute."""
    from agent_console.support.i18n import Translator

    t = Translator(lang)
    if not report.moved:
        return t("calendar.recomputed_none", cases=report.cases)
    if not report.largest_shift_days:
        return t("calendar.recomputed_later", cases=report.cases, moved=report.cases_moved)
    return t("calendar.recomputed", cases=report.cases, moved=report.cases_moved,
             days=f"{report.largest_shift_days:g}")


def last_report(store: LocalStore) -> dict[str, Any] | None:
    raw = store.meta(REPORT_KEY)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


# -- provisional stretches ------------------------------------------------------------------------------------
def provisional_years(calendar: WorkingCalendar, unit: str, started_at: datetime | None,
                      due: datetime | None) -> list[int]:
    """The provisional years a working-day clock counts through (calendar-day and wall clocks never depend on the
    holiday schedule)."""
    if unit != Unit.working_days.value or due is None:
        return []
    last = calendar.local_day(due - _TINY)  # a due at midnight ends the day before: that is the last day counted
    start = calendar.local_day(started_at) if started_at else last
    return calendar.provisional_years(start, last)


def upcoming_provisional(ws: Workspace, days: int = 60) -> list[int]:
    """The provisional years the next `days` working days reach (what `calendar` and `check` warn about)."""
    cal = ws.calendar
    today = ws.now().astimezone(cal.tz).date()
    last = cal.nth_working_day_after(today, days)
    return cal.provisional_years(today, last)


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
