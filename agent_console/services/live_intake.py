"""Live intake without the screen: the form as data, the read-back summary with the real due date, drafts,
repeat callers, attaching a call to an open case, and the dissatisfaction ladder's timing. No Textual here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from agent_console.core.labels import label
from agent_console.support.i18n import translator
from agent_console.core.new_case import IntakeError, NewCase, normalise
from agent_console.core.text import clean_text, mask_name, mask_phone
from agent_console.core.case_query import CaseQuery

FORM_FIELDS = ("phone", "name", "title", "id_number", "category", "also", "channel", "complexity", "respondent",
               "facts", "request", "amount", "flags")


def to_new_case(form: dict[str, Any], received_at: datetime | None) -> NewCase:
    """The intake form (flat strings) as a NewCase; raises IntakeError naming bad fields."""
    try:
        return NewCase.model_validate({
            "received_at": received_at,
            "channel": form.get("channel") or "phone",
            "category": form.get("category") or "",
            "complexity": form.get("complexity") or "general",
            "complainant": {"name": form.get("name", ""), "title": form.get("title", ""),
                            "phone": form.get("phone", ""), "id_number": form.get("id_number", "")},
            "respondent": form.get("respondent", ""),
            "facts": form.get("facts", ""),
            "request": form.get("request", ""),
            "amount": form.get("amount") or None,
            "flags": list(form.get("flags") or []),
        })
    except ValidationError as exc:
        fields = {}
        for e in exc.errors():
            loc = [str(p) for p in e["loc"]]
            key = loc[-1] if loc and loc[0] == "complainant" else (loc[0] if loc else "form")
            fields[key] = e["msg"].removeprefix("Value error, ")
        raise IntakeError(fields) from exc


@dataclass
class Preview:
    summary: str
    due: datetime | None


def preview(ws: Any, form: dict[str, Any], received_at: datetime) -> Preview:
    """The read-back the agent says to the caller, with the real due date of the resolve clock."""
    new = normalise(to_new_case(form, received_at), ws.profile, ws.vocab)
    events = ws.registration_events(new, at=received_at)
    state = None
    for e in events:
        state = ws.lifecycle.apply(state, e)
    resolve = ws.profile.resolve_clock
    track = state.clocks.get(resolve.id) if resolve and state else None
    due = track.due if track else None
    lang = ws.settings.lang
    cat = ws.profile.category(new.category)
    cat_label = label(cat, lang, new.category)
    who = f"{new.complainant.name}{new.complainant.title}" if new.complainant.name else (
        "您" if lang == "zh" else "you")
    if due is not None:
        last_day = (due - timedelta(microseconds=1)).astimezone(ws.tz)
        when = translator(lang).day(last_day)
    else:
        when = ""
    if lang == "zh":
        text = (f"{who}，跟您确认一下：您反映的是{cat_label}方面的问题，{new.facts.strip()}；"
                f"您的诉求是{new.request.strip()}。")
        if when:
            text += f"我们会在{when}前给您答复。"
    else:
        text = (f"{who}, let me confirm: your complaint is about {cat_label}: {new.facts.strip()}. "
                f"You ask that {new.request.strip()}.")
        if when:
            text += f" We will get back to you by {when}."
    others = [ws.profile.category(c) for c in form.get("also") or [] if c != new.category]
    names = [label(c, lang) for c in others if c]
    if names:
        text += (f"另外，{'、'.join(names)}方面的问题我们会同时转相关部门处理。" if lang == "zh" else
                 f" What concerns {', '.join(names)} goes to those departments at the same time.")
    return Preview(text, due)


def register(ws: Any, form: dict[str, Any], received_at: datetime, read_back: str | None) -> list[Any]:
    """Register the case (and, when the form names other categories too, one linked copy per category for its
    department), all in one transaction; a confirmed read-back is recorded on each. The main case comes first."""
    new = normalise(to_new_case(form, received_at), ws.profile, ws.vocab)
    per_case = ws.split_registration_events(new, list(form.get("also") or []))
    events = []
    for case_events in per_case:
        events += case_events
        if read_back is not None:
            events.append(ws.event("read_back", case_events[0].case_id, {"summary": read_back}))
    states = ws.store.append(events, ws.lifecycle)
    return [states[case_events[0].case_id] for case_events in per_case]


def earlier_cases(ws: Any, phone: str, limit: int = 20) -> list[dict[str, Any]]:
    """The caller's cases by phone, open first (masked: this list is seen on screen)."""
    from agent_console.core.text import digits

    if len(digits(phone)) < 5:
        return []
    cases = ws.list_cases(CaseQuery(phone=phone, limit=limit), mask=True)
    return sorted(cases, key=lambda c: (c["status"] in ("closed", "archived", "not_accepted"), c["received_at"]))


def attach_call(ws: Any, case_id: str, form: dict[str, Any]) -> Any:
    """The caller rang about a case already open: note the call on it instead of opening a second case."""
    note = clean_text(" / ".join(x for x in (form.get("facts", ""), form.get("request", "")) if x.strip()))
    state = ws.act(case_id, "progress_noted", {"note": translator(ws.settings.lang)("intake.caller_rang_note",
                                                                                  note=note or "—")})
    if "repeat" not in state.flags:
        state = ws.act(case_id, "field_edited", {"field": "flags", "value": sorted({*state.flags, "repeat"})})
    return state


def new_draft_key() -> str:
    return f"intake-{uuid.uuid4()}"


def latest_draft(ws: Any) -> tuple[str, dict[str, Any]] | None:
    drafts = ws.store.drafts(ws.actor)
    return drafts[0] if drafts else None


def draft(ws: Any, key: str) -> dict[str, Any] | None:
    """The saved draft under `key` of this agent, or None."""
    return dict(ws.store.drafts(ws.actor)).get(key)


def save_draft(ws: Any, key: str, data: dict[str, Any]) -> None:
    ws.store.save_draft(key, ws.actor, data)


def discard_draft(ws: Any, key: str) -> None:
    ws.store.delete_draft(key)


@dataclass
class Ladder:
    """Where the caller's dissatisfaction stands on the profile's ladder."""

    upset_seconds: float
    report_due: bool  # the agent's limit has passed: report to the lead now
    limit_minutes: int


def ladder(ws: Any, upset_since: datetime | None, now: datetime) -> Ladder | None:
    if upset_since is None or not ws.profile.ladder.enabled:
        return None
    seconds = (now - upset_since).total_seconds()
    limit = ws.profile.ladder.agent_minutes
    return Ladder(seconds, seconds >= limit * 60, limit)


def report_dissatisfaction(ws: Any, case_id: str, upset_since: datetime, note: str = "") -> Any:
    return ws.act(case_id, "dissatisfaction_reported", {"upset_since": upset_since.isoformat(), "note": note})


def masked_caller(case: dict[str, Any]) -> str:
    c = case.get("complainant", {})
    return f"{mask_name(c.get('name', '')) if '*' not in c.get('name', '') else c.get('name', '')} " \
           f"{c.get('phone') if '*' in c.get('phone', '') else mask_phone(c.get('phone', ''))}"
