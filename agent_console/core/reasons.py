"""Why an action is refused: English text for logs, the CLI and the sync log, plus a key the console translates.

A `Reason` is a `str` (the English sentence), so everything that stores or prints reasons keeps working; the
console looks up `refusal.<key>` in its locale files and fills in the parameters (a status, a clock unit and the
like are themselves translated there).
"""

from __future__ import annotations

from typing import Any

ENGLISH: dict[str, str] = {
    "exists": "this case is already registered",
    "missing": "the case has not been registered",
    "register_new": "use register() for a new case",
    "enquiry": "an enquiry is not part of a case",
    "archived": "the case is archived; nothing more can happen to it",
    "paused": "the case is paused at the customer's request; resume it first",
    "status": "not possible while the case is {status}",
    "lead_only": "only a team lead can do this",
    "extension_pending": "an extension request is already waiting for the lead",
    "no_extensions": "this profile does not allow extensions",
    "resolve_not_running": "the resolution clock is not running",
    "extension_ceiling": "extensions may add at most {ceiling} {unit} in all; {granted} already granted",
    "nothing_to_decide": "there is no {what} waiting for a decision",
    "own_decision": "you cannot decide your own {what}",
    "no_remedy": "there is no non-standard remedy waiting for approval",
    "remedy_pending": "the proposed remedy is waiting for the lead's approval",
    "closure_pending": "a closure as unreachable is waiting for the lead",
    "propose_unreachable": "propose the closure as unreachable; it closes when the lead approves",
    "need_cause": "name at least one cause",
    "need_report": "write the closing report",
    "need_stage": "name the responsible stage",
    "need_fault": "the system category needs a description of the fault",
    "closure_already": "a closure as unreachable is already waiting for the lead",
    "self_escalation": "a case cannot escalate into itself",
    "not_paused": "the case is not paused",
    "already_paused": "the case is already paused",
    "no_dissatisfaction": "no dissatisfaction report is open",
    "already_acknowledged": "already acknowledged",
    "unknown_person": "'{who}' is not on the team's roster: pick someone from the list",
    "name_person": "pick the agent to reassign to",
    "not_editable": "{field} cannot be edited",
    "unreachable_attempts": "needs {needed} failed contact attempts; {recorded} recorded",
    "unreachable_span": "the failed attempts must spread over at least {hours} hours; they span {span}",
    # the intake form's field problems
    "required": "required",
    "need_category": "a category is required",
    "unknown_category": "unknown category {value!r}",
    "unknown_channel": "unknown channel {value!r}",
    "unknown_tier": "unknown tier {value!r}; use general, complex or major",
    "unknown_flag": "unknown flag {value!r}",
    "short_phone": "a phone number needs at least {digits} digits",
    "needs_offset": "needs a timezone offset, e.g. 2026-11-24T09:30:00+08:00",
    "implausible_date": "{when} is not a plausible date of receipt",
    "receipt_too_old": "{when} is more than {days} days ago (earliest {earliest}): check the year",
    "receipt_future": "{when} is in the future (more than {minutes} minutes ahead of now, {now}): check the date and the clock",
    "long_phone": "a phone number has at most {digits} digits ({count} given)",
    "letters_in_phone": "a phone number holds digits (and + - spaces, x before an extension), not letters",
    "amount_not_number": "an amount must be a number",
    "amount_too_large": "{value} is more than the largest plausible amount ({limit} 元)",
    "amount_decimals": "an amount has at most {decimals} decimals (to the 分)",
    "too_long_chars": "too long ({count} characters; at most {limit})",
    "long_name": "a name has at most {chars} characters",
    "long_id": "an ID or policy number has at most {chars} characters",
    "no_anonymous": "this hotline does not accept anonymous complaints: ask for a name or phone",
    "negative_amount": "an amount cannot be negative",
    "not_amount": "{value!r} is not an amount",
    # callback times said in words
    "due_number": "cannot read the number {value!r}",
    "due_empty": "say when, e.g. 明天下午3点 or tomorrow 3pm",
    "due_unknown": "could not understand {value!r}; try 明天下午3点, 两小时后, tomorrow 3pm, 2026-12-01 14:00",
    "due_past": "{when} has already passed: a callback is due after now",
    "due_no_date": "{month}月{day}日 is not a date",
    "due_no_time": "{time} is not a time of day",
    "due_night_hour": "at what hour of {value}? say it, e.g. {value}3点",
    # sync conflicts the centre flags (a conflict_flagged event names its reason by key)
    "clock_ahead": "a console's clock ran ahead: its action was ordered after a colleague's later one; check which"
                   " should stand",
}


class Reason(str):
    """The English sentence, carrying `key` and `params` for translation."""

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, **params: Any) -> "Reason":
        obj = super().__new__(cls, ENGLISH[key].format(**params))
        obj.key = key
        obj.params = params
        return obj

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (worker threads, copies) as a Reason, not a plain str
        return (_rebuild, (self.key, self.params))


def _rebuild(key: str, params: dict[str, Any]) -> Reason:
    return Reason(key, **params)


def known_reason(text: object) -> object:
    """A stored reason (plain text after a trip through JSON) as a Reason again when it is one without parameters,
    by its key or its English sentence, so it can be shown in the console's language; anything else as it is."""
    if not isinstance(text, str) or isinstance(text, Reason):
        return text
    if text in ENGLISH and "{" not in ENGLISH[text]:
        return Reason(text)
    for key, sentence in ENGLISH.items():
        if sentence == text and "{" not in sentence:
            return Reason(key)
    return text


# The form field a refusal is about, by its key: a form shows the message next to that field (else at the top).
FORM_FIELD: dict[str, str] = {
    "need_cause": "causes",
    "need_report": "report",
    "need_stage": "stage",
    "need_fault": "fault_description",
    "extension_ceiling": "length",
}


def form_field(reason: object) -> str | None:
    """The form field `reason` (a Reason; anything else has no key) concerns, or None."""
    return FORM_FIELD.get(getattr(reason, "key", ""))
