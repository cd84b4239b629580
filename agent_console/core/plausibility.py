"""Is a new case plausible? One set of rules and messages for every door: the intake screen, `case new`, `import`,
an enquiry, and a registration arriving by sync.

The limits are the profile's (`[intake]` in a profile file, edited by a lead); the defaults below are what a profile
without the table gets. A check never raises on absurd input (year 1, year 9999, 1e308, 5,000 digits): it returns
a message for the field: a `core.reasons.Reason`, English as a string, translated by the console.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from agent_console.core.reasons import Reason
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


def check_received(received_at: datetime | None, now: datetime,
                   limits: IntakeLimits = DEFAULT_LIMITS) -> Reason | None:
    """Why `received_at` cannot be right, or None."""
    if received_at is None:
        return None
    if received_at.tzinfo is None:
        return Reason("needs_offset")
    try:
        earliest = now - timedelta(days=limits.receipt_horizon_days)
        latest = now + timedelta(minutes=limits.future_skew_minutes)
        # year 1 or 9999 in a far offset cannot even be moved to UTC: say so instead of failing later
        received_at.astimezone(timezone.utc)
    except OverflowError:
        return Reason("implausible_date", when=_show(received_at))
    if received_at < earliest:
        return Reason("receipt_too_old", when=_show(received_at), days=limits.receipt_horizon_days,
                      earliest=earliest.date().isoformat())
    if received_at > latest:
        return Reason("receipt_future", when=_show(received_at), minutes=limits.future_skew_minutes,
                      now=_show(now.astimezone(received_at.tzinfo)))
    return None


def check_phone(phone: str, limits: IntakeLimits = DEFAULT_LIMITS) -> Reason | None:
    phone = (phone or "").strip()
    if not phone:
        return None
    plain = phone.isascii() and phone.isdigit()  # the common case, cheap: every synced registration passes here
    count = len(phone) if plain else len(digits(phone))
    if count < limits.phone_min_digits:
        return Reason("short_phone", digits=limits.phone_min_digits)
    if count > limits.phone_max_digits or len(phone) > limits.phone_max_digits * 2:
        return Reason("long_phone", digits=limits.phone_max_digits, count=f"{count:,}")
    if not plain and any(ch.isalpha() and ch not in "xX" for ch in phone):  # "x" for an extension: 021-5555 x 12
        return Reason("letters_in_phone")
    return None


def check_amount(amount: Decimal | float | None, limits: IntakeLimits = DEFAULT_LIMITS) -> Reason | None:
    if amount is None:
        return None
    value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    if not value.is_finite():
        return Reason("amount_not_number")
    if value < 0:
        return Reason("negative_amount")
    if value > limits.max_amount:
        return Reason("amount_too_large", value=f"{value:.6g}", limit=f"{limits.max_amount:,}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > limits.amount_decimals and value != value.quantize(
            Decimal(1).scaleb(-limits.amount_decimals)):
        return Reason("amount_decimals", decimals=limits.amount_decimals)
    return None


def check_person(name: str, id_number: str, limits: IntakeLimits = DEFAULT_LIMITS) -> dict[str, Reason]:
    problems = {}
    if len(name or "") > limits.max_name_chars:
        problems["complainant.name"] = Reason("long_name", chars=limits.max_name_chars)
    if len(id_number or "") > limits.max_id_chars:
        problems["complainant.id_number"] = Reason("long_id", chars=limits.max_id_chars)
    return problems


def check_case(received_at: datetime | None, phone: str, name: str, id_number: str, amount: Any, now: datetime | None,
               limits: IntakeLimits = DEFAULT_LIMITS) -> dict[str, Reason]:
    """Every plausibility problem of a new case, field -> message (the keys `normalise` uses)."""
    problems: dict[str, Reason] = {}
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
