"""The team lead's console (F7, role lead only): overdue queue, live escalations, approvals, KPIs with drill-down."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState
from textual.widgets import Header, Input, Sparkline, TabbedContent, TabPane

from agent_console.widgets.footer import Footer
from agent_console.core import cells
from agent_console.widgets.plain import DataTable, Static

from agent_console.services import kpi, lead
from agent_console.screens.pick_person import PickPerson
from agent_console.widgets.case_table import CaseTable, Column
from agent_console.widgets.localized import localize_bindings
from agent_console.widgets.kept_cursor import cursor_kept


class AskText(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "keys.back", id="ask_text_cancel")]

    def __init__(self, title: str, required: bool = True) -> None:
        super().__init__()
        self.title_text = title
        self.required = required

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Static(self.title_text, classes="panel-title")
            yield Input(id="ask-text")
            yield Static("", id="ask-error", classes="form-error")

    def on_mount(self) -> None:
        self.query_one("#ask-text", Input).focus()

    @on(Input.Submitted)
    def _done(self, event: Input.Submitted) -> None:
        if self.required and not event.value.strip():
            self.query_one("#ask-error", Static).update(self.app.t("form.required"))
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class ApprovalDialog(ModalScreen[str | None]):
    """One decision with the facts in front of the lead: case, requester, action, days asked and already granted,
    the deadline it moves. What this lead may not decide (their own request) is dimmed with the reason at once."""

    BINDINGS = [Binding("escape", "cancel", "keys.back", id="approval_cancel")]

    def __init__(self, facts: dict[str, Any], approve: bool) -> None:
        super().__init__()
        self.facts = facts
        self.approve = approve

    def _when(self, value: Any) -> str:
        if value is None:
            return "—"
        last_day = (value - timedelta(microseconds=1)).astimezone(self.app.ws.tz)  # a due at midnight: that day
        return self.app.t.day(last_day)

    def compose(self) -> ComposeResult:
        t, f = self.app.t, self.facts
        lines = [t("lead.approval_case", number=f["number"], requester=f["requester"] or "—",
                   what=t(f"lead.what_{f['what']}")),
                 t("lead.approval_detail", detail=f["detail"] or "—")]
        if f["asked"] is not None:
            lines.append(t("lead.approval_days", asked=f["asked"], granted=f["granted"] or 0))
        if f["due_now"] is not None:
            lines.append(t("lead.approval_due", now=self._when(f["due_now"]), after=self._when(f["due_after"])
                           if self.approve else self._when(f["due_now"])))
        with Vertical(id="form-box"):
            yield Static(t("lead.approve") if self.approve else t("lead.refuse"), classes="panel-title")
            yield Static("\n".join(lines), id="approval-facts")
            refusal = f.get("refusal")
            if refusal:
                yield Static(Text(t.reason(refusal), style="dim"), id="approval-refusal")
            yield Input(id="ask-text", placeholder=t("lead.reason"), disabled=bool(refusal))
            yield Static("", id="ask-error", classes="form-error")

    def on_mount(self) -> None:
        if not self.facts.get("refusal"):
            self.query_one("#ask-text", Input).focus()

    @on(Input.Submitted)
    def _done(self, event: Input.Submitted) -> None:
        if self.facts.get("refusal"):
            return
        if not self.approve and not event.value.strip():
            self.query_one("#ask-error", Static).update(self.app.t("form.required"))
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class DrillDown(ModalScreen[None]):
    """The cases behind one figure; Enter opens one. Tab switches between the numerator's cases, the
    denominator's and the ones that missed (the denominator's not in the numerator)."""

    BINDINGS = [Binding("escape", "close", "keys.back", id="drill_close"),
                Binding("tab", "next_view", "lead.drill_switch", id="drill_switch", priority=True)]

    def __init__(self, title: str, numbers: list[str], base: list[str] | None = None,
                 missed: list[str] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.views = [("numerator", numbers)]
        if base:
            self.views += [("missed", missed or []), ("denominator", base)]
        self.view = 0
        self.numbers = numbers

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Static(f"{self.title_text} · {len(self.numbers)}", classes="panel-title")
            table = DataTable(id="drill", cursor_type="row")
            table.add_column(self.app.t("cols.number"), key="number")
            table.add_column(self.app.t("cols.status"), key="status")
            table.add_column(self.app.t("cols.category"), key="category")
            table.add_column(self.app.t("lead.col_owner"), key="owner")
            table.add_column(self.app.t("lead.col_department"), key="department")
            yield table

    def on_mount(self) -> None:
        self._fill()

    def action_next_view(self) -> None:
        self.view = (self.view + 1) % len(self.views)
        self.numbers = self.views[self.view][1]
        self._fill()

    def _fill(self) -> None:
        table = self.query_one("#drill", DataTable)
        table.clear()
        ws, t = self.app.ws, self.app.t
        name = self.views[self.view][0]
        shown = t(f"lead.drill_{name}") + (f"（{t('lead.drill_switch')}: Tab）" if len(self.views) > 1 else "")
        self.query_one(".panel-title", Static).update(f"{self.title_text} · {shown} · {len(self.numbers)}")
        rows = lead.drill_rows(ws, self.numbers)  # one query for many; a figure may stand on 100,000 cases
        for r in rows:
            cat, dept = ws.profile.category(r["category"]), ws.profile.department(r["department"])
            table.add_row(r["number"], t(f"status.{r['status']}"),
                          t.label(cat, r["category"]), r["owner"],
                          t.label(dept, r["department"]), key=r["id"])
        if len(self.numbers) > len(rows):
            self.query_one(".panel-title", Static).update(
                f"{self.title_text} · {t('lead.drill_partial', shown=len(rows), total=f'{len(self.numbers):,}')}")
        table.focus()

    @on(DataTable.RowSelected, "#drill")
    def _open(self, event: DataTable.RowSelected) -> None:
        case_id = event.row_key.value
        self.dismiss(None)
        if case_id:
            self.app.open_case(case_id)

    def action_close(self) -> None:
        self.dismiss(None)


QUEUE_ROWS = 300  # rows of the overdue queue shown at once; `a` shows them all
ESCALATION_POLL = 5.0  # seconds between looks for new dissatisfaction reports


class LeadScreen(Screen):
    # widgets/footer.py: what an 80-column footer always shows (the other keys stay on their keys and in F1's help)
    FOOTER_KEEP = ("lead_back", "lead_open", "lead_reassign", "lead_approve", "lead_refuse")
    BINDINGS = [
        Binding("escape", "back", "keys.back", id="lead_back"),
        Binding("g", "toggle_group", "lead.group", id="lead_group"),
        Binding("r", "reassign", "lead.reassign", id="lead_reassign"),
        Binding("u", "remind", "lead.remind", id="lead_remind"),
        Binding("y", "approve", "lead.approve", id="lead_approve"),
        Binding("n", "refuse", "lead.refuse", id="lead_refuse"),
        Binding("k", "acknowledge", "lead.acknowledge", id="lead_ack"),
        Binding("d", "calmed", "lead.calmed", id="lead_calmed"),
        Binding("o", "open", "keys.open_case", id="lead_open"),
        Binding("a", "show_all", "lead.show_all", id="lead_show_all"),
        Binding("m", "moved", "lead.moved", id="lead_moved"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.group_by = "owner"
        self.hours = 8
        self.report: kpi.KpiReport | None = None
        self.limit: int | None = QUEUE_ROWS
        self.queue_total = 0
        self._shown_once = False
        self._load_failing = False  # told once; the 15-second refresh does not repeat the toast while it keeps failing

    @property
    def ws(self) -> Any:
        return self.app.ws

    def compose(self) -> ComposeResult:
        t = self.app.t
        localize_bindings(self, t)
        yield Header()
        yield Static(id="lead-header")
        with TabbedContent(id="lead-tabs"):
            with TabPane(t("lead.tab_overdue"), id="tab-overdue"):
                # the queue can hold hundreds of rows and is what the lead opens the screen for: the light table
                yield CaseTable([Column(c, t(f"lead.col_{c}"), 20, shrink=c in ("group", "clock", "department"))
                                 for c in ("group", "horizon", "number", "clock", "left", "due", "department")],
                                id="overdue")
            with TabPane(t("lead.tab_escalations"), id="tab-escalations"):
                yield self._table("escalations", ("number", "owner", "upset", "lead_left", "ack"))
            with TabPane(t("lead.tab_approvals"), id="tab-approvals"):
                yield self._table("approvals", ("number", "owner", "what", "detail"))
            with TabPane(t("lead.tab_conflicts"), id="tab-conflicts"):
                yield self._table("conflicts", ("number", "owner", "detail"))
            with TabPane(t("lead.tab_moved"), id="tab-moved"):  # what the last recompute moved (m)
                yield Static(id="moved-summary")
                yield self._table("moved", ("number", "old_due", "new_due", "shift"))
            with TabPane(t("lead.tab_kpi"), id="tab-kpi"):
                yield self._table("kpi", ("label", "value", "numerator", "denominator"))
                yield Static(t("lead.chart_intake"), classes="chart-title", id="kpi-spark-title")
                yield Sparkline([], id="kpi-spark")
                yield Static(t("lead.chart_overdue"), classes="chart-title", id="kpi-overdue-title")
                yield Sparkline([], id="kpi-overdue-spark")
                yield Static(id="kpi-bars")
                yield Static(id="kpi-agent-bars")
        yield Footer()

    def _table(self, name: str, columns: tuple[str, ...]) -> DataTable:
        table = DataTable(id=name, cursor_type="row", zebra_stripes=True)
        for col in columns:
            table.add_column(self.app.t(f"lead.col_{col}"), key=col)
        return table

    def on_mount(self) -> None:
        self.refresh_all()
        self.set_interval(15, self.refresh_all)
        self.set_interval(1, self._tick)
        self.set_interval(ESCALATION_POLL, self._poll_escalations)  # a report from a call shows within seconds

    @work(thread=True, exclusive=True, group="lead-escalations", exit_on_error=False)
    def _poll_escalations(self) -> None:
        now = self.ws.now()
        found = lead.escalations(self.ws, now)
        self.app.call_from_thread(self._merge_escalations, found, now)

    def _merge_escalations(self, found: list[dict[str, Any]], at: datetime) -> None:
        """New or changed reports rebuild the table; otherwise only the figures behind the countdowns move."""
        if not self.is_attached:
            return
        old = getattr(self, "escalation_rows", {})
        if [(r["id"], r["acknowledged"]) for r in found] != [(k, r["acknowledged"]) for k, r in old.items()]:
            self._escalations(found, at)
        else:
            self.escalation_rows, self.escalations_at = {r["id"]: r for r in found}, at

    def on_screen_resume(self) -> None:
        # the first resume comes with the push, right after on_mount loaded everything: do not load it twice
        if self._shown_once:
            self.refresh_all()
        self._shown_once = True

    def refresh_all(self) -> None:
        """The queue at once (it is what the lead opens the screen for); the rest from a worker thread, so a big
        team's KPIs never hold the screen."""
        if not self.query("#overdue"):  # being taken down (the console is closing): a timer's refresh comes late
            return
        self._overdue()
        self._header()
        if self.report is None:  # the first build of a big team's KPI facts takes a while (90 s at 1M cases)
            self.query_one("#kpi", DataTable).loading = True
        # after the queue is painted: the worker's Python would otherwise share the GIL with the first paint
        self.call_after_refresh(self._load_rest)

    @work(thread=True, exclusive=True, group="lead-load", exit_on_error=False)
    def _load_rest(self) -> None:
        ws = self.ws
        now = ws.now()
        escalations, approvals = lead.escalations(ws, now), lead.approvals(ws)
        conflicts = lead.conflicts(ws)
        start, end = kpi.month_bounds(ws, now.astimezone(ws.tz).strftime("%Y-%m"))
        report = kpi.compute(ws, start, end, now)
        series = (kpi.daily_intake(ws, now, 30), kpi.daily_overdue(ws, now, 30))
        moved = lead.moved_deadlines(ws)
        self.app.call_from_thread(self._show_rest, now, escalations, approvals, report, series, conflicts, moved)

    def _show_rest(self, now: datetime, escalations: list[dict[str, Any]], approvals: list[dict[str, Any]],
                   report: kpi.KpiReport, series: tuple[list[int], list[int]],
                   conflicts: list[dict[str, Any]] | None = None, moved: dict[str, Any] | None = None) -> None:
        if not self.is_attached:
            return
        self._escalations(escalations, now)
        self._approvals(approvals)
        self._conflicts(conflicts or [])
        self._moved(moved)
        self._kpis(report, series)
        self.query_one("#kpi", DataTable).loading = False
        self._load_failing = False
        self._header()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # a failed load must not leave the KPI tab spinning for ever; the next refresh tries again
        if event.worker.group == "lead-load" and event.state == WorkerState.ERROR and self.is_attached:
            self.query_one("#kpi", DataTable).loading = False
            if not self._load_failing:
                self.app.notify(self.app.t("lead.load_failed"), severity="error")
            self._load_failing = True

    def _header(self) -> None:
        t, ws = self.app.t, self.ws
        now = ws.now().astimezone(ws.tz)
        last_month = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        due = kpi.monthly_report_due(ws, last_month)
        note = t("lead.monthly_due", month=last_month, due=due.strftime("%m-%d")) if now < due else ""
        flagged = [d for d, v in (self.report.departments.items() if self.report else []) if v["flagged"]]
        parts = [t("lead.teams", teams=", ".join(ws.settings.visible_teams)), note]
        if flagged:
            parts.append(t("lead.flagged", departments=", ".join(self._dept(d) for d in flagged)))
        shown = len(getattr(self, "overdue_rows", {}))
        if self.queue_total > shown:
            parts.append(t("lead.queue_partial", shown=shown, total=f"{self.queue_total:,}"))
        self.query_one("#lead-header", Static).update(" · ".join(p for p in parts if p))

    def _overdue(self) -> None:
        t = self.app.t
        # a big queue shows its most urgent rows at once; `a` shows them all
        rows = lead.overdue_queue(self.ws, self.hours, limit=self.limit)
        self.queue_total = len(rows) if self.limit is None or len(rows) < self.limit else \
            lead.overdue_total(self.ws, self.hours)
        rows.sort(key=lambda r: (r[self.group_by] or "", r["due"]))
        self.overdue_rows = {r["id"]: r for r in rows}
        lines = []
        narrow = self.app.size.width < 110  # as the open-cases list: "超3日4时" instead of "超时3个工作日4小时"
        mark = t("calendar.provisional_mark")  # a due counted through a year not announced yet
        for r in rows:
            style = {"overdue": "bold red", "today": "yellow"}.get(r["horizon"], "")
            group = self._dept(r["department"]) if self.group_by == "department" else (r["owner"] or "")
            lines.append((r["id"], [group, Text(t(f"lead.horizon_{r['horizon']}"), style=style),
                                    r["number"], r["clock"],
                                    t.duration(r["remaining_seconds"], r["unit"], r["horizon"] == "overdue",
                                               compact=narrow),
                                    r["due"][5:16].replace("T", " ") + (mark if r.get("provisional") else ""),
                                    self._dept(r["department"])]))
        self.query_one("#overdue", CaseTable).set_rows(lines)

    def action_show_all(self) -> None:
        if self.limit is None or self.queue_total <= len(self.overdue_rows):
            return
        self.limit = None
        self._overdue()
        self._header()

    def _dept(self, department_id: str) -> str:
        d = self.ws.profile.department(department_id)
        return self.app.t.label(d, department_id)

    def _escalations(self, found: list[dict[str, Any]] | None = None, at: datetime | None = None) -> None:
        table = self.query_one("#escalations", DataTable)
        self.escalations_at = at or self.ws.now()
        found = lead.escalations(self.ws, self.escalations_at) if found is None else found
        self.escalation_rows = {r["id"]: r for r in found}
        with cursor_kept(table):
            table.clear()
            for r in self.escalation_rows.values():
                table.add_row(*self._escalation_cells(r), key=r["id"])

    def _escalation_cells(self, r: dict[str, Any], elapsed: float = 0.0) -> tuple[str | Text, ...]:
        t = self.app.t
        up = int(r["upset_seconds"] + elapsed)
        left = None if r["lead_left_seconds"] is None else r["lead_left_seconds"] - elapsed
        left_text = "—" if left is None else (t.duration(left, "minutes") if left > 0 else
                                              Text(t.duration(left, "minutes", True), style="bold red"))
        return (r["number"], r["owner"], f"{up // 60}:{up % 60:02d}", left_text, "✓" if r["acknowledged"] else "")

    def _tick(self) -> None:
        if not self.is_current or not getattr(self, "escalation_rows", None):
            return
        # the countdown moves with the clock from the last read; no database work every second
        elapsed = (self.ws.now() - self.escalations_at).total_seconds()
        table = self.query_one("#escalations", DataTable)
        for r in self.escalation_rows.values():
            cells = self._escalation_cells(r, elapsed)
            table.update_cell(r["id"], "upset", cells[2])
            table.update_cell(r["id"], "lead_left", cells[3])

    def _approvals(self, found: list[dict[str, Any]] | None = None) -> None:
        t = self.app.t
        table = self.query_one("#approvals", DataTable)
        self.approval_rows = {}
        with cursor_kept(table):
            table.clear()
            for r in (lead.approvals(self.ws) if found is None else found):
                key = f"{r['id']}|{r['what']}"
                self.approval_rows[key] = r
                table.add_row(r["number"], r["owner"], t(f"lead.what_{r['what']}"), r["detail"][:40], key=key)

    def _conflicts(self, found: list[dict[str, Any]]) -> None:
        """Sync conflicts (services.lead.conflicts): the case, whose it is and why it needs a look."""
        table = self.query_one("#conflicts", DataTable)
        self.conflict_rows = {}
        with cursor_kept(table):
            table.clear()
            for i, r in enumerate(found):
                key = f"{r['id']}|{i}"
                self.conflict_rows[key] = r
                table.add_row(r["number"], r["owner"], r["reason"], key=key)

    def _moved(self, found: dict[str, Any] | None) -> None:
        """The last recompute: a line saying when and why, and the cases whose nearest due moved."""
        t = self.app.t
        table = self.query_one("#moved", DataTable)
        with cursor_kept(table):
            table.clear()
            if not found:
                self.query_one("#moved-summary", Static).update(t("lead.moved_none"))
                return
            self.query_one("#moved-summary", Static).update(t(
                "lead.moved_summary", at=(found["at"] or "")[:16].replace("T", " "), cases=found["cases"],
                moved=len(found["moved"]),
                reasons="、".join(t(f"lead.moved_reason_{r}") for r in found["reasons"])))
            for r in found["moved"]:
                table.add_row(r["number"], (r["old"] or "—")[5:16].replace("T", " "),
                              (r["new"] or "—")[5:16].replace("T", " "),
                              t("lead.moved_shift", days=f"{r['shift_days']:+g}"), key=r["case_id"])

    def action_moved(self) -> None:
        """The deadlines the last recompute moved (a new calendar year, closures, a profile override)."""
        self.query_one("#lead-tabs", TabbedContent).active = "tab-moved"
        self._moved(lead.moved_deadlines(self.ws))
        self.query_one("#moved", DataTable).focus()

    def _kpis(self, report: kpi.KpiReport, series: tuple[list[int], list[int]]) -> None:
        from agent_console.services.reports import kpi_rows

        ws = self.ws
        self.report = report
        table = self.query_one("#kpi", DataTable)
        table.clear()
        self.kpi_rows = {}
        for r in kpi_rows(self.report, ws.settings.lang, ws.profile):
            self.kpi_rows[r["figure"]] = r
            table.add_row(r["label"], r["value"], str(r["numerator"]), str(r["denominator"]), key=r["figure"])
        intake, overdue = series
        self.query_one("#kpi-spark", Sparkline).data = intake or [0]
        self.query_one("#kpi-overdue-spark", Sparkline).data = overdue or [0]
        t = self.app.t
        self.query_one("#kpi-spark-title", Static).update(
            t("lead.chart_intake") + (f"  {intake[-1]} / {max(intake)}" if intake else ""))
        self.query_one("#kpi-overdue-title", Static).update(
            t("lead.chart_overdue") + (f"  {overdue[-1]}" if overdue else ""))
        agents = list(self.report.by_agent.items())[:8]
        most = max((n for _, n in agents), default=1)
        self.query_one("#kpi-agent-bars", Static).update("\n".join(
            [t("lead.chart_agent")] + [f"{cells.fit(agent, 10)} {'█' * max(1, round(20 * n / most))} {n}"
                                       for agent, n in agents]))
        top = max(self.report.by_category.values(), default=1)
        bars = [self.app.t("lead.chart_category")]
        shown = [(self.app.t.label(ws.profile.category(cat), cat), n)
                 for cat, n in list(self.report.by_category.items())[:8]]
        # every bar starts in the same column: labels padded by terminal cells (a Chinese character is two)
        room = min(16, max((cells.width(label) for label, _ in shown), default=0))
        for label, n in shown:
            bars.append(f"{cells.fit(label, room)} {'█' * max(1, round(20 * n / top))} {n}")
        self.query_one("#kpi-bars", Static).update("\n".join(bars))

    # -- row actions ------------------------------------------------------------------------------------------
    def _current(self, table_id: str) -> str | None:
        if table_id == "overdue":
            return self.query_one("#overdue", CaseTable).cursor_key
        table = self.query_one(f"#{table_id}", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value

    def _active(self) -> str:
        return self.query_one("#lead-tabs", TabbedContent).active

    def action_toggle_group(self) -> None:
        self.group_by = "department" if self.group_by == "owner" else "owner"
        self._overdue()

    def action_reassign(self) -> None:
        case_id = self._current("overdue")
        if case_id is None or self._active() != "tab-overdue":
            return

        def done(owner: str | None) -> None:
            if owner:
                try:
                    lead.reassign(self.ws, case_id, owner)
                except ValueError as exc:
                    self.notify(self.app.t.reason(exc), severity="warning")
                    return
                self.notify(self.app.t("app.saved"))
                self._overdue()

        self.app.push_screen(PickPerson(self.app.t("lead.reassign_to"), lead.roster(self.ws)), done)

    def action_remind(self) -> None:
        case_id = self._current("overdue")
        if case_id is None or self._active() != "tab-overdue":
            return
        try:
            lead.remind(self.ws, case_id)
        except ValueError as exc:  # e.g. not routed to a department yet
            self.notify(self.app.t.reason(exc), severity="warning")
            return
        self.notify(self.app.t("lead.reminded"))

    def _decide(self, approve: bool) -> None:
        key = self._current("approvals")
        if key is None or self._active() != "tab-approvals":
            return
        row = self.approval_rows[key]

        def done(reason: str | None) -> None:
            if reason is None:
                return
            try:
                lead.decide(self.ws, row["id"], row["what"], approve, reason)
            except (ValueError, PermissionError) as exc:
                self.notify(self.app.t.reason(exc), severity="error")
                return
            self.notify(self.app.t("app.saved"))
            self._approvals()

        try:
            facts = lead.approval_facts(self.ws, row)
        except (KeyError, PermissionError) as exc:
            self.notify(self.app.t.reason(exc), severity="error")
            return
        self.app.push_screen(ApprovalDialog(facts, approve), done)

    def action_approve(self) -> None:
        self._decide(True)

    def action_refuse(self) -> None:
        self._decide(False)

    def action_acknowledge(self) -> None:
        case_id = self._current("escalations")
        if case_id is None or self._active() != "tab-escalations":
            return
        lead.acknowledge(self.ws, case_id)
        self._escalations()

    def action_calmed(self) -> None:
        case_id = self._current("escalations")
        if case_id is None or self._active() != "tab-escalations":
            return

        def done(outcome: str | None) -> None:
            if outcome:
                lead.resolve_escalation(self.ws, case_id, outcome)
                self._escalations()

        self.app.push_screen(AskText(self.app.t("lead.outcome")), done)

    def action_open(self) -> None:
        tab = self._active().removeprefix("tab-")
        key = self._current(tab)
        if key and tab in ("overdue", "escalations", "approvals", "conflicts", "moved"):
            self.app.open_case(key.split("|")[0])

    @on(DataTable.RowSelected, "#kpi")
    def _drill(self, event: DataTable.RowSelected) -> None:
        figure = event.row_key.value or ""
        fig = self.report.figures.get(figure) if self.report else None
        if fig is not None:
            self.app.push_screen(DrillDown(self.kpi_rows[figure]["label"], fig.cases, fig.base, fig.missed()))

    @on(CaseTable.RowSelected, "#overdue")
    def _open_overdue(self, event: CaseTable.RowSelected) -> None:
        self.app.open_case(event.key)

    def action_back(self) -> None:
        self.app.pop_screen()
