"""The Textual application: global keys, the screens they open, and the workspace every screen shares."""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterable
from typing import Any

from textual.app import App, SystemCommand
from textual.screen import Screen

from agent_console.screens.global_keys import GLOBAL_BINDINGS

from agent_console.support.i18n import Translator
from agent_console.widgets import cell_safe
from agent_console.widgets.localized import localize_bindings
from agent_console.services.workspace import Workspace


class AgentConsoleApp(App):
    """The console. Screens reach the workspace as `self.app.ws` and words as `self.app.t`."""

    CSS_PATH = "app.tcss"
    REFERENCE_CHECK_SECONDS = 5.0  # how often the console looks whether the calendar or reference data changed
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = GLOBAL_BINDINGS

    def __init__(self, workspace: Workspace, **kw: Any) -> None:
        cell_safe.install()  # before any screen exists: Textual blanks CJK glyphs under overlays otherwise
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
        self.phone: Any = None  # screens.call_pop.PhoneController, when [cti] listen is configured

    def on_mount(self) -> None:
        if self.ws.settings.keymap:
            self.set_keymap(self.ws.settings.keymap)
        from agent_console.screens.cases import CasesScreen

        self.push_screen(CasesScreen())
        if self.ws.calendar_problem:  # the console runs on the national calendar meanwhile, and says so
            self.notify(self.t("app.calendar_broken", problem=self.t.error(self.ws.calendar_problem)),
                        severity="warning", timeout=60)
        if self.ws.read_only:  # lists and the phrasebook work; every write says why it is refused
            self.sub_title = self.t("app.db_read_only_short")
            self.notify(self.t("app.read_only_banner", reason=self.t.error(self.ws.read_only)), severity="warning",
                        timeout=30)
        if self.ws.stale_reasons:  # a new calendar or profile version: recompute open cases' deadlines meanwhile
            self.recompute_deadlines()
        # a year loaded or reference data pulled by another process (`calendar load`, `sync --once`) reaches this
        # console too: a look at one row of the database now and then
        seen = self.ws.last_recompute()
        self._recompute_seen = seen.get("at") if seen else None
        self.set_interval(self.REFERENCE_CHECK_SECONDS, self.check_reference)
        cti = self.ws.settings.cti
        if cti.listen or cti.dial_command or cti.dial_url:
            from agent_console.screens.call_pop import PhoneController

            self.phone = PhoneController(self)
            if cti.listen:
                self.phone.start()
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

    # -- a crash: no traceback on the screen, the intake kept --------------------------------------------------
    def _handle_exception(self, error: Exception) -> None:
        # Textual's own handler prints a Rich traceback *with local variables* when the console exits: the
        # complainant's phone and ID number among them. Same bookkeeping as Textual's (the return code, and the
        # exception kept for a test harness to re-raise), then our own report instead of the traceback.
        damaged = self.ws.damage_in(error)
        if damaged is not None:  # a read met a damaged page: no crash; which check failed, and a fresh file offered
            from agent_console.screens.fresh_file import offer_fresh_file

            if not getattr(self, "_fresh_file_declined", False):
                self.notify(self.t("app.db_damaged", reason=self.t.error(damaged)), severity="error", timeout=20)
            offer_fresh_file(self, damaged, background=True)
            return
        self._return_code = 1
        if self._exception is None:
            self._exception = error
            self._exception_event.set()
        self.crash_report(error)
        self._close_messages_no_wait()

    def crash_report(self, error: BaseException) -> str:
        """Save every intake being typed, write the masked traceback to a private file, and leave a short
        message to print when the console has closed. Returns the message."""
        from rich.text import Text

        from agent_console.support.crash import write_crash_log

        saved = 0
        stack = list(self.screen_stack)
        for screen in stack:
            save = getattr(screen, "save_draft", None)
            if callable(save):
                try:
                    save()
                    saved += 1
                except Exception:  # noqa: BLE001 - a crash report must not crash; the log says what went wrong
                    pass
        path = write_crash_log(error, context="screens=" + ",".join(type(x).__name__ for x in stack))
        message = self.t("app.crashed", path=str(path)) + (("\n" + self.t("app.crash_draft_saved")) if saved else "")
        self.crash_message = message
        self._exit_renderables.append(Text(message))
        return message

    async def on_unmount(self) -> None:
        if self.phone is not None:
            await self.phone.close()  # the listener's socket is closed before the loop ends

    def database_read_failed(self, error: BaseException) -> bool:
        """For the console's timers that read the database (reference data, the sync line): a damaged file is the
        fresh-file offer (asked once; not again once declined), and True; any other error is the caller's. A timer
        must not let it escape: Textual stops the message loop of the widget whose handler raised."""
        damaged = self.ws.damage_in(error)
        if damaged is None:
            return False
        from agent_console.screens.fresh_file import offer_fresh_file

        offer_fresh_file(self, damaged, background=True)
        return True

    def check_reference(self) -> None:
        """Switch to a calendar or reference data that changed in the database (a sync round pulled it, another
        process loaded a year); recompute the deadlines in the background when they are stale, or say what the
        other process's recompute moved."""
        from agent_console.services import syncing
        from agent_console.services.deadlines import recompute_line, report_from_json

        try:
            if not syncing.reference_changed(self.ws):
                return
        except Exception as exc:  # noqa: BLE001 - a file that cannot be used now: the versions in use stay
            if self.database_read_failed(exc):
                return
            self.notify(self.t("app.reference_unusable", error=self.t.error(exc)), severity="warning")
            return
        if self.ws.calendar_problem:
            self.notify(self.t("app.calendar_broken", problem=self.t.error(self.ws.calendar_problem)),
                        severity="warning")
        if self.ws.stale_reasons:
            self.recompute_deadlines()
            return
        report = self.ws.last_recompute()
        if report and report.get("at") != self._recompute_seen:
            self._recompute_seen = report.get("at")
            self._deadlines_recomputed(recompute_line(self.ws.settings.lang, report_from_json(report)))
        else:
            self._refresh_screen()

    def recompute_deadlines(self) -> None:
        """Recompute the open cases' deadlines on a worker thread; a message says what moved."""
        self.run_worker(self._recompute_deadlines, thread=True, group="recompute", exclusive=True)

    def _recompute_deadlines(self) -> None:
        from agent_console.services.deadlines import recompute_line
        from agent_console.services.workspace import StoreError

        def progress(done: int, total: int) -> None:
            self.call_from_thread(self.recompute_progress, done, total)

        try:
            report = self.ws.recompute_deadlines(progress=progress)
        except StoreError as exc:
            self.call_from_thread(self.notify, self.t.error(exc), severity="error")
            return
        finally:
            self.call_from_thread(self.recompute_progress, None)
        self.call_from_thread(self._deadlines_recomputed, recompute_line(self.ws.settings.lang, report))

    def recompute_progress(self, done: int | None, total: int = 0) -> None:
        """Show how far the background recompute has come on the status line (None: it is over)."""
        from agent_console.widgets.sync_status import SyncStatus

        for line in self.screen.query(SyncStatus):
            line.show_recompute(done, total)

    def _deadlines_recomputed(self, message: str) -> None:
        seen = self.ws.last_recompute()
        self._recompute_seen = seen.get("at") if seen else None
        self.notify(message, timeout=10)
        self._refresh_screen()

    def _refresh_screen(self) -> None:
        """Show the screen's cases again (a list reloads, a case's screen redraws its clocks)."""
        refresh = (getattr(self.screen, "load", None) or getattr(self.screen, "refresh_case", None)
                   or getattr(self.screen, "refresh_all", None))
        if callable(refresh):
            refresh()

    # -- what the current screen is about, for the phrase panel ----------------------------------------------
    def phrase_context(self) -> dict[str, Any]:
        screen_context = getattr(self.screen, "phrase_context", None)
        if callable(screen_context):
            return screen_context()
        return {"case_id": None, "category": None, "stage": None, "fields": {}}

    # -- Textual's own commands, in the console's language ------------------------------------------------------
    def action_command_palette(self) -> None:
        from agent_console.screens.palette import ConsolePalette

        if self.use_command_palette and not ConsolePalette.is_open(self):
            self.push_screen(ConsolePalette(self.t, id="--command-palette"))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's system commands with our words; the theme picker (theme names in English, no use on a
        hotline) is left out, and "keys" opens the console's own help (F1)."""
        t = self.t
        yield SystemCommand(t("textual.keys"), t("textual.keys_help"), self.action_help)
        if screen.maximized is not None:
            yield SystemCommand(t("textual.minimize"), t("textual.minimize_help"), screen.action_minimize)
        elif screen.focused is not None and screen.focused.allow_maximize:
            yield SystemCommand(t("textual.maximize"), t("textual.maximize_help"), screen.action_maximize)
        yield SystemCommand(t("textual.screenshot"), t("textual.screenshot_help"),
                            lambda: self.set_timer(0.1, self.deliver_screenshot))
        yield SystemCommand(t("textual.quit"), t("textual.quit_help"), self.action_quit)

    # -- global actions ---------------------------------------------------------------------------------------
    def _open(self, module: str, cls: str, *args: Any) -> None:
        try:
            factory = getattr(importlib.import_module(module), cls)
        except (ImportError, AttributeError):
            self.notify(self.t("app.missing_module", what=f"{module}.{cls}"), severity="warning")
            return
        self.push_screen(factory(*args))

    def action_new_intake(self) -> None:
        from agent_console.screens.intake import IntakeScreen, open_intake

        if isinstance(self.screen, IntakeScreen):
            self.screen.next_call()
            return
        open_intake(self)

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

    def action_calls(self) -> None:
        self._open("agent_console.screens.call_log", "CallLogScreen")

    def action_take_call(self) -> None:
        if self.phone is not None:
            self.phone.take_waiting()

    def dial_out(self, number: str, case_id: str | None = None) -> None:
        """Starting a callback: ask the phone system to dial, when it is configured to."""
        if self.phone is not None:
            self.phone.dial(number, case_id)

    def action_help(self) -> None:
        from agent_console.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def open_case(self, case_id: str) -> None:
        from agent_console.screens.case_detail import CaseDetailScreen

        self.push_screen(CaseDetailScreen(case_id))
        if self.phone is not None:  # a case opened during a call: the call belongs to it
            self.phone.case_for_call(None, case_id)


_frozen = False


def _freeze_once() -> None:
    """gc.freeze() for the process's first console only: a later one (tests run many) would otherwise pin the
    garbage of the ones before it for good."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


class DamagedAtStartApp(App[bool]):
    """The console asked to open a damaged database: before anything else, the same box as during a shift (which
    check failed, the file kept): F answers True (move it aside, start on a fresh file), Esc False (do not start)."""

    CSS_PATH = "app.tcss"

    def __init__(self, problem: Any, lang: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.t = Translator(lang)
        self.title = self.t("app.title")
        self.problem = problem

    def on_mount(self) -> None:
        from agent_console.screens.fresh_file import FreshFileDialog

        self.push_screen(FreshFileDialog(self.t("fresh_file.offer_at_start", problem=self.t.error(self.problem)),
                                         "fresh_file.hint_at_start"), lambda yes: self.exit(bool(yes)))
