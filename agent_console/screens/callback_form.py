"""Schedule a callback for a case (key `b`): type when in words, see the parsed time, save."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input
from rich.text import Text

from agent_console.widgets.plain import Label, Select, Static

from agent_console.services import callbacks
from agent_console.core.due_phrases import DuePhraseError, parse_due
from agent_console.core.text import clean_text
from agent_console.widgets.localized import localize_bindings
from agent_console.widgets.workspace_access import UsesWorkspace


class ScheduleCallbackForm(UsesWorkspace, ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "keys.back", id="cbform_cancel"),
                Binding("ctrl+s", "save", "form.submit", id="cbform_save", priority=True)]

    def __init__(self, case_id: str) -> None:
        super().__init__()
        self.case_id = case_id
        self.due: Any = None

    def compose(self) -> ComposeResult:
        t = self.app.t
        localize_bindings(self, t)
        kinds = [(t(f"callbacks.kind_{k}"), k) for k in ("requested", "progress")]
        with VerticalScroll(id="form-box"):
            yield Static(t("callbacks.schedule"), classes="panel-title")
            yield Label(t("callbacks.when"), classes="field-label")
            yield Input(id="cb-when", placeholder=t("callbacks.when_placeholder"))
            yield Static("", id="cb-parsed")
            yield Label(t("callbacks.kind"), classes="field-label")
            yield Select(kinds, id="cb-kind", value="requested", allow_blank=False)
            yield Label(t("form.note"), classes="field-label")
            yield Input(id="cb-note")
            # docked: at 80x24 the box is cut at 90% of the height, so the fields scroll and the hint stays
            yield Static(t("callbacks.save_hint"), classes="form-actions")

    def on_mount(self) -> None:
        self.query_one("#cb-when", Input).focus()

    @on(Input.Changed, "#cb-when")
    def _parse(self, event: Input.Changed) -> None:
        shown = self.query_one("#cb-parsed", Static)
        try:
            self.due = parse_due(clean_text(event.value, multiline=False), self.ws.now(), self.ws.tz)
        except DuePhraseError as exc:
            self.due = None
            shown.update(Text(self.app.t.reason(exc), style="red") if event.value.strip() else "")
            return
        shown.update("→ " + self.app.t.moment(self.due))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        if self.due is None:
            self.query_one("#cb-parsed", Static).update(Text(self.app.t("callbacks.when_needed"), style="red"))
            return
        kind = self.query_one("#cb-kind", Select).value
        note = clean_text(self.query_one("#cb-note", Input).value, multiline=False) or \
            self.query_one("#cb-when", Input).value
        callback_id = callbacks.schedule(self.ws, self.case_id, str(kind), self.due, note)
        self.notify(self.app.t("callbacks.scheduled", due=self.due.strftime("%m-%d %H:%M")))
        self.dismiss(callback_id)

    def action_cancel(self) -> None:
        self.dismiss(None)
