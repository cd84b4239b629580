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
    assert [str(Stamp.parse(s)) for s in stamps] == stamps  # written as a Stamp writes itself


def test_new_ids_are_uuid7_text_in_creation_order() -> None:
    import uuid

    from agent_console.core.events import new_id

    ids = [new_id() for _ in range(2000)]
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert len(set(ids)) == len(ids)
    assert [i[:13] for i in ids] == sorted(i[:13] for i in ids)  # the milliseconds come first


def test_receive_moves_past_a_remote_stamp_even_a_fast_one_but_refuses_an_absurd_one() -> None:
    wall = [1_600_000_000_000]
    clock = HybridClock("a", wall=lambda: wall[0], max_drift_ms=60_000)
    remote = str(Stamp(wall[0] + 30_000, 5, "b"))
    assert clock.receive(remote) == 30_000
    assert clock.now() > remote
    fast = str(Stamp(wall[0] + 3_600_000, 0, "c"))  # an hour ahead: past the drift bound, still received
    assert clock.receive(fast) == 3_600_000
    assert clock.now() > fast  # an action taken after seeing it is ordered after it
    before = clock.last
    with pytest.raises(ClockSkew, match="exceeds the bound"):
        clock.receive("9999999999999-0000-x")  # the year 2286: not folded in
    assert clock.last == before


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
