"""A footer that rebuilds its keys once per burst of binding changes, and shows only the keys that fit whole.

Textual's Footer recomposes (a new FooterKey per key, each styled with its parts) on every binding-change signal: a
screen that focuses its first field, fits its keys to the width and localizes them on opening sends several in a
row, and each rebuilt the whole footer (most often with the very keys it already showed: a focus change rarely changes
what the footer shows). Here a rebuild already scheduled absorbs the later signals, it reads the bindings when it
runs (so it shows the latest ones), and it is skipped when the keys to show are the ones on show.

Textual's footer also lays every key out in a row and lets the palette key, docked at the right, cover whatever runs
under it: at 80 columns the case list read "f3 话" and the case screen "f4 话" (issue 15). Here the keys are chosen
to fit the width, by rank (`footer_keys`): the screen's essentials (`FOOTER_KEEP`, else its first three keys), then
F2 and F3, then the screen's other keys as declared, then the other global keys. A key left out keeps working and
stays in F1's help and the palette; a key is shown whole or not at all.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Footer as _Footer
from textual.widgets._footer import FooterKey

from agent_console.core import cells

__all__ = ["Footer"]


# the global keys (screens/global_keys.py) after the screen's own: F2 and F3 first (a new call, the phrases), then
# these in this order
GLOBAL_FIRST = ("new_intake", "phrase_panel")
GLOBAL_LATER = ("quit", "phrasebook", "callbacks", "lead", "help")


def key_cells(key_display: str, description: str) -> int:
    """The cells a FooterKey takes (Textual 8's footer: one cell of padding either side of the key, one after the
    description; the palette key's border takes the place of its padding)."""
    return cells.width(key_display) + cells.width(description) + 3


def footer_keys(shown: list[tuple[Any, str]], width: int, keep: tuple[str, ...] | None,
                globals_: set[str]) -> set[int]:
    """Which of `shown` ((binding, key display) in footer order) fit in `width` cells: the places kept, by rank."""
    own = [i for i, (b, _) in enumerate(shown) if b.id not in globals_]
    essential = ([i for i in own if shown[i][0].id in keep] if keep is not None else own[:3])
    rank = {i: n for n, i in enumerate(essential)}
    by_id = {b.id: i for i, (b, _) in enumerate(shown)}
    order = essential + [by_id[g] for g in GLOBAL_FIRST if g in by_id] + [i for i in own if i not in rank] + \
        [by_id[g] for g in GLOBAL_LATER if g in by_id]
    order += [i for i in range(len(shown)) if i not in order]  # a global key not named above
    kept: set[int] = set()
    used = 0
    for i in order:
        b, display = shown[i]
        need = key_cells(display, b.description)
        if used + need <= width or i in rank:  # an essential key is never left out (the width is the screen's)
            kept.add(i)
            used += need
    return kept


class Footer(_Footer):
    _rebuild_pending = False
    _shown: tuple[Any, ...] | None = None

    def on_resize(self) -> None:
        self.bindings_changed(self.screen)

    def compose(self) -> ComposeResult:
        """Textual's footer (no key groups: the console declares none), with only the keys that fit whole."""
        if not self._bindings_ready:
            return
        active = self.screen.active_bindings
        shown = [(b, enabled, tip) for (_, b, enabled, tip) in _with_screen_keys(self.screen, active) if b.show]
        seen: set[str] = set()
        unique = []
        for b, enabled, tip in shown:  # one key per action, as Textual shows it
            if b.action not in seen:
                seen.add(b.action)
                unique.append((b, enabled, tip))
        palette = active.get(self.app.COMMAND_PALETTE_BINDING) if self.show_command_palette else None
        width = self.app.size.width
        if palette is not None and self.app.ENABLE_COMMAND_PALETTE:
            width -= key_cells(self.app.get_key_display(palette[1]), palette[1].description)
        kept = footer_keys([(b, self.app.get_key_display(b)) for b, _, _ in unique], width,
                           getattr(self.screen, "FOOTER_KEEP", None), _global_ids(self.app))
        self.styles.grid_size_columns = len(kept)
        for i, (b, enabled, tip) in enumerate(unique):
            if i in kept:
                yield FooterKey(b.key, self.app.get_key_display(b), b.description, b.action, disabled=not enabled,
                                tooltip=tip).data_bind(compact=Footer.compact)
        if palette is not None and self.app.ENABLE_COMMAND_PALETTE:
            _, b, enabled, tip = palette
            yield FooterKey(b.key, self.app.get_key_display(b), b.description, b.action, classes="-command-palette",
                            disabled=not enabled, tooltip=b.tooltip or b.description)

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
                     for (_, b, enabled, tip) in _with_screen_keys(self.screen, active) if b.show)
        palette = active.get(self.app.COMMAND_PALETTE_BINDING) if self.show_command_palette else None
        if palette is not None:
            _, b, enabled, tip = palette
            keys += (("palette", b.key, b.description, b.tooltip, enabled),)
        return keys + (self.compact, self.app.ENABLE_COMMAND_PALETTE, self.app.size.width)


def _with_screen_keys(screen: Any, active: dict[str, Any]) -> list[tuple[Any, Any, bool, str]]:
    """The active bindings, where a focused widget's hidden binding (the table's Enter) stands in front of the
    screen's own shown one for the same key, the screen's: the table's Enter selects the row, and the screen opens
    what is selected, so "enter 打开" is what the key does there."""
    own = {b.key: b for bindings in screen._bindings.key_to_bindings.values() for b in bindings if b.show}
    out = []
    for key, (node, b, enabled, tip) in active.items():
        mine = own.get(key)
        if not b.show and mine is not None and node is not screen:
            out.append((screen, mine, True, mine.tooltip))
        else:
            out.append((node, b, enabled, tip))
    return out


def _global_ids(app: Any) -> set[str]:
    return {b.id for bindings in app._bindings.key_to_bindings.values() for b in bindings if b.id}
