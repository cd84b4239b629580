"""Telephony: the phone system tells the console about calls (Zammad's generic CTI push API), and the console asks it
to dial. No Textual and no HTTP server here: the listener (widgets/cti_listener.py) hands each request's body to
`parse`, then to `Desk.handle`, and sends back what they say.

The events are Zammad's: `newCall`, `answer`, `hangup` with `from`, `to`, `direction`, `callId`, `user[]`, `queue`,
`cause`, `answeringNumber`, JSON or form-encoded, so a PBX integration written for Zammad works by changing one URL.
Each call is recorded as call_* events that belong to no case (they sync like enquiries and never move a case clock)
and projected into the caller log (store/call_rows.py). A missed inbound call from a number with an open case becomes
a callback due soon. Handling time per call runs from answer to hang-up: the lead's AHT comes from these, never from
form timers.
"""

from __future__ import annotations

import errno
import json
import logging
import shlex
import socket
import string
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent_console.core.case_query import CaseQuery
from agent_console.core.errors import Said
from agent_console.core.models import is_open_status
from agent_console.core.text import digits, mask_phone
from agent_console.services import callbacks, live_intake
from agent_console.store import call_rows
from agent_console.support.i18n import Translator

log = logging.getLogger("agent_console.cti")

if TYPE_CHECKING:  # the workspace imports the services: typed here, imported only by the checker
    from agent_console.services.workspace import Workspace

MAX_BODY = 16 * 1024  # bytes; a real event is a few hundred
# What phone systems send instead of a number when the caller withholds it
WITHHELD = frozenset({"", "anonymous", "unknown", "withheld", "restricted", "private", "unavailable", "hidden",
                      "clip_no_screening", "no-number"})
# Hang-up causes that do not make an unanswered inbound call "missed": somebody else took it, or it went on elsewhere
NOT_MISSED = frozenset({"answeredelsewhere", "forwarded", "transferred"})
_NUMBER_CHARS = frozenset("+0123456789 -().")


class CtiError(ValueError):
    """A request the console refuses; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class CtiEvent(BaseModel):
    """One event as Zammad's generic CTI API defines it (field names as on the wire)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    event: Literal["newCall", "answer", "hangup"]
    from_: str = Field("", alias="from", max_length=250)
    to: str = Field("", max_length=250)
    direction: Literal["in", "out"] = "in"
    call_id: str = Field(alias="callId", min_length=1, max_length=250)
    user: list[str] = Field(default_factory=list, max_length=50)
    queue: str = Field("", max_length=250)
    cause: str = Field("", max_length=100)
    answering_number: str = Field("", alias="answeringNumber", max_length=250)

    @field_validator("from_", "to", "call_id", "queue", "cause", "answering_number", mode="before")
    @classmethod
    def _scalar(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError("must be a string")
        return str(value).strip()

    @field_validator("user", mode="before")
    @classmethod
    def _users(cls, value: Any) -> Any:
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
            raise ValueError("user[] must be strings")
        return [str(v).strip() for v in values if str(v).strip()]

    @field_validator("call_id")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value or not value.isprintable():
            raise ValueError("callId must be printable text")
        return value

    @property
    def remote_raw(self) -> str:
        """The other party: the caller on an inbound call, the called number on an outbound one."""
        return self.from_ if self.direction == "in" else self.to

    @property
    def local_raw(self) -> str:
        return self.to if self.direction == "in" else self.from_


def parse(body: bytes, content_type: str) -> CtiEvent:
    """The request body (JSON or form-encoded) as an event; raises CtiError (4xx) naming what is wrong."""
    if len(body) > MAX_BODY:
        raise CtiError(413, f"the body is too large ({len(body):,} bytes; at most {MAX_BODY:,})")
    kind = content_type.split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CtiError(400, "the body is not UTF-8 text") from exc
    data: dict[str, Any]
    if kind == "application/json" or (not kind and text.lstrip().startswith("{")):
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise CtiError(400, f"the body is not valid JSON ({exc})") from exc
        if not isinstance(loaded, dict):
            raise CtiError(400, "the JSON body must be an object")
        data = {k.removesuffix("[]"): v for k, v in loaded.items()}
    elif kind in ("application/x-www-form-urlencoded", "", "text/plain"):
        try:
            pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text),
                                           max_num_fields=64)
        except ValueError as exc:
            raise CtiError(400, f"the form body cannot be read ({exc})") from exc
        data = {}
        for key, value in pairs:
            name = key.removesuffix("[]")
            if name == "user":
                data.setdefault("user", []).append(value)
            elif name in data:
                raise CtiError(400, f"{key} is given twice")
            else:
                data[name] = value
    else:
        raise CtiError(415, f"send JSON or a form (application/x-www-form-urlencoded), not {kind}")
    try:
        return CtiEvent.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors())
        raise CtiError(422, problems.replace("from_", "from").replace("call_id", "callId")) from exc


def caller_number(raw: str) -> str:
    """A phone system's number as the console keeps it: '+' and digits, or '' when withheld.

    sip:/tel: addresses give their user part; anything else that is not a number is refused (CtiError 422) rather
    than guessed at.
    """
    value = raw.strip()
    if value.lower() in WITHHELD:
        return ""
    low = value.lower()
    for prefix in ("tel:", "sip:", "sips:"):
        if low.startswith(prefix):
            value = value[len(prefix):].split("@", 1)[0].split(";", 1)[0]
            break
    if value.lower() in WITHHELD:
        return ""
    if not value or any(c not in _NUMBER_CHARS for c in value) or "+" in value[1:]:
        raise CtiError(422, f"{raw[:40]!r} is not a phone number")
    number = ("+" if value.startswith("+") else "") + digits(value)
    if not 2 <= len(digits(number)) <= 20:
        raise CtiError(422, f"{raw[:40]!r} is not a phone number")
    return number


def agent_names(settings: Any) -> set[str]:
    """The values of user[] / answeringNumber that mean this agent (compared without case)."""
    names = {settings.agent, settings.agent_name, settings.agent_number, *settings.cti.names}
    return {n.strip().casefold() for n in names if n and n.strip()}


def is_mine(settings: Any, ev: CtiEvent) -> bool:
    """An event for this agent: answeringNumber (when given) or one of user[] (when given) names them; an event
    naming nobody is taken as this console's own line (a softphone on the agent's desk)."""
    mine = agent_names(settings)
    if ev.answering_number:
        return ev.answering_number.casefold() in mine
    if ev.user:
        return any(u.casefold() in mine for u in ev.user)
    return True


@dataclass
class Call:
    """One call as the caller log holds it."""

    call_id: str
    direction: str
    remote: str
    local: str = ""
    queue: str = ""
    rang_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    cause: str = ""
    case_id: str | None = None
    case_number: str | None = None
    agent: str = ""

    @property
    def status(self) -> str:
        """ringing | talking | done | missed (inbound, never answered) | unanswered (outbound, never answered)."""
        if self.ended_at is None:
            return "talking" if self.answered_at else "ringing"
        if self.answered_at is not None:
            return "done"
        if self.direction == "in" and self.cause.casefold() not in NOT_MISSED:
            return "missed"
        return "unanswered"

    @property
    def duration_s(self) -> float | None:
        """Handling time: answer to hang-up (None until both are known)."""
        if self.answered_at is None or self.ended_at is None:
            return None
        return max((self.ended_at - self.answered_at).total_seconds(), 0.0)

    @property
    def started(self) -> datetime | None:
        """Where the call timer runs from: the answer when there was one, else the first ring."""
        return self.answered_at or self.rang_at

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Call:
        def dt(v: str | None) -> datetime | None:
            return datetime.fromisoformat(v) if v else None

        return cls(row["call_id"], row["direction"], row["remote"], row["local"], row["queue"], dt(row["rang_at"]),
                   dt(row["answered_at"]), dt(row["ended_at"]), row["cause"], row["case_id"], row.get("number"),
                   row["agent"])


@dataclass
class Outcome:
    """What an event did, for the screen to follow and the phone system to be told."""

    action: Literal["ring", "answer", "hangup", "elsewhere", "duplicate", "ignored", "blocked"]
    call: Call | None = None
    callback: str | None = None  # the callback a missed call became
    reply: dict[str, Any] = field(default_factory=dict)  # Zammad answers {} when it has nothing to ask


REJECT = {"action": "reject", "reason": "busy"}  # Zammad's answer for a blocked caller: the PBX plays busy


class RateLimiter:
    """A token bucket: `burst` events at once, then `rate` a second."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = max(rate, 0.001), max(burst, 1), clock
        self._tokens, self._at = float(self.burst), clock()

    def allow(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def retry_after(self) -> int:
        return max(1, int((1 - self._tokens) / self.rate + 0.999))


class DialError(Said, RuntimeError):
    """Dialling out is not configured, or the phone system would not take the request (`error.call.*`)."""


class Desk:
    """One console's phone desk: records call events, turns missed calls into callbacks, dials out."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        cti = ws.settings.cti
        self.limiter = RateLimiter(cti.rate, cti.burst)
        self._dialled: dict[str, tuple[str, float]] = {}  # number digits -> (case id, monotonic time of the dial)
        self._blocked_calls: dict[str, float] = {}  # call id -> monotonic time it was turned away
        self._block_list: tuple[float, frozenset[str]] = (-1.0, frozenset())  # (file mtime, number digits)

    # -- reading ----------------------------------------------------------------------------------------------
    def call(self, call_id: str) -> Call | None:
        found = call_rows.find(self.ws.store.conn, agent=self.ws.actor, call_id=call_id, limit=1)
        return Call.from_row(found[0]) if found else None

    def active(self) -> Call | None:
        """This agent's newest call still going (ringing or talking) in the last 12 hours."""
        since = (self.ws.now() - timedelta(hours=12)).astimezone(timezone.utc).isoformat()
        found = call_rows.find(self.ws.store.conn, agent=self.ws.actor, ongoing_since=since, limit=1)
        return Call.from_row(found[0]) if found else None

    # -- the phone system's events ----------------------------------------------------------------------------
    def handle(self, ev: CtiEvent) -> Outcome:
        """Record one event; say what it did. Repeats (a PBX retrying) change nothing."""
        remote = caller_number(ev.remote_raw)
        known = self.call(ev.call_id)
        if not is_mine(self.ws.settings, ev):
            if known is not None and known.ended_at is None and ev.event in ("answer", "hangup"):
                # a group call someone else took: it ends here, and it is not a missed call
                self._append("call_ended", {"call": ev.call_id, "cause": "answeredElsewhere"})
                return Outcome("elsewhere", self.call(ev.call_id))
            return Outcome("ignored")
        if ev.call_id in self._blocked_calls:  # the rest of a call turned away: no call, no missed-call callback
            return Outcome("blocked", reply=REJECT)
        if ev.event == "newCall":
            if known is not None:
                return Outcome("duplicate", known)
            if ev.direction == "in" and remote and digits(remote) in self.blocked_numbers():
                now = time.monotonic()
                self._blocked_calls = {k: v for k, v in self._blocked_calls.items() if now - v < 12 * 3600}
                self._blocked_calls[ev.call_id] = now
                log.info("CTI call %s turned away: the number is on the block list", ev.call_id)
                return Outcome("blocked", reply=REJECT)
            self._start(ev, remote)
            return Outcome("ring", self.call(ev.call_id))
        if known is None:  # an answer or hang-up for a call whose newCall never came here: the call starts now
            self._start(ev, remote)
            known = self.call(ev.call_id)
            assert known is not None
        if ev.event == "answer":
            if known.answered_at is not None or known.ended_at is not None:
                return Outcome("duplicate", known)
            self._append("call_answered", {"call": ev.call_id, "by": ev.answering_number})
            return Outcome("answer", self.call(ev.call_id))
        if known.ended_at is not None:
            return Outcome("duplicate", known)
        self._append("call_ended", {"call": ev.call_id, "cause": ev.cause})
        ended = self.call(ev.call_id)
        assert ended is not None
        callback = self.missed_callback(ended) if ended.status == "missed" else None
        return Outcome("hangup", ended, callback)

    def blocked_numbers(self) -> frozenset[str]:
        """The block list's numbers (digits), read again whenever the file changes; none without a file. A file
        that cannot be read blocks nothing (and says so in the log): a typo must not turn every caller away."""
        path = self.ws.settings.cti.block_file
        if path is None:
            return frozenset()
        try:
            mtime = path.stat().st_mtime
            if mtime != self._block_list[0]:
                numbers = set()
                for line in path.read_text(encoding="utf-8").splitlines():
                    line = line.split("#", 1)[0].strip()
                    try:
                        number = digits(caller_number(line)) if line else ""
                    except CtiError:
                        log.warning("block list %s: %r is no phone number (left out)", path, line)
                        continue
                    if number:
                        numbers.add(number)
                self._block_list = (mtime, frozenset(numbers))
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("block list %s cannot be read: %s", path, exc)
            return frozenset()
        return self._block_list[1]

    def _start(self, ev: CtiEvent, remote: str) -> None:
        self._append("call_started", {"call": ev.call_id, "direction": ev.direction, "remote": remote,
                                      "local": ev.local_raw[:250], "queue": ev.queue, "users": ev.user,
                                      "team": self.ws.settings.team})
        if ev.direction == "out":  # the call a callback asked for: it belongs to that case
            dialled = self._dialled.pop(digits(remote), None)
            if dialled is not None and time.monotonic() - dialled[1] < 300:
                self._append("call_attached", {"call": ev.call_id, "case": dialled[0]})

    def _append(self, kind: str, payload: dict[str, Any]) -> None:
        ws = self.ws
        ws.store.append([ws.event(kind, None, payload)], ws.lifecycle)

    def missed_callback(self, call: Call) -> str | None:
        """A missed call from a number with an open case becomes a callback on that case, due soon (once: a second
        missed call finds the first callback still pending)."""
        d = digits(call.remote)
        if len(d) < 5:
            return None
        ws = self.ws
        rows = [r for r in ws.store.case_rows(CaseQuery(phone=d, open_only=True, limit=20),
                                              columns="c.id, c.received_at, c.phone_digits")
                if r["phone_digits"] == d]
        if not rows:
            return None
        case_id = max(rows, key=lambda r: r["received_at"])["id"]
        if any(cb["status"] == "pending" and cb["kind"] == "requested" for cb in callbacks.for_case(ws, case_id)):
            return None
        t = Translator(ws.settings.lang)
        at = (call.rang_at or ws.now()).astimezone(ws.tz)
        due = ws.now() + timedelta(minutes=ws.settings.cti.missed_callback_minutes)
        try:
            return callbacks.schedule(ws, case_id, "requested", due, t("calls.missed_note", time=at.strftime("%H:%M")))
        except ValueError:  # the case cannot take a callback now (e.g. archived meanwhile)
            return None

    # -- the console's side ------------------------------------------------------------------------------------
    def attach(self, call_id: str, case_id: str) -> bool:
        """Attach a call to the case registered or opened during it (once; a later case does not move it)."""
        call = self.call(call_id)
        if call is None or call.case_id is not None:
            return False
        self._append("call_attached", {"call": call_id, "case": case_id})
        return True

    def attach_active(self, case_id: str) -> bool:
        """A case opened while a call is going: the call belongs to it, unless the call already has a case."""
        call = self.active()
        return call is not None and self.attach(call.call_id, case_id)

    def dial(self, number: str, case_id: str | None = None,
             run: Callable[..., Any] = subprocess.Popen, opener: Callable[..., Any] = urllib.request.urlopen) -> str:
        """Ask the phone system to dial `number` (the configured command or URL template); return what was done.
        The outbound call's events come back through the listener like any other and attach to `case_id`."""
        cti = self.ws.settings.cti
        target = caller_number(number) if number else ""
        if not target:
            raise DialError("call.no_number")
        values = {"number": target, "digits": digits(target), "agent": self.ws.actor,
                  "extension": self.ws.settings.agent_number or self.ws.actor}
        if cti.dial_command:
            argv = [_fill(part, values) for part in shlex.split(cti.dial_command)]
            try:
                run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    start_new_session=True)
            except OSError as exc:
                raise DialError("call.program_failed", program=argv[0], detail=exc.strerror or str(exc)) from exc
            done = " ".join(argv)
        elif cti.dial_url:
            url = _fill(cti.dial_url, {k: urllib.parse.quote(v, safe="+") for k, v in values.items()})
            scheme = urllib.parse.urlsplit(url).scheme.lower()
            if scheme in ("http", "https"):
                try:
                    with opener(urllib.request.Request(url, method="POST", data=b""), timeout=5) as answer:
                        if answer.status >= 400:
                            raise DialError("call.phone_system_status", status=answer.status)
                except OSError as exc:
                    raise DialError("call.phone_system_unreachable", where=urllib.parse.urlsplit(url).netloc,
                                    detail=str(exc)) from exc
            elif scheme in ("sip", "sips", "tel", "callto"):
                try:  # the desktop's handler for the scheme (the softphone)
                    run(["xdg-open", url], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL, start_new_session=True)
                except OSError as exc:
                    raise DialError("call.program_failed", program="xdg-open", detail=exc.strerror or str(exc)) from exc
            else:
                raise DialError("call.bad_scheme", scheme=scheme or "", schemes="http(s), sip, tel, callto")
            done = url
        else:
            raise DialError("call.not_configured", settings="[cti] dial_command / dial_url")
        if case_id:
            self._dialled[digits(target)] = (case_id, time.monotonic())
        return done


def _fill(template: str, values: dict[str, str]) -> str:
    """str.format with the known placeholders only: a template naming another is a config error, said plainly."""
    for _, name, spec, conv in string.Formatter().parse(template):
        if name is not None and (name not in values or spec or conv):
            raise DialError("call.placeholder", name=name, known=", ".join("{" + k + "}" for k in values))
    return template.format(**values)


# -- what the agent sees of a caller ------------------------------------------------------------------------------
@dataclass
class CallerHistory:
    """Beside a popped intake: the caller's earlier and open cases, pending callbacks, and who they are."""

    phone: str
    cases: list[dict[str, Any]]  # masked, open first (live_intake.earlier_cases)
    callbacks: list[dict[str, Any]]
    name: str = ""  # from the newest case with this number: offered, never forced
    title: str = ""

    @property
    def open_cases(self) -> list[dict[str, Any]]:
        return [c for c in self.cases if is_open_status(c["status"])]


def caller_history(ws: Workspace, phone: str) -> CallerHistory:
    if len(digits(phone)) < 5:
        return CallerHistory(phone, [], [])
    cases = live_intake.earlier_cases(ws, phone)
    name = title = ""
    if cases:
        state = ws.case(max(cases, key=lambda c: c["received_at"])["id"])
        if state is not None:
            name, title = state.complainant.name, state.complainant.title
    return CallerHistory(phone, cases, callbacks.pending_for_phone(ws, phone), name, title)


def title_term(ws: Workspace, title: str) -> str:
    """The vocabulary id of a stored title (cases keep the id or the words, 女士 / Ms), or '' when none fits."""
    title = title.strip()
    for term in ws.vocab.terms("titles"):
        if title and title in (term.id, term.text("zh"), term.text("en")):
            return term.id if term.id != "none" else ""
    return ""


def call_log(ws: Workspace, limit: int = 200, phone: str = "", everyone: bool = False) -> list[Call]:
    """The caller log, newest first: this agent's calls (a lead may ask for everyone's they can see)."""
    found = call_rows.find(ws.store.conn, agent=None if everyone else ws.actor,
                           remote_digits=digits(phone) if phone else None, limit=limit)
    return [Call.from_row(r) for r in found]


def masked(call: Call) -> str:
    return mask_phone(call.remote) if call.remote else ""


@dataclass
class Handling:
    agent: str
    calls: int
    seconds: float

    @property
    def average(self) -> float | None:
        return round(self.seconds / self.calls, 1) if self.calls else None


def handling(ws: Workspace, start: datetime, end: datetime, teams: list[str] | None = None,
             agent: str = "") -> list[Handling]:
    """Answered calls and their answer-to-hang-up time per agent, for calls that rang in [start, end)."""
    utc = timezone.utc
    return [Handling(a, n, s) for a, n, s in call_rows.handling(
        ws.store.conn, start.astimezone(utc).isoformat(), end.astimezone(utc).isoformat(), teams, agent)]


# -- the other end: posting an event to a running console (the `call ring` command) --------------------------------
def post_event(cti: Any, fields: dict[str, Any], timeout: float = 5.0) -> tuple[int, Any]:
    """POST one event (form-encoded, as most PBX scripts send it) to the console listening at `cti.listen`;
    returns (HTTP status, the JSON answer). Blocking: for a command line, never for the console's own loop."""
    import asyncio

    import aiohttp

    if not cti.listen:
        raise DialError("call.not_listening", settings="[cti] listen, token")

    async def send() -> tuple[int, Any]:
        if cti.listen.startswith("/"):
            connector: aiohttp.BaseConnector = aiohttp.UnixConnector(path=cti.listen)
            base = "http://localhost"
        else:
            connector, base = aiohttp.TCPConnector(), f"http://{cti.listen}"
        pairs = [(k, v) for k, vs in fields.items() for v in (vs if isinstance(vs, list) else [vs])]
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)) as s:
            async with s.post(f"{base}/api/v1/cti/{urllib.parse.quote(cti.token, safe='')}", data=pairs) as r:
                try:
                    return r.status, await r.json(content_type=None)
                except ValueError:
                    return r.status, {"error": (await r.text())[:200]}

    try:
        return asyncio.run(send())
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
        raise DialError("call.no_answer", where=cti.listen, detail=str(exc) or type(exc).__name__) from exc


class ListenRefused(Said, ValueError):
    """The phone system link will not start with this configuration (`error.call.*`)."""


# what the OS says when the listener cannot have its address (errno), by key under error.call
_LISTEN_ERRNO = {errno.EADDRINUSE: "listen_in_use", errno.EACCES: "listen_denied",
                 errno.EADDRNOTAVAIL: "listen_no_address", errno.ENOENT: "listen_no_folder"}


def listen_failure(exc: BaseException, listen: str) -> Said:
    """Why the phone system link did not start, by key; the OS's own words (English) only as `detail`."""
    if isinstance(exc, Said):
        return exc
    detail = (getattr(exc, "strerror", None) or str(exc)).strip()
    if isinstance(exc, socket.gaierror):
        return Said("call.listen_unknown_host", where=listen, detail=detail)
    key = _LISTEN_ERRNO.get(getattr(exc, "errno", None) or -1, "listen_other")
    return Said(f"call.{key}", where=listen, detail=detail)
