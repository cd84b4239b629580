"""The command palette (Ctrl+P): every action of the current case, every screen, and "go to case NUMBER"."""

from __future__ import annotations

from functools import partial

from typing import Any

from rich.align import Align
from rich.text import Text
from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.widgets.option_list import Option

from agent_console.core.numbering import looks_like_number


class ConsoleCommands(Provider):
    def _commands(self) -> list[tuple[str, object, str]]:
        app = self.app
        t = app.t
        out: list[tuple[str, object, str]] = [
            (t("keys.intake"), app.action_new_intake, "F2"),
            (t("keys.callbacks"), app.action_callbacks, "F6"),
            (t("keys.phrasebook"), app.action_phrasebook, "F4"),
            (t("keys.help"), app.action_help, "F1"),
        ]
        if app.ws.is_lead:
            out.append((t("keys.lead"), app.action_lead, "F7"))
        screen = self.screen  # the screen the palette was opened over (app.screen is the palette itself)
        state = getattr(screen, "state", None)
        available = getattr(screen, "available", {})
        if state is not None:
            for kind, reason in available.items():
                if reason is None:
                    out.append((f"{state.number}: {t('action.' + kind)}", partial(screen.start_action, kind), kind))
        return out

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        q = query.strip().upper()
        if looks_like_number(q):
            state = self.app.ws.find(q)
            if state is not None:
                yield Hit(100, f"→ {state.number}", partial(self.app.open_case, state.id),
                          help=self.app.t("app.go_to_case"))
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class ConsolePalette(CommandPalette):
    """Textual's command palette with the console's words: the prompt and "no matches" (both hard-coded in English
    in Textual 8)."""

    def __init__(self, t: Any, **kw: Any) -> None:
        super().__init__(placeholder=t("textual.search_commands"), **kw)
        self._t = t

    def _start_no_matches_countdown(self, search_value: str) -> None:
        # Textual's own version adds an English "No matches found" option from a timer; this one is the same with
        # our words (the method is private in Textual: if a later version renames it, the English text comes back,
        # and the zh screen test says so)
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(Align.center(Text(self._t("textual.no_matches"), style="not bold")), disabled=True,
                           id=self._NO_MATCHES))
                self._list_visible = True
            else:
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)
