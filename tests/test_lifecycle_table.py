"""Every event kind and every refusal rule of the lifecycle, one row each.

The kinds' table fails when EVENT_KINDS gains a kind without a row here (and without a handler or a RECORD_ONLY
entry in the core); each row says which fields of the case the kind changes, so a handler that starts touching
another field, or stops touching its own, fails too. The refusals' table names every Reason key the lifecycle
raises: a rule nobody runs cannot hide.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent_console.core import lifecycle as lifecycle_module
from agent_console.core.events import EVENT_KINDS, Event, make_event
from agent_console.core.lifecycle import IllegalTransition, Lifecycle
from agent_console.core.models import CaseState
from agent_console.core.profiles import load_profile
from agent_console.core.reasons import ENGLISH
from agent_console.services.workspace import NotAllowed
from tests.conftest import SHANGHAI, sample_case

AT = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)  # a Tuesday
AGENT, LEAD = "a-test", "lead-1"
CLOSE = {"outcome": "at_fault", "causes": ["process_delay"], "stage": "claims", "report": "已赔付并致歉"}
BOOKKEEPING = {"last_event_at", "last_hlc", "event_count"}  # every applied event moves these

Step = tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], str]  # (kind, payload[, actor])


def _event(kind: str, payload: dict[str, Any] | None, at: datetime, actor: str = AGENT, case_id: str = "c-1",
           n: int = 0) -> Event:
    e = make_event(kind, case_id, actor, "dev-1", at, payload or {})
    return e.model_copy(update={"hlc": f"{at.timestamp():017.6f}-{n:04d}"})


def _registration(channel: str = "phone", **over: Any) -> list[Event]:
    case = sample_case(channel=channel, **over) | {"received_at": AT}
    payload = case | {"number": "C-1", "received_at": AT.isoformat(), "owner": AGENT, "team": "team-1"}
    out = [_event("registered", payload, AT)]
    if channel == "phone":
        out.append(_event("accepted", {"note": ""}, AT, n=1))
    return out


def _fold(lc: Lifecycle, steps: list[Step], channel: str = "phone", **over: Any) -> tuple[CaseState, datetime]:
    """The case after registration (accepted at once for a phone call) and `steps`, an hour apart."""
    state = None
    for e in _registration(channel, **over):
        state = lc.apply(state, e)
    at = AT
    for i, step in enumerate(steps):
        kind, payload, actor = (*step, AGENT)[:3] if len(step) == 2 else step  # type: ignore[misc]
        at = at + timedelta(hours=1)
        state = lc.apply(state, _event(kind, payload, at, actor, n=i + 2))
    assert state is not None
    return state, at


@pytest.fixture
def lc(ws) -> Lifecycle:
    return ws.lifecycle


def _changed(before: CaseState, after: CaseState) -> set[str]:
    a, b = before.model_dump(), after.model_dump()
    return {k for k in a if a[k] != b[k]} - BOOKKEEPING


# -- every event kind -----------------------------------------------------------------------------------------
@dataclass
class KindRow:
    setup: list[Step]  # steps after registration (phone: accepted at once)
    payload: dict[str, Any]
    changes: set[str]  # the case fields the event changes (besides last_event_at, last_hlc, event_count)
    check: Callable[[CaseState, CaseState], bool] = lambda before, after: True
    actor: str = AGENT
    channel: str = "phone"
    over: dict[str, Any] = field(default_factory=dict)  # the registration's case fields


FAILS = [("contact_attempted", {"outcome": "no_answer"})] * 2
UPSET = {"upset_since": AT.isoformat(), "note": "客户情绪激动"}
KINDS: dict[str, KindRow] = {
    "registered": KindRow([], {}, set()),  # checked by its own test below
    "read_back": KindRow([], {"summary": "复述"}, {"read_back_at"}, lambda b, a: a.read_back_at is not None),
    "accepted": KindRow([], {"note": ""}, {"status", "accepted_at", "clocks"}, lambda b, a: a.status == "accepted",
                        channel="letter"),
    "not_accepted": KindRow([], {"reason": "诉讼中"}, {"status", "clocks"},
                            lambda b, a: a.status == "not_accepted" and a.clocks["resolve"].stopped_at is not None,
                            channel="letter"),
    "parked": KindRow([], {"reason": "信息不全"}, {"status", "clocks"}, lambda b, a: a.status == "parked", channel="letter"),
    "info_requested": KindRow([], {"reason": "缺保单号"}, {"status"}, lambda b, a: a.status == "needs_info"),
    "assigned": KindRow([], {"department": "finance", "assignee": "张三"}, {"status", "department", "assignee"},
                        lambda b, a: (a.status, a.department, a.assignee) == ("assigned", "finance", "张三")),
    "returned": KindRow([("assigned", {"department": "claims_dept"})], {"reason": "不属本部门"}, {"status"},
                        lambda b, a: a.status == "accepted"),
    "reminder_sent": KindRow([("assigned", {"department": "claims_dept"})], {}, {"reminders"},
                             lambda b, a: a.reminders == b.reminders + 1),
    "progress_noted": KindRow([("assigned", {"department": "claims_dept"})], {"note": "已调取材料"},
                              {"status"}, lambda b, a: a.status == "investigating"),
    "customer_updated": KindRow([], {"note": "告知进展"}, set()),
    "contact_attempted": KindRow([], {"outcome": "busy"}, {"contact_attempts"},
                                 lambda b, a: a.contact_attempts[-1]["outcome"] == "busy"),
    "paused": KindRow([], {"reason": "客户出差", "evidence": "录音 REC-1"}, {"paused", "pause_reason", "clocks"},
                      lambda b, a: a.paused and a.pause_reason == "客户出差"
                      and a.clocks["resolve"].paused_at is not None),
    "resumed": KindRow([("paused", {"reason": "客户出差", "evidence": "录音"})], {}, {"paused", "pause_reason", "clocks"},
                       lambda b, a: not a.paused and a.clocks["resolve"].paused_at is None),
    "extension_requested": KindRow([], {"length": 5, "reason": "需调取病历"}, {"extension_pending"},
                                   lambda b, a: a.extension_pending["length"] == 5
                                   and a.extension_pending["clock"] == "resolve",
                                   over={"complexity": "complex"}),
    "extension_approved": KindRow([("extension_requested", {"length": 5, "reason": "需调取病历"})], {"reason": "同意"},
                                  {"extension_pending", "clocks"},
                                  lambda b, a: a.extension_pending is None and a.clocks["resolve"].extended == 5
                                  and a.clocks["resolve"].due > b.clocks["resolve"].due,
                                  actor=LEAD, over={"complexity": "complex"}),
    "extension_refused": KindRow([("extension_requested", {"length": 5, "reason": "需调取病历"})], {"reason": "不必"},
                                 {"extension_pending"}, lambda b, a: a.clocks["resolve"].extended == 0,
                                 actor=LEAD, over={"complexity": "complex"}),
    "proposed": KindRow([], {"remedy": "补发", "non_standard": True}, {"status", "remedy", "remedy_pending"},
                        lambda b, a: a.status == "proposed" and a.remedy == "补发" and a.remedy_pending),
    "remedy_approved": KindRow([("proposed", {"remedy": "补发", "non_standard": True})], {}, {"remedy_pending"},
                               lambda b, a: a.status == "proposed", actor=LEAD),
    "remedy_refused": KindRow([("proposed", {"remedy": "补发", "non_standard": True})], {"reason": "超标准"},
                              {"status", "remedy_pending"}, lambda b, a: a.status == "investigating", actor=LEAD),
    "replied": KindRow([], {"text": "已答复"}, {"status"}, lambda b, a: a.status == "replied"),
    "closed": KindRow([], CLOSE | {"settled_amount": "800", "paid_amount": "750.50"},
                      {"status", "closed_at", "outcome", "causes", "stage", "report", "settled_amount", "paid_amount",
                       "clocks"},
                      lambda b, a: (a.status, a.outcome, a.causes, a.stage, a.report) ==
                      ("closed", "at_fault", ["process_delay"], "claims", "已赔付并致歉")
                      and (str(a.settled_amount), str(a.paid_amount)) == ("800", "750.50")
                      and a.clocks["resolve"].stopped_at == a.closed_at),
    "closure_proposed": KindRow([*FAILS, ("contact_attempted", {"outcome": "no_answer"})], {"reason": "联系不上"},
                                {"closure_pending"}, lambda b, a: a.closure_pending["by"] == AGENT),
    "closure_approved": KindRow([], {}, {"status", "closure_pending", "closed_at", "outcome", "clocks"},
                                lambda b, a: a.status == "closed" and a.outcome == "unreachable", actor=LEAD),
    "closure_refused": KindRow([], {"reason": "再试"}, {"closure_pending"},
                               lambda b, a: a.status == b.status, actor=LEAD),
    "escalated": KindRow([("closed", CLOSE)], {"new_case": "c-2", "reason": "不满意"}, {"escalated_to", "linked"},
                         lambda b, a: a.escalated_to == ["c-2"] and "c-2" in a.linked),
    "reopened": KindRow([("closed", CLOSE)], {"reason": "新情况"}, {"status", "reopened", "closed_at", "outcome",
                                                                  "clocks"},
                        lambda b, a: a.status == "investigating" and a.reopened == 1 and a.closed_at is None
                        and a.clocks["resolve"].stopped_at is None),
    "archived": KindRow([("closed", CLOSE)], {}, {"status"}, lambda b, a: a.status == "archived"),
    "dissatisfaction_reported": KindRow([], UPSET, {"dissatisfaction", "clocks"},
                                        lambda b, a: a.dissatisfaction.upset_since == AT
                                        and "lead_calm" in a.clocks),
    "dissatisfaction_acknowledged": KindRow([("dissatisfaction_reported", UPSET)], {}, {"dissatisfaction"},
                                            lambda b, a: a.dissatisfaction.acknowledged_by == LEAD, actor=LEAD),
    "dissatisfaction_resolved": KindRow([("dissatisfaction_reported", UPSET)], {"outcome": "calmed"},
                                        {"dissatisfaction", "clocks"},
                                        lambda b, a: a.dissatisfaction.outcome == "calmed"
                                        and a.clocks["lead_calm"].stopped_at is not None, actor=LEAD),
    "field_edited": KindRow([], {"field": "facts", "value": "补充：还有一份材料"}, {"facts"},
                            lambda b, a: a.facts == "补充：还有一份材料"),
    "enquiry_recorded": KindRow([], {}, set()),  # never part of a case: refused, see the refusals
    "callback_scheduled": KindRow([], {"callback": "cb-1", "kind": "requested", "due": AT.isoformat()}, set()),
    "callback_attempted": KindRow([], {"callback": "cb-1", "outcome": "no_answer"}, {"contact_attempts"},
                                  lambda b, a: a.contact_attempts[-1]["outcome"] == "no_answer"),
    "callback_done": KindRow([], {"callback": "cb-1"}, set()),
    "callback_cancelled": KindRow([], {"callback": "cb-1"}, set()),
    "satisfaction_recorded": KindRow([], {"proactive_contact": True, "outcome_view": "satisfied", "attitude": 5,
                                          "professionalism": 4, "timeliness": 4}, set()),
    "call_started": KindRow([], {"call": "call-1", "direction": "in", "remote": "17012345678"}, set()),
    "call_answered": KindRow([], {"call": "call-1"}, set()),
    "call_ended": KindRow([], {"call": "call-1", "cause": "normalClearing"}, set()),
    "call_attached": KindRow([], {"call": "call-1", "case": "c-1"}, set()),
    "conflict_flagged": KindRow([], {"events": ["e-1", "e-2"], "reason": "两台设备同时办结"}, {"conflicts"},
                                lambda b, a: a.conflicts[-1]["event"] == "e-1,e-2"),
    "conflict_resolved": KindRow([("conflict_flagged", {"events": ["e-1"], "reason": "冲突"})], {}, {"conflicts"},
                                 lambda b, a: a.conflicts == []),
}
# the closure decisions need a proposal first: three failed attempts spread over 48 hours
_UNREACHABLE = [("contact_attempted", {"outcome": "no_answer"}), ("contact_attempted", {"outcome": "busy"})]


def test_every_event_kind_has_a_row_here_and_a_handler_or_none_on_purpose() -> None:
    assert set(KINDS) == set(EVENT_KINDS)
    handled, record_only = set(lifecycle_module._HANDLERS), lifecycle_module.RECORD_ONLY
    assert handled.isdisjoint(record_only)
    assert handled | record_only == set(EVENT_KINDS)
    # a kind that only records changes no field of the case (its status aside)
    for kind in record_only - {"registered", "enquiry_recorded"}:
        assert KINDS[kind].changes <= {"status", "clocks"}, kind


def _setup(lc: Lifecycle, row: KindRow, kind: str) -> tuple[CaseState, datetime]:
    if kind in ("closure_approved", "closure_refused"):
        state, at = _fold(lc, [_UNREACHABLE[0]], row.channel, **row.over)
        for hours, step in ((2, _UNREACHABLE[1]), (50, _UNREACHABLE[0])):
            at = at + timedelta(hours=hours)
            state = lc.apply(state, _event(*step, at, n=state.event_count + 1))
        at = at + timedelta(hours=1)
        state = lc.apply(state, _event("closure_proposed", {"reason": "联系不上"}, at, n=state.event_count + 1))
        return state, at
    if kind == "closure_proposed":
        state, at = _fold(lc, [], row.channel, **row.over)
        for hours, step in ((1, _UNREACHABLE[0]), (2, _UNREACHABLE[1]), (50, _UNREACHABLE[0])):
            at = at + timedelta(hours=hours)
            state = lc.apply(state, _event(*step, at, n=state.event_count + 1))
        return state, at
    return _fold(lc, row.setup, row.channel, **row.over)


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in ("registered", "enquiry_recorded")])
def test_each_kind_changes_exactly_its_fields(lc: Lifecycle, kind: str) -> None:
    row = KINDS[kind]
    before, at = _setup(lc, row, kind)
    event = _event(kind, row.payload, at + timedelta(hours=1), row.actor, n=before.event_count + 1)
    after = lc.apply(before, event)
    assert _changed(before, after) == row.changes
    assert row.check(before, after)
    assert after.event_count == before.event_count + 1 and after.last_event_at == event.at
    assert not after.conflicts or kind == "conflict_flagged"
    # the fold from the whole history gives the same state as the step
    assert lc.apply_many(before, [event]).model_dump() == after.model_dump()


def test_registered_builds_the_case_from_its_payload(lc: Lifecycle) -> None:
    (registered,) = _registration("letter", complexity="complex", flags=["media"], amount="1200.50")
    state = lc.apply(None, registered)
    assert (state.number, state.status, state.channel, state.category, state.complexity) == \
        ("C-1", "registered", "letter", "claims", "complex")
    assert state.complainant.name == "王芳" and state.flags == ["media"] and str(state.amount) == "1200.50"
    assert state.owner == AGENT and state.team == "team-1" and state.department  # the category's department
    assert state.received_at == AT and "resolve" in state.clocks


@pytest.mark.parametrize("kind", [k for k in KINDS if KINDS[k].payload])
def test_the_folds_payload_view_reads_what_validation_gives(kind: str) -> None:
    model = EVENT_KINDS[kind]
    payload = make_event(kind, "c-1", AGENT, "dev-1", AT, KINDS[kind].payload).payload
    view = model.stored(payload)
    assert {name: getattr(view, name) for name in model.model_fields} == \
        model.model_validate(payload).model_dump(mode="json")
    # an older payload without the optional fields reads their defaults
    required = {k: v for k, v in payload.items() if model.model_fields[k].is_required()}
    sparse = model.stored(required)
    for name, f in model.model_fields.items():
        if not f.is_required():
            default = f.get_default(call_default_factory=True)
            value = getattr(sparse, name)
            assert (list(value) if isinstance(value, tuple) else value) == \
                (default.model_dump(mode="json") if hasattr(default, "model_dump") else default), (kind, name)


# -- every refusal rule ---------------------------------------------------------------------------------------
@dataclass
class RefusalRow:
    setup: list[Step]
    kind: str
    payload: dict[str, Any]
    actor: str = AGENT
    channel: str = "phone"
    over: dict[str, Any] = field(default_factory=dict)
    tweak: Callable[[CaseState], CaseState] = lambda s: s  # a state the steps cannot reach
    refused_by: str = ""  # the key that refuses it first, when an earlier rule shadows this one


PAUSE = ("paused", {"reason": "客户出差", "evidence": "录音"})
ASK = ("extension_requested", {"length": 5, "reason": "病历"})
REFUSALS: dict[str, RefusalRow] = {
    "status": RefusalRow([], "archived", {}),
    "archived": RefusalRow([("closed", CLOSE), ("archived", {})], "progress_noted", {"note": "x"}),
    "paused": RefusalRow([PAUSE], "closed", CLOSE),
    "enquiry": RefusalRow([], "enquiry_recorded", {"topic": "咨询"}),
    "extension_pending": RefusalRow([ASK], *ASK, over={"complexity": "complex"}),
    "no_extensions": RefusalRow([], *ASK),  # with a profile that grants none, see below
    "resolve_not_running": RefusalRow([], *ASK, tweak=lambda s: s.model_copy(update={"clocks": {}})),
    "extension_ceiling": RefusalRow([], "extension_requested", {"length": 16, "reason": "病历"},
                                    over={"complexity": "complex"}),
    "nothing_to_decide": RefusalRow([], "extension_approved", {}, actor=LEAD),
    "own_decision": RefusalRow([ASK], "extension_approved", {}, over={"complexity": "complex"}),
    "no_remedy": RefusalRow([("proposed", {"remedy": "补发"})], "remedy_approved", {}, actor=LEAD),
    "remedy_pending": RefusalRow([("proposed", {"remedy": "补发", "non_standard": True})], "replied", {"text": "x"}),
    "closure_pending": RefusalRow([], "closed", CLOSE,
                                  tweak=lambda s: s.model_copy(update={"closure_pending": {"by": AGENT}})),
    "propose_unreachable": RefusalRow([], "closed", CLOSE | {"outcome": "unreachable"}),
    "need_cause": RefusalRow([], "closed", {"outcome": "at_fault", "report": "r", "stage": "claims"}),
    "need_report": RefusalRow([], "closed", {"outcome": "at_fault", "causes": ["other"], "stage": "claims",
                                             "report": "  "}),
    "need_stage": RefusalRow([], "closed", {"outcome": "at_fault", "causes": ["other"], "report": "r"}),
    "need_fault": RefusalRow([], "closed", CLOSE, over={"category": "system"}),
    "closure_already": RefusalRow([], "closure_proposed", {"reason": "x"},
                                  tweak=lambda s: s.model_copy(update={"closure_pending": {"by": AGENT}})),
    "unreachable_attempts": RefusalRow(FAILS, "closure_proposed", {"reason": "x"}),
    "unreachable_span": RefusalRow([*FAILS, ("contact_attempted", {"outcome": "busy"})], "closure_proposed",
                                   {"reason": "x"}),
    "self_escalation": RefusalRow([("closed", CLOSE)], "escalated", {"new_case": "c-1"}),
    "not_paused": RefusalRow([], "resumed", {}),
    # shadowed: "paused" may not follow while paused, so the pause rule refuses it before this one is asked
    "already_paused": RefusalRow([PAUSE], *PAUSE, refused_by="paused"),
    "no_dissatisfaction": RefusalRow([], "dissatisfaction_resolved", {}, actor=LEAD),
    "already_acknowledged": RefusalRow([("dissatisfaction_reported", UPSET), ("dissatisfaction_acknowledged", {}, LEAD)],
                                       "dissatisfaction_acknowledged", {}, actor=LEAD),
    "not_editable": RefusalRow([], "field_edited", {"field": "status", "value": "closed"}),
}
# raised before there is a case to check, or by the workspace: their own tests below
ELSEWHERE = {"exists", "missing", "lead_only", "register_new"}


def _keys_raised_in(module: Any) -> set[str]:
    """Every key a module names in a Reason(...) call."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    return {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Reason"
            and node.args and isinstance(node.args[0], ast.Constant)}


def test_every_refusal_the_lifecycle_raises_has_a_row() -> None:
    raised = _keys_raised_in(lifecycle_module)
    assert raised <= set(ENGLISH)
    assert set(REFUSALS) | {"exists", "missing", "lead_only"} == raised
    assert not set(REFUSALS) & ELSEWHERE


@pytest.mark.parametrize("key", sorted(REFUSALS))
def test_each_refusal_rule_refuses_with_its_key_and_changes_nothing(ws, key: str) -> None:
    row = REFUSALS[key]
    lc = ws.lifecycle
    if key == "no_extensions":
        lc = Lifecycle(load_profile("insurance", {"extension_ceiling": 0}), ws.clocks)
    state, at = _fold(lc, row.setup, row.channel, **row.over)
    state = row.tweak(state)
    event = _event(row.kind, row.payload, at + timedelta(hours=1), row.actor, n=state.event_count + 1)
    with pytest.raises(IllegalTransition) as refused:
        lc.apply(state, event)
    assert refused.value.reason.key == (row.refused_by or key) and refused.value.kind == row.kind
    # from another device the event is kept for the lead as a conflict and changes nothing else
    kept = lc.apply(state, event, strict=False)
    assert kept.conflicts[-1] == {"event": event.id, "kind": row.kind, "reason": refused.value.reason,
                                  "actor": row.actor}
    assert _changed(state, kept) == {"conflicts"}


def test_refusals_before_a_case_and_in_the_workspace(ws, lead_ws) -> None:
    (registered, _accepted) = _registration()
    state = ws.lifecycle.apply(None, registered)
    with pytest.raises(IllegalTransition) as exists:
        ws.lifecycle.apply(state, registered)
    with pytest.raises(IllegalTransition) as missing:
        ws.lifecycle.apply(None, _accepted)
    assert (exists.value.reason.key, missing.value.reason.key) == ("exists", "missing")
    case = ws.register(sample_case())
    with pytest.raises(NotAllowed) as lead_only:
        ws.act(case.id, "remedy_approved", {})
    with pytest.raises(IllegalTransition) as register_new:
        ws.act(case.id, "registered", {})
    assert (lead_only.value.args[0].key, register_new.value.reason.key) == ("lead_only", "register_new")
    assert ws.available_actions(case)["remedy_approved"].key == "lead_only"
    assert lead_ws.available_actions(lead_ws.register(sample_case()))["remedy_approved"].key == "status"
