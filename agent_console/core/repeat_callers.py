"""A caller who has complained before: the "repeat" flag the console sets by itself, written once.

The intake form ticks it when the caller's phone finds earlier cases; a call attached to an open case and an
escalation (a new case about an old complaint) carry it too. No Textual, no SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sized

REPEAT_FLAG = "repeat"


def is_repeat_caller(earlier_cases: Sized) -> bool:
    """Whether a caller with these earlier cases (any status) counts as a repeat caller."""
    return len(earlier_cases) > 0


def with_repeat_flag(flags: Iterable[str]) -> list[str]:
    """The flags with the repeat flag added (sorted, each once)."""
    return sorted({*flags, REPEAT_FLAG})
