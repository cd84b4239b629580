"""Why an event did not travel, told by key: the reasons a console or the centre gives for refusing a pushed event or
keeping a pulled one aside are English text on the wire and in the database (core/event_checks.py, the centre's SQL
verdicts in sync/schema_pg.sql, the embedded centre), so they read the same on every console and in old rows.
`told_reason` turns one back into a Said (`error.refused.*`) the edge tells in the console's language; a reason it
does not know stays a Said too, with its text as the detail (the sentence around it is still in the language)."""

from __future__ import annotations

import re

from agent_console.core.errors import Said

_Q = r"""['"]"""  # Python's repr (the embedded centre) or SQL's quote_literal (PostgreSQL)

# (pattern matched against the whole reason, key under error.refused); named groups become the Said's parameters
_REASONS: list[tuple[re.Pattern[str], str]] = [(re.compile(p + r"\Z", re.S), k) for p, k in [
    (r"malformed: no id \(or too long\)", "no_id"),
    (r"malformed: (?:no kind|unknown event kind)", "kind"),
    (r"malformed: case id is not text", "case_id"),
    (r"malformed: a registration without a case", "registration_without_case"),
    (r"malformed: (?:no actor or device|no device or time)", "no_device"),
    (r"malformed: (?:time is not ISO-8601|time without an offset)", "time_format"),
    (r"malformed: absurd time .*", "absurd_time"),
    (r"malformed: bad hlc stamp", "stamp"),
    (r"malformed: absurd clock .*", "absurd_clock"),
    (r"malformed: (?:flags is not JSON|flags is not a list of texts)", "flags"),
    (r"malformed: contains a NUL character", "nul"),
    (r"malformed: (?:payload is not an object|payload is not JSON|payload or flags is not JSON|"
     r"payload is not an object or flags not a list)", "payload"),
    (r"malformed: not an event row", "not_a_row"),
    (r"malformed: (?P<kind>[a-z_]+): (?P<field>[\w.]+): (?P<detail>.*)", "field"),
    (r"malformed: (?P<kind>[a-z_]+): (?P<detail>.*)", "payload_kind"),
    (rf"written in the name of {_Q}(?P<actor>.*){_Q}, not {_Q}(?P<me>.*){_Q}", "not_yours"),
    (r"the case is unknown at the centre(?: or not of your team)?", "not_your_team"),
    (rf"only a lead of team {_Q}(?P<team>.*){_Q} may record (?P<kind>[a-z_]+)", "lead_only"),
    (r"the case is registered at the centre already", "registered_already"),
    (r"nobody may decide their own request", "own_request"),
    (r"registered for a team that is not this login's", "other_team"),
    (r"implausible registration: (?P<detail>.*)", "implausible"),
]]


def told_reason(reason: object) -> object:
    """A refusal's or quarantine's stored reason as a Said in `error.refused.*`; a Said or a Reason as it is."""
    if not isinstance(reason, str) or type(reason) is not str:
        return reason  # already told by key (a Reason is a str subclass carrying one)
    text = reason.strip()
    for pattern, key in _REASONS:
        found = pattern.match(text)
        if found:
            return Said(f"refused.{key}", **{k: v for k, v in found.groupdict().items() if v is not None})
    return Said("refused.other", detail=text)
