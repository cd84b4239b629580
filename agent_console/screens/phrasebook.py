"""The phrasebook screen (F4): browse replies by situation, search, and copy — the panel's big sibling."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Input

from agent_console.widgets.footer import Footer
from agent_console.widgets.plain import OptionList, Static
from textual.widgets.option_list import Option

from agent_console.phrases.fill import show_placeholders
from agent_console.services import phrase_lookup as phrases
from agent_console.widgets.wrapped import WrappedText
from agent_console.widgets.localized import localize_bindings
from agent_console.widgets.workspace_access import UsesWorkspace


class PhrasebookScreen(UsesWorkspace, Screen):
    BINDINGS = [
        Binding("escape", "back", "keys.back", id="phrasebook_back"),
        Binding("ctrl+y", "copy", "phrase.copy", id="phrasebook_copy", priority=True),
        Binding("slash", "search", "keys.search", id="phrasebook_search"),
    ]

    def compose(self) -> ComposeResult:
        localize_bindings(self, self.app.t)
        yield Header()
        yield Input(placeholder=self.app.t("phrase.placeholder"), id="pb-query")
        with Horizontal():
            yield OptionList(id="situations")
            with Vertical():
                yield OptionList(id="pb-entries")
                yield WrappedText(id="pb-preview")
                yield Static(id="pb-meta")
        yield Footer()

    def on_mount(self) -> None:
        book = phrases.book(self.ws)
        box = self.query_one("#situations", OptionList)
        for s in book.situations():
            box.add_option(Option(self.app.t("phrase.situation_count", label=self.app.t.word("situation", s),
                                             count=sum(1 for e in book.entries if e.situation == s)), id=s))
        box.focus()
        if book.situations():
            box.highlighted = 0
            self._show([e for e in book.entries if e.situation == book.situations()[0]])

    def _show(self, entries: list[Any]) -> None:
        self.entries = entries
        box = self.query_one("#pb-entries", OptionList)
        box.clear_options()
        for e in entries:
            box.add_option(Option(e.title, id=e.id))
        if entries:
            box.highlighted = 0
        self._preview()

    @on(OptionList.OptionHighlighted, "#situations")
    def _situation(self, event: OptionList.OptionHighlighted) -> None:
        book = phrases.book(self.ws)
        self._show([e for e in book.entries if e.situation == event.option.id])

    @on(OptionList.OptionHighlighted, "#pb-entries")
    def _preview(self, *_: Any) -> None:
        box = self.query_one("#pb-entries", OptionList)
        entry = self.entries[box.highlighted] if self.entries and box.highlighted is not None else None
        t = self.app.t
        self.query_one("#pb-preview", WrappedText).update("" if entry is None else show_placeholders(t, entry.text))
        self.query_one("#pb-meta", Static).update("" if entry is None else Text(
            f"{t.word('situation', entry.situation)} · {'、'.join(entry.tags)}", style="dim"))

    @on(Input.Changed, "#pb-query")
    def _search(self, event: Input.Changed) -> None:
        self._show(phrases.search(self.ws, event.value, None, limit=50))

    def action_search(self) -> None:
        self.query_one("#pb-query", Input).focus()

    def action_copy(self) -> None:
        box = self.query_one("#pb-entries", OptionList)
        if not self.entries or box.highlighted is None:
            return
        from agent_console.screens.phrase_panel import PhrasePanel

        panel = PhrasePanel({"case_id": None, "category": None, "stage": None, "fields": {}})
        self.app.push_screen(panel)
        panel.query_one("#phrase-query", Input).value = self.entries[box.highlighted].title

    def action_back(self) -> None:
        self.app.pop_screen()
