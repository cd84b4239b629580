"""What an event must look like to travel: checked on the console before it sends and again on every row it pulls
(sync/engine.py, store/local.py; the centre has the same rules in SQL: sync/rules_pg.py).

The same pydantic models that make events (core/events.py) decide a payload's shape; the centre installs the same
rules as SQL (rules_pg.py). A console refuses to send what the centre would refuse anyway (the reason is kept and
`sync --retry-refused` sends it again once fixed), and keeps aside (quarantines) any pulled row that fails, so one
poisoned event can never stop a console from syncing the rest.
"""

from __future__ import annotations

import json
import re
import time
from itertools import chain
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from agent_console.core.events import CHECK_ONLY, EVENT_KINDS
from agent_console.core.hlc import ABSURD_AHEAD_MS, EARLIEST_MS
from agent_console.core.plausibility import DEFAULT_LIMITS, IntakeLimits, check_case

_STAMP = re.compile(r"([0-9]{13})-[0-9]{4,9}-[!-~]{1,64}\Z")
_MAX_ID = 100


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def stamp_problem(hlc: Any, now_ms: int | None = None) -> str | None:
    """Why a hybrid-logical-clock stamp cannot be used, or None (a stamp a day ahead of this machine is absurd)."""
    if not isinstance(hlc, str) or not (m := _STAMP.match(hlc)):
        return "malformed: bad hlc stamp"
    wall = int(m.group(1))
    if wall > (now_ms if now_ms is not None else _now_ms()) + ABSURD_AHEAD_MS or wall < EARLIEST_MS:
        return "malformed: absurd clock (more than a day ahead, or before 2020)"
    return None


def _validation_reason(kind: str, exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "payload"
    return f"malformed: {kind}: {where}: {first.get('msg', 'invalid')}"


def event_problem(event_id: Any, case_id: Any, kind: Any, actor: Any, device: Any, at: Any, hlc: Any,
                  payload: Any, flags: Any, now_ms: int | None = None) -> str | None:
    """Why one event (fields as they travel: `at` ISO text, payload an object or its JSON text, flags a list) is not
    fit to be recorded anywhere, or None."""
    if not isinstance(event_id, str) or not event_id or len(event_id) > _MAX_ID:
        return "malformed: no id (or too long)"
    if not isinstance(kind, str) or kind not in EVENT_KINDS:
        return "malformed: unknown event kind"
    if case_id is not None and not isinstance(case_id, str):
        return "malformed: case id is not text"
    if kind == "registered" and not case_id:
        return "malformed: a registration without a case"
    if not isinstance(actor, str) or not actor or not isinstance(device, str) or not device or len(device) > _MAX_ID:
        return "malformed: no actor or device"
    try:
        when = at if isinstance(at, datetime) else datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return "malformed: time is not ISO-8601"
    if when.tzinfo is None:
        return "malformed: time without an offset"
    if not 2000 <= when.year <= 2099:  # the stamp orders events; the time only has to be a plausible one
        return "malformed: absurd time (before 2000 or after 2099)"
    if (reason := stamp_problem(hlc, now_ms)) is not None:
        return reason
    if type(flags) is not list or (flags and (len(flags) > 20 or not all(isinstance(f, str) for f in flags))):
        return "malformed: flags is not a list of texts"
    model = EVENT_KINDS[kind]
    try:
        if isinstance(payload, str):
            if "\\u0000" in payload:
                return "malformed: contains a NUL character"
            model.model_validate_json(payload, context=CHECK_ONLY)
        elif isinstance(payload, dict):
            model.model_validate(payload, context=CHECK_ONLY)
        else:
            return "malformed: payload is not an object"
    except ValidationError as exc:
        return _validation_reason(kind, exc)
    except ValueError:
        return "malformed: payload is not JSON"
    return None


def outbox_problem(row: tuple, now_ms: int | None = None, nul_checked: bool = False) -> str | None:
    """Why an outbox row (local seq, id, case_id, kind, actor, device, at, hlc, payload JSON, flags JSON) must not be
    sent, or None. `nul_checked`: the caller has already found no NUL character in the row's fields before the
    payload (outbox_problems does it for a whole batch at once)."""
    try:
        flags = [] if row[9] == "[]" else json.loads(row[9])  # almost every event has no flags
    except (TypeError, ValueError):
        return "malformed: flags is not JSON"
    if not nul_checked and "\x00" in "".join(str(x) for x in row[1:8] if x is not None):
        return "malformed: contains a NUL character"
    return event_problem(row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], flags, now_ms)


def outbox_problems(rows: list[tuple], now_ms: int | None = None) -> list[tuple[str, str]]:
    """(event id, reason) for each outbox row of a batch that must not be sent (outbox_problem), in batch order.

    Every rule before the payload is first asked of the whole batch at once, column by column (_plain_batch): a file
    that was not tampered with passes them all, and then only each payload is validated, row by row. A batch that
    fails any of them is checked row by row as before (the NUL look then once for the whole batch): the same answers,
    at a fraction of the cost (a push of a million events checks each of them)."""
    now_ms = now_ms if now_ms is not None else _now_ms()
    if _plain_batch(rows, now_ms):
        kinds = EVENT_KINDS
        bad = []
        for r in rows:
            try:
                kinds[r[3]].model_validate_json(r[8], context=CHECK_ONLY)
            except ValueError:  # (a ValidationError is one): the row's own check says why, in its words
                if (reason := outbox_problem(r, now_ms, True)) is not None:
                    bad.append((r[1], reason))
        return bad
    fields = chain.from_iterable(r[1:8] for r in rows)
    clean = "\x00" not in "\x01".join(map(str, fields))
    return [(r[1], reason) for r in rows if (reason := outbox_problem(r, now_ms, clean)) is not None]


def _plain_batch(rows: list[tuple], now_ms: int) -> bool:
    """True when no row of the batch breaks any rule outbox_problem checks before the payload validation itself,
    asked of each column as a whole (types and lengths as sets and bounds, the kinds as a set, one NUL look, the
    stamps' walls as a range). False means only "look row by row": it never lets a row through that a rule refuses."""
    if not rows or min(map(len, rows)) < 10:
        return False
    _, ids, cases, kinds, actors, devices, ats, hlcs, payloads, flags = list(zip(*rows))[:10]
    text = {str}
    if set(flags) != {"[]"} or any(set(map(type, col)) != text
                                   for col in (ids, kinds, actors, devices, ats, hlcs, payloads)):
        return False
    if not set(map(type, cases)) <= {str, type(None)}:
        return False
    if min(map(len, ids)) == 0 or max(map(len, ids)) > _MAX_ID or min(map(len, devices)) == 0 \
            or max(map(len, devices)) > _MAX_ID or "" in set(actors):
        return False
    kind_set = set(kinds)
    if not kind_set <= EVENT_KINDS.keys():
        return False
    if "registered" in kind_set and any(not c for k, c in zip(kinds, cases) if k == "registered"):
        return False
    present = [c for c in cases if c is not None]
    if any("\x00" in "\x01".join(col) for col in (ids, present, kinds, actors, devices, ats, hlcs)):
        return False
    if any("\\u0000" in p for p in payloads):
        return False
    try:
        times = list(map(datetime.fromisoformat, ats))
    except ValueError:
        return False
    if None in {t.tzinfo for t in times} or min(t.year for t in times) < 2000 or max(t.year for t in times) > 2099:
        return False
    if None in map(_STAMP.match, hlcs):
        return False
    walls = [h[:13] for h in hlcs]  # 13 digits each (the pattern): as text they sort as numbers
    return int(min(walls)) >= EARLIEST_MS and int(max(walls)) <= now_ms + ABSURD_AHEAD_MS


def registration_problem(payload: dict[str, Any], at: Any, limits: IntakeLimits = DEFAULT_LIMITS) -> str | None:
    """Why a registration arriving from elsewhere is not a plausible new case, or None: the intake's own rules
    (core/plausibility.py) with the registration's own time as "now" (a receipt in the future of the registration
    beyond the skew, or before the profile's horizon; a phone the intake would refuse), and the intake's messages."""
    try:
        when = at if isinstance(at, datetime) else datetime.fromisoformat(at)
        received = payload.get("received_at")
        received = received if isinstance(received, datetime) else datetime.fromisoformat(str(received))
    except (TypeError, ValueError):
        return None  # the shape check says so
    person = payload.get("complainant") or {}
    amount = payload.get("amount")
    try:
        amount = Decimal(str(amount)) if amount not in (None, "") else None
    except InvalidOperation:
        amount = None  # the shape check says so
    problems = check_case(received, str(person.get("phone") or ""), str(person.get("name") or ""),
                          str(person.get("id_number") or ""), amount, when, limits)
    if not problems:
        return None
    return "implausible registration: " + "; ".join(f"{field}: {why}" for field, why in problems.items())


def page_row_problem(r: Any, now_ms: int | None = None, teams: tuple[str, ...] | None = None,
                     limits: IntakeLimits | None = None) -> str | None:
    """Why a pulled row [seq, id, case_id, kind, actor, device, at, hlc, payload, flags] must be kept aside, or None.
    `teams`: the login's teams, when known (a registration for another team should never have reached us).
    A registration must also pass the intake's plausibility rules (`limits`: the profile's) like every other door."""
    if not isinstance(r, list) or len(r) < 10 or not isinstance(r[0], int):
        return "malformed: not an event row"
    reason = event_problem(r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], now_ms)
    if reason is None and r[3] == "registered":
        if teams and r[8].get("team") not in teams:
            return "registered for a team that is not this login's"
        return registration_problem(r[8], r[6], limits or DEFAULT_LIMITS)
    return reason


__all__ = ["event_problem", "outbox_problem", "outbox_problems", "page_row_problem", "registration_problem", "stamp_problem"]
