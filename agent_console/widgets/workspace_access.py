"""The one way a screen reaches the workspace the console shares: `self.ws`."""

from __future__ import annotations

from typing import Any


class UsesWorkspace:
    """Mixed into screens: `self.ws` is the app's workspace (settings, store, profile, calendar, actions)."""

    @property
    def ws(self) -> Any:
        return self.app.ws  # type: ignore[attr-defined]
