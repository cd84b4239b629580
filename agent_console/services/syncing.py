"""Sync for a console: one round on a connection of its own (safe from a worker thread) and what the status line
shows (events waiting, the last successful sync, the latest refusal, the clock's skew)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent_console.core.errors import Said
from agent_console.core.sync_reasons import told_reason
from agent_console.services import reference_data
from agent_console.store.local import LocalStore
from agent_console.sync.connect import open_central
from agent_console.sync.engine import SyncReport, sync_once
from agent_console.sync.failures import centre_failure

if TYPE_CHECKING:
    from agent_console.services.workspace import Workspace


@dataclass(frozen=True)
class SyncState:
    central: bool  # a centre is configured
    waiting: int  # events in the outbox
    last: str  # the last successful sync, "YYYY-MM-DD HH:MM:SS" (UTC) or "—"
    refused: object | None  # the latest refusal's reason, by key (core.sync_reasons): Translator.error tells it
    skew_seconds: int  # how far this device's clock runs ahead of the centre (0: within the bound)
    kept_aside: int = 0  # pulled events quarantined (they did not parse or fold): for the lead to look at
    reference: tuple[tuple[str, str, int], ...] = ()  # the team's reference files in use: (kind, name, version)


def run_round(ws: Workspace) -> SyncReport:
    """One sync round for a console, on a database connection of its own (the UI thread keeps its own)."""
    store = LocalStore(ws.settings.db)
    try:
        central = open_central(ws.settings.central, ws.settings)
        try:
            report = sync_once(store, central, ws.lifecycle)
            if report.online:
                try:  # the team's reference data: offline or refused, the last good version stays in use
                    report.reference = reference_data.pull(store, central, ws.settings, ws.profile.country)
                except Exception:  # noqa: BLE001 - a failed pull is retried next round
                    report.reference = []
            return report
        finally:
            central.close()
    except Exception as exc:  # noqa: BLE001 - a broken centre is a status, never a crash
        return SyncReport(error=Said("sync.offline", why=centre_failure(exc)), waiting=store.outbox_count())
    finally:
        store.close()


def reference_changed(ws: Workspace) -> bool:
    """Whether the team's reference data or the calendar changed in the database since the console last looked (a
    sync round pulled a version, another process loaded a year): the workspace switches to it and says True; its
    `stale_reasons` then say whether the deadlines need a recompute. Cheap: meant for a timer."""
    return ws.reference_changed()


def waiting(ws: Workspace) -> int:
    return ws.store.outbox_count()


def state(ws: Workspace) -> SyncState:
    store = ws.store
    last = store.meta("sync_last") or "—"
    refused = store.refused(1)
    skew = store.meta("sync_clock_skew_ms")
    return SyncState(central=bool(ws.settings.central), waiting=store.outbox_count(),
                     last=last[:19].replace("T", " "), refused=told_reason(refused[0][1]) if refused else None,
                     skew_seconds=int(skew) // 1000 if skew else 0, kept_aside=store.quarantine_count(),
                     reference=tuple((r["kind"], r["name"], r["version"]) for r in reference_data.in_use(store)))


def retry_refused(ws: Workspace) -> int:
    """Queue the refused events to be sent again (after the reason was fixed); how many."""
    return ws.store.requeue_refused()


def kept_aside(ws: Workspace, limit: int = 50) -> list[dict[str, object]]:
    """The pulled events kept aside, newest first, each with its reason (sync_quarantine)."""
    return ws.store.quarantined(limit)
