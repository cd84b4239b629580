"""A callback's time said with a day word (前天 昨天 今天 明天 后天), a part of the day (上午 下午 晚上) and a clock
time (3点, 3点半, 三点), or an explicit date: the day the words name, and a time already past refused (昨天下午3点
was once read as today 15:00)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_console.core.due_phrases import DuePhraseError, parse_due
from agent_console.support.i18n import Translator
from tests.conftest import SHANGHAI

DAYS = {"大前天": -3, "前天": -2, "昨天": -1, "今天": 0, "明天": 1, "后天": 2, "大后天": 3}
# the hours a part of the day is said with, and what 下午/晚上 add
PERIODS = {"上午": (range(6, 12), 0), "下午": (range(1, 12), 12), "晚上": (range(6, 12), 12), "": (range(0, 24), 0)}
CN = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一"]

nows = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=SHANGHAI))


def _said_hour(hour: int, chinese: bool) -> str:
    return CN[hour] if chinese and hour < len(CN) else str(hour)


def _check(phrase: str, now: datetime, expected: datetime) -> None:
    """The phrase means `expected`: returned when it is still to come, refused as past otherwise."""
    if expected > now:
        assert parse_due(phrase, now, SHANGHAI) == expected
    else:
        with pytest.raises(DuePhraseError) as caught:
            parse_due(phrase, now, SHANGHAI)
        assert caught.value.args[0].key == "due_past"
        assert caught.value.args[0].params["when"] == f"{expected:%Y-%m-%d %H:%M}"


@settings(max_examples=400, deadline=None)
@given(now=nows, word=st.sampled_from(sorted(DAYS)), period=st.sampled_from(sorted(PERIODS)), data=st.data(),
       half=st.booleans(), chinese=st.booleans())
def test_day_word_period_and_clock_time(now: datetime, word: str, period: str, data: st.DataObject, half: bool,
                                        chinese: bool) -> None:
    hours, add = PERIODS[period]
    hour = data.draw(st.sampled_from(list(hours)))
    phrase = f"{word}{period}{_said_hour(hour, chinese)}点{'半' if half else ''}"
    day = now.date() + timedelta(days=DAYS[word])
    _check(phrase, now, datetime.combine(day, time(hour + add, 30 if half else 0), SHANGHAI))


@settings(max_examples=200, deadline=None)
@given(now=nows, word=st.sampled_from(sorted(DAYS)), period=st.sampled_from(["上午", "下午", "晚上", ""]))
def test_day_word_without_a_clock_time(now: datetime, word: str, period: str) -> None:
    hour = {"上午": 10, "下午": 15, "晚上": 19, "": 10}[period]  # the parser's default hour of each part of the day
    day = now.date() + timedelta(days=DAYS[word])
    _check(f"{word}{period}", now, datetime.combine(day, time(hour), SHANGHAI))


@settings(max_examples=300, deadline=None)
@given(now=nows, offset=st.integers(-400, 400), hour=st.integers(0, 23), minute=st.sampled_from([0, 5, 30, 59]))
def test_explicit_dates(now: datetime, offset: int, hour: int, minute: int) -> None:
    day = now.date() + timedelta(days=offset)
    expected = datetime.combine(day, time(hour, minute), SHANGHAI)
    _check(f"{day:%Y-%m-%d} {hour:02d}:{minute:02d}", now, expected)
    if abs(offset) < 150 and not (day.month == 2 and day.day == 29):
        # without a year: the nearest such day, so a day just gone is refused, not moved to next year
        _check(f"{day.month}月{day.day}日{hour}点{minute}分" if minute else f"{day.month}月{day.day}日{hour}点",
               now, expected)
        _check(f"{day.month}/{day.day} {hour:02d}:{minute:02d}", now, expected)


NOW = datetime(2026, 12, 2, 14, 35, tzinfo=SHANGHAI)  # a Wednesday, 14:35


@pytest.mark.parametrize("phrase, when", [
    ("昨天下午3点", "2026-12-01 15:00"),
    ("昨天下午三点半", "2026-12-01 15:30"),
    ("昨晚8点", "2026-12-01 20:00"),
    ("前天上午", "2026-11-30 10:00"),
    ("yesterday 3pm", "2026-12-01 15:00"),
    ("上周三下午3点", "2026-11-25 15:00"),
    ("last monday", "2026-11-30 10:00"),
    ("两小时前", "2026-12-02 12:35"),
    ("3天前", "2026-11-29 14:35"),
    ("2 hours ago", "2026-12-02 12:35"),
    ("12月1日下午3点", "2026-12-01 15:00"),
    ("12/1 15:00", "2026-12-01 15:00"),
    ("今天上午9点", "2026-12-02 09:00"),
])
def test_the_past_is_refused_in_the_consoles_language(phrase: str, when: str) -> None:
    with pytest.raises(DuePhraseError) as caught:
        parse_due(phrase, NOW, SHANGHAI)
    assert Translator("zh").reason(caught.value) == f"{when} 已经过去了：回电时间要约在现在以后"
    assert Translator("en").reason(caught.value) == f"{when} has already passed: a callback is due after now"


@pytest.mark.parametrize("phrase, expected", [
    ("今天下午3点", datetime(2026, 12, 2, 15, 0)),
    ("1月5日上午10点", datetime(2027, 1, 5, 10, 0)),  # January is next year's
    ("下周三", datetime(2026, 12, 9, 10, 0)),
    ("周三", datetime(2026, 12, 9, 10, 0)),
])
def test_the_future_still_reads(phrase: str, expected: datetime) -> None:
    assert parse_due(phrase, NOW, SHANGHAI) == expected.replace(tzinfo=SHANGHAI)


def test_nearest_occurrence_handles_february_29() -> None:
    assert parse_due("2月29日", datetime(2028, 2, 1, 9, 0, tzinfo=SHANGHAI), SHANGHAI).date() == date(2028, 2, 29)


@pytest.mark.parametrize("phrase, day, at", [
    ("明天晚上12点", 2, time(0, 0)),  # the midnight that ends tomorrow (was read as tomorrow noon)
    ("明天晚上十二点半", 2, time(0, 30)),
    ("明天半夜12点", 2, time(0, 0)),
    ("明天半夜2点", 1, time(2, 0)),  # the small hours stay small
    ("明天夜里9点", 1, time(21, 0)),
    ("明天中午12点", 1, time(12, 0)),
    ("明天12点", 1, time(12, 0)),
])
def test_midnight_and_the_night_hours(phrase: str, day: int, at: time) -> None:
    now = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
    assert parse_due(phrase, now, SHANGHAI) == datetime.combine(now.date() + timedelta(days=day), at, SHANGHAI)


@pytest.mark.parametrize("phrase, day, at", [
    ("明天凌晨3点", 1, time(3, 0)),
    ("明天凌晨12点", 1, time(0, 0)),  # the midnight that begins tomorrow (was read as tomorrow noon)
    ("明天午夜", 2, time(0, 0)),  # the midnight that ends tomorrow (was tomorrow 10:00)
    ("明天夜里", 1, time(21, 0)),  # the night, not 10:00 in the morning
])
def test_small_hours_and_night_words(phrase: str, day: int, at: time) -> None:
    now = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
    assert parse_due(phrase, now, SHANGHAI) == datetime.combine(now.date() + timedelta(days=day), at, SHANGHAI)


@pytest.mark.parametrize("phrase, word", [("明天凌晨", "凌晨"), ("明天半夜", "半夜"), ("后天深夜", "深夜")])
def test_a_night_word_without_an_hour_is_asked_not_guessed(phrase: str, word: str) -> None:
    # these used to be recorded as 10:00 in the morning: a time nobody said
    with pytest.raises(DuePhraseError) as caught:
        parse_due(phrase, datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI), SHANGHAI)
    assert Translator("zh").reason(caught.value) == f"{word}几点？请说明钟点，例如：{word}3点"
    assert Translator("en").reason(caught.value) == f"at what hour of {word}? say it, e.g. {word}3点"
