"""Hybrid logical clocks and case numbers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent_console.core.hlc import ClockSkew, HybridClock, Stamp
from agent_console.core.numbering import case_number, device_code, looks_like_number


@given(walls=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=50))
def test_stamps_strictly_increase_even_when_the_wall_clock_goes_back(walls: list[int]) -> None:
    it = iter(walls)
    clock = HybridClock("dev1", wall=lambda: next(it))
    stamps = [clock.now() for _ in walls]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_receive_moves_past_a_remote_stamp_and_refuses_skew() -> None:
    wall = [1_000_000]
    clock = HybridClock("a", wall=lambda: wall[0], max_drift_ms=60_000)
    remote = str(Stamp(1_030_000, 5, "b"))
    clock.receive(remote)
    assert clock.now() > remote
    with pytest.raises(ClockSkew, match="exceeds the bound"):
        clock.receive(str(Stamp(1_000_000 + 61_000 + 40_000, 0, "c")))


def test_restored_clock_continues_after_its_last_stamp() -> None:
    first = HybridClock("a", wall=lambda: 5)
    last = first.now()
    again = HybridClock("a", last=last, wall=lambda: 1)
    assert again.now() > last


@given(device=st.text(min_size=1, max_size=40), serial=st.integers(min_value=1, max_value=99_999))
def test_numbers_are_short_and_readable(device: str, serial: int) -> None:
    code = device_code(device)
    assert len(code) == 3 and not set(code) & set("ILOU")
    number = case_number(datetime(2026, 11, 1, tzinfo=timezone.utc), code, serial)
    assert looks_like_number(number) and number.startswith("2611-")
