"""Where a year's days come from: an official schedule (a State Council notice written down as data) or a projection.

A schedule file is TOML: the year, `status = "official"`, the notice's `source` (its title), `url` and `published`
date, then `[[holiday]]` spans (`name`, `from`, `to`: every day in them is off, weekdays included) and `[[workday]]`
makeup days (`date`, `note`: a Saturday or Sunday that is worked). Every other day is Monday-Friday. The package ships
the years whose notices are out (data/calendar/); a lead loads a new one with `agent-console calendar load FILE`.

A year with no schedule is *provisional*: its days are projected by the `holidays` package (fixed-date and lunar
rules, no makeup workdays), and every deadline counted through it says so.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from agent_console.core.errors import Said
from agent_console.core.shipped import DATA_DIR

STATUSES = ("official", "provisional")
_KEYS = {"country", "year", "status", "source", "number", "url", "published", "holiday", "workday"}


class ScheduleError(Said, ValueError):
    """A year's schedule that cannot be used (`error.schedule.*`); the message names the file and the line."""


@dataclass(frozen=True)
class YearSchedule:
    """One year's days off and makeup workdays, with where they come from."""

    country: str
    year: int
    status: str
    source: str
    url: str
    published: date | None
    off: dict[date, tuple[str, str]] = field(default_factory=dict)  # day -> (name, name_en)
    makeup: dict[date, str] = field(default_factory=dict)  # worked weekend day -> note
    text: str = ""  # the file as given, kept so that the same schedule can be stored and passed on
    number: str = ""  # the notice's document number (文号), e.g. 国办发明电〔2024〕12号; "" when not known

    @property
    def official(self) -> bool:
        return self.status == "official"

    @property
    def digest(self) -> str:
        """What identifies this schedule's days (not its comments): part of the calendar's version."""
        body = repr((self.country, self.year, self.status, sorted(self.off), sorted(self.makeup)))
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    def is_working_day(self, d: date) -> bool:
        if d in self.makeup:
            return True
        return d.weekday() < 5 and d not in self.off


def parse_schedule(text: str, name: str = "<schedule>") -> YearSchedule:
    """Read and check a schedule; every problem is reported as `name:line: what is wrong` (the first one)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's error carries its line only in the message: "... (at line 13, column 10)"
        found = re.search(r"at line (\d+)", str(exc))
        raise ScheduleError("schedule.syntax", where=f"{name}:{found.group(1) if found else 1}",
                            detail=str(exc)) from exc
    lines = text.splitlines()

    def fail(line: int, key: str, /, **params: object) -> ScheduleError:
        return ScheduleError(f"schedule.{key}", where=f"{name}:{line}", **params)

    def key_line(key: str, start: int = 0, end: int | None = None) -> int:
        for i in range(start, len(lines) if end is None else end):
            stripped = lines[i].strip()
            if stripped.startswith(f"{key} ") or stripped.startswith(f"{key}="):
                return i + 1
        return start + 1

    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise fail(key_line(unknown[0]), "unknown_key", field=unknown[0], known=", ".join(sorted(_KEYS)))
    year = data.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise fail(key_line("year"), "year")
    country = data.get("country", "CN")
    if not isinstance(country, str) or not country.strip():
        raise fail(key_line("country"), "country")
    status = data.get("status")
    if status not in STATUSES:
        raise fail(key_line("status"), "status", known=", ".join(STATUSES))
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise fail(key_line("source"), "source")
    published = data.get("published")
    if status == "official" and (not isinstance(published, date) or isinstance(published, datetime)):
        raise fail(key_line("published"), "published")
    url = data.get("url", "")
    if not isinstance(url, str):
        raise fail(key_line("url"), "url")
    number = data.get("number", "")
    if not isinstance(number, str):
        raise fail(key_line("number"), "number")

    def table_lines(table: str) -> list[tuple[int, int]]:
        """(first, end) line indexes of each [[table]] block."""
        heads = [i for i, line in enumerate(lines) if line.strip() == f"[[{table}]]"]
        out = []
        for h in heads:
            end = next((j for j in range(h + 1, len(lines)) if lines[j].lstrip().startswith("[")), len(lines))
            out.append((h, end))
        return out

    def day_in(entry: dict, key: str, where: tuple[int, int], what: str) -> date:
        value = entry.get(key)
        line = key_line(key, where[0], where[1]) if key in entry else where[0] + 1
        if not isinstance(value, date) or isinstance(value, datetime):
            raise fail(line, "needs_day", what=what, field=key)
        if value.year != year:
            raise fail(line, "other_year", day=str(value), year=year)
        return value

    off: dict[date, tuple[str, str]] = {}
    holidays = data.get("holiday", [])
    if not isinstance(holidays, list):
        raise fail(key_line("holiday"), "holiday_tables")
    spans = table_lines("holiday")
    for i, entry in enumerate(holidays):
        where = spans[i] if i < len(spans) else (0, len(lines))
        if not isinstance(entry, dict):
            raise fail(where[0] + 1, "holiday_table")
        extra = sorted(set(entry) - {"name", "name_en", "from", "to"})
        if extra:
            raise fail(key_line(extra[0], *where), "holiday_key", field=extra[0])
        title = entry.get("name")
        if not isinstance(title, str) or not title.strip():
            raise fail(where[0] + 1, "holiday_name", n=i + 1)
        first = day_in(entry, "from", where, f"[[holiday]] {title}")
        last = day_in(entry, "to", where, f"[[holiday]] {title}") if "to" in entry else first
        if last < first:
            raise fail(key_line("to", *where), "holiday_backwards", title=title, last=str(last), first=str(first))
        d = first
        while d <= last:
            if d in off:
                raise fail(where[0] + 1, "two_holidays", day=str(d), one=off[d][0], other=title)
            off[d] = (title, str(entry.get("name_en") or title))
            d += timedelta(days=1)

    makeup: dict[date, str] = {}
    workdays = data.get("workday", [])
    if not isinstance(workdays, list):
        raise fail(key_line("workday"), "workday_tables")
    blocks = table_lines("workday")
    for i, entry in enumerate(workdays):
        where = blocks[i] if i < len(blocks) else (0, len(lines))
        if not isinstance(entry, dict):
            raise fail(where[0] + 1, "workday_table")
        extra = sorted(set(entry) - {"date", "note"})
        if extra:
            raise fail(key_line(extra[0], *where), "workday_key", field=extra[0])
        d = day_in(entry, "date", where, f"[[workday]] {i + 1}")
        line = key_line("date", *where)
        if d.weekday() < 5:
            raise fail(line, "workday_weekday", day=str(d), weekday=f"{d:%A}", n=d.isoweekday())
        if d in off:
            raise fail(line, "workday_in_holiday", day=str(d), holiday=off[d][0])
        if d in makeup:
            raise fail(line, "workday_twice", day=str(d))
        makeup[d] = str(entry.get("note") or "")
    return YearSchedule(country.strip(), year, status, source.strip(), url, published if isinstance(
        published, date) else None, off, makeup, text, number.strip())


def load_schedule(path: Path) -> YearSchedule:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScheduleError("schedule.unreadable", path=str(path), detail=str(exc)) from exc
    return parse_schedule(text, str(path))


def shipped_calendar_dir() -> Path:
    return DATA_DIR / "calendar"


def shipped_schedules(country: str = "CN") -> dict[int, YearSchedule]:
    """The official years that ship with the package (a broken shipped file is a packaging error: it raises)."""
    found: dict[int, YearSchedule] = {}
    for path in sorted(shipped_calendar_dir().glob(f"{country}-*.toml")):
        schedule = load_schedule(path)
        found[schedule.year] = schedule
    return found
