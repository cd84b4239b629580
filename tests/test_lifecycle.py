"""The lifecycle: legal and illegal transitions, pauses that give time back, approvals, unreachable closure."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_console.core.lifecycle import IllegalTransition
from agent_console.services.workspace import NotAllowed
from tests.conftest import SHANGHAI, make_workspace, sample_case

CLOSE = {"outcome": "at_fault", "causes": ["process_delay"], "stage": "claims", "report": "已赔付并致歉"}


def test_full_path_to_archive(ws, clock) -> None:
    s = ws.register(sample_case(complexity="complex"))
    assert s.status == "accepted"  # phone complaints are accepted as they are registered
    for kind, payload in [
        ("read_back", {"summary": "复述"}),
        ("assigned", {"department": "claims_dept"}),
        ("progress_noted", {"note": "已调取材料"}),
        ("reminder_sent", {"department": "claims_dept"}),
        ("customer_updated", {"note": "告知进展"}),
        ("proposed", {"remedy": "补发理赔款"}),
        ("replied", {"text": "已答复"}),
        ("closed", CLOSE),
        ("archived", {}),
    ]:
        clock.advance(hours=2)
        s = ws.act(s.id, kind, payload)
    assert s.status == "archived" and s.outcome == "at_fault" and s.reminders == 1
    assert s.clocks["resolve"].stopped_at is not None
    assert [e.kind for e in ws.store.events(s.id)][:2] == ["registered", "accepted"]


@pytest.mark.parametrize("kind, payload, reason", [
    ("archived", {}, "not possible while the case is accepted"),
    ("reopened", {"reason": "x"}, "not possible while the case is accepted"),
    ("resumed", {}, "not paused"),
    ("remedy_approved", {}, "only a team lead"),
])
def test_illegal_actions_are_refused_with_a_reason(ws, kind, payload, reason) -> None:
    s = ws.register(sample_case())
    with pytest.raises((IllegalTransition, NotAllowed), match=reason):
        ws.act(s.id, kind, payload)
    assert len(ws.store.events(s.id)) == 2  # nothing recorded


def test_close_needs_causes_report_and_fault_description_for_system(ws) -> None:
    s = ws.register(sample_case(category="系统"))
    with pytest.raises(IllegalTransition, match="cause"):
        ws.act(s.id, "closed", {"outcome": "at_fault"})
    with pytest.raises(IllegalTransition, match="description of the fault"):
        ws.act(s.id, "closed", CLOSE)
    s = ws.act(s.id, "closed", CLOSE | {"fault_description": "上传接口超时"})
    assert s.status == "closed"


def test_pause_gives_the_paused_working_time_back(ws, clock) -> None:
    s = ws.register(sample_case(complexity="complex"))
    due = s.clocks["resolve"].due
    clock.advance(days=1)  # Wed 10:00
    s = ws.act(s.id, "paused", {"reason": "客户出差", "evidence": "录音 REC-1"})
    with pytest.raises(IllegalTransition, match="paused"):
        ws.act(s.id, "closed", CLOSE)
    clock.advance(days=2)  # Fri 10:00: two working days paused
    s = ws.act(s.id, "resumed", {})
    assert ws.calendar.working_time_between(due, s.clocks["resolve"].due) == timedelta(days=2)
    view = next(v for v in ws.views(s) if v.id == "resolve")
    assert view.state == "running"


def test_pause_needs_evidence(ws) -> None:
    s = ws.register(sample_case())
    with pytest.raises(ValueError, match="required"):
        ws.act(s.id, "paused", {"reason": "客户要求", "evidence": " "})


def test_extension_needs_a_lead_who_is_not_the_requester(tmp_path, clock) -> None:
    agent = make_workspace(tmp_path, clock, name="shared.db")
    s = agent.register(sample_case(complexity="complex"))
    due = s.clocks["resolve"].due
    s = agent.act(s.id, "extension_requested", {"length": 5, "reason": "需调取外部病历"})
    with pytest.raises(NotAllowed):
        agent.act(s.id, "extension_approved", {})
    agent.close()
    same_person_as_lead = make_workspace(tmp_path, clock, name="shared.db", role="lead")
    with pytest.raises(IllegalTransition, match="your own"):
        same_person_as_lead.act(s.id, "extension_approved", {})
    same_person_as_lead.close()
    lead = make_workspace(tmp_path, clock, name="shared.db", agent="lead-1", role="lead")
    s = lead.act(s.id, "extension_approved", {"reason": "同意"})
    assert s.extension_pending is None
    assert lead.calendar.working_days_between(due.date(), s.clocks["resolve"].due.date()) == 5
    with pytest.raises(IllegalTransition, match="at most 15"):
        lead.act(s.id, "extension_requested", {"length": 11, "reason": "再延"})
    lead.close()


def test_unreachable_closure_needs_attempts_over_the_span_and_the_lead(tmp_path, clock) -> None:
    agent = make_workspace(tmp_path, clock, name="shared.db")
    s = agent.register(sample_case())
    with pytest.raises(IllegalTransition, match="3 failed contact attempts"):
        agent.act(s.id, "closure_proposed", {"reason": "联系不上"})
    for hours in (0, 1, 2):
        clock.advance(hours=hours or 1)
        agent.act(s.id, "contact_attempted", {"outcome": "no_answer"})
    with pytest.raises(IllegalTransition, match="48 hours"):
        agent.act(s.id, "closure_proposed", {"reason": "联系不上"})
    clock.advance(hours=50)
    agent.act(s.id, "contact_attempted", {"outcome": "busy"})
    s = agent.act(s.id, "closure_proposed", {"reason": "三次未接通"})
    with pytest.raises(IllegalTransition, match="unreachable"):
        agent.act(s.id, "closed", CLOSE | {"outcome": "unreachable"})
    agent.close()
    lead = make_workspace(tmp_path, clock, name="shared.db", agent="lead-1", role="lead")
    s = lead.act(s.id, "closure_approved", {})
    assert s.status == "closed" and s.outcome == "unreachable"
    lead.close()


def test_escalation_opens_a_new_linked_case(ws) -> None:
    s = ws.register(sample_case())
    s = ws.act(s.id, "closed", CLOSE)
    old, new = ws.escalate(s.id, "客户对结果不满意")
    assert new.escalated_from == old.id and old.escalated_to == [new.id]
    assert new.number != old.number and new.is_open and "repeat" in new.flags


def test_reopen_restarts_the_resolution_clock(ws, clock) -> None:
    s = ws.register(sample_case())
    s = ws.act(s.id, "closed", CLOSE)
    clock.advance(days=7)
    s = ws.act(s.id, "reopened", {"reason": "发现新情况"})
    assert s.status == "investigating" and s.clocks["resolve"].stopped_at is None
    assert s.clocks["resolve"].started_at == clock()


def test_non_strict_fold_keeps_conflicting_events_for_the_lead(ws, clock) -> None:
    s = ws.register(sample_case())
    closed = ws.event("closed", s.id, CLOSE)
    reassigned = ws.event("assigned", s.id, {"department": "finance"})
    state = ws.lifecycle.apply(s, closed)
    state = ws.lifecycle.apply(state, reassigned, strict=False)
    assert state.status == "closed"
    assert state.conflicts and state.conflicts[0]["kind"] == "assigned"


def test_retiering_recomputes_running_clocks(ws) -> None:
    s = ws.register(sample_case())
    s = ws.act(s.id, "field_edited", {"field": "complexity", "value": "complex"})
    assert s.clocks["resolve"].due == ws.calendar.add_working_days(s.received_at, 15)


ACTIONS = ["read_back", "assigned", "progress_noted", "customer_updated", "paused", "resumed", "proposed",
           "replied", "closed", "reopened", "archived", "contact_attempted", "reminder_sent", "returned"]
PAYLOADS = {"read_back": {}, "assigned": {"department": "claims_dept"}, "progress_noted": {},
            "customer_updated": {}, "paused": {"reason": "r", "evidence": "e"}, "resumed": {},
            "proposed": {"remedy": "r"}, "replied": {}, "closed": CLOSE, "reopened": {"reason": "r"},
            "archived": {}, "contact_attempted": {"outcome": "no_answer"}, "reminder_sent": {},
            "returned": {"reason": "r"}}


@settings(max_examples=40, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 600)), max_size=25))
def test_refolding_the_log_gives_the_incremental_state(tmp_path_factory, steps) -> None:
    from tests.conftest import FakeClock

    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI))
    w = make_workspace(tmp_path_factory.mktemp("fold"), clock)
    s = w.register(sample_case(complexity="complex"))
    for kind, minutes in steps:
        clock.advance(minutes=minutes)
        try:
            s = w.act(s.id, kind, PAYLOADS[kind])
        except IllegalTransition:
            pass
    refolded = w.lifecycle.fold(w.store.events(s.id))
    assert refolded.model_dump() == w.store.state(s.id).model_dump()
    assert w.store.rebuild(w.lifecycle) == []
    w.close()


def test_a_huge_note_is_refused_not_cut(ws) -> None:
    s = ws.register(sample_case())
    with pytest.raises(ValueError, match="too long"):
        ws.act(s.id, "progress_noted", {"note": "长" * 1_000_000})
    assert len(ws.store.events(s.id)) == 2


FOLD_KINDS = ACTIONS + ["accepted", "extension_requested", "extension_approved", "field_edited", "closure_proposed",
                        "dissatisfaction_reported", "dissatisfaction_acknowledged", "escalated", "conflict_resolved"]
FOLD_PAYLOADS = {**PAYLOADS, "accepted": {}, "extension_requested": {"length": 5, "reason": "r"},
                 "extension_approved": {}, "closure_proposed": {"reason": "r"},
                 "dissatisfaction_reported": {"upset_since": "2026-11-02T09:00:00+08:00"},
                 "dissatisfaction_acknowledged": {}, "escalated": {"new_case": "other"}, "conflict_resolved": {}}
EDITS = [{"field": "complexity", "value": "complex"}, {"field": "complexity", "value": "general"},
         {"field": "flags", "value": ["vip"]}, {"field": "flags", "value": []}, {"field": "facts", "value": "新"},
         {"field": "complainant.name", "value": "李四"}, {"field": "category", "value": "service"}]


def _old_fold(lifecycle, events):
    """The fold as it was: `apply` (a deep copy of the whole state) once per event."""
    state = None
    for event in sorted(events, key=lambda e: (e.hlc, e.id)):
        state = lifecycle.apply(state, event, strict=False)
    return state


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from(FOLD_KINDS), st.integers(0, 3000), st.sampled_from(EDITS),
                                st.sampled_from(["agent", "lead"])), max_size=30),
       order=st.randoms(use_true_random=False))
def test_folding_in_place_gives_what_copying_per_event_gave(tmp_path_factory, steps, order) -> None:
    """Every history, legal or not, in any arrival order: the in-place fold equals the copy-per-event fold, and the
    caller's objects are left as they were."""
    from tests.conftest import FakeClock

    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI))
    w = make_workspace(tmp_path_factory.mktemp("inplace"), clock)
    events = [w.store.stamp(e) for e in w.registration_events(sample_case(complexity="complex"))]
    case_id = events[0].case_id
    for kind, minutes, edit, actor in steps:
        clock.advance(minutes=minutes)
        payload = edit if kind == "field_edited" else FOLD_PAYLOADS[kind]
        events.append(w.store.stamp(w.event(kind, case_id, payload).model_copy(update={"actor": actor})))
    shuffled = list(events)
    order.shuffle(shuffled)
    frozen = [e.model_dump() for e in shuffled]
    new = w.lifecycle.fold(shuffled)
    old = _old_fold(w.lifecycle, shuffled)
    assert new.model_dump() == old.model_dump()
    assert [e.model_dump() for e in shuffled] == frozen
    again = w.lifecycle.fold(shuffled)  # a second fold starts afresh: nothing of the first leaks into it
    assert again.model_dump() == new.model_dump() and again is not new
    w.close()
