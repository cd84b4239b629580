"""The rules written once in the core: statuses, lateness and the KPI facts, clock roles, the repeat flag, the close
form's outcomes, and refusals placed next to their field by key."""

from __future__ import annotations

import ast
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import agent_console
from agent_console.core import kpi_rules
from agent_console.core.lifecycle import CLOSE_NEEDS_APPROVAL, CLOSURE_OUTCOME
from agent_console.core.models import ALL_STATUSES, OPEN_STATUS_ORDER, OPEN_STATUSES, is_open_status
from agent_console.core.profiles import available_profiles, load_profile
from agent_console.core.reasons import ENGLISH, FORM_FIELD, Reason
from agent_console.core.repeat_callers import REPEAT_FLAG, is_repeat_caller, with_repeat_flag
from agent_console.services.case_actions import FORMS, field_for_reason
from tests.conftest import sample_case

T = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)
PACKAGE = Path(agent_console.__file__).parent


def test_open_statuses_are_listed_once() -> None:
    assert set(OPEN_STATUS_ORDER) == OPEN_STATUSES and len(OPEN_STATUS_ORDER) == len(OPEN_STATUSES)
    assert {s for s in ALL_STATUSES if is_open_status(s)} == OPEN_STATUSES
    assert not any(is_open_status(s) for s in ("closed", "archived", "not_accepted"))
    # no module spells out its own "done" tuple any more
    for path in PACKAGE.rglob("*.py"):
        if path.name == "demo_data.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert '("closed", "archived", "not_accepted")' not in text, path
        assert 'in ("closed", "archived")' not in text, path


@pytest.mark.parametrize("due, stopped, paused, now, late", [
    (T, None, False, T + H, True),  # running past its due
    (T, None, False, T, False),  # exactly at its due: not yet
    (T, None, True, T + H, False),  # paused
    (T, T + H, False, T + 2 * H, True),  # stopped after its due: late for good
    (T, T, False, T + 2 * H, False),  # stopped at its due
    (None, None, False, T, False),  # no due
])
def test_the_late_rule(due, stopped, paused, now, late) -> None:
    assert kpi_rules.is_late(due, stopped, paused, now) is late
    span = kpi_rules.late_span(due, stopped, now) if due is not None and not paused else None
    if due is not None and not paused:
        assert (span is not None) == (late or (stopped is None and now == due))


def test_kpi_facts_of_one_case() -> None:
    assert kpi_rules.on_time("closed", T, T - H) and kpi_rules.on_time("archived", T, T)
    assert not kpi_rules.on_time("replied", T, T - H) and not kpi_rules.on_time("closed", T, T + H)
    assert kpi_rules.is_routed("investigating", None) and kpi_rules.is_routed("closed", T)
    assert not kpi_rules.is_routed("accepted", None)
    assert kpi_rules.coordinator_in_time_until(T, None, 0) == (False, T)  # in time while now <= T
    assert kpi_rules.coordinator_in_time_until(T, T - H, 0) == (True, None)
    assert kpi_rules.coordinator_in_time_until(T, T - H, 1) == (False, None)  # a missed cycle
    assert kpi_rules.response_seconds(T, T + H) == 3600 and kpi_rules.response_seconds(T, None) is None
    assert kpi_rules.nine_day_end(T.date()) == T.date() + timedelta(days=10)


def test_clocks_are_asked_by_role(ws) -> None:
    s = ws.register(sample_case())
    views = ws.views(s)
    assert {v.role for v in views} >= {"resolve"}
    assert next(v for v in views if v.role == "resolve").id == ws.profile.resolve_clock.id
    assert ws.profile.coordinator_clock.role == "coordinator"
    assert ws.profile.lead_calm_clock.start == "dissatisfaction_reported"
    for name in available_profiles():
        profile = load_profile(name)
        assert profile.resolve_clock is not None, name


def test_nothing_outside_the_profiles_names_a_clock_by_its_id() -> None:
    ids = {c.id for name in available_profiles() for c in load_profile(name).clocks}
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not [i for i in ids if f"'$.{i}" in text or f'"$.{i}' in text], path  # a JSON path into clocks
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) and node.left.attr == "id":
                named = {c.value for c in node.comparators if isinstance(c, ast.Constant)}
                assert not named & ids, (path, node.lineno)


def test_the_repeat_flag() -> None:
    assert is_repeat_caller([{"id": "c-1"}]) and not is_repeat_caller([])
    assert with_repeat_flag(["media", REPEAT_FLAG]) == ["media", REPEAT_FLAG]
    assert with_repeat_flag([]) == [REPEAT_FLAG]


def test_the_close_form_offers_no_outcome_that_needs_the_lead(ws) -> None:
    assert CLOSURE_OUTCOME in CLOSE_NEEDS_APPROVAL
    assert CLOSURE_OUTCOME in ws.vocab.ids("outcomes")


def test_refusals_reach_their_field_by_key_not_by_words() -> None:
    assert set(FORM_FIELD) <= set(ENGLISH)
    for key, name in FORM_FIELD.items():
        kind = "extension_requested" if key == "extension_ceiling" else "closed"
        assert name in {f.name for f in FORMS[kind]}, key
        reason = Reason(key, ceiling=15, unit="working_days", granted="0")
        assert field_for_reason(reason) == name
    # the same words without the key (a plain sentence, a translated one) point nowhere
    assert field_for_reason("name at least one cause") is None
    # and a refusal whose words mention a field but is about something else stays at the top of the form
    assert field_for_reason(Reason("no_extensions")) is None
    assert field_for_reason(Reason("remedy_pending")) is None
