"""The in-call phrase panel (F3): search from the first keystroke, see the reply filled from the case, copy it.

A value the console cannot know is asked for before copying; an empty one is never copied silently.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input

from agent_console.widgets.plain import Label, OptionList, Static, plain
from textual.widgets.option_list import Option

from agent_console.phrases.fill import placeholder_label, show_placeholders
from agent_console.services import phrase_lookup as phrases
from agent_console.screens.copying import copy_and_tell
from agent_console.widgets.wrapped import WrappedText
from agent_console.widgets.localized import localize_bindings
from agent_console.widgets.workspace_access import UsesWorkspace


class AskValues(ModalScreen[dict[str, str] | None]):
    """Ask for the placeholders the console could not fill."""

    BINDINGS = [Binding("escape", "cancel", "keys.back", id="ask_cancel")]

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Static(self.app.t("phrase.ask"), classes="panel-title")
            for name in self.names:
                yield Label(placeholder_label(self.app.t, name), classes="field-label")
                yield Input(id=f"ask-{name}")
            yield Static("", id="ask-error", classes="form-error")

    def on_mount(self) -> None:
        self.query_one(f"#ask-{self.names[0]}", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        values = {n: self.query_one(f"#ask-{n}", Input).value.strip() for n in self.names}
        empty = [n for n, v in values.items() if not v]
        if not empty:
            self.dismiss(values)
            return
        self.query_one("#ask-error", Static).update(self.app.t("phrase.still_empty", names="、".join(
            placeholder_label(self.app.t, n) for n in empty)))
        self.query_one(f"#ask-{empty[0]}", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)


class PhrasePanel(UsesWorkspace, ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "keys.back", id="phrase_close"),
        Binding("ctrl+y", "copy", "phrase.copy", id="phrase_copy", priority=True),
        Binding("down", "focus_results", show=False, id="phrase_down"),
    ]

    def __init__(self, context: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.context = context or {}
        self.results: list[Any] = []

    def compose(self) -> ComposeResult:
        localize_bindings(self, self.app.t)
        with Vertical(id="phrase-box"):
            yield Static(self.app.t("phrase.title"), classes="panel-title")
            yield Input(placeholder=self.app.t("phrase.placeholder"), id="phrase-query")
            yield OptionList(id="phrase-results")
            yield WrappedText(id="phrase-preview")
            yield Static(id="phrase-note")

    def on_mount(self) -> None:
        problems = phrases.book(self.ws).problems
        if problems:
            self.notify(self.app.t("phrase.left_out", count=len(problems)) + "\n" + self.app.t.error(problems[0]),
                        severity="warning")
        self.query_one("#phrase-query", Input).focus()
        self._search("")

    @on(Input.Changed, "#phrase-query")
    def _typed(self, event: Input.Changed) -> None:
        self._search(event.value)

    def _search(self, text: str) -> None:
        self.results = phrases.search(self.ws, text, self.context, limit=30)
        box = self.query_one("#phrase-results", OptionList)
        box.clear_options()
        for e in self.results:
            box.add_option(Option(Text.assemble(plain(e.title), "  ",
                                                (plain(self.app.t.word("situation", e.situation)), "dim")), id=e.id))
        if self.results:
            box.highlighted = 0
        self._preview()

    def current(self) -> Any:
        box = self.query_one("#phrase-results", OptionList)
        if box.highlighted is None or not self.results:
            return None
        return self.results[box.highlighted]

    @on(OptionList.OptionHighlighted, "#phrase-results")
    def _preview(self, *_: Any) -> None:
        entry = self.current()
        preview = self.query_one("#phrase-preview", WrappedText)
        if entry is None:
            preview.update(self.app.t("phrase.none"))
            self.query_one("#phrase-note", Static).update("")
            return
        filled = phrases.fill_entry(self.ws, entry, self.context)
        t = self.app.t
        preview.update(show_placeholders(t, filled.text))
        self.query_one("#phrase-note", Static).update(Text(
            t("phrase.will_ask", names="、".join(placeholder_label(t, n) for n in filled.missing)), style="yellow")
            if filled.missing else "")

    @on(Input.Submitted, "#phrase-query")
    @on(OptionList.OptionSelected, "#phrase-results")
    def _chosen(self) -> None:
        self.action_copy()

    def action_focus_results(self) -> None:
        self.query_one("#phrase-results", OptionList).focus()

    def action_copy(self) -> None:
        entry = self.current()
        if entry is None:
            return
        filled = phrases.fill_entry(self.ws, entry, self.context)
        if filled.missing:
            def answered(values: dict[str, str] | None) -> None:
                if values:
                    self._copy(entry, phrases.fill_entry(self.ws, entry, self.context, values).text)

            self.app.push_screen(AskValues(filled.missing), answered)
            return
        self._copy(entry, filled.text)

    def _copy(self, entry: Any, text: str) -> None:
        self.dismiss(None)  # first: the OSC 52 box (if any) opens over the screen the panel was called from
        if copy_and_tell(self, text) is None:
            return
        phrases.record_use(self.ws, entry, self.context)
        self.last_copied = text

    def action_close(self) -> None:
        self.dismiss(None)
