"""The offer made when the database file is damaged: say which check failed, keep the file, and -- by keys -- move
it aside and go on on a fresh file, with what is being typed kept in memory and saved to the new file."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.binding import Binding
from textual.widget import Widget

from agent_console.services.workspace import StoreError
from agent_console.widgets.dialogs import YesNo
from agent_console.widgets.plain import Static


class FreshFileDialog(YesNo):
    """F: move the damaged file aside and start on a fresh one; Esc: not now (the file stays, nothing is saved)."""

    BOX_ID = "fresh-box"
    BINDINGS = [Binding("f", "yes", "fresh_file.yes", id="fresh_file_yes"),
                Binding("escape", "no", "keys.back", id="fresh_file_no")]

    def __init__(self, text: str = "", hint: str = "fresh_file.hint") -> None:
        super().__init__(text)
        self.hint = hint

    def body(self) -> Iterable[Widget]:
        t = self.app.t
        yield Static(t("fresh_file.title"), classes="panel-title")
        yield Static(self.text, id="fresh-file-text")
        yield Static(t(self.hint))


def offer_fresh_file(app: Any, exc: StoreError, background: bool = False) -> None:
    """Ask once at a time (a second damaged read or write while the box is up asks nothing more); on F, the
    workspace moves the damaged file aside and opens a fresh one, and every open screen hears of it: its
    `fresh_file_started()` (the intake saves its form there), else its `load()` (lists read the new file).
    `background`: met by a read the agent did not ask for (a timer, a list): once declined, not asked again that
    way -- only an explicit save asks again."""
    if getattr(app, "_fresh_file_asking", False) or (background and getattr(app, "_fresh_file_declined", False)):
        return
    app._fresh_file_asking = True
    t = app.t

    def answer(yes: bool | None) -> None:
        app._fresh_file_asking = False
        app._fresh_file_declined = not yes
        if not yes:
            return
        try:
            aside = app.ws.start_fresh()
        except StoreError as err:
            app.notify(t.error(err), severity="error", timeout=20)
            return
        app.sub_title = ""
        app.notify(t("fresh_file.started", aside=str(aside), path=str(app.ws.database_file)), timeout=30)
        for screen in app.screen_stack:
            hook = getattr(screen, "fresh_file_started", None) or getattr(screen, "load", None)
            if callable(hook):
                hook()

    app.push_screen(FreshFileDialog(t("fresh_file.offer", problem=t.error(exc))), answer)
