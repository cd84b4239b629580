"""The workspace: one agent's settings, store, profile and calendar, and the actions on cases.

Screens and the CLI call these methods; they hold no SQL and no business rule themselves. Nothing here imports
Textual. `now` is injectable so tests can move time.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agent_console.core.labels import label
from agent_console.support.config import Settings
from agent_console.core.calendar import WorkingCalendar
from agent_console.core.calendar_years import YearSchedule
from agent_console.core.clocks import LIVE_BANDS, ClockMath, parse_instant
from agent_console.core.events import Event, make_event, new_id
from agent_console.core import plausibility
from agent_console.core.new_case import IntakeError, NewCase, normalise
from agent_console.core.lifecycle import LEAD_ONLY, IllegalTransition, Lifecycle, field_value
from agent_console.core.models import CaseState, ClockView
from agent_console.core.profiles import Profile, load_profile
from agent_console.core.reasons import Reason
from agent_console.core.repeat_callers import with_repeat_flag
from agent_console.core.text import mask_id, mask_name, mask_phone
from agent_console.core.vocabulary import Vocabulary, load_vocabulary
from agent_console.core.case_query import CaseQuery
from agent_console.services import deadlines as deadline_service
from agent_console.support.i18n import Translator, translator
from agent_console.store.local import LocalStore, Moved, Progress, StoreError, move_aside

__all__ = ["CaseQuery", "NotAllowed", "StoreError", "Workspace"]


class NotAllowed(PermissionError):
    """The actor's role does not allow this action."""


class Workspace:
    def __init__(self, settings: Settings, now: Callable[[], datetime] | None = None,
                 store: LocalStore | None = None) -> None:
        self.settings = settings
        self._now = now or (lambda: datetime.now(timezone.utc))
        self._home_store = store or LocalStore(settings.db)
        self._home_thread = threading.get_ident()
        self._thread_stores = threading.local()
        self._generation = deadline_service.generation(self._home_store, settings)
        try:
            self.settings, self.profile = self._load_profile(settings)
        except BaseException:
            self._home_store.close()
            raise
        self.calendar: WorkingCalendar = deadline_service.make_calendar(self.settings, self.profile, self.store)
        # a broken calendar_file (file:line), or "": deadlines then ignore the team's closures until it is fixed
        self.calendar_problem = deadline_service.local_days(settings)[1]
        self.clocks = ClockMath(self.calendar)
        self.lifecycle = Lifecycle(self.profile, self.clocks, self._other_profile)
        self.vocab: Vocabulary = load_vocabulary()
        # why the stored deadlines may be stale (a new calendar or profile version): refold them (recompute_deadlines)
        self.stale_reasons: list[str] = deadline_service.stale_reasons(self.store, self.calendar, self.profile)
        basis = deadline_service.stored_basis(self.store)
        # the first console of a profile on this database records its basis too (not only the first console of
        # all): a later override of that profile then makes its cases stale
        if not self.stale_reasons and (basis is None or self.profile.id not in (basis.get("profiles") or {})):
            try:
                self._record_basis(counted=basis is None)
            except (sqlite3.Error, StoreError):
                if basis is None:
                    raise
                # a full disk or a busy database: recorded at the next open (the deadlines themselves are current)
        self._remember_profile()
        self.settings = settings = self._granted(self.settings)  # (the profile may have added a phrasebook folder)
        self._specs = {c.id: c for c in self.profile.clocks}
        # this console's run: an intake draft saved by another run and never left with Esc was cut off by a crash
        self.session = new_id()
        if self.store.meta("list_documents") is None:
            # a database from before the list documents: fill them in once, then never look again
            if self.store.has_cases_without_documents():
                self.store.rebuild(self.lifecycle)
            self.store.set_meta("list_documents", "1")

    @property
    def store(self) -> LocalStore:
        """This thread's connection to the local database: the console's own on the thread that opened the
        workspace, one of its own on any other thread (a worker's query never runs inside, or beside, a transaction
        of the UI thread on a shared connection). A thread's connection closes when the thread ends."""
        if threading.get_ident() == self._home_thread:
            return self._home_store
        store = getattr(self._thread_stores, "store", None)
        if store is None:
            store = self._thread_stores.store = self._home_store.another()
        return store

    def _granted(self, settings: Settings) -> Settings:
        """With a central PostgreSQL, the role and teams are what the centre grants this login (learnt at sync)."""
        if not settings.central.startswith(("postgresql://", "postgres://")):
            return settings
        raw = self.store.meta("central_identity")
        if not raw:
            return settings.model_copy(update={"role": "agent"})  # nothing granted yet: the narrowest view
        granted = json.loads(raw)
        teams = granted.get("teams") or [settings.team]
        return settings.model_copy(update={"role": granted.get("role", "agent"), "team": teams[0],
                                           "lead_teams": teams[1:]})

    # -- time -------------------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self._now()

    @property
    def tz(self) -> Any:
        return self.calendar.tz

    @property
    def actor(self) -> str:
        return self.settings.agent

    @property
    def is_lead(self) -> bool:
        return self.settings.is_lead

    def event(self, kind: str, case_id: str | None, payload: BaseModel | dict[str, Any] | None = None,
              at: datetime | None = None) -> Event:
        return make_event(kind, case_id, self.actor, self.store.device_id, at or self.now(), payload)

    # -- writing ----------------------------------------------------------------------------------------------
    def register(self, case: NewCase | dict[str, Any], at: datetime | None = None) -> CaseState:
        """Register a new case (and accept it at once when its channel is auto-accepted)."""
        events = self.registration_events(case, at)
        states = self.store.append(events, self.lifecycle)
        return states[events[0].case_id or ""]

    def registration_events(self, case: NewCase | dict[str, Any], at: datetime | None = None,
                            case_id: str | None = None) -> list[Event]:
        new = case if isinstance(case, NewCase) else NewCase.model_validate(case)
        new = normalise(new, self.profile, self.vocab, now=self.now())
        at = at or self.now()
        received = new.received_at or at
        case_id = case_id or new_id()
        payload = new.model_dump(mode="json", exclude={"received_at"}) | {
            "number": "",  # the store numbers the case inside the writing transaction
            "received_at": received.isoformat(),
            "owner": new.owner or self.actor,
            "team": new.team or self.settings.team,
            "profile": self.profile.id,
        }
        events = [self.event("registered", case_id, payload, at)]
        if new.anonymous and self.profile.anonymous == "park":
            events.append(self.event("parked", case_id, {"reason": translator(self.settings.lang)("system_note.parked_anonymous")}, at))
        elif new.channel in self.profile.auto_accept_channels:
            events.append(self.event("accepted", case_id, {"note": ""}, at))
        return events

    def split_registration_events(self, case: NewCase | dict[str, Any], also: list[str],
                                  at: datetime | None = None) -> list[list[Event]]:
        """One intake touching several categories (DOMAIN §2): one case per category, the first is the main case
        and its department leads; each other category's department gets a copy linked to it. Events per case, the
        main case's first; append them together so the split is all or nothing."""
        new = case if isinstance(case, NewCase) else NewCase.model_validate(case)
        new = normalise(new, self.profile, self.vocab, now=self.now())
        others = []
        for category in also:
            try:
                cat = normalise(new.model_copy(update={"category": category}), self.profile, self.vocab).category
            except IntakeError as exc:
                raise IntakeError({"also": exc.fields.get("category", str(exc))}) from exc
            if cat != new.category and cat not in others:
                others.append(cat)
        at = at or self.now()
        main_id, copy_ids = new_id(), [new_id() for _ in others]
        main = self.registration_events(new.model_copy(update={"linked": [*new.linked, *copy_ids]}), at, main_id)
        copies = [self.registration_events(new.model_copy(update={"category": cat, "linked": [*new.linked, main_id],
                                                                  "lead_case": main_id}), at, cid)
                  for cat, cid in zip(others, copy_ids)]
        return [main, *copies]

    def act(self, case_id: str, kind: str, payload: BaseModel | dict[str, Any] | None = None,
            at: datetime | None = None) -> CaseState:
        """Record one lifecycle action on a case; refuses what the role or the lifecycle does not allow."""
        if kind in LEAD_ONLY and not self.is_lead:
            raise NotAllowed(Reason("lead_only"))
        if kind == "registered":
            raise IllegalTransition(kind, Reason("register_new"))
        if kind == "escalated":
            return self.escalate(case_id, (payload or {}).get("reason", "") if isinstance(payload, dict) else "")[0]
        if kind == "field_edited" and isinstance(payload, dict) and "old" not in payload:
            current = self.store.state(case_id)
            if current is not None:  # a correction carries the value it replaces
                old = field_value(current, str(payload.get("field", "")))
                payload = payload | {"old": str(old) if old is not None and not isinstance(old, list) else old}
        event = self.event(kind, case_id, payload, at)
        return self.store.append([event], self.lifecycle)[case_id]

    def escalate(self, case_id: str, reason: str = "", at: datetime | None = None) -> tuple[CaseState, CaseState]:
        """Escalate a closed case: a NEW linked case (counts as 2 in statistics) and the link on the old one."""
        old = self.require(case_id)
        at = at or self.now()
        probe = self.event("escalated", case_id, {"new_case": "probe", "reason": reason}, at)
        self.lifecycle.check(old, probe)
        new = NewCase(
            received_at=at, channel=old.channel, category=old.category,
            complexity="complex" if old.complexity == "general" else old.complexity,
            complainant=old.complainant, respondent=old.respondent, facts=old.facts,
            request=reason or old.request, flags=with_repeat_flag(old.flags),
            escalated_from=old.id, owner=self.actor,
        )
        reg = self.registration_events(new, at)
        new_id_ = reg[0].case_id or ""
        link = self.event("escalated", case_id, {"new_case": new_id_, "reason": reason}, at)
        states = self.store.append([*reg, link], self.lifecycle)
        return states[case_id], states[new_id_]

    def record_enquiry(self, phone: str, name: str, topic: str, answer: str, reason: str) -> Event:
        """An enquiry (not a complaint) recorded; its phone and name pass the same plausibility rules as a case's."""
        problems = plausibility.check_case(None, phone, name, "", None, None, self.profile.intake)
        if problems:
            raise IntakeError(problems)
        event = self.event("enquiry_recorded", None, {"phone": phone, "name": name, "topic": topic,
                                                      "answer": answer, "reason_not_complaint": reason})
        self.store.append([event], self.lifecycle)
        return event

    @property
    def read_only(self) -> StoreError | None:
        """Why this console's database can only be read (None when it can be written)."""
        return self.store.read_only

    def waiting_at_most(self, seconds: float) -> Any:
        """A block whose writes wait for another writer at most `seconds` (see LocalStore.waiting_at_most)."""
        return self.store.waiting_at_most(seconds)

    # -- reading ----------------------------------------------------------------------------------------------
    def case(self, case_id: str) -> CaseState | None:
        """A case by its id (None when this console has no such case)."""
        return self.store.state(case_id)

    def find(self, number_or_id: str) -> CaseState | None:
        """A case by its number or id."""
        return self.store.find(number_or_id)

    def timeline(self, case_id: str) -> list[Event]:
        """Every event of a case in the order the lifecycle folds them."""
        return self.store.events(case_id)

    def require(self, number_or_id: str) -> CaseState:
        state = self.store.find(number_or_id)
        if state is None:
            raise KeyError(f"no case {number_or_id!r}")
        return state

    def views(self, state: CaseState, now: datetime | None = None) -> list[ClockView]:
        return self.lifecycle.views(state, now or self.now())

    def available_actions(self, state: CaseState) -> dict[str, str | None]:
        return self.lifecycle.available(state, self.actor, self.is_lead, self.now())

    def list_rows(self, query: CaseQuery) -> list[dict[str, Any]]:
        return self.store.case_rows(query)

    def list_summaries(self, query: CaseQuery) -> list[dict[str, Any]]:
        """What a case list shows of each case (id, number, status, paused, category, doc, clocks), nothing more."""
        return self.store.case_rows(query, columns="c.id, c.number, c.status, c.paused, c.category, c.doc, c.clocks")

    def deadlines(self, clocks: dict[str, Any], now: datetime,
                  memo: dict[tuple[Any, ...], dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
        """Every clock of a case (from its stored JSON) as it stands at `now`: the fast path for lists.

        `memo` (one per list and instant) reuses answers: day clocks end at midnight, so many cases share a due.
        """
        out: dict[str, dict[str, Any]] = {}
        lang = self.settings.lang
        tz = self.tz
        for cid, raw in clocks.items():
            spec = self._specs.get(cid)
            if spec is None:
                continue
            if memo is not None:
                key = (cid, raw.get("due"), raw.get("warn_at"), raw.get("stopped_at"), raw.get("paused_at"),
                       raw.get("remaining_at_pause"), raw.get("remaining_at_stop"), raw.get("started_at", "")[:4])
                hit = memo.get(key)
                if hit is not None:
                    out[cid] = hit
                    continue
            state, band, due, remaining = self.clocks.evaluate_raw(spec, raw, now)
            out[cid] = {
                "label": label(spec, lang),
                "due": due.astimezone(tz).isoformat() if due else None,
                "state": state,
                "band": band,
                "remaining_seconds": round(remaining),
                "unit": spec.unit.value,
            }
            if band in LIVE_BANDS and spec.unit == "working_days":
                years = deadline_service.provisional_years(
                    self.calendar, spec.unit.value, parse_instant(raw.get("started_at")), due)
                if years:
                    out[cid]["provisional"] = True
                    out[cid]["provisional_reason"] = self.provisional_reason(years)
            if memo is not None:
                memo[key] = out[cid]
        return out

    def provisional_reason(self, years: list[int]) -> str:
        """Why a deadline may still move: the years it counts through have no official schedule yet."""
        return Translator(self.settings.lang)("calendar.provisional_reason",
                                              years="、".join(str(y) for y in years) if self.settings.lang == "zh"
                                              else ", ".join(str(y) for y in years))

    def provisional_note(self, view: ClockView) -> str | None:
        """The reason a clock's due is provisional (it counts through a year with no official schedule), or None."""
        if view.band not in LIVE_BANDS:
            return None
        years = deadline_service.provisional_years(self.calendar, view.unit, view.started_at, view.due)
        return self.provisional_reason(years) if years else None

    # -- the calendar and stale deadlines ---------------------------------------------------------------------
    def year_sources(self, years: list[int]) -> list[dict[str, Any]]:
        """Where each year's days come from: official (with the notice), historical or provisional."""
        out = []
        for year in years:
            status = self.calendar.year_status(year)
            schedule = self.calendar.schedules.get(year)
            out.append({"year": year, "status": status,
                        "source": schedule.source if schedule else
                        ("holidays package" if status == "historical" else "projected (holidays package rules)"),
                        "number": schedule.number or None if schedule else None,
                        "published": schedule.published.isoformat() if schedule and schedule.published else None,
                        "url": schedule.url if schedule else None})
        return out

    def upcoming_provisional(self, days: int = 60) -> list[int]:
        return deadline_service.upcoming_provisional(self, days)

    def load_calendar_year(self, path: Path) -> tuple[YearSchedule, deadline_service.RecomputeReport]:
        """Load an official year (checked first: file:line, nothing stored on any problem), switch this console's
        calendar to it and recompute every open case's deadlines."""
        schedule = deadline_service.check_year_file(path, self.profile.country)
        deadline_service.save_year(self.store, schedule, str(path), self.actor)
        self.reload_reference()
        return schedule, self.recompute_deadlines(["calendar"])

    def _reload_calendar(self) -> None:
        self.calendar = deadline_service.make_calendar(self.settings, self.profile, self.store)
        self.clocks = ClockMath(self.calendar)
        self.lifecycle = Lifecycle(self.profile, self.clocks, self._other_profile)

    def _load_profile(self, settings: Settings) -> tuple[Settings, Profile]:
        """The configured profile with the config's overrides and the team's published ones (the centre's), and the
        settings with the folder of the team's published phrasebook files in place of any earlier one."""
        from agent_console.services import reference_data

        overrides = reference_data.merged_overrides(self.store, settings)
        folder = reference_data.phrasebook_dir(self.store, settings)
        dirs = [d for d in settings.phrasebook_dirs if not reference_data.is_reference_folder(d, settings)]
        if folder is not None:
            dirs.append(folder)
        if dirs != list(settings.phrasebook_dirs):
            settings = settings.model_copy(update={"phrasebook_dirs": dirs})
        from agent_console.support.config import config_file

        profile = load_profile(settings.profile, overrides or None, settings.profile_dirs,
                               overrides_file=config_file())
        return settings, profile

    def reload_reference(self) -> list[str]:
        """After the team's reference data or the calendar changed (a sync pulled it, another process loaded a
        year): the profile, calendar and phrasebook again, and why the stored deadlines are now stale
        (recompute_deadlines brings them up to date). Everything is made first and switched in one step: a problem
        leaves the versions in use as they were."""
        from agent_console.services import reference_data

        generation = deadline_service.generation(self.store, self.settings)
        settings, profile = self._load_profile(self.settings)
        calendar = deadline_service.make_calendar(settings, profile, self.store)
        clocks = ClockMath(calendar)
        lifecycle = Lifecycle(profile, clocks, self._other_profile)
        stale = deadline_service.stale_reasons(self.store, calendar, profile)
        problem = deadline_service.local_days(settings)[1]
        (self.settings, self.profile, self._specs, self.calendar, self.clocks, self.lifecycle, self.stale_reasons,
         self.calendar_problem, self._generation) = (settings, profile, {c.id: c for c in profile.clocks}, calendar,
                                                     clocks, lifecycle, stale, problem, generation)
        self._remember_profile()
        reference_data.drop_other_phrasebooks(settings, next(
            (d for d in settings.phrasebook_dirs if reference_data.is_reference_folder(d, settings)), None))
        return self.stale_reasons

    def _remember_profile(self) -> None:
        """Keep this console's profile for the consoles of other profiles that fold its cases; best effort: a full
        disk or a read-only database must not keep the console from opening (they fold under the shipped one)."""
        if self.store.read_only:
            return
        try:
            deadline_service.remember_profile(self.store, self.profile)
        except StoreError:
            pass

    def reference_changed(self) -> bool:
        """Whether the calendar or the team's reference data changed since this workspace last looked (a cheap
        check, meant for a timer); when it did, switch to it (reload_reference) and say True."""
        now = deadline_service.generation(self.store, self.settings)
        if now == self._generation:
            return False
        self._generation = now  # a version that cannot be used is told once, not at every look
        self.reload_reference()
        return True

    def _other_profile(self, profile_id: str) -> Lifecycle | None:
        """The lifecycle of a case registered under another profile than this console's (it keeps that profile's
        rules, in `rebuild` too); None when the profile is not available here."""
        return deadline_service.other_lifecycle(self.settings, self.store, self.calendar, profile_id)

    def recompute_deadlines(self, reasons: list[str] | None = None, progress: Progress | None = None,
                            full: bool = False) -> deadline_service.RecomputeReport:
        """Refold the open cases a calendar or profile change can reach (every open case when asked without one, or
        `full`) under this console's calendar and profile, record the new basis, say what moved (from a worker
        thread too: `store` is that thread's own connection); `progress(done, total)` per batch."""
        report = deadline_service.recompute(self.settings, self.profile, reasons or self.stale_reasons or ["asked"],
                                            self.store, self.now().astimezone(self.calendar.tz).date(), progress,
                                            full)
        self.stale_reasons = []
        return report

    def _record_basis(self, counted: bool = False) -> None:
        """The deadlines are current: record their basis. `counted`: every open case with its days recorded
        (case_reach) was folded on this calendar and profile (a database without open cases yet, or every open
        case refolded just now), so what they counted on is recorded too and the next change refolds only the
        cases it reaches; otherwise that waits for a recompute (until then a change refolds every open case)."""
        with self.store.transaction():
            self.store.set_meta(deadline_service.BASIS_KEY,
                                deadline_service.record_basis(self.store, self.calendar, self.profile))
            if counted:
                self.store.set_meta(deadline_service.COUNTED_KEY, deadline_service.record_counted(
                    self.store, self.calendar, self.profile, self.now().astimezone(self.calendar.tz).date()))

    def last_recompute(self) -> dict[str, Any] | None:
        return deadline_service.last_report(self.store)

    def list_cases_json(self, query: CaseQuery, now: datetime | None = None) -> str:
        """The masked list as one JSON array text, built from the stored list documents (the CLI's fast path)."""
        return "".join(self.iter_cases_json(query, now))

    def iter_cases_json(self, query: CaseQuery, now: datetime | None = None) -> Iterator[str]:
        """list_cases_json's text in pieces, as the rows come from the database: a list of any length is written
        out in flat memory (services.case_json)."""
        from agent_console.services.case_json import iter_cases_json

        return iter_cases_json(self, query, now or self.now())

    def case_dict(self, state_json: str | CaseState, now: datetime | None = None, mask: bool = False) -> dict[str, Any]:
        """A case as the stable JSON interface prints it."""
        now = now or self.now()
        data = json.loads(state_json.model_dump_json() if isinstance(state_json, CaseState) else state_json)
        clocks = data.pop("clocks", {})
        data["deadlines"] = self.deadlines(clocks, now)
        running = [(d["due"], k) for k, d in data["deadlines"].items() if d["band"] in LIVE_BANDS
                   and d["due"]]
        data["next_due"] = min(running)[0] if running else None
        if mask:
            c = data.get("complainant", {})
            c["phone"] = mask_phone(c.get("phone", ""))
            c["id_number"] = mask_id(c.get("id_number", ""))
            c["name"] = mask_name(c.get("name", ""))
        return data

    def list_cases(self, query: CaseQuery, now: datetime | None = None, mask: bool = True) -> list[dict[str, Any]]:
        now = now or self.now()
        return [self.case_dict(row["state"], now, mask) for row in self.store.case_rows(query)]

    def due_within(self, span: timedelta, now: datetime | None = None) -> datetime:
        return (now or self.now()) + span

    def people(self, case_ids: list[str]) -> dict[str, tuple[str, str]]:
        """Case id -> (complainant's name, phone digits), unmasked, for many cases in one query."""
        return self.store.people(case_ids)

    def count_cases(self, open_only: bool = False) -> int:
        return self.store.count_cases(open_only=open_only)

    def rebuild(self, progress: Progress | None = None) -> list[str]:
        """Recompute every case from its events (each under the profile it was registered with); the differences."""
        return self.store.rebuild(self.lifecycle, progress=progress)

    def recompute_open(self, progress: Progress | None = None) -> list[Moved]:
        """Refold the open cases under this workspace's calendar and profile (after either changed); return the
        cases whose deadlines moved. Meant for a worker thread: it works on a connection of its own, in batches
        (each its own transaction), so the console keeps working meanwhile; `progress(done, total)` per batch."""
        if str(self.settings.db) == ":memory:":
            return self.store.recompute_open(self.lifecycle, progress)
        own = LocalStore(self.settings.db)
        try:
            return own.recompute_open(self.lifecycle, progress)
        finally:
            own.close()

    @property
    def database_file(self) -> Path:
        """The local database's file."""
        return Path(self.settings.db)

    def damage_in(self, error: BaseException) -> StoreError | None:
        """The damaged-database error `error` is (a StoreError saying so, or SQLite's own error from a read that
        met a damaged page), with which check failed; None for any other error."""
        import sqlite3

        from agent_console.store.local import store_error

        for exc in (error, error.__cause__):
            if isinstance(exc, StoreError):
                return exc if exc.kind == "damaged" else None
            if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.IntegrityError):
                said = store_error(Path(self.settings.db), exc)
                return said if said.kind == "damaged" else None
        return None

    def start_fresh(self) -> Path:
        """Leave a damaged database for a fresh file of the same name: the damaged one is renamed beside it, kept as
        it was (for repair; what it held that the centre has comes back at the next sync), and this console goes on
        on an empty file. What the screens hold in memory (an intake being typed) is theirs to save again.
        Returns where the damaged file now is."""
        import sqlite3

        try:
            self._home_store.close()
        except sqlite3.Error:
            pass  # a damaged file may refuse even to close cleanly; the rename below is what matters
        aside = move_aside(Path(self.settings.db), self.now())
        self._home_store = LocalStore(self.settings.db)
        self._thread_stores = threading.local()  # worker threads open the new file too
        self._generation = deadline_service.generation(self._home_store, self.settings)
        self.calendar = deadline_service.make_calendar(self.settings, self.profile, self._home_store)
        self.clocks = ClockMath(self.calendar)
        self.lifecycle = Lifecycle(self.profile, self.clocks, self._other_profile)
        self.stale_reasons = []
        self._record_basis(counted=True)
        deadline_service.remember_profile(self.store, self.profile)
        self.store.set_meta("list_documents", "1")
        return aside

    def close(self) -> None:
        self._home_store.close()
