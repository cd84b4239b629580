"""The one way a screen or widget reaches the workspace the console shares: `self.ws`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from agent_console.services.workspace import Workspace


class UsesWorkspace:
    """Mixed into screens and widgets: `self.ws` is the app's workspace (settings, profile, calendar, the services'
    entry); a worker of theirs that fails is told to the agent as a message (and logged), never lost in silence."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            app = self.app  # type: ignore[attr-defined]
            app.log.error(f"worker {event.worker.name!r} failed: {event.worker.error!r}")
            app.notify(app.t("app.worker_failed", error=app.t.reason(event.worker.error)), severity="error",
                       markup=False)

    @property
    def ws(self) -> Workspace:
        return self.app.ws  # type: ignore[attr-defined]
