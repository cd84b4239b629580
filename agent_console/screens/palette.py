"""The command palette (Ctrl+P): every action of the current case, every screen, and "go to case NUMBER".

Found as a Chinese agent types (issue 15): a command by its characters, pinyin or initials ("xjdj" for 新建登记),
a case by part of its number ("D73-0", "001") or its caller's name, in characters or pinyin ("wangfang", "wf").
"""

from __future__ import annotations

import json
from functools import partial

from typing import Any

from rich.align import Align
from rich.text import Text
from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.widgets.option_list import Option

from agent_console.core.case_query import CaseQuery
from agent_console.core.numbering import looks_like_number
from agent_console.core.typeahead import score as typeahead_score

CASE_HITS = 8  # cases offered for a partial number or a name


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
        exact = None
        if looks_like_number(q):
            exact = self.app.ws.find(q)
            if exact is not None:
                yield Hit(100, f"→ {exact.number}", partial(self.app.open_case, exact.id),
                          help=self.app.t("app.go_to_case"))
        for name, callback, help_text in self._commands():
            # Textual's matcher knows the characters; pinyin and initials come from the type-ahead (0..100)
            score = max(matcher.match(name), typeahead_score(query, name) / 100)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
        if len(query.strip()) >= 2:
            for rank, (case_id, label) in enumerate(self._cases(query.strip())):
                if exact is None or case_id != exact.id:
                    yield Hit(0.9 - rank / 100, label, partial(self.app.open_case, case_id),
                              help=self.app.t("app.go_to_case"))

    def _cases(self, text: str) -> list[tuple[str, str]]:
        """Cases whose number, caller or text hold `text` (the caller also by sound), best first: (id, label)."""
        t = self.app.t
        out = []
        for row in self.app.ws.list_summaries(CaseQuery(text=text, limit=CASE_HITS)):
            person = (json.loads(row["doc"]) if row["doc"] else {}).get("complainant", {})
            caller = f"{person.get('name', '')}{person.get('title', '')}"  # as the list shows it (masked)
            out.append((row["id"], f"→ {row['number']}  {caller}  {t('status.' + row['status'])}".rstrip()))
        return out


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
