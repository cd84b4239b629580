"""Numbers that mean what they say: whole-day lengths, and an extension that ends at the same instant whenever it is
approved (before a pause, while paused, after the resume)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_console.core.calendar import WorkingCalendar
from agent_console.core.clocks import ClockMath
from agent_console.core.profiles import ClockSpec, ProfileError, available_profiles, load_profile
from tests.conftest import make_workspace
from tests.test_lifecycle import sample_case

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar("CN", "Asia/Shanghai")
MATH = ClockMath(CAL)


# -- whole numbers --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["2.5", "{ general = 0.5, complex = 15, major = 30 }"])
def test_a_fractional_working_day_length_is_refused_with_file_and_line(tmp_path: Path, value: str) -> None:
    text = Path(available_profiles()["insurance"]).read_text(encoding="utf-8")
    old = "length = { general = 3, complex = 15, major = 30 }"
    assert old in text
    broken = text.replace(old, f"length = {value}")
    path = tmp_path / "team.toml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    line = next(i for i, l in enumerate(broken.splitlines(), 1) if l == f"length = {value}")
    assert f"team.toml:{line}: clocks.1.length" in str(info.value)
    assert "whole" in str(info.value)


def test_check_refuses_a_fractional_override(tmp_path: Path, capsys) -> None:
    from agent_console.cli import main

    config = tmp_path / "config.toml"
    config.write_text('[profile_overrides.clocks.resolve]\nlength = 2.5\n', encoding="utf-8")
    code = main(["check", "--json", "--config", str(config)])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert any("whole number" in p for p in out["problems"])


def test_hours_clocks_keep_fractions() -> None:
    spec = ClockSpec(id="x", label="x", label_en="x", unit="hours", length=1, warn=0.75)
    assert spec.warn == 0.75
    with pytest.raises(ValueError, match="whole"):
        ClockSpec(id="x", label="x", label_en="x", unit="calendar_days", length=45, warn=35.5)


# -- extensions whenever they are approved ---------------------------------------------------------------------
def test_the_issue_example_extension_while_paused_ends_as_after_resume(tmp_path, clock) -> None:
    """Paused Wed 10:00, resumed Thu 13:00; the same 5-day extension approved while paused and after the resume."""
    dues = []
    for name, approve_while_paused in (("a.db", True), ("b.db", False)):
        clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=TZ))
        agent = make_workspace(tmp_path, clock, name=name)
        s = agent.register(sample_case(complexity="complex"))
        clock.advance(days=1)
        agent.act(s.id, "paused", {"reason": "客户出差", "evidence": "录音 REC-1"})
        agent.act(s.id, "extension_requested", {"length": 5, "reason": "需调取外部病历"})
        agent.close()
        lead = make_workspace(tmp_path, clock, name=name, agent="lead-1", role="lead")
        clock.advance(hours=27)
        if approve_while_paused:
            lead.act(s.id, "extension_approved", {"reason": "同意"})
            s = lead.act(s.id, "resumed", {})
        else:
            lead.act(s.id, "resumed", {})
            clock.advance(hours=2)
            s = lead.act(s.id, "extension_approved", {"reason": "同意"})
        dues.append(s.clocks["resolve"].due)
        lead.close()
    assert dues[0] == dues[1]


instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 10, 1)).map(
    lambda d: d.replace(tzinfo=TZ, microsecond=0, second=0))
gaps = st.integers(min_value=1, max_value=9 * 24 * 60).map(lambda m: timedelta(minutes=m))


@settings(max_examples=150, deadline=None)
@given(
    unit=st.sampled_from(["working_days", "calendar_days", "hours", "minutes"]),
    start=instants,
    steps=st.lists(gaps, min_size=2, max_size=6).filter(lambda g: len(g) % 2 == 0),
    length=st.integers(min_value=1, max_value=10),
    where=st.integers(min_value=0, max_value=6),
)
def test_an_extension_ends_at_the_same_instant_whatever_the_order(unit, start, steps, length, where) -> None:
    """Pauses and resumes alternate at `steps`; the extension is approved anywhere among them (at the start, while
    paused, while running); the final due never depends on where."""
    spec = ClockSpec(id="resolve", label="r", label_en="r", unit=unit, length=15, pause_gives_time_back=True,
                     extendable=True)

    def run(position: int | None) -> datetime | None:
        track = MATH.start(spec, "general", start)
        at = start
        for i, gap in enumerate(steps):
            if position == i:  # approved part way through the gap before this step
                track = MATH.extend(spec, track, length)
            at = at + gap
            track = MATH.pause(spec, track, at) if i % 2 == 0 else MATH.resume(spec, track, at)
        if position == len(steps):
            track = MATH.extend(spec, track, length)
        return track.due

    reference = run(0)
    assert run(min(where, len(steps))) == reference
    unextended = run(None)
    assert reference is not None and unextended is not None and reference > unextended


# -- what a stopped clock had left ----------------------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(
    unit=st.sampled_from(["working_days", "calendar_days", "hours", "minutes"]),
    start=instants,
    pause_after=st.one_of(st.none(), gaps),
    stop_after=gaps,
)
def test_a_stopped_clock_keeps_what_it_had_left_and_tells_it_as_a_recount_would(unit, start, pause_after,
                                                                               stop_after) -> None:
    """The fold records the time left when a clock stops; telling it from the record (the list's fast path) says
    what counting it again says (a track folded before the record existed), met or missed alike."""
    spec = ClockSpec(id="resolve", label="r", label_en="r", unit=unit, length=3, pause_gives_time_back=True)
    track = MATH.start(spec, "general", start)
    at = start
    if pause_after is not None:
        at += pause_after
        track = MATH.pause(spec, track, at)
    stopped = MATH.stop(spec, MATH.start(spec, "general", start) if pause_after is None else track, at + stop_after)
    assert stopped.remaining_at_stop is not None
    later = stopped.stopped_at + timedelta(days=400)  # a stopped clock's answer never depends on the moment asked
    told = MATH.view(spec, stopped, later)
    recounted = MATH.view(spec, stopped.model_copy(update={"remaining_at_stop": None}), later)
    assert (told.state, told.band, told.due, told.remaining_seconds) == (
        recounted.state, recounted.band, recounted.due, recounted.remaining_seconds)
    assert told.band in ("met", "missed")
    raw = json.loads(stopped.model_dump_json())
    assert MATH.evaluate_raw(spec, raw, later) == (told.state, told.band, told.due, told.remaining_seconds)
