"""The one way a screen or widget reaches the workspace the console shares: `self.ws`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent_console.services.workspace import Workspace


class UsesWorkspace:
    """Mixed into screens: `self.ws` is the app's workspace (settings, profile, calendar, the services' entry)."""

    @property
    def ws(self) -> Workspace:
        return self.app.ws  # type: ignore[attr-defined]
