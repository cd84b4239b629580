"""Open cases: one row per case, nearest clock first, business time left and wall-clock due side by side.

Countdowns tick once a second from the clock (never by counting ticks) and only changed cells are rewritten, so the
cursor never jumps. Loading runs in a worker thread; the screen never waits on the database.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import get_current_worker
from textual.widgets import Header, Input

from agent_console.widgets.footer import Footer
from agent_console.widgets.plain import Static

from agent_console.core.clocks import nearest_deadline
from agent_console.screens.case_rows import CaseRow, ListFilter, load_rows
from agent_console.core.models import OPEN_STATUS_ORDER
from agent_console.widgets.case_table import CaseTable, Column
from agent_console.widgets.search_box import SearchBox
from agent_console.widgets.localized import localize_bindings, show_keys_from
from agent_console.services import syncing
from agent_console.widgets.sync_status import SyncStatus
from agent_console.widgets.workspace_access import UsesWorkspace
from agent_console.services.workspace import StoreError

BAND_STYLE = {"in_time": "green", "warning": "bold yellow", "breached": "bold red", "paused": "cyan",
              "met": "dim", "missed": "dim red"}
COLUMNS = ("number", "status", "category", "caller", "clock", "left", "due")
MAX_WIDTH = {"category": 16, "caller": 26, "clock": 16}
# what a narrow terminal leaves out first (highest first): which clock, then the caller, the category, the due date;
# number, status and the time left always stay
DROP = {"clock": 4, "caller": 3, "category": 2, "due": 1}


class CasesScreen(UsesWorkspace, Screen):
    """My open cases (a lead can switch to the team's)."""

    BINDINGS = [
        Binding("enter", "open_case", "keys.open_case", id="open_case"),
        # priority: handled as the key arrives, so "/170…" typed in one burst lands in the search box (a normal
        # binding runs only after the table has been handed the key, and the digits behind it with it)
        Binding("slash", "focus_search", "keys.search", id="search", priority=True),
        Binding("a", "horizon('all')", "keys.filter_all", id="filter_all"),
        Binding("o", "horizon('overdue')", "keys.filter_overdue", id="filter_overdue"),
        Binding("t", "horizon('today')", "keys.filter_today", id="filter_today"),
        Binding("w", "horizon('week')", "keys.filter_week", id="filter_week"),
        Binding("s", "cycle('status')", "keys.filter_status", id="filter_status"),
        Binding("c", "cycle('category')", "keys.filter_category", id="filter_category"),
        Binding("n", "cycle('channel')", "keys.filter_channel", id="filter_channel"),
        Binding("m", "toggle_team", "keys.team", id="toggle_team"),
        Binding("r", "refresh", "keys.refresh", id="refresh", show=False),
        Binding("e", "retry_refused", "keys.retry_refused", id="retry_refused", show=False),
        Binding("escape", "leave_search", "keys.back", show=False, id="leave_search"),
    ]

    # filters a narrow footer leaves out, so that F2 (a new call) and the palette stay in sight; they keep their keys
    FOOTER_KEEP = ("open_case", "search")  # widgets/footer.py: the keys an 80-column footer always shows
    OPTIONAL_KEYS = {"filter_week", "filter_status", "filter_category", "filter_channel", "toggle_team"}

    def __init__(self) -> None:
        super().__init__()
        self.filter = ListFilter()
        self.rows: dict[str, CaseRow] = {}
        self._shown: dict[tuple[str, str], str] = {}
        self._generation = 0  # of the latest load asked for

    def compose(self) -> ComposeResult:
        t = self.app.t
        localize_bindings(self, t)
        self._fit_footer(self.app.size.width)
        yield Header()
        yield Static(id="status-line")
        yield SearchBox(placeholder=t("app.search_placeholder"), id="search")
        yield CaseTable([Column(col, t(f"cols.{col}"), MAX_WIDTH.get(col, 40), shrink=col in MAX_WIDTH,
                                drop=DROP.get(col, 0)) for col in COLUMNS], id="cases")
        yield SyncStatus()
        yield Footer()

    def _fit_footer(self, width: int) -> None:
        if show_keys_from(self, self.OPTIONAL_KEYS, width, 180):
            self.refresh_bindings()

    def on_resize(self, event: Any) -> None:
        self._fit_footer(event.size.width)

    def on_mount(self) -> None:
        self.query_one("#cases", CaseTable).focus()
        self.set_interval(1.0, self.tick)

    def on_screen_resume(self) -> None:
        # also sent when the screen is first shown: the one place the list loads on arrival (loading in on_mount
        # too ran the first query twice on the way to the first screen)
        self.load()

    # -- loading ----------------------------------------------------------------------------------------------
    def load(self) -> None:
        """Reload the list for the filter as it is now. The query runs on a worker thread with a copy of the
        filter; a result that comes back after a newer request (typing 定 then 定损) never reaches the screen."""
        self._generation += 1
        self._load(self._generation, replace(self.filter), self.size.width < 110)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self, generation: int, flt: ListFilter, narrow: bool) -> None:
        now = self.ws.now()
        try:
            rows = load_rows(self.ws, flt, now, narrow=narrow)
        except Exception as exc:  # noqa: BLE001 - a damaged file is an offer of a fresh one, anything else re-raised
            damaged = self.ws.damage_in(exc)
            if damaged is not None:
                from agent_console.screens.fresh_file import offer_fresh_file

                self.app.call_from_thread(offer_fresh_file, self.app, damaged, True)
                return
            if not isinstance(exc, StoreError):
                raise
            self.app.call_from_thread(self.notify, self.app.t.error(exc), severity="error")
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_latest, generation, rows, now)

    def _show_latest(self, generation: int, rows: list[CaseRow], now: datetime) -> None:
        if generation == self._generation:
            self._show(rows, now)

    def _show(self, rows: list[CaseRow], now: datetime) -> None:
        self._shown.clear()
        self.rows = {r.id: r for r in rows}
        memo: dict[Any, Any] = {}
        lines = []
        for row in rows:
            cells = self._cells(row, now, memo)
            lines.append((row.id, [cells[c] for c in COLUMNS]))
            for col in ("clock", "left", "due"):
                self._shown[(row.id, col)] = str(cells[col])
        self.query_one("#cases", CaseTable).set_rows(lines)  # the cursor stays on the same case
        self._provisional = any(text.endswith(self.app.t("calendar.provisional_mark"))
                                for (_, col), text in self._shown.items() if col == "due")
        self._status(len(rows))

    def _cells(self, row: CaseRow, now: datetime, memo: dict[Any, Any]) -> dict[str, Any]:
        t = self.app.t
        ws = self.ws
        status = t("status.paused") if row.paused else t(f"status.{row.status}")
        category = ws.profile.category(row.category)
        cat = self.app.t.label(category, row.category)
        deadlines = ws.deadlines(row.clocks, now, memo)
        near = nearest_deadline(deadlines)
        clock, left, due = "", Text(""), ""
        if near:
            _, d = near
            clock = d["label"]
            left = Text(t.duration(d["remaining_seconds"], d["unit"], d["state"] == "breached",
                                   compact=self.size.width < 110),
                        style=BAND_STYLE.get(d["band"], ""))
            due = d["due"][5:16].replace("T", " ") if d["due"] else t("band.paused")
            if self.size.width < 110:
                due = due[-11:-6] if d["due"] else due  # MM-DD is enough on a narrow terminal
            if d.get("provisional"):  # the status line explains the mark
                due = f"{due}{t('calendar.provisional_mark')}"
        return {"number": row.number, "status": status, "category": cat, "caller": row.caller, "clock": clock,
                "left": left, "due": due}

    def _status(self, count: int) -> None:
        t = self.app.t
        f = self.filter
        parts = [t("app.team") if f.team else t("app.mine"), t(f"keys.filter_{f.horizon}")]
        if self.ws.calendar_problem:  # until the team's closures file is fixed, every deadline here ignores it
            parts.insert(0, t("app.calendar_broken_short", problem=t.error(self.ws.calendar_problem)))
        for label, value in (("status", f.status), ("category", f.category), ("channel", f.channel)):
            if value:
                parts.append(self._label(label, value))
        if f.text:
            parts.append(f"“{f.text[:24]}…”" if len(f.text) > 24 else f"“{f.text}”")  # a long paste stays one line
        parts.append(f"{count}" if count < 300 else t("app.capped", count=count))
        if getattr(self, "_provisional", False):
            parts.append(t("calendar.provisional_help"))
        # one line high in app.tcss, so no layout pass: a search keystroke repaints the line and the table only
        self.query_one("#status-line", Static).update(" · ".join(parts) if count else
                                                      " · ".join(parts[:-1] + [t("app.no_cases")]), layout=False)

    def _label(self, kind: str, value: str) -> str:
        ws, t = self.ws, self.app.t
        if kind == "status":
            return t(f"status.{value}")
        if kind == "category":
            cat = ws.profile.category(value)
            return self.app.t.label(cat, value)
        return ws.vocab.label("channels", value, ws.settings.lang)

    # -- the live countdown -----------------------------------------------------------------------------------
    def tick(self) -> None:
        """Rewrite only the countdown cells whose text changed; the cursor and scroll stay where they are."""
        if not self.rows or not self.is_current:
            return
        table = self.query_one("#cases", CaseTable)
        now = self.ws.now()
        memo: dict[Any, Any] = {}
        for case_id, row in self.rows.items():
            cells = self._cells(row, now, memo)
            for col in ("clock", "left", "due"):
                text = str(cells[col])
                if self._shown.get((case_id, col)) != text:
                    self._shown[(case_id, col)] = text
                    table.update_cell(case_id, col, cells[col])

    # -- keys -------------------------------------------------------------------------------------------------
    def action_open_case(self) -> None:
        key = self.query_one("#cases", CaseTable).cursor_key
        if key:
            self.app.open_case(key)

    @on(CaseTable.RowSelected, "#cases")
    def _selected(self, event: CaseTable.RowSelected) -> None:
        self.app.open_case(event.key)

    def action_focus_search(self) -> None:
        self.set_focus(self.query_one("#search", Input))  # now, not via focus()'s call_later: the keys right behind "/" are already queued

    def action_leave_search(self) -> None:
        self.query_one("#cases", CaseTable).focus()

    @on(Input.Changed, "#search")
    def _search(self, event: Input.Changed) -> None:
        from agent_console.core.text import clean_text

        self.filter.text = clean_text(event.value, multiline=False, limit=200)
        self.load()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.query_one("#cases", CaseTable).focus()

    def action_horizon(self, horizon: str) -> None:
        self.filter.horizon = horizon
        self.load()

    def action_cycle(self, kind: str) -> None:
        ws = self.ws
        options: list[str | None]
        if kind == "status":
            options = [None, *OPEN_STATUS_ORDER]
        elif kind == "category":
            options = [None, *[c.id for c in ws.profile.categories]]
        else:
            options = [None, *ws.vocab.ids("channels")]
        current = getattr(self.filter, kind)
        setattr(self.filter, kind, options[(options.index(current) + 1) % len(options)])
        self.load()

    def action_toggle_team(self) -> None:
        if not self.ws.is_lead:
            self.notify(self.app.t("app.lead_only"), severity="warning")
            return
        self.filter.team = not self.filter.team
        self.load()

    def action_retry_refused(self) -> None:
        """Queue the events the centre refused to be sent again (once their reason is fixed) and sync now."""
        count = syncing.retry_refused(self.ws)
        self.notify(self.app.t("cli.sync_requeued", count=count))
        for status in self.query(SyncStatus):
            status.refresh_now()

    def action_refresh(self) -> None:
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_search" and isinstance(self.focused, Input):
            return False  # "/" typed inside the search box is text
        if action == "toggle_team" and not self.ws.is_lead:
            return None  # shown dimmed: leads only
        return True
