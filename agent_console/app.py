"""The Textual application: global keys, the screens they open, and the workspace every screen shares."""

from __future__ import annotations

import gc
import importlib
import sys
from typing import Any

from textual.app import App
from textual.binding import Binding

from agent_console.support.i18n import Translator
from agent_console.widgets.localized import localize_bindings
from agent_console.services.workspace import Workspace


class AgentConsoleApp(App):
    """The console. Screens reach the workspace as `self.app.ws` and words as `self.app.t`."""

    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("f2", "new_intake", "keys.intake", id="new_intake", priority=True),
        Binding("ctrl+n", "new_intake", "keys.intake", show=False, id="new_intake_alt", priority=True),
        Binding("f3", "phrase_panel", "keys.phrase", id="phrase_panel"),
        Binding("f4", "phrasebook", "keys.phrasebook", id="phrasebook"),
        Binding("f6", "callbacks", "keys.callbacks", id="callbacks"),
        Binding("f7", "lead", "keys.lead", id="lead"),
        Binding("f1", "help", "keys.help", id="help"),
        Binding("ctrl+q", "quit", "keys.quit", id="quit", priority=True),
    ]

    def __init__(self, workspace: Workspace, **kw: Any) -> None:
        super().__init__(**kw)
        # Database work runs in worker threads; a thread that has its answer waits for the interpreter lock up to
        # the switch interval (5 ms by default) while the screen is busy drawing. 1 ms keeps a search keystroke's
        # round trip (screen -> query thread -> screen) short.
        sys.setswitchinterval(0.001)
        self.ws = workspace
        self.t = Translator(workspace.settings.lang)
        self.title = self.t("app.title")
        from agent_console.screens.palette import ConsoleCommands

        self.COMMANDS = self.COMMANDS | {ConsoleCommands}
        localize_bindings(self, self.t)

    def on_mount(self) -> None:
        if self.ws.settings.keymap:
            self.set_keymap(self.ws.settings.keymap)
        from agent_console.screens.cases import CasesScreen

        self.push_screen(CasesScreen())
        # Everything built so far (Textual, the profile, pydantic's schemas, the first screen) lives as long as the
        # console: out of the collector's sight, a full collection no longer walks it -- those walks took up to
        # 50 ms, and one landing on a keystroke made that search visibly late
        self.call_after_refresh(_freeze_once)

    def notify(self, message: str, *, title: str = "", severity: Any = "information", timeout: float | None = None,
               markup: bool = False) -> None:
        """Every toast shows its words as written: a message often carries a caller's text or a file's, and a `[/]`
        in it must neither crash the console nor restyle the toast. (Widget.notify passes markup=True; ignored.)"""
        from agent_console.widgets.plain import plain

        super().notify(plain(message), title=plain(title), severity=severity, timeout=timeout, markup=False)

    # -- what the current screen is about, for the phrase panel ----------------------------------------------
    def phrase_context(self) -> dict[str, Any]:
        screen_context = getattr(self.screen, "phrase_context", None)
        if callable(screen_context):
            return screen_context()
        return {"case_id": None, "category": None, "stage": None, "fields": {}}

    # -- global actions ---------------------------------------------------------------------------------------
    def _open(self, module: str, cls: str, *args: Any) -> None:
        try:
            factory = getattr(importlib.import_module(module), cls)
        except (ImportError, AttributeError):
            self.notify(self.t("app.missing_module", what=f"{module}.{cls}"), severity="warning")
            return
        self.push_screen(factory(*args))

    def action_new_intake(self) -> None:
        from agent_console.screens.intake import IntakeScreen

        if isinstance(self.screen, IntakeScreen):
            return
        self.push_screen(IntakeScreen())

    def action_phrase_panel(self) -> None:
        self._open("agent_console.screens.phrase_panel", "PhrasePanel", self.phrase_context())

    def action_phrasebook(self) -> None:
        self._open("agent_console.screens.phrasebook", "PhrasebookScreen")

    def action_callbacks(self) -> None:
        self._open("agent_console.screens.callback_queue", "CallbackQueueScreen")

    def action_lead(self) -> None:
        if not self.ws.is_lead:
            self.notify(self.t("app.lead_only"), severity="error")
            return
        self._open("agent_console.screens.lead_console", "LeadScreen")

    def action_help(self) -> None:
        from agent_console.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def open_case(self, case_id: str) -> None:
        from agent_console.screens.case_detail import CaseDetailScreen

        self.push_screen(CaseDetailScreen(case_id))


_frozen = False


def _freeze_once() -> None:
    """gc.freeze() for the process's first console only: a later one (tests run many) would otherwise pin the
    garbage of the ones before it for good."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()
