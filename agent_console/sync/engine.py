"""The sync protocol on the console's side: push the outbox, then pull after the cursor.

Push sends unacknowledged events in batches and marks them only after the centre answers; a crash between the
centre's commit and our marking just sends the batch again, which the centre ignores by event id. Pull applies a
page of the centre's events and advances the cursor in the same local transaction, so a crash never skips or
double-applies a page. Events from other devices are folded in (hlc, id) order with the lifecycle in non-strict mode:
concurrent actions that cannot both stand are kept and the case is flagged for the lead.
"""

from __future__ import annotations

import json
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from agent_console.core.hlc import ClockSkew
from agent_console.core.errors import Said
from agent_console.sync.central import Central, CentralUnavailable, PushResult
from agent_console.sync.failures import centre_failure
from agent_console.core.event_checks import outbox_problems


@dataclass
class SyncReport:
    pushed: int = 0
    pulled: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    skew_ms: int = 0
    error: Said | str = ""  # why the round stopped (a Said: told in the console's language; str() is English)
    quarantined: int = 0  # pulled rows kept aside this round (they did not parse or fold)
    waiting: int = 0  # events still in the outbox afterwards
    finished_at: str = ""
    reference: list[str] = field(default_factory=list)  # reference files newly in use ("kind:name vN")

    @property
    def online(self) -> bool:
        return not self.error


def cursor_key(central: Central) -> str:
    return f"sync_cursor:{central.url}"


# 20,000 rows a batch: each batch costs the centre a fixed round (its checks' set-up, the team lock, the commit); at a
# million events 20,000 pushed in 8.0-8.5 s against 9.1 s with 5,000 (scripts/bench_sync.py), and the team's lock is
# still held only for the ~0.1 s of one batch's recording. Two batches in flight: about 20 MB of rows at most.
PUSH_BATCH = 20_000


def push(store: Any, central: Central, batch: int = PUSH_BATCH, report: SyncReport | None = None) -> SyncReport:
    """Send the outbox in batches, taking rows out only once the centre has answered for them.

    Up to two batches are in flight: while the centre records one, the next is on its way and this thread reads the
    one after from the outbox, checks it and acknowledges what was answered (the local database is used by this
    thread only). A row the centre would refuse anyway (its shape, its stamp: core.event_checks) is not sent; it is
    kept as refused with the reason, like the centre's refusals. `report` (if given) counts as it goes, so a push that
    fails half way still says what was acknowledged before.
    """
    report = report if report is not None else SyncReport()
    rows = store.outbox_rows(batch)
    if not rows:
        return report
    if len(rows) < batch:  # everything in one batch (an incremental sync): no thread needed
        sendable = _checked(store, report, rows)
        if sendable:
            _acknowledge(store, report, central.push_rows(sendable))
        return report
    # the rows are checked on the pipeline's threads, beside the centre recording the batch before
    pipeline = central.push_pipeline(split) if hasattr(central, "push_pipeline") else _OneAtATime(central)
    in_flight: deque[Future[PushResult]] = deque()
    try:
        while rows or in_flight:
            while rows and len(in_flight) < 2:
                in_flight.append(pipeline.submit(rows))
                rows = store.outbox_rows(batch, rows[-1][0]) if len(rows) == batch else []
            _acknowledge(store, report, in_flight.popleft().result())  # raises if the centre gave no answer
    finally:
        pipeline.close()  # waits for what is still in flight (after an error it is not recorded, or sent again)
    return report


def split(rows: list[tuple]) -> tuple[list[tuple], list[tuple[str, str]]]:
    """The outbox rows fit to send, and (event id, reason) for the others (core.event_checks).

    A row the store queued from an event it had just validated (its `checked` column, store.outbox_rows) is not
    validated again: only the others are (queued again after a refusal, from an older console, or written behind the
    store's back). The centre checks every row whatever a console says."""
    unchecked = [r for r in rows if len(r) < 11 or not r[10]]
    bad = outbox_problems(unchecked) if unchecked else []
    if not bad:
        return rows, []
    skip = {b[0] for b in bad}
    return [r for r in rows if r[1] not in skip], bad


def _checked(store: Any, report: SyncReport, rows: list[tuple]) -> list[tuple]:
    """The rows fit to send; the others are taken out of the outbox as refused, with the reason."""
    sendable, bad = split(rows)
    if bad:
        store.acknowledge([], bad)
        report.refused.extend(bad)
    return sendable


class _OneAtATime:
    """A centre's push_rows on a thread of its own, one batch after the other."""

    def __init__(self, central: Central) -> None:
        self._push = central.push_rows
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-push")

    def submit(self, rows: list[tuple]) -> Future[PushResult]:
        return self._pool.submit(self._checked_push, rows)

    def _checked_push(self, rows: list[tuple]) -> PushResult:
        sendable, bad = split(rows)
        result = self._push(sendable) if sendable else PushResult()
        result.refused = bad + result.refused
        return result

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _acknowledge(store: Any, report: SyncReport, result: PushResult) -> None:
    store.acknowledge(result.acknowledged, result.refused)
    report.pushed += len(result.accepted)
    report.refused.extend(result.refused)
    report.skew_ms = max(report.skew_ms, result.skew_ms)


def pull(store: Any, central: Central, lifecycle: Any, batch: int = 5000, report: SyncReport | None = None,
         progress: Callable[[int, int | None], None] | None = None) -> int:
    """Apply the centre's pages after our cursor, each with the cursor it advances to in one local transaction.

    The centre leaves out the events this console recorded (it has them: `store.device_id`). While one page is
    applied here, the next is fetched on another thread (from the cursor the page in hand will leave behind; if
    applying it fails, the fetched page is simply dropped). Rows that do not parse or fold are kept aside by the
    store (counted in `report.quarantined`); the clock moves past every stamp applied. `progress(pulled, left)` is
    told after each page (left: what the centre holds past the cursor, at most; None when it does not say).
    """
    key = cursor_key(central)
    teams = _known_teams(store)
    device = getattr(store, "device_id", None)
    pulled = 0
    page = central.pull_page(store.meta(key) or "0", batch, device)
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-pull") as pool:
            while page.count or str(page.last_seq) != (store.meta(key) or "0"):
                following = (pool.submit(central.pull_page, page.last_seq, batch, device)
                             if page.count >= batch else None)
                done = store.ingest_page(page.text, lifecycle, meta={key: str(page.last_seq)}, teams=teams)
                receive_stamps(store.hlc, done.stamps)
                pulled += page.count
                if report is not None:
                    report.pulled = pulled
                    report.quarantined += done.quarantined
                if progress is not None:
                    progress(pulled, page.remaining)
                if following is None:
                    break
                page = following.result()
    finally:
        if pulled:  # the clock is past what was applied, even if a later page did not come
            store.set_meta("hlc_last", store.hlc.last)
    return pulled


def _known_teams(store: Any) -> tuple[str, ...] | None:
    """The login's teams as the centre last said (None: not known, as with the embedded centre)."""
    raw = store.meta("central_identity")
    if not raw:
        return None
    try:
        return tuple(json.loads(raw).get("teams") or ()) or None
    except (ValueError, AttributeError):
        return None


def receive_stamps(clock: Any, stamps: list[str]) -> None:
    """Fold a page's stamps into our clock (the HLC receive rule): receiving the latest is the same as receiving
    each, unless it is absurd (never the case for an applied row: those are kept aside); then one by one."""
    if not stamps:
        return
    try:
        clock.receive(max(stamps))
    except (ClockSkew, ValueError):
        for stamp in stamps:
            try:
                clock.receive(stamp)
            except (ClockSkew, ValueError):
                pass


def remember_identity(store: Any, central: Central) -> None:
    """What the centre grants this login (role and teams): where a centre decides, a local flag cannot widen it."""
    if not central.url.startswith(("postgresql://", "postgres://")):
        return
    ident = central.identity()
    store.set_meta("central_identity", json.dumps({"actor": ident.actor, "role": ident.role,
                                                   "teams": list(ident.teams)}))


def remember_roster(store: Any, central: Central) -> None:
    """The people of this login's teams as the centre knows them (meta `central_roster`, read by services/roster.py):
    a case is given only to someone on it. A centre that does not say leaves the last roster (or none) in place."""
    members = central.members() if hasattr(central, "members") else None
    if members is None:
        return
    store.set_meta("central_roster", json.dumps([{"login": m.login, "role": m.role, "teams": list(m.teams)}
                                                 for m in members], ensure_ascii=False))


def sync_once(store: Any, central: Central, lifecycle: Any,
              progress: Callable[[int, int | None], None] | None = None) -> SyncReport:
    """Push everything waiting, then pull everything new; a centre that is down gives a report, not an error (and
    the report still counts what was pushed and pulled before the connection dropped)."""
    report = SyncReport()
    try:
        remember_identity(store, central)
        push(store, central, report=report)
        pull(store, central, lifecycle, report=report, progress=progress)
        remember_roster(store, central)
    except CentralUnavailable as exc:  # told by key (sync/failures.py); str() is the English for logs and JSON
        why = centre_failure(exc)
        report.error = (Said("sync.offline_after", why=why, pushed=report.pushed, pulled=report.pulled)
                        if report.pushed or report.pulled else Said("sync.offline", why=why))
    report.waiting = store.outbox_count()
    report.finished_at = datetime.now(timezone.utc).isoformat()
    store.set_meta("sync_last", report.finished_at if report.online else store.meta("sync_last") or "")
    if report.skew_ms:
        store.set_meta("sync_clock_skew_ms", str(report.skew_ms))
    return report
