"""Every case action, one door for the screen and the shell: what each action asks for (the fields of its small
form), how answers become a payload, and `perform`, which records it and names the field a refusal concerns.

The rules about whether an action is allowed and whether its payload is valid stay in the domain core; the case
screen's forms and `agent-console case act` both go through `perform`, so they accept and refuse alike. No Textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from agent_console.core.lifecycle import IllegalTransition
from agent_console.core.plausibility import check_amount
from agent_console.core.errors import validation_problem
from agent_console.core.reasons import Reason, form_field
from agent_console.services import roster
from agent_console.services.workspace import NotAllowed, StoreError

if TYPE_CHECKING:  # the workspace imports the services: typed here, imported only by the checker
    from agent_console.services.workspace import Workspace


@dataclass(frozen=True)
class Field:
    name: str  # payload key
    label: str  # i18n key
    kind: str = "text"  # text | area | int | decimal | bool | person | select:<group> | multi:<group> | minutes_ago
    required: bool = False


REASON = (Field("reason", "form.reason", required=True),)
NOTE = (Field("note", "form.note"),)
DECISION = (Field("reason", "form.reason"),)

FORMS: dict[str, tuple[Field, ...]] = {
    "read_back": (Field("summary", "form.note", "area"),),
    "accepted": NOTE,
    "not_accepted": REASON,
    "parked": REASON,
    "info_requested": REASON,
    "assigned": (Field("department", "form.department", "select:departments", True),
                 Field("assignee", "form.assignee", "person"), Field("note", "form.note")),
    "returned": REASON,
    "reminder_sent": (Field("department", "form.department", "select:departments"), Field("note", "form.note")),
    "progress_noted": (Field("note", "form.note", "area", True),),
    "customer_updated": (Field("note", "form.note", "area"),),
    "contact_attempted": (Field("outcome", "form.outcome", "select:contact_outcomes", True), Field("note", "form.note")),
    "paused": (Field("reason", "form.reason", required=True), Field("evidence", "form.evidence", required=True)),
    "resumed": NOTE,
    "extension_requested": (Field("length", "form.length", "int", True), Field("reason", "form.reason", required=True)),
    "extension_approved": DECISION,
    "extension_refused": REASON,
    "proposed": (Field("remedy", "form.remedy", "area", True), Field("amount", "form.amount", "decimal"),
                 Field("non_standard", "form.non_standard", "bool")),
    "remedy_approved": DECISION,
    "remedy_refused": REASON,
    "replied": (Field("text", "form.text", "area", True), Field("via", "form.outcome", "select:channels")),
    "closed": (Field("outcome", "form.outcome", "select:outcomes", True),
               Field("causes", "form.causes", "multi:causes", True),
               Field("stage", "form.stage", "select:stages", True),
               Field("settled_amount", "form.settled_amount", "decimal"),
               Field("paid_amount", "form.paid_amount", "decimal"),
               Field("report", "form.report", "area", True),
               Field("fault_description", "form.fault", "area")),
    "closure_proposed": REASON,
    "closure_approved": DECISION,
    "closure_refused": REASON,
    "escalated": (Field("reason", "form.reason", required=True),),
    "reopened": REASON,
    "archived": NOTE,
    "dissatisfaction_reported": (Field("upset_since", "form.upset_since", "minutes_ago", True), Field("note", "form.note")),
    "dissatisfaction_acknowledged": NOTE,
    "dissatisfaction_resolved": (Field("outcome", "form.outcome"), Field("note", "form.note")),
    # a correction of one intake field: its own event, the value it replaces recorded beside the new one
    "field_edited": (Field("field", "form.field", required=True), Field("value", "form.value", "area", True)),
}



def build_payload(kind: str, answers: dict[str, Any], now: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(payload, per-field problems as locale keys) from a form's raw answers; required-ness and number shapes are
    checked here, the rest by the core."""
    payload: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for f in FORMS.get(kind, ()):
        raw = answers.get(f.name)
        empty = raw in (None, "", []) or (isinstance(raw, str) and not raw.strip())
        if empty:
            if f.required:
                problems[f.name] = "form.required"
            continue
        if f.kind == "int":
            try:
                payload[f.name] = int(str(raw).strip())
            except ValueError:
                problems[f.name] = "form.whole_number"
        elif f.kind == "decimal":
            try:
                value = Decimal(str(raw).replace(",", "").strip())
            except InvalidOperation:
                problems[f.name] = "form.amount_example"
            else:  # the intake's bounds (negative, 1e308, NaN are no amounts): one rule for every door
                why = check_amount(value)
                if why is not None:
                    problems[f.name] = why
                else:
                    payload[f.name] = str(value)
        elif f.kind == "minutes_ago":
            try:
                payload[f.name] = (now - timedelta(minutes=float(str(raw).strip()))).isoformat()
            except ValueError:
                problems[f.name] = "form.minutes_example"
        else:
            payload[f.name] = raw
    return payload, problems


def field_for_reason(reason: object) -> str | None:
    """The field a refusal concerns, by the refusal's key (core/reasons.py FORM_FIELD), never by its words."""
    return form_field(reason)


@dataclass
class Outcome:
    """What came of an action: the case as it now stands, or the problems (per field, and one general)."""

    state: Any = None
    problems: dict[str, str] | None = None
    general: str = ""
    store_problem: Any = None  # the database's bad day that refused it (a StoreError), if that was why

    @property
    def ok(self) -> bool:
        return self.state is not None


def perform(ws: Workspace, case_id: str, kind: str, answers: dict[str, Any], t: Any) -> Outcome:
    """Record `kind` on the case from a form's answers; refusals in the console's language (`t`, a Translator),
    placed next to the field they concern."""
    fields = {f.name for f in FORMS.get(kind, ())}
    payload, problems = build_payload(kind, answers, ws.now())
    for f in FORMS.get(kind, ()):  # people are picked from the roster, never typed into existence
        if f.kind == "person" and f.name in payload and (why := roster.problem(ws, str(payload[f.name]))):
            problems[f.name] = why
        elif f.kind == "person" and f.name in payload:
            payload[f.name] = str(payload[f.name]).strip()
    if problems:
        # locale keys or refusals: said in the console's language
        return Outcome(problems={k: t.reason(v) if isinstance(v, Reason) else t(v) for k, v in problems.items()})
    try:
        if kind == "escalated":
            state = ws.escalate(case_id, payload.get("reason", ""))[0]
        else:
            state = ws.act(case_id, kind, payload)
    except ValidationError as exc:
        errs: dict[str, str] = {}
        for e in exc.errors():
            name = next((str(p) for p in e["loc"] if str(p) in fields), "")
            errs[name] = t.error(validation_problem(e))  # in the console's language, never pydantic's English
        general = errs.pop("", "")
        return Outcome(problems=errs, general=general)
    except StoreError as exc:  # read-only, full, damaged, busy: the form stays as filled in, the reason beside it
        return Outcome(problems={}, general=t.error(exc), store_problem=exc)
    except (IllegalTransition, NotAllowed, ValueError) as exc:
        target = field_for_reason(getattr(exc, "reason", None) or (exc.args[0] if exc.args else None))
        reason = t.reason(exc)
        if target and target in fields:
            return Outcome(problems={target: reason})
        return Outcome(problems={}, general=reason)
    return Outcome(state=state)
