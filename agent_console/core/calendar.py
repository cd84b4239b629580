"""Working-day calendar: public holidays and makeup workdays from `holidays`, plus a team's local closures.

Counting rule (DOMAIN.md §5): the day of receipt does not count; "within N working days" ends at the end of the
N-th working day after it. Instants are timezone-aware; days are judged in the calendar's timezone.
"""

from __future__ import annotations

import bisect
import re
import json
import os
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from agent_console.core.errors import Said, toml_error_line
from agent_console.core.calendar_years import YearSchedule, shipped_schedules

if TYPE_CHECKING:
    import holidays

DAY = timedelta(days=1)
_ZERO = timedelta(0)
_MIDNIGHT = time(0)


_reach = threading.local()  # .span: [first, last] day ordinals this thread's recording has seen, or absent


@contextmanager
def reach_recorded() -> Iterator[list[int]]:
    """Record the days the working-day arithmetic looks at on this thread: yields [first, last] (day ordinals),
    widened by every question a calendar (one that does not count every day) answers meanwhile; [1, 0] after none.

    A fold's clocks are a function of the events, the profile and the status of exactly these days: a calendar
    that differs from another only outside them folds the case to the same state (the incremental recompute
    refolds only the cases whose recorded days a change reaches). Nested recordings widen the outer one too."""
    outer = getattr(_reach, "span", None)
    span = [_NEVER, 0]
    _reach.span = span
    try:
        yield span
    finally:
        _reach.span = outer
        if span[0] == _NEVER:
            span[0] = 1
        elif outer is not None:
            outer[0], outer[1] = min(outer[0], span[0]), max(outer[1], span[1])


_NEVER = date.max.toordinal() + 1


class CalendarFileError(Said, ValueError):
    """A local-closures file that cannot be read: a key of the locale's `[error.calendar]` words, naming the file
    and line."""


@dataclass(frozen=True)
class LocalDays:
    """A team's own additions: extra closed days and extra working days."""

    closed: frozenset[date] = frozenset()
    working: frozenset[date] = frozenset()
    notes: dict[date, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "LocalDays":
        """Read a TOML file with `[[closed]]` and `[[working]]` tables of `date` and `note`."""
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:  # said with its line, never a traceback (`check` crashed on it)
            raise CalendarFileError("calendar.not_utf8", path=str(path), line=raw.count(b"\n", 0, exc.start) + 1,
                                    byte=exc.start + 1) from exc
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CalendarFileError("calendar.syntax", path=str(path), line=toml_error_line(exc),
                                    detail=str(exc)) from exc
        closed: set[date] = set()
        working: set[date] = set()
        notes: dict[date, str] = {}
        for key, target in (("closed", closed), ("working", working)):
            for i, entry in enumerate(data.get(key, [])):
                raw = entry.get("date") if isinstance(entry, dict) else None
                line = _line_of(text, key, i)
                if isinstance(raw, str):
                    try:
                        raw = date.fromisoformat(raw)
                    except ValueError:
                        raw = None
                if not isinstance(raw, date) or isinstance(raw, datetime):
                    raise CalendarFileError("calendar.needs_date", path=str(path), line=line, table=key, entry=i + 1)
                target.add(raw)
                if entry.get("note"):
                    notes[raw] = str(entry["note"])
        both = closed & working
        if both:
            day = min(both)
            raise CalendarFileError("calendar.both", path=str(path), line=_line_of_day(text, day), day=str(day))
        return cls(frozenset(closed), frozenset(working), notes)


def _line_of_day(text: str, day: date) -> int:
    """1-based line of the second mention of `day` (the entry that contradicts the first), else of the first."""
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if day.isoformat() in line]
    return lines[1] if len(lines) > 1 else (lines[0] if lines else 1)


def _line_of(text: str, table: str, index: int) -> int:
    """1-based line of the index-th `[[table]]` header, for error messages."""
    seen = -1
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() == f"[[{table}]]":
            seen += 1
            if seen == index:
                return number
    return 1


class WorkingCalendar:
    """Answers which days are working days and does arithmetic in working time.

    Working days are precomputed per year as sorted ordinals so that every operation is a few bisects: the
    deadline of 10,000 cases is computed in well under a second.
    """

    def __init__(
        self,
        country: str = "CN",
        tz: str = "Asia/Shanghai",
        local: LocalDays | None = None,
        subdivision: str | None = None,
        all_days: bool = False,
        cache: Path | None = None,
        schedules: dict[int, YearSchedule] | None = None,
    ) -> None:
        """`schedules`: the official years (default: those shipped for the country); other years come from the
        `holidays` package, and those after the first official one are provisional."""
        self.country = country
        self.tz = ZoneInfo(tz)
        self.local = local or LocalDays()
        self.subdivision = subdivision
        self.all_days = all_days  # a calendar-day calendar: every day counts
        self._years: set[int] = set()
        self._ordinals: list[int] = []
        # ordinal -> (working days before it, whether it is one): the list path measures thousands of clocks against
        # a few hundred distinct days; cleared whenever years are added (the indexes shift)
        self._days: dict[int, tuple[int, bool]] = {}
        # (day's ordinal, n) -> add_working_days' answer: a day's status never changes within one calendar (more
        # years loaded add days, they do not change any), so this is never cleared
        self._ends: dict[tuple[int, int], tuple[datetime, int]] = {}  # (the instant, its last day's ordinal)
        self._holidays: holidays.HolidayBase | None = None
        # `holidays` takes ~0.15 s to import (every country loads), on the way to the first screen; the year's
        # exceptions to Monday-Friday are kept in a small JSON file, keyed by the package's version
        self._cache_path = cache
        self._cache: dict[str, dict[str, list[str]]] | None = None
        if schedules is None:
            schedules = {} if all_days else shipped_schedules(country)
        self.schedules = {y: sc for y, sc in schedules.items() if sc.official and sc.country == country}

    # -- where the days come from -----------------------------------------------------------------------------
    def year_status(self, year: int) -> str:
        """official (a loaded notice), historical (before the first one: the notices the `holidays` package lists)
        or provisional (no notice yet: projected). A country without schedules takes the package as its source."""
        if self.all_days or year in self.schedules or not self.schedules:
            return "official" if year in self.schedules else "historical"
        return "historical" if year < min(self.schedules) else "provisional"

    def is_provisional(self, year: int) -> bool:
        return self.year_status(year) == "provisional"

    def provisional_years(self, a: date, b: date) -> list[int]:
        """The provisional years a count from day a to day b runs through."""
        lo, hi = min(a.year, b.year), max(a.year, b.year)
        return [y for y in range(lo, hi + 1) if self.is_provisional(y)]

    def version(self) -> str:
        """What the calendar's days depend on: the official schedules, the local days, the `holidays` package
        (it projects the provisional years). Deadlines counted under another version may be stale."""
        import hashlib

        parts = [
            self.country, self.subdivision or "", str(self.all_days),
            ",".join(f"{y}:{sc.digest}" for y, sc in sorted(self.schedules.items())),
            ",".join(sorted(d.isoformat() for d in self.local.closed)),
            ",".join(sorted(d.isoformat() for d in self.local.working)),
            "" if self.all_days else metadata.version("holidays"),
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    # -- days -------------------------------------------------------------------------------------------------
    def _ensure(self, year: int) -> None:
        if year in self._years:
            return
        lo, hi = year - 1, year + 2  # a margin so that arithmetic near year ends never falls off
        new_years = [y for y in range(lo, hi + 1) if y not in self._years]
        for y in new_years:
            off, on = self._exceptions(y)
            d = date(y, 1, 1)
            while d.year == y:
                if self.all_days or d in self.local.working or (
                        d not in self.local.closed and (d in on if d.weekday() >= 5 else d not in off)):
                    self._ordinals.append(d.toordinal())
                d += DAY
            self._years.add(y)
        self._ordinals.sort()
        self._days.clear()

    def _exceptions(self, year: int) -> tuple[set[date], set[date]]:
        """The public calendar's exceptions to Monday-Friday in `year`: weekdays off, weekend days worked."""
        if self.all_days:
            return set(), set()
        schedule = self.schedules.get(year)
        if schedule is not None:  # the notice itself: no package needed
            return {d for d in schedule.off if d.weekday() < 5}, set(schedule.makeup)
        cache = self._read_cache()
        entry = cache.get(str(year))
        if entry is None:
            table = self._table(year)
            off, on = [], []
            d = date(year, 1, 1)
            while d.year == year:
                working = table.is_working_day(d)
                if d.weekday() < 5 and not working:
                    off.append(d.isoformat())
                elif d.weekday() >= 5 and working:
                    on.append(d.isoformat())
                d += DAY
            entry = cache[str(year)] = {"off": off, "on": on}
            self._write_cache()
        return {date.fromisoformat(x) for x in entry["off"]}, {date.fromisoformat(x) for x in entry["on"]}

    def _table(self, year: int) -> holidays.HolidayBase:
        import holidays

        if self._holidays is None:
            # expand=True (the default) lets the holiday table grow as later years are asked for
            self._holidays = holidays.country_holidays(self.country, subdiv=self.subdivision, years=[year])
        return self._holidays

    def _cache_key(self) -> str:
        return f"{self.country}|{self.subdivision or ''}|holidays {metadata.version('holidays')}"

    def _read_cache(self) -> dict[str, dict[str, list[str]]]:
        if self._cache is None:
            self._cache = {}
            if self._cache_path is not None:
                try:
                    data = json.loads(self._cache_path.read_text(encoding="utf-8"))
                    if data.get("key") == self._cache_key():
                        self._cache = data["years"]
                except (OSError, ValueError, KeyError, TypeError, AttributeError):
                    pass  # missing, old or damaged: rebuilt from `holidays`
        return self._cache

    def _write_cache(self) -> None:
        if self._cache_path is None or self._cache is None:
            return
        try:
            tmp = self._cache_path.with_name(self._cache_path.name + f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"key": self._cache_key(), "years": self._cache}), encoding="utf-8")
            os.replace(tmp, self._cache_path)
        except OSError:
            pass  # a read-only place only costs the import next time

    def _saw(self, first: int, last: int) -> None:
        """Note that an answer depended on the days first..last (ordinals) for a reach_recorded on this thread."""
        span = getattr(_reach, "span", None)
        if span is not None and not self.all_days:  # a calendar counting every day depends on no schedule
            if first < span[0]:
                span[0] = first
            if last > span[1]:
                span[1] = last

    def is_working_day(self, d: date) -> bool:
        self._ensure(d.year)
        self._saw(d.toordinal(), d.toordinal())
        i = bisect.bisect_left(self._ordinals, d.toordinal())
        return i < len(self._ordinals) and self._ordinals[i] == d.toordinal()

    def holiday_name(self, d: date, lang: str = "zh") -> str | None:
        """The holiday's name in `lang` ("zh": 国庆节, 休息日（由 2026-09-20 调休）; "en": English, dates ISO)."""
        if self.all_days:
            return None
        self._ensure(d.year)
        if d in self.local.notes:
            return self.local.notes[d]
        schedule = self.schedules.get(d.year)
        if schedule is not None:  # an official year: its own names in both languages
            if d in schedule.off:
                name, name_en = schedule.off[d]
                return name if lang == "zh" else name_en
            return schedule.makeup.get(d) or None
        if lang == "zh":
            return self._table_zh(d.year).get(d)
        name = self._table(d.year).get(d)
        # `holidays` writes the substituted day US style ("substituted from 09/20/2026"): ISO instead
        return re.sub(r"\b(\d{2})/(\d{2})/(\d{4})\b", r"\3-\1-\2", name) if name else name

    def _table_zh(self, year: int) -> holidays.HolidayBase:
        import holidays

        if getattr(self, "_holidays_zh", None) is None:
            try:
                self._holidays_zh = holidays.country_holidays(self.country, subdiv=self.subdivision, years=[year],
                                                              language="zh_CN")
            except (NotImplementedError, KeyError, ValueError):  # a country without Chinese names
                return self._table(year)
        return self._holidays_zh

    def next_working_days(self, start: date, count: int) -> list[date]:
        """The next `count` working days strictly after `start` (the preview `agent-console calendar` shows)."""
        return [self.nth_working_day_after(start, n) for n in range(1, count + 1)]

    def nth_working_day_after(self, d: date, n: int) -> date:
        """The n-th working day after day d (d itself never counts); n >= 1."""
        if n < 1:
            raise ValueError("n must be at least 1")
        self._ensure(d.year)
        ordinal = d.toordinal()
        while True:
            i = bisect.bisect_right(self._ordinals, ordinal)
            if i + n - 1 < len(self._ordinals):
                self._saw(ordinal, self._ordinals[i + n - 1])
                return date.fromordinal(self._ordinals[i + n - 1])
            self._ensure(date.fromordinal(self._ordinals[-1]).year + 1)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a <= d < b."""
        self._ensure(a.year)
        self._ensure(b.year)
        self._saw(min(a, b).toordinal(), max(a, b).toordinal())
        return bisect.bisect_left(self._ordinals, b.toordinal()) - bisect.bisect_left(self._ordinals, a.toordinal())

    # -- instants ---------------------------------------------------------------------------------------------
    def local_day(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def start_of(self, d: date) -> datetime:
        return datetime.combine(d, time(0), self.tz)

    def add_working_days(self, received: datetime, n: int) -> datetime:
        """The instant at which "within n working days of `received`" runs out: midnight after the n-th one."""
        day = self.local_day(received)
        key = (day.toordinal(), n)
        end = self._ends.get(key)
        if end is None:  # a few hundred distinct days and lengths in a rebuild of thousands of cases: once each
            last = self.nth_working_day_after(day, n)
            end = self._ends[key] = (self.start_of(last + DAY), last.toordinal())
        else:
            self._saw(key[0], end[1])
        return end[0]

    def _day(self, d: date) -> tuple[int, bool]:
        """(working days before d in the loaded years, whether d is one), cached per day."""
        o = d.toordinal()
        hit = self._days.get(o)
        if hit is None:
            self._ensure(d.year)
            i = bisect.bisect_left(self._ordinals, o)
            hit = self._days[o] = (i, i < len(self._ordinals) and self._ordinals[i] == o)
        return hit

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """How much of [a, b) falls on working days (negative when b < a)."""
        if b < a:
            return -self.working_time_between(b, a)
        tz = self.tz
        la, lb = a.astimezone(tz), b.astimezone(tz)
        da, db = la.date(), lb.date()
        oa, ob = da.toordinal(), db.toordinal()
        self._saw(oa, ob)
        # every stopped clock of a million-case list comes here: the days' answers straight from their cache
        days = self._days
        ha, hb = days.get(oa), days.get(ob)
        if ha is None or hb is None:
            self._ensure(da.year)  # both years first: ensuring one shifts the other's index
            self._ensure(db.year)
            ha, hb = self._day(da), self._day(db)
        ia, wa = ha
        if oa == ob:
            return (lb - la) if wa else _ZERO
        ib, wb = hb
        total = DAY * (ib - ia - wa)  # the working days strictly between da and db
        if wa:
            total += datetime.combine(da + DAY, _MIDNIGHT, tz) - la
        if wb:
            total += lb - datetime.combine(db, _MIDNIGHT, tz)
        return total

    def advance_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The instant reached after `amount` of working time from `start` (amount >= 0).

        Used to give back paused time: the remaining budget is laid onto the working days that follow.
        """
        if amount < timedelta(0):
            raise ValueError("amount must not be negative")
        local = start.astimezone(self.tz)
        d = local.date()
        if self.is_working_day(d):
            left_today = self.start_of(d + DAY) - local
            if amount <= left_today:
                return local + amount
            amount -= left_today
        whole, rest = divmod(amount, DAY)
        if rest == timedelta(0) and whole > 0:
            return self.start_of(self.nth_working_day_after(d, whole) + DAY)
        target = self.nth_working_day_after(d, whole + 1)
        return self.start_of(target) + rest
