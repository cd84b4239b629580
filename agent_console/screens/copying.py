"""Copying text and telling the truth about it.

The system clipboard (pyperclip) reports success. Through OSC 52 the text is only *sent* to the terminal: the console
cannot know whether the terminal (or tmux without set-clipboard) took it, so it says so and shows the text in a box
the agent can select from.
"""

from __future__ import annotations

from typing import Any

from collections.abc import Iterable

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import TextArea

from agent_console.support.clipboard import CopyFailed, copy
from agent_console.widgets.dialogs import Dialog
from agent_console.widgets.plain import Static


class CopiedText(Dialog[None]):
    """The text sent through OSC 52, on screen to select by hand if the paste does not work."""

    BINDINGS = [Binding("escape,enter", "close", "keys.back", id="copied_close")]

    def body(self) -> Iterable[Widget]:
        yield Static(self.app.t("phrase.copied_terminal"), id="copied-note")
        yield TextArea(self.text, id="copied-text", read_only=True)

    def action_close(self) -> None:
        self.dismiss(None)


def copy_and_tell(screen: Any, text: str) -> str | None:
    """Copy `text` from `screen`; say truthfully where it went. Returns "system", "terminal" or None (failed)."""
    app = screen.app
    try:
        how = copy(text, app.copy_to_clipboard)
    except CopyFailed as exc:
        screen.notify(app.t.error(exc), severity="error")
        return None
    if how == "terminal":
        app.push_screen(CopiedText(text))
    else:
        screen.notify(app.t("phrase.copied_system"))
    return how
