"""The caller log (F8): every call of this agent, in and out, answered or missed, with its times and duration and the
case it belongs to. Enter opens that case. Rows come from services.telephony; numbers are masked like every list."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header

from agent_console.widgets.footer import Footer
from agent_console.widgets.plain import DataTable, Static

from agent_console.services import telephony
from agent_console.widgets.localized import localize_bindings
from agent_console.widgets.workspace_access import UsesWorkspace

COLUMNS = ("time", "direction", "status", "number", "duration", "case")
STYLES = {"missed": "bold red", "ringing": "yellow", "talking": "green", "unanswered": "dim"}


class CallLogScreen(UsesWorkspace, Screen):
    BINDINGS = [Binding("escape", "back", "keys.back", id="calls_back"),
                Binding("enter", "open", "app.go_to_case", id="calls_open")]

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, telephony.Call] = {}

    def compose(self) -> ComposeResult:
        t = self.app.t
        localize_bindings(self, t)
        yield Header()
        yield Static(id="calls-status", classes="status-line")
        table = DataTable(id="calls", cursor_type="row", zebra_stripes=True)
        for key in COLUMNS:
            table.add_column(t(f"calls.{key}"), key=key)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#calls", DataTable).focus()
        self.set_interval(5, self.reload)

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        t, ws = self.app.t, self.ws
        table = self.query_one("#calls", DataTable)
        keep = table.cursor_row
        table.clear()
        self.calls = {}
        now = ws.now()
        for call in telephony.call_log(ws):
            key = f"{call.agent}|{call.call_id}"
            self.calls[key] = call
            when = call.rang_at.astimezone(ws.tz).strftime("%m-%d %H:%M:%S") if call.rang_at else ""
            seconds = call.duration_s
            if seconds is None and call.status == "talking" and call.answered_at:
                seconds = (now - call.answered_at).total_seconds()
            duration = "" if seconds is None else f"{int(seconds) // 60:02d}:{int(seconds) % 60:02d}"
            table.add_row(Text(when), Text(t(f"calls.dir_{call.direction or 'in'}")),
                          Text(t(f"calls.status_{call.status}"), style=STYLES.get(call.status, "")),
                          Text(telephony.masked(call) or t("calls.withheld")), Text(duration),
                          Text(call.case_number or ""), key=key)
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
        missed = sum(1 for c in self.calls.values() if c.status == "missed")
        self.query_one("#calls-status", Static).update(Text(
            f"{t('calls.title')} · {len(self.calls)} · {t('calls.status_missed')} {missed}" if self.calls
            else t("calls.empty")))

    def selected(self) -> telephony.Call | None:
        table = self.query_one("#calls", DataTable)
        if not table.row_count:
            return None
        key: Any = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return self.calls.get(key)

    def action_open(self) -> None:
        call = self.selected()
        if call is not None and call.case_id:
            self.app.open_case(call.case_id)

    @on(DataTable.RowSelected, "#calls")
    def _picked(self) -> None:
        self.action_open()

    def action_back(self) -> None:
        self.app.pop_screen()
