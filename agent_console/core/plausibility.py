"""Is a new case plausible? One set of rules and messages for every door: the intake screen, `case new`, `import`,
an enquiry, and a registration arriving by sync.

The limits are the profile's (`[intake]` in a profile file, edited by a lead); the defaults below are what a profile
without the table gets. A check never raises on absurd input (year 1, year 9999, 1e308, 5,000 digits): it returns
a message for the field.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from agent_console.core.text import digits


class IntakeLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    receipt_horizon_days: int = 730  # a complaint received longer ago than this is a typo (1900, 0001), not a case
    future_skew_minutes: int = 10  # clocks of consoles and mail servers differ a little; more is a typo (2100)
    max_amount: Decimal = Decimal("1000000000")  # 10亿元
    amount_decimals: int = 2
    phone_min_digits: int = 5
    phone_max_digits: int = 20  # E.164 allows 15; an extension fits in the rest
    max_name_chars: int = 100
    max_id_chars: int = 40


DEFAULT_LIMITS = IntakeLimits()


def check_received(received_at: datetime | None, now: datetime, limits: IntakeLimits = DEFAULT_LIMITS) -> str | None:
    """Why `received_at` cannot be right, or None."""
    if received_at is None:
        return None
    if received_at.tzinfo is None:
        return "needs a timezone offset, e.g. 2026-11-24T09:30:00+08:00"
    try:
        earliest = now - timedelta(days=limits.receipt_horizon_days)
        latest = now + timedelta(minutes=limits.future_skew_minutes)
        # year 1 or 9999 in a far offset cannot even be moved to UTC: say so instead of failing later
        received_at.astimezone(timezone.utc)
    except OverflowError:
        return f"{_show(received_at)} is not a plausible date of receipt"
    if received_at < earliest:
        return (f"{_show(received_at)} is more than {limits.receipt_horizon_days} days ago "
                f"(earliest {earliest.date().isoformat()}): check the year")
    if received_at > latest:
        return (f"{_show(received_at)} is in the future (more than {limits.future_skew_minutes} minutes ahead of "
                f"now, {now.isoformat(timespec='minutes')}): check the date and the clock")
    return None


def check_phone(phone: str, limits: IntakeLimits = DEFAULT_LIMITS) -> str | None:
    phone = (phone or "").strip()
    if not phone:
        return None
    count = len(digits(phone))
    if count < limits.phone_min_digits:
        return f"a phone number needs at least {limits.phone_min_digits} digits"
    if count > limits.phone_max_digits or len(phone) > limits.phone_max_digits * 2:
        return f"a phone number has at most {limits.phone_max_digits} digits ({count:,} given)"
    if any(ch.isalpha() and ch not in "xX" for ch in phone):  # "x" for an extension: 021-5555 x 12
        return "a phone number holds digits (and + - spaces, x before an extension), not letters"
    return None


def check_amount(amount: Decimal | float | None, limits: IntakeLimits = DEFAULT_LIMITS) -> str | None:
    if amount is None:
        return None
    value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    if not value.is_finite():
        return "an amount must be a number"
    if value < 0:
        return "an amount cannot be negative"
    if value > limits.max_amount:
        return f"{value:.6g} is more than the largest plausible amount ({limits.max_amount:,} 元)"
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > limits.amount_decimals and value != value.quantize(
            Decimal(1).scaleb(-limits.amount_decimals)):
        return f"an amount has at most {limits.amount_decimals} decimals (to the 分)"
    return None


def check_person(name: str, id_number: str, limits: IntakeLimits = DEFAULT_LIMITS) -> dict[str, str]:
    problems = {}
    if len(name or "") > limits.max_name_chars:
        problems["complainant.name"] = f"a name has at most {limits.max_name_chars} characters"
    if len(id_number or "") > limits.max_id_chars:
        problems["complainant.id_number"] = f"an ID or policy number has at most {limits.max_id_chars} characters"
    return problems


def check_case(received_at: datetime | None, phone: str, name: str, id_number: str, amount: Any, now: datetime | None,
               limits: IntakeLimits = DEFAULT_LIMITS) -> dict[str, str]:
    """Every plausibility problem of a new case, field -> message (the keys `normalise` uses)."""
    problems: dict[str, str] = {}
    if now is not None and (why := check_received(received_at, now, limits)):
        problems["received_at"] = why
    if why := check_phone(phone, limits):
        problems["complainant.phone"] = why
    problems.update(check_person(name, id_number, limits))
    if why := check_amount(amount, limits):
        problems["amount"] = why
    return problems


def _show(when: datetime) -> str:
    try:
        return when.isoformat(timespec="minutes")
    except (ValueError, OverflowError):
        return repr(when)
