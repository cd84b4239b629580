"""Live intake without the screen: the form as data, the read-back summary with the real due date, drafts,
repeat callers, attaching a call to an open case, and the dissatisfaction ladder's timing. No Textual here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from agent_console.core.labels import label
from agent_console.core.models import is_open_status
from agent_console.core.repeat_callers import REPEAT_FLAG, with_repeat_flag
from agent_console.support.i18n import Translator, translator
from agent_console.core.reasons import Reason
from agent_console.core.new_case import IntakeError, NewCase, normalise
from agent_console.core.text import clean_text, digits, mask_name, mask_phone
from agent_console.core.case_query import CaseQuery

if TYPE_CHECKING:  # the workspace imports the services: typed here, imported only by the checker
    from agent_console.services.workspace import Workspace

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
            error = (e.get("ctx") or {}).get("error")
            # a validator's Reason is kept whole, so the console can show it in its language
            fields[key] = error.args[0] if isinstance(error, ValueError) and error.args and isinstance(
                error.args[0], Reason) else e["msg"].removeprefix("Value error, ")
        raise IntakeError(fields) from exc


@dataclass
class Preview:
    summary: str
    due: datetime | None


def preview(ws: Workspace, form: dict[str, Any], received_at: datetime) -> Preview:
    """The read-back the agent says to the caller, with the real due date of the resolve clock (no case number
    yet: `read_back_text` adds it once the case is registered)."""
    new = normalise(to_new_case(form, received_at), ws.profile, ws.vocab)
    events = ws.registration_events(new, at=received_at)
    state = None
    for e in events:
        state = ws.lifecycle.apply(state, e)
    resolve = ws.profile.resolve_clock
    track = state.clocks.get(resolve.id) if resolve and state else None
    due = track.due if track else None
    return Preview(read_back_text(ws, form, new, due, None), due)


def _clause(text: str) -> str:
    """A typed sentence as a clause of the read-back: inner line breaks become commas and the agent's own closing
    punctuation goes, so the template's punctuation is the only one (no 。； or 。。)."""
    parts = [p.strip() for p in clean_text(text).splitlines() if p.strip()]
    joined = "，".join(p.rstrip("。；;，,.！!？? ") for p in parts)
    return joined.rstrip("。；;，,.！!？? ")


def spoken_number(number: str, lang: str = "zh") -> str:
    """A case number as it is read out: character by character, in its groups (2611-K7Q-042 -> 2 6 1 1、K 7 Q、0 4 2)."""
    groups = [" ".join(g) for g in number.split("-") if g]
    return ("、" if lang == "zh" else ", ").join(groups)


def read_back_text(ws: Workspace, form: dict[str, Any], new: NewCase, due: datetime | None, number: str | None) -> str:
    """The read-back, built by the one template in the locale files (intake.readback_*)."""
    lang = ws.settings.lang
    t = Translator(lang)
    cat = ws.profile.category(new.category)
    cat_label = label(cat, lang, new.category)
    who = f"{new.complainant.name}{new.complainant.title}" if new.complainant.name else t("intake.readback_you")
    parts = [t("intake.readback_body", who=who, category=cat_label, facts=_clause(new.facts),
               request=_clause(new.request))]
    if due is not None:
        last_day = (due - timedelta(microseconds=1)).astimezone(ws.tz)
        parts.append(t("intake.readback_due", when=translator(lang).day(last_day)))
    others = [ws.profile.category(c) for c in form.get("also") or [] if c != new.category]
    names = [label(c, lang) for c in others if c]
    if names:
        parts.append(t("intake.readback_also", names=("、" if lang == "zh" else ", ").join(names)))
    if number:
        parts.append(t("intake.readback_number", number=number, spoken=spoken_number(number, lang)))
    return ("" if lang == "zh" else " ").join(parts)


def register(ws: Workspace, form: dict[str, Any], received_at: datetime, read_back: bool | str | None) -> list[Any]:
    """Register the case (and, when the form names other categories too, one linked copy per category for its
    department), all in one transaction. With a confirmed read-back (`read_back` true) the read-back text, now with
    the case number in it, is recorded on each case. The main case comes first."""
    new = normalise(to_new_case(form, received_at), ws.profile, ws.vocab)
    per_case = ws.split_registration_events(new, list(form.get("also") or []))
    events = [e for case_events in per_case for e in case_events]
    states = ws.store.append(events, ws.lifecycle)
    out = [states[case_events[0].case_id] for case_events in per_case]
    if read_back:
        resolve = ws.profile.resolve_clock
        said = []
        for state in out:
            track = state.clocks.get(resolve.id) if resolve else None
            text = read_back_text(ws, form, new, track.due if track else None, out[0].number)
            said.append(ws.event("read_back", state.id, {"summary": text}))
        states = ws.store.append(said, ws.lifecycle)
        out = [states.get(s.id, s) for s in out]
    return out


def phrase_fields(ws: Any, form: dict[str, Any], category_id: str | None) -> dict[str, str]:
    """Placeholder values from the live form: a reply read out during the call uses what the agent typed."""
    lang = ws.settings.lang
    cat = ws.profile.category(category_id) if category_id else None
    title = ws.vocab.label("titles", form.get("title") or "", lang) if form.get("title") else ""
    phone = digits(form.get("phone") or "")
    return {"name": form.get("name") or "", "title": title or "", "phone": form.get("phone") or "",
            "phone_tail": phone[-4:] if len(phone) >= 4 else "",
            "category": label(cat, lang, "") if cat else "",
            "facts": _clause(form.get("facts") or ""), "request": _clause(form.get("request") or ""),
            "amount": form.get("amount") or ""}


def earlier_cases(ws: Workspace, phone: str, limit: int = 20) -> list[dict[str, Any]]:
    """The caller's cases by phone, open first (masked: this list is seen on screen)."""
    if len(digits(phone)) < 5:
        return []
    cases = ws.list_cases(CaseQuery(phone=phone, limit=limit), mask=True)
    return sorted(cases, key=lambda c: (not is_open_status(c["status"]), c["received_at"]))


def attach_call(ws: Workspace, case_id: str, form: dict[str, Any]) -> Any:
    """The caller rang about a case already open: note the call on it instead of opening a second case."""
    note = clean_text(" / ".join(x for x in (form.get("facts", ""), form.get("request", "")) if x.strip()))
    state = ws.act(case_id, "progress_noted", {"note": translator(ws.settings.lang)("intake.caller_rang_note",
                                                                                  note=note or "—")})
    if REPEAT_FLAG not in state.flags:
        state = ws.act(case_id, "field_edited", {"field": "flags", "value": with_repeat_flag(state.flags)})
    return state


def new_draft_key() -> str:
    return f"intake-{uuid.uuid4()}"


def blank(form: dict[str, Any]) -> bool:
    """Nothing typed yet (the channel and complexity selects start with a value of their own)."""
    return not any(str(form.get(name) or "").strip() for name in FORM_FIELDS
                   if name not in ("channel", "complexity", "flags", "also")) and not form.get("also")


@dataclass
class DraftOffer:
    """An unfinished intake of an earlier call, offered to the agent (never merged into the call on the line)."""

    key: str
    data: dict[str, Any]
    phone: str  # masked
    started: datetime | None
    crashed: bool  # the console stopped while this call was being typed (it was never left with Esc)


def unfinished(ws: Workspace, exclude: str | None = None) -> list[DraftOffer]:
    """This agent's unfinished intakes, the latest first, except the one under `exclude` (the call on the line)."""
    out = []
    for key, data in ws.store.drafts(ws.actor):
        if key == exclude or blank(data.get("form", {})):
            continue
        started = data.get("started")
        crashed = not data.get("left") and data.get("session") != ws.session
        out.append(DraftOffer(key, data, mask_phone(data.get("form", {}).get("phone", "")),
                              datetime.fromisoformat(started) if started else None, crashed))
    return out


def draft(ws: Workspace, key: str) -> dict[str, Any] | None:
    """The saved draft under `key` of this agent, or None."""
    return dict(ws.store.drafts(ws.actor)).get(key)


def save_draft(ws: Workspace, key: str, data: dict[str, Any]) -> None:
    """Keep the call's form as it is typed; a form with nothing typed is no draft."""
    if blank(data.get("form", {})):
        ws.store.delete_draft(key)
        return
    ws.store.save_draft(key, ws.actor, data | {"session": ws.session})


def discard_draft(ws: Workspace, key: str) -> None:
    ws.store.delete_draft(key)


@dataclass
class Ladder:
    """Where the caller's dissatisfaction stands on the profile's ladder."""

    upset_seconds: float
    report_due: bool  # the agent's limit has passed: report to the lead now
    limit_minutes: int


def ladder(ws: Workspace, upset_since: datetime | None, now: datetime) -> Ladder | None:
    if upset_since is None or not ws.profile.ladder.enabled:
        return None
    seconds = (now - upset_since).total_seconds()
    limit = ws.profile.ladder.agent_minutes
    return Ladder(seconds, seconds >= limit * 60, limit)


def report_dissatisfaction(ws: Workspace, case_id: str, upset_since: datetime, note: str = "") -> Any:
    return ws.act(case_id, "dissatisfaction_reported", {"upset_since": upset_since.isoformat(), "note": note})


def masked_caller(case: dict[str, Any]) -> str:
    c = case.get("complainant", {})
    return f"{mask_name(c.get('name', '')) if '*' not in c.get('name', '') else c.get('name', '')} " \
           f"{c.get('phone') if '*' in c.get('phone', '') else mask_phone(c.get('phone', ''))}"
