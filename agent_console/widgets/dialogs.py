"""Small modal dialogs in the console's style: a box, its words, its keys. Subclasses declare their BINDINGS (each
with an id, so keys can be remapped) and what the box shows; `YesNo` answers True or False."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget

from agent_console.widgets.localized import localize_bindings
from agent_console.widgets.plain import Static
from agent_console.widgets.workspace_access import UsesWorkspace

ResultT = TypeVar("ResultT")


class Dialog(UsesWorkspace, ModalScreen[ResultT]):
    """A modal box around `body()`; its key labels in the console's language."""

    BOX_ID = "confirm-box"
    BINDINGS: list[Binding] = []

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.text = text

    def compose(self) -> Iterable[Widget]:
        localize_bindings(self, self.app.t)
        with Vertical(id=self.BOX_ID):
            yield from self.body()

    def body(self) -> Iterable[Widget]:
        yield Static(self.text)


class YesNo(Dialog[bool]):
    """A question: `yes` answers True, `no` False."""

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)
