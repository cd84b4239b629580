"""One validation for every door (issue 12): a registration arriving by sync passes the intake's plausibility rules
(core/plausibility.py) with the intake's message; one that fails is kept aside, not folded silently."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings, strategies as st

from agent_console.core.event_checks import registration_problem
from agent_console.core.new_case import IntakeError
from agent_console.core.plausibility import check_received
from agent_console.sync.engine import sync_once
from tests.conftest import sample_case
from tests.test_sync import Centre, device


def _bent(ws, **payload):
    """A registration as a console with other rules (an old version, a script writing the outbox) might record it."""
    events = ws.registration_events(sample_case())
    first = events[0]
    events[0] = first.model_copy(update={"payload": {**first.payload, **payload}})
    ws.store.append(events, ws.lifecycle)
    return events[0]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
@pytest.mark.parametrize("shift", [timedelta(days=365), -timedelta(days=800)], ids=["far_future", "before_horizon"])
def test_a_pulled_registration_with_an_implausible_receipt_is_kept_aside(request, tmp_path, clock, kind, shift):
    centre = Centre(kind, tmp_path, request.getfixturevalue("pg_url") if kind == "postgres" else None)
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    good = me.register(sample_case())
    bad = _bent(me, received_at=(clock() + shift).isoformat())
    assert sync_once(me.store, centre.connect("me"), me.lifecycle).online
    report = sync_once(you.store, centre.connect("you"), you.lifecycle)
    assert report.online and report.quarantined >= 1
    assert you.store.state(good.id) is not None  # the rest of the page applies
    assert you.store.state(bad.case_id) is None  # not folded silently
    kept = {q["event_id"]: q["reason"] for q in you.store.quarantined()}
    expected = check_received(clock() + shift, bad.at, you.profile.intake)  # the intake's own message
    assert expected is not None and str(expected) in kept[bad.id]
    # the same receipt at the intake door: refused with the same words
    with pytest.raises(IntakeError) as refused:
        you.register(sample_case(received_at=(clock() + shift).isoformat()))
    assert refused.value.fields["received_at"] == expected
    assert f"received_at: {expected}" in kept[bad.id]


def test_a_pulled_registration_with_a_phone_the_intake_refuses_is_kept_aside(tmp_path, clock) -> None:
    centre = Centre("sqlite", tmp_path, None)
    me, you = device(tmp_path, clock, "me"), device(tmp_path, clock, "you")
    bad = _bent(me, complainant={**sample_case()["complainant"], "phone": "1" * 5000})
    assert sync_once(me.store, centre.connect("me"), me.lifecycle).online
    assert sync_once(you.store, centre.connect("you"), you.lifecycle).quarantined >= 1
    assert you.store.state(bad.case_id) is None
    kept = {q["event_id"]: q["reason"] for q in you.store.quarantined()}
    assert kept[bad.id].startswith("implausible registration: complainant.phone: ")


@settings(max_examples=60, deadline=None)
@given(minutes=st.integers(min_value=-2 * 730 * 24 * 60, max_value=2 * 730 * 24 * 60))
def test_the_sync_door_and_the_intake_door_agree_on_every_receipt(minutes: int) -> None:
    from datetime import datetime, timezone

    at = datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc)
    received = at + timedelta(minutes=minutes)
    at_intake = check_received(received, at)
    by_sync = registration_problem({"received_at": received.isoformat(), "complainant": {}}, at.isoformat())
    assert (at_intake is None) == (by_sync is None)
    if at_intake is not None:
        assert str(at_intake) in by_sync
