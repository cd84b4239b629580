"""The working-day calendar against China's 2025 and 2026 holidays and makeup workdays."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_console.core.calendar import CalendarFileError, LocalDays, WorkingCalendar

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar()


@pytest.mark.parametrize(
    "day, working",
    [
        # 2025: Spring Festival 01-28..02-04, makeup 01-26 (Sun) and 02-08 (Sat)
        ("2025-01-26", True), ("2025-01-28", False), ("2025-02-04", False), ("2025-02-08", True),
        # 2025: Labour Day 05-01..05-05, makeup 04-27 (Sun); National Day + Mid-Autumn 10-01..10-08, makeup 09-28, 10-11
        ("2025-04-27", True), ("2025-05-05", False), ("2025-09-28", True), ("2025-10-08", False),
        ("2025-10-11", True), ("2025-10-09", True),
        # 2026: New Year makeup 01-04 (Sun); Spring Festival makeup 02-14, 02-28 (Sat)
        ("2026-01-01", False), ("2026-01-04", True), ("2026-02-14", True), ("2026-02-28", True),
        ("2026-02-17", False),
        # 2026: Labour Day makeup 05-09 (Sat); National Day 10-01..07, makeup 09-20 (Sun) and 10-10 (Sat)
        ("2026-05-09", True), ("2026-09-20", True), ("2026-09-25", False), ("2026-10-01", False),
        ("2026-10-07", False), ("2026-10-08", True), ("2026-10-10", True), ("2026-10-11", False),
        # ordinary days
        ("2026-11-24", True), ("2026-11-28", False),
    ],
)
def test_holidays_and_makeup_days(day: str, working: bool) -> None:
    assert CAL.is_working_day(date.fromisoformat(day)) is working


def test_the_issue_example_received_before_national_day() -> None:
    received = datetime(2026, 9, 30, 16, 30, tzinfo=TZ)
    assert CAL.nth_working_day_after(received.date(), 3) == date(2026, 10, 10)
    assert CAL.add_working_days(received, 3) == datetime(2026, 10, 11, 0, 0, tzinfo=TZ)


def test_day_of_receipt_never_counts() -> None:
    # received Friday 2026-11-20: the 1st working day is Monday 11-23, whatever the hour of receipt
    for hour in (0, 9, 23):
        assert CAL.add_working_days(datetime(2026, 11, 20, hour, tzinfo=TZ), 1) == datetime(2026, 11, 24, tzinfo=TZ)


def test_received_on_a_holiday_counts_from_the_next_working_day() -> None:
    assert CAL.nth_working_day_after(date(2026, 10, 3), 1) == date(2026, 10, 8)


def test_preview_lists_the_next_working_days() -> None:
    assert CAL.next_working_days(date(2026, 9, 18), 3) == [date(2026, 9, 20), date(2026, 9, 21), date(2026, 9, 22)]


def test_working_time_skips_closed_days() -> None:
    fri = datetime(2026, 11, 20, 18, 0, tzinfo=TZ)
    mon = datetime(2026, 11, 23, 6, 0, tzinfo=TZ)
    assert CAL.working_time_between(fri, mon) == timedelta(hours=12)
    assert CAL.working_time_between(mon, fri) == -timedelta(hours=12)


def test_year_boundary() -> None:
    # received 2025-12-31: New Year's Day is off, 2026-01-02 too? (holiday 01-01..03), 01-04 is a makeup workday
    assert CAL.nth_working_day_after(date(2025, 12, 31), 1) == date(2026, 1, 4)


instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(TZ))


@settings(max_examples=200, deadline=None)
@given(start=instants, minutes=st.integers(min_value=0, max_value=60 * 24 * 40))
def test_advance_then_measure_round_trips(start: datetime, minutes: int) -> None:
    amount = timedelta(minutes=minutes)
    end = CAL.advance_working_time(start, amount)
    assert end >= start
    assert CAL.working_time_between(start, end) == amount


@settings(max_examples=100, deadline=None)
@given(start=instants, n=st.integers(min_value=1, max_value=60))
def test_nth_working_day_is_a_working_day_and_counts_exactly(start: datetime, n: int) -> None:
    d = CAL.nth_working_day_after(start.date(), n)
    assert CAL.is_working_day(d)
    assert CAL.working_days_between(start.date() + timedelta(days=1), d + timedelta(days=1)) == n


def test_local_days_file(tmp_path: Path) -> None:
    path = tmp_path / "closures.toml"
    path.write_text('[[closed]]\ndate = 2026-11-25\nnote = "office move"\n\n[[working]]\ndate = 2026-11-28\n',
                    encoding="utf-8")
    cal = WorkingCalendar(local=LocalDays.load(path))
    assert not cal.is_working_day(date(2026, 11, 25))
    assert cal.is_working_day(date(2026, 11, 28))
    assert cal.holiday_name(date(2026, 11, 25)) == "office move"


def test_local_days_file_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "closures.toml"
    path.write_text('[[closed]]\ndate = 2026-11-25\n\n[[closed]]\nnote = "no date"\n', encoding="utf-8")
    with pytest.raises(CalendarFileError, match=r"closures.toml:4: \[\[closed\]\] entry 2 needs date"):
        LocalDays.load(path)
    path.write_text("[[closed]\n", encoding="utf-8")
    with pytest.raises(CalendarFileError, match="closures.toml"):
        LocalDays.load(path)


def test_calendar_day_calendar_counts_every_day() -> None:
    cal = WorkingCalendar(all_days=True)
    assert cal.nth_working_day_after(date(2026, 9, 30), 3) == date(2026, 10, 3)


def test_the_year_cache_gives_the_same_days_and_spares_the_holidays_import(tmp_path) -> None:
    from datetime import date, timedelta

    from agent_console.core.calendar import WorkingCalendar

    cache = tmp_path / "calendar-cache.json"
    plain = WorkingCalendar("CN")
    first = WorkingCalendar("CN", cache=cache)
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(4 * 366)]
    assert [first.is_working_day(d) for d in days] == [plain.is_working_day(d) for d in days]
    assert cache.exists()
    second = WorkingCalendar("CN", cache=cache)
    assert [second.is_working_day(d) for d in days] == [plain.is_working_day(d) for d in days]
    assert second._holidays is None  # answered from the cache alone
    assert second.is_working_day(date(2026, 10, 1)) is False and second.is_working_day(date(2026, 9, 20)) is True
    cache.write_text("{not json", encoding="utf-8")  # damaged: rebuilt, same answers
    third = WorkingCalendar("CN", cache=cache)
    assert [third.is_working_day(d) for d in days] == [plain.is_working_day(d) for d in days]
    assert third.holiday_name(date(2026, 10, 1))  # names still come from `holidays`


def _working_time_day_by_day(cal: WorkingCalendar, a: datetime, b: datetime) -> timedelta:
    """The reference: walk [a, b) one local day at a time and keep what falls on working days."""
    total, t = timedelta(0), a.astimezone(cal.tz)
    end = b.astimezone(cal.tz)
    while t < end:
        next_midnight = cal.start_of(t.date() + timedelta(days=1))
        if cal.is_working_day(t.date()):
            total += min(next_midnight, end) - t
        t = next_midnight
    return total


@settings(max_examples=150, deadline=None)
@given(a=instants, b=instants, later_year=st.integers(min_value=2027, max_value=2030))
def test_working_time_between_matches_a_day_by_day_walk_even_after_more_years_load(
        a: datetime, b: datetime, later_year: int) -> None:
    # a fresh calendar: the per-day cache fills, then a later year loads and the cached indexes must not be reused
    cal = WorkingCalendar()
    lo, hi = min(a, b), max(a, b)
    first = cal.working_time_between(lo, hi)
    cal.is_working_day(date(later_year, 6, 1))
    cal.is_working_day(date(2019, 6, 1))  # years before the loaded ones shift every index
    assert cal.working_time_between(lo, hi) == first == _working_time_day_by_day(cal, lo, hi)
    assert cal.working_time_between(hi, lo) == -first
    further = hi + timedelta(days=3)  # one end cached before the years loaded, the other not
    assert cal.working_time_between(lo, further) == _working_time_day_by_day(cal, lo, further)
