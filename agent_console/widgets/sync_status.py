"""The sync status line: online or offline, events waiting, last successful sync, refused events with the reason.

When a centre is configured it runs the sync in a worker thread (its own database connection) at the configured
interval and soon after each local change; the screen never waits for the network.
"""

from __future__ import annotations

from typing import Any

from textual import work
from agent_console.widgets.plain import Static

from agent_console.services import syncing
from agent_console.widgets.workspace_access import UsesWorkspace


FIRST_SYNC_AFTER = 1.0  # seconds after the console opens


class SyncStatus(UsesWorkspace, Static):
    DEFAULT_CSS = "SyncStatus { height: 1; padding: 0 1; background: $boost; color: $text-muted; }"

    def __init__(self) -> None:
        super().__init__("", id="sync-status")
        self._last_outbox = -1
        self._report: Any = None
        self._recompute: tuple[int, int] | None = None  # (done, total) of the background deadline recompute

    def on_mount(self) -> None:
        self._show()
        self._last_outbox = syncing.waiting(self.ws)
        # the waiting count follows every local change, with or without a centre (it used to stand still until
        # the console restarted)
        self.set_interval(2.0, self._after_change)
        if self.ws.settings.central:
            self.set_interval(max(self.ws.settings.sync_interval, 2.0), self.run_sync)
            # the first round once the screen is up: a round started at once (pushing a big outbox, say) took
            # Python's lock from the first paint, and a console on a million cases opened 2.4 times slower with a
            # centre than without one
            self.set_timer(FIRST_SYNC_AFTER, self.run_sync)

    def refresh_now(self) -> None:
        """Show the state as it is now and, with a centre, sync at once (after the agent asked to resend)."""
        self._show()
        if self.ws.settings.central:
            self.run_sync()

    def _after_change(self) -> None:
        try:
            waiting = syncing.waiting(self.ws)
        except Exception as exc:  # a damaged file: the app offers a fresh one (this timer keeps running)
            failed = getattr(self.app, "database_read_failed", None)
            if failed is not None and failed(exc):
                return
            raise
        if waiting != self._last_outbox:
            self._show()
            if waiting and self.ws.settings.central:
                self.run_sync()
        self._last_outbox = waiting

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def run_sync(self) -> None:
        report = syncing.run_round(self.ws)
        self.app.call_from_thread(self._done, report)

    def _done(self, report: Any) -> None:
        self._report = report
        self._show()
        if getattr(report, "reference", None):  # the lead published: use it now, recompute the deadlines meanwhile
            self.notify(self.app.t("calendar.reference_applied", files=self.app.t.reference_files(report.reference)))
            check = getattr(self.app, "check_reference", None)
            if callable(check):
                check()
            self._show()
        if report.pulled and hasattr(self.screen, "load"):
            self.screen.load()

    def show_recompute(self, done: int | None, total: int = 0) -> None:
        """The background deadline recompute's progress on this line (None: it is over)."""
        self._recompute = None if done is None else (done, total)
        self._show()

    def _show(self) -> None:
        t, st = self.app.t, syncing.state(self.ws)
        busy = t("calendar.recomputing", done=self._recompute[0], total=self._recompute[1]) + " · " \
            if self._recompute else ""
        if not st.central:
            self.update(busy + t("sync.local_only", waiting=st.waiting))
            return
        r = self._report
        parts = [t("sync.online") if r is None or r.online else t("sync.offline"),
                 t("sync.waiting", count=st.waiting), t("sync.last", when=st.last)]
        if st.refused:
            parts.append(t("sync.refused", reason=t.error(st.refused)) + t("sync.retry_key"))
        if st.kept_aside:
            parts.append(t("sync.kept_aside", count=st.kept_aside))
        if st.skew_seconds:
            parts.append(t("sync.skew", seconds=st.skew_seconds))
        if st.reference:  # the versions in use, online or not (offline, the last good ones stay)
            parts.append(t("sync.reference", files=" ".join(
                t("sync.reference_file", kind=t(f"sync.reference_{kind}"), version=version)
                for kind, _, version in st.reference)))
        self.update(busy + " · ".join(parts))
