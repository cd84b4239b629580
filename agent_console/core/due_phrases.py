"""When to call back, from what the agent types: "明天下午3点以后", "后天上午", "下周一", "两小时后",
"call me back after 3 pm tomorrow", "in 30 minutes", "next monday 10am", "2026-12-01 14:00".

A small parser of our own handles the spoken forms; python-dateutil reads the rest. The result is always shown to
the agent before it is saved; a time already past is refused. A callback's time is when it is due, so words for
the past (昨天, 前天, 上周三, 两小时前, yesterday, 3 days ago) are read as the past and refused, never dropped (昨天下午3点
was once read as today 15:00); a date without a year (12月1日, 12/1) is its nearest occurrence, so the day before
yesterday is refused as past rather than moved to next year.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from dateutil import parser as dateutil_parser
from dateutil.relativedelta import MO, relativedelta

from agent_console.core.reasons import Reason


class DuePhraseError(ValueError):
    """The phrase could not be read as a future time; the message says so in plain words."""


CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
             "九": 9, "十": 10}
WEEKDAYS_CN = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
WEEKDAYS_EN = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
               "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
DEFAULT_HOUR = {"上午": 10, "早上": 9, "中午": 12, "下午": 15, "傍晚": 18, "晚上": 19, "夜里": 21, "夜间": 21,
                "morning": 10, "noon": 12, "afternoon": 15, "evening": 19, "tonight": 19}
NIGHT_NO_HOUR = ("凌晨", "半夜", "深夜")


def _cn_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text == "半":
        return 0
    total, current = 0, 0
    for ch in text:
        value = CN_DIGITS.get(ch)
        if value is None:
            raise DuePhraseError(Reason("due_number", value=text))
        if value == 10:
            total += (current or 1) * 10
            current = 0
        else:
            current = value
    return total + current


NUM = r"(\d+|[零〇一二两三四五六七八九十]+|半)"


def parse_due(text: str, now: datetime, tz: Any) -> datetime:
    """The instant a callback is due, in `tz`; raises DuePhraseError."""
    raw = " ".join(text.strip().split())
    if not raw:
        raise DuePhraseError(Reason("due_empty"))
    local_now = now.astimezone(tz)
    low = raw.lower()
    explicit_date = re.search(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
                              r"[a-z]*\b", low)
    if explicit_date:
        result = _dateutil(raw, local_now, tz)
        if result is not None and not re.search(r"\d{4}", low):
            result = result.replace(year=_nearest(result.date(), local_now.date()).year)
    else:
        result = _relative(low, local_now) or _spoken(low, local_now, tz) or _dateutil(raw, local_now, tz)
    if result is None:
        raise DuePhraseError(Reason("due_unknown", value=raw))
    if result <= local_now:
        raise DuePhraseError(Reason("due_past", when=f"{result:%Y-%m-%d %H:%M}"))
    return result


def _nearest(day: date, today: date) -> date:
    """The occurrence of `day`'s month and day nearest to `today` (last, this or next year): on 12-02, 12月1日 is
    yesterday (refused as past), 1月5日 is next January."""
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(day.replace(year=year))
        except ValueError:  # 2月29日 outside a leap year
            pass
    return min(candidates, key=lambda d: abs((d - today).days))


def _relative(low: str, now: datetime) -> datetime | None:
    m = re.search(NUM + r"\s*(个)?\s*(小时|钟头|分钟|天)\s*(以?后|之后|以?前|之前)", low)
    if m:
        n = _cn_number(m.group(1))
        unit = m.group(3)
        sign = -1 if m.group(4).endswith("前") else 1  # 两小时前: the past, refused by the caller
        if m.group(1) == "半":
            return now + sign * (timedelta(minutes=30) if unit in ("小时", "钟头") else timedelta(hours=12))
        return now + sign * {"小时": timedelta(hours=n), "钟头": timedelta(hours=n), "分钟": timedelta(minutes=n),
                             "天": timedelta(days=n)}[unit]
    m = re.search(r"\bin\s+(an?|\d+)\s*(hours?|hrs?|minutes?|mins?|days?)\b", low)
    sign = 1
    if not m:
        m = re.search(r"\b(an?|\d+)\s*(hours?|hrs?|minutes?|mins?|days?)\s+ago\b", low)
        sign = -1  # 2 hours ago: the past, refused by the caller
    if m:
        n = 1 if m.group(1) in ("a", "an") else int(m.group(1))
        unit = m.group(2)
        if unit.startswith("h"):
            return now + sign * timedelta(hours=n)
        if unit.startswith("m"):
            return now + sign * timedelta(minutes=n)
        return now + sign * timedelta(days=n)
    return None


def _spoken(low: str, now: datetime, tz: Any) -> datetime | None:
    day: date | None = None
    if "大前天" in low:
        day = now.date() - timedelta(days=3)
    elif "前天" in low or "day before yesterday" in low:
        day = now.date() - timedelta(days=2)
    elif "昨天" in low or "昨日" in low or "昨晚" in low or "yesterday" in low:
        day = now.date() - timedelta(days=1)
    elif "大后天" in low:
        day = now.date() + timedelta(days=3)
    elif "后天" in low or "day after tomorrow" in low:
        day = now.date() + timedelta(days=2)
    elif "明天" in low or "明日" in low or "tomorrow" in low:
        day = now.date() + timedelta(days=1)
    elif "今天" in low or "今晚" in low or "today" in low or "tonight" in low:
        day = now.date()
    m = re.search(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]", low)
    if m:
        month, mday = int(m.group(1)), int(m.group(2))
        try:
            day = _nearest(date(2000, month, mday), now.date())  # 2000: a leap year, so 2月29日 is a date
        except ValueError as exc:
            raise DuePhraseError(Reason("due_no_date", month=month, day=mday)) from exc
    m = re.search(r"(上+|下+)(周|星期|礼拜)([一二三四五六日天])", low)
    if m:
        weeks = len(m.group(1)) * (-1 if m.group(1).startswith("上") else 1)  # 上周三: last week's, in the past
        monday = now.date() + relativedelta(weekday=MO(-1))
        day = monday + timedelta(weeks=weeks, days=WEEKDAYS_CN[m.group(3)])
    elif re.search(r"(这|本)?(周|星期|礼拜)([一二三四五六日天])", low):
        m2 = re.search(r"(周|星期|礼拜)([一二三四五六日天])", low)
        assert m2
        target = WEEKDAYS_CN[m2.group(2)]
        day = now.date() + timedelta(days=(target - now.weekday()) % 7 or 7)
    m = re.search(r"\b(next|last)\s+(" + "|".join(WEEKDAYS_EN) + r")\b", low)
    if m:
        target = WEEKDAYS_EN[m.group(2)]
        if m.group(1) == "next":
            day = now.date() + timedelta(days=(target - now.weekday()) % 7 or 7)
        else:
            day = now.date() - timedelta(days=(now.weekday() - target) % 7 or 7)
    hour, minute = _clock_time(low)
    if day is None and hour is None:
        return None
    if day is None:
        day = now.date()
    if hour is None:
        if "午夜" in low:  # midnight: the one that ends the day said, as 晚上12点
            hour, minute = 24, 0
        elif any(w in low for w in NIGHT_NO_HOUR):
            # 凌晨 / 半夜 / 深夜 span hours a caller means very differently: ask, never guess 10:00
            raise DuePhraseError(Reason("due_night_hour", value=next(w for w in NIGHT_NO_HOUR if w in low)))
        else:
            hour = next((h for word, h in DEFAULT_HOUR.items() if word in low), 10)
            minute = 0
    if hour >= 24:  # midnight at the end of `day` (_clock_time)
        day, hour = day + timedelta(days=1), hour - 24
    return datetime.combine(day, time(hour, minute or 0), tz)


def _clock_time(low: str) -> tuple[int | None, int | None]:
    m = re.search(NUM + r"\s*[点點时](\s*(半|" + r"\d+|[零〇一二两三四五六七八九十]+)\s*(分)?)?", low)
    if m:
        hour = _cn_number(m.group(1))
        minute = 30 if m.group(3) == "半" else (_cn_number(m.group(3)) if m.group(3) else 0)
        night = any(w in low for w in ("半夜", "深夜", "午夜", "夜里", "夜间"))
        if hour == 12 and "凌晨" in low:  # 凌晨12点: the midnight that begins the day said
            return _valid(0, minute)
        if hour == 12 and (night or "晚" in low):
            # 晚上12点 / 半夜12点 is the midnight that ends the day said: the next day's 00:00
            _valid(0, minute)
            return 24, minute
        if any(w in low for w in ("下午", "晚")) and hour < 12:
            hour += 12
        elif night and 6 <= hour < 12:  # 夜里9点 is 21:00; 半夜2点 stays 02:00
            hour += 12
        if "中午" in low and hour < 6:
            hour += 12
        return _valid(hour, minute)
    m = re.search(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)", low)
    if m:
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if m.group(3).startswith("p") and hour < 12:
            hour += 12
        if m.group(3).startswith("a") and hour == 12:
            hour = 0
        return _valid(hour, minute)
    m = re.search(r"\b(\d{1,2}):(\d{2})\b", low)
    if m:
        return _valid(int(m.group(1)), int(m.group(2)))
    return None, None


def _valid(hour: int, minute: int) -> tuple[int, int]:
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise DuePhraseError(Reason("due_no_time", time=f"{hour}:{minute:02d}"))
    return hour, minute


def _dateutil(raw: str, now: datetime, tz: Any) -> datetime | None:
    try:
        default = now.replace(hour=10, minute=0, second=0, microsecond=0, tzinfo=None)
        value = dateutil_parser.parse(raw, default=default, fuzzy=False)
    except (ValueError, OverflowError):
        return None
    return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)
