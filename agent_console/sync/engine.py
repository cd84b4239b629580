"""The sync protocol on the console's side: push the outbox, then pull after the cursor.

Push sends unacknowledged events in batches and marks them only after the centre answers; a crash between the
centre's commit and our marking just sends the batch again, which the centre ignores by event id. Pull applies a
page of the centre's events and advances the cursor in the same local transaction, so a crash never skips or
double-applies a page. Events from other devices are folded in (hlc, id) order with the lifecycle in non-strict mode:
concurrent actions that cannot both stand are kept and the case is flagged for the lead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from agent_console.core.hlc import ClockSkew
from agent_console.sync.central import Central, CentralUnavailable


@dataclass
class SyncReport:
    pushed: int = 0
    pulled: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    skew_ms: int = 0
    error: str = ""
    waiting: int = 0  # events still in the outbox afterwards
    finished_at: str = ""

    @property
    def online(self) -> bool:
        return not self.error


def cursor_key(central: Central) -> str:
    return f"sync_cursor:{central.url}"


def push(store: Any, central: Central, batch: int = 5000) -> SyncReport:
    report = SyncReport()
    after = None
    while True:
        rows = store.outbox_rows(batch, after)
        if not rows:
            break
        result = central.push_rows(rows)
        store.acknowledge(result.acknowledged, result.refused)
        report.pushed += len(result.accepted)
        report.refused.extend(result.refused)
        report.skew_ms = max(report.skew_ms, result.skew_ms)
        if len(rows) < batch:
            break
        after = rows[-1][0]
    return report


def pull(store: Any, central: Central, lifecycle: Any, batch: int = 5000) -> int:
    key = cursor_key(central)
    pulled = 0
    while True:
        cursor = int(store.meta(key) or 0)
        page = central.pull_page(cursor, batch)
        if not page.count:
            break
        done = store.ingest_page(page.text, lifecycle, meta={key: str(page.last_seq)})
        receive_stamps(store.hlc, done.stamps)
        pulled += page.count
        if page.count < batch:
            break
    store.set_meta("hlc_last", store.hlc.last)
    return pulled


def receive_stamps(clock: Any, stamps: list[str]) -> None:
    """Fold a page's stamps into our clock: receiving the latest is the same as receiving each, unless it is too far
    ahead (the centre flagged it already; we keep our own clock sane and take the others one by one)."""
    if not stamps:
        return
    try:
        clock.receive(max(stamps))
    except ClockSkew:
        for stamp in stamps:
            try:
                clock.receive(stamp)
            except ClockSkew:
                pass


def remember_identity(store: Any, central: Central) -> None:
    """What the centre grants this login (role and teams): where a centre decides, a local flag cannot widen it."""
    if not central.url.startswith(("postgresql://", "postgres://")):
        return
    ident = central.identity()
    store.set_meta("central_identity", json.dumps({"actor": ident.actor, "role": ident.role,
                                                   "teams": list(ident.teams)}))


def sync_once(store: Any, central: Central, lifecycle: Any) -> SyncReport:
    """Push everything waiting, then pull everything new; a centre that is down gives a report, not an error."""
    report = SyncReport()
    try:
        remember_identity(store, central)
        pushed = push(store, central)
        report.pushed, report.refused, report.skew_ms = pushed.pushed, pushed.refused, pushed.skew_ms
        report.pulled = pull(store, central, lifecycle)
    except CentralUnavailable as exc:
        report.error = f"offline: {exc}"
    report.waiting = store.outbox_count()
    report.finished_at = datetime.now(timezone.utc).isoformat()
    store.set_meta("sync_last", report.finished_at if report.online else store.meta("sync_last") or "")
    if report.skew_ms:
        store.set_meta("sync_clock_skew_ms", str(report.skew_ms))
    return report


def sync_workspace_in_thread(ws: Any) -> SyncReport:
    """One sync round for a console, on a connection of its own (safe from a worker thread; the UI keeps its own)."""
    from agent_console.store.local import LocalStore
    from agent_console.sync.central import open_central

    store = LocalStore(ws.settings.db)
    try:
        central = open_central(ws.settings.central, ws.settings)
        try:
            return sync_once(store, central, ws.lifecycle)
        finally:
            central.close()
    except Exception as exc:  # noqa: BLE001 - a broken centre is a status, never a crash
        return SyncReport(error=f"offline: {exc}", waiting=store.outbox_count())
    finally:
        store.close()
