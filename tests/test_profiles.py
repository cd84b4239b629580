"""Policy profiles: every shipped profile loads, its clocks give the sourced deadlines, errors name file and line."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent_console.core.calendar import WorkingCalendar
from agent_console.core.clocks import ClockMath
from agent_console.core.events import make_event, new_id
from agent_console.core.lifecycle import Lifecycle
from agent_console.core.profiles import ProfileError, available_profiles, check_profiles, load_profile

TZ = ZoneInfo("Asia/Shanghai")
RECEIVED = datetime(2026, 11, 2, 10, 0, tzinfo=TZ)  # Monday
SHIPPED = ["insurance", "insurance-pc", "power-hotline", "legal-aid", "ecommerce", "foreign-investment"]


def test_every_profile_is_shipped_and_valid() -> None:
    assert set(SHIPPED) <= set(available_profiles())
    assert check_profiles() == []


def register(profile_id: str, tier: str = "general", channel: str = "phone", category: str | None = None,
             at: datetime = RECEIVED, **over):
    profile = load_profile(profile_id, over or None)
    lc = Lifecycle(profile, ClockMath(WorkingCalendar(profile.country, profile.timezone)))
    cid = new_id()
    e = make_event("registered", cid, "a", "d", at, {
        "number": "2611-AAA-001", "received_at": at.isoformat(), "channel": channel,
        "category": category or profile.categories[0].id, "complexity": tier})
    return lc, lc.apply(None, e), cid


@pytest.mark.parametrize("tier, days, warn", [("general", 3, 2), ("complex", 15, 7), ("major", 30, 20)])
def test_insurance_resolve_runs_from_received_in_working_days(tier: str, days: int, warn: int) -> None:
    lc, state, _ = register("insurance", tier)
    cal = lc.clocks.calendar
    assert state.clocks["resolve"].due == cal.add_working_days(RECEIVED, days)
    assert state.clocks["resolve"].warn_at == cal.add_working_days(RECEIVED, warn)


def test_insurance_confirm_clock_only_for_written_channels() -> None:
    _, phone, _ = register("insurance", channel="phone")
    _, letter, _ = register("insurance", channel="letter")
    assert "confirm" not in phone.clocks
    assert letter.clocks["confirm"].due == datetime(2026, 11, 4, tzinfo=TZ)


def test_insurance_update_clock_recurs_every_7_working_days() -> None:
    lc, state, cid = register("insurance", "complex")
    accepted = RECEIVED + timedelta(minutes=5)
    state = lc.apply(state, make_event("accepted", cid, "a", "d", accepted))
    first = state.clocks["update_customer"]
    assert first.due == lc.clocks.calendar.add_working_days(accepted, 7)
    later = accepted + timedelta(days=3)
    state = lc.apply(state, make_event("customer_updated", cid, "a", "d", later))
    again = state.clocks["update_customer"]
    assert again.cycles == 2 and again.due == lc.clocks.calendar.add_working_days(later, 7)


def test_power_hotline_tiers() -> None:
    for tier, days in (("general", 5), ("complex", 10)):
        lc, state, _ = register("power-hotline", tier)
        assert state.clocks["resolve"].due == lc.clocks.calendar.add_working_days(RECEIVED, days)


def test_legal_aid_decide_then_45_calendar_days() -> None:
    lc, state, cid = register("legal-aid")
    assert state.clocks["decide"].due == lc.clocks.calendar.add_working_days(RECEIVED, 5)
    assert "resolve" not in state.clocks
    state = lc.apply(state, make_event("accepted", cid, "a", "d", RECEIVED + timedelta(days=1)))
    assert state.clocks["resolve"].due == datetime(2026, 12, 19, tzinfo=TZ)  # 11-03 + 45 days, end of day
    assert state.clocks["decide"].stopped_at is not None


def test_ecommerce_late_delivery_reply_in_one_hour_only_for_late_delivery() -> None:
    _, late, _ = register("ecommerce", category="delivery_late")
    _, colour, _ = register("ecommerce", category="colour_difference")
    assert late.clocks["late_delivery_reply"].due == RECEIVED + timedelta(hours=1)
    assert "late_delivery_reply" not in colour.clocks


def test_foreign_investment_one_month() -> None:
    lc, state, cid = register("foreign-investment")
    state = lc.apply(state, make_event("accepted", cid, "a", "d", RECEIVED))
    assert state.clocks["resolve"].due == datetime(2026, 12, 3, tzinfo=TZ)


def test_insurance_pc_major_five_days_and_ladder() -> None:
    lc, state, cid = register("insurance-pc", "major")
    assert state.clocks["resolve"].due == lc.clocks.calendar.add_working_days(RECEIVED, 5)
    assert lc.profile.ladder.enabled and lc.profile.ladder.agent_minutes == 5 and lc.profile.ladder.lead_minutes == 10
    reported = RECEIVED + timedelta(minutes=6)
    state = lc.apply(state, make_event("dissatisfaction_reported", cid, "a", "d", reported,
                                       {"upset_since": (reported - timedelta(minutes=5)).isoformat()}))
    assert state.clocks["lead_calm"].due == reported + timedelta(minutes=10)


def test_overrides_change_a_number_without_touching_the_file() -> None:
    lc, state, _ = register("insurance", "general", clocks={"resolve": {"length": {"general": 5}}})
    assert state.clocks["resolve"].due == lc.clocks.calendar.add_working_days(RECEIVED, 5)
    assert load_profile("insurance").clock("resolve").length_for("general") == 3


def test_broken_profile_names_file_line_and_problem(tmp_path: Path) -> None:
    text = Path(available_profiles()["insurance"]).read_text(encoding="utf-8")
    broken = text.replace('unit = "working_days"\nlength = { general = 3', 'unit = "fortnights"\nlength = { general = 3')
    path = tmp_path / "mine.toml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    line = next(i for i, l in enumerate(broken.splitlines(), 1) if "fortnights" in l)
    assert f"mine.toml:{line}: clocks.1.unit" in str(info.value)


def test_profile_with_unknown_department_and_syntax_error(tmp_path: Path) -> None:
    text = Path(available_profiles()["insurance"]).read_text(encoding="utf-8")
    path = tmp_path / "bad.toml"
    path.write_text(text.replace('department = "claims_dept"', 'department = "nowhere"'), encoding="utf-8")
    with pytest.raises(ProfileError, match="department 'nowhere' is not listed"):
        load_profile(path)
    path.write_text("id = \n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"bad.toml:1"):
        load_profile(path)


def test_team_profile_dir_is_checked(tmp_path: Path) -> None:
    (tmp_path / "team.toml").write_text('id = "team"\n', encoding="utf-8")
    problems = check_profiles([tmp_path])
    assert any("team.toml" in str(p) and "name" in str(p) for p in problems)
