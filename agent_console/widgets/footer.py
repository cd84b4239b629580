"""A footer that rebuilds its keys once per burst of binding changes.

Textual's Footer recomposes (a new FooterKey per key, each styled with its parts) on every binding-change signal: a
screen that focuses its first field, fits its keys to the width and localizes them on opening sends several in a
row, and each rebuilt the whole footer (most often with the very keys it already showed: a focus change rarely changes
what the footer shows). Here a rebuild already scheduled absorbs the later signals, it reads the bindings when it
runs (so it shows the latest ones), and it is skipped when the keys to show are the ones on show.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Footer as _Footer

__all__ = ["Footer"]


class Footer(_Footer):
    _rebuild_pending = False
    _shown: tuple[Any, ...] | None = None

    def bindings_changed(self, screen: Any) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False  # a change from here on schedules the next rebuild
        if not self.is_attached:
            return
        shown = self._keys_to_show()
        if shown == self._shown:
            return
        self._shown = shown
        await self.recompose()

    def _keys_to_show(self) -> tuple[Any, ...]:
        """Everything compose() reads from the bindings, in its order."""
        active = self.screen.active_bindings
        keys = tuple((b.key, b.action, b.description, b.tooltip, tip, enabled, b.group)
                     for (_, b, enabled, tip) in active.values() if b.show)
        palette = active.get(self.app.COMMAND_PALETTE_BINDING) if self.show_command_palette else None
        if palette is not None:
            _, b, enabled, tip = palette
            keys += (("palette", b.key, b.description, b.tooltip, enabled),)
        return keys + (self.compact, self.app.ENABLE_COMMAND_PALETTE)
