"""One case: the complainant, every clock with its state, linked cases, the timeline, and every action by key."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header
from agent_console.widgets.footer import Footer
from agent_console.widgets.plain import DataTable, OptionList, Static, plain, safe
from textual.widgets.option_list import Option

from agent_console.services import timeline as timeline_service
from agent_console.core.lifecycle import CASE_ACTIONS
from agent_console.core.reasons import known_reason
from agent_console.core.text import mask_id
from agent_console.screens.cases import BAND_STYLE
from agent_console.core import cells
from agent_console.widgets.localized import localize_bindings
from agent_console.widgets.workspace_access import UsesWorkspace


def _money(value: object) -> str:
    return "—" if value is None else str(value)


class CaseDetailScreen(UsesWorkspace, Screen):
    BINDINGS = [
        Binding("escape", "back", "keys.back", id="detail_back"),
        Binding("x", "focus_actions", "keys.action", id="detail_actions"),
        Binding("b", "callback", "keys.callback", id="detail_callback"),
    ]

    def __init__(self, case_id: str) -> None:
        super().__init__()
        self.case_id = case_id
        self.state: Any = None
        self.available: dict[str, str | None] = {}

    def compose(self) -> ComposeResult:
        t = self.app.t
        localize_bindings(self, t)
        yield Header()
        with Horizontal(id="detail-body"):
            with VerticalScroll(id="detail-left"):
                yield Static(id="summary")
                yield Static(t("detail.clocks"), classes="panel-title")
                clocks = DataTable(id="clocks", cursor_type="none")
                for key in ("clock", "status", "left", "due"):
                    clocks.add_column(t(f"cols.{key}"), key=key)
                yield clocks
                yield Static(id="provisional-help")  # shown only when a due is provisional
                yield Static(id="linked")
            with VerticalScroll(id="detail-right"):
                yield Static(t("detail.actions") + "  (x)", classes="panel-title")
                yield OptionList(id="actions")
                yield Static(t("detail.timeline"), classes="panel-title")
                timeline = DataTable(id="timeline", cursor_type="row")
                for key in ("when", "who", "what"):
                    timeline.add_column(t(f"detail.{key}"), key=key)
                yield timeline
        yield Footer()

    def on_resize(self) -> None:
        # side by side when there is room; stacked on an 80-column terminal so no column is cut
        self.query_one("#detail-body").styles.layout = "horizontal" if self.size.width >= 120 else "vertical"

    def on_mount(self) -> None:
        self.refresh_case()
        self.set_interval(1.0, self._tick)
        self.query_one("#actions", OptionList).focus()

    def refresh_case(self) -> None:
        ws, t = self.ws, self.app.t
        self.state = ws.case(self.case_id)
        if self.state is None:
            self.notify(f"no case {self.case_id}", severity="error")
            return
        s = self.state
        lang = ws.settings.lang
        self.title = plain(f"{s.number} · {t('status.' + s.status)}")  # the number came from the registering console
        cat = ws.profile.category(s.category)
        dept = ws.profile.department(s.department)
        person = s.complainant
        flags = " ".join(ws.vocab.label("flags", f, lang) for f in s.flags)
        lines = [
            Text.assemble((s.number, "bold"), f"  {t('status.' + s.status)}"
                          f"{' · ' + t('status.paused') if s.paused else ''}"),
            f"{t('detail.complainant')}: {person.name}{person.title}  {person.phone}  {mask_id(person.id_number)}",
            f"{self.app.t.label(cat, s.category)} · "
            f"{ws.vocab.label('tiers', s.complexity, lang)} · {ws.vocab.label('channels', s.channel, lang)} · "
            f"{self.app.t.label(dept, s.department)}",
            f"{t('detail.facts')}: {s.facts}",
            f"{t('detail.request')}: {s.request}",
        ]
        if s.amount is not None or s.settled_amount is not None or s.paid_amount is not None:
            lines.append(t("detail.closing_amounts", disputed=_money(s.amount), settled=_money(s.settled_amount),
                           paid=_money(s.paid_amount)))
        if flags:
            lines.append(f"⚑ {flags}")
        if s.extension_pending:
            lines.append(f"⏳ {t('action.extension_requested')}: {s.extension_pending['length']} · "
                         f"{s.extension_pending['reason']}")
        if s.remedy_pending:
            lines.append(f"⏳ {t('action.proposed')}: {s.remedy}")
        if s.closure_pending:
            lines.append(f"⏳ {t('action.closure_proposed')}: {s.closure_pending['reason']}")
        if s.conflicts:
            lines.append("⚠ " + t("detail.conflicts", count=len(s.conflicts)) + "；".join(
                t.reason(known_reason(c["reason"])) for c in s.conflicts[:2]))
        self.query_one("#summary", Static).update(Text("\n").join(safe(line) for line in lines))
        linked = [ws.case(cid) for cid in s.linked]
        lines = [t("detail.linked") + ": " + ", ".join(x.number for x in linked if x)] if any(linked) else []
        lead_case = ws.case(s.lead_case) if s.lead_case else None
        if lead_case is not None:
            lines.append(t("detail.lead_case", number=lead_case.number))
        self.query_one("#linked", Static).update("\n".join(lines))
        self._fill_clocks()
        timeline = self.query_one("#timeline", DataTable)
        timeline.clear()
        for e in reversed(ws.timeline(self.case_id)):
            timeline.add_row(e.at.astimezone(ws.tz).strftime("%m-%d %H:%M"), e.actor,
                             cells.truncate(timeline_service.describe(ws, t, e), 80), key=e.id)
        self._fill_actions()

    def _fill_clocks(self) -> None:
        ws, t = self.ws, self.app.t
        table = self.query_one("#clocks", DataTable)
        table.clear()
        notes: list[str] = []
        for v in ws.views(self.state):
            label = t.label(v)
            left = Text(t.duration(v.remaining_seconds, v.unit, v.state == "breached"), style=BAND_STYLE.get(v.band, ""))
            due = v.due.astimezone(ws.tz).strftime("%m-%d %H:%M") if v.due else "—"
            note = ws.provisional_note(v)
            if note:  # counted through a year whose holidays are not announced yet: the date may still move
                due = f"{due} {t('calendar.provisional_mark')}"
                if note not in notes:
                    notes.append(note)
            table.add_row(label, t(f"band.{v.band}"), left, due, key=v.id)
        text = "\n".join(f"{t('calendar.provisional_mark')} {n}" for n in notes)
        if getattr(self, "_provisional_text", None) != text:  # the tick runs every second: update on a change only
            self._provisional_text = text
            help_line = self.query_one("#provisional-help", Static)
            help_line.update(Text(text, style="italic"))
            help_line.display = bool(text)

    def _fill_actions(self) -> None:
        t = self.app.t
        self.available = self.ws.available_actions(self.state)
        actions = self.query_one("#actions", OptionList)
        actions.clear_options()
        # what can be done now first; the rest below, dimmed, each with the reason it cannot. Dimmed, not disabled:
        # the cursor still reaches them (a disabled option is skipped, and so could not be scrolled to by keys),
        # and Enter on one says why instead of opening a form
        for kind in sorted(CASE_ACTIONS, key=lambda k: self.available.get(k) is not None):
            reason = self.available.get(kind)
            label = (Text(t(f"action.{kind}")) if reason is None else
                     Text(f"{t('action.' + kind)}  — {t.reason(reason)}", style="dim"))
            actions.add_option(Option(label, id=kind))

    def _tick(self) -> None:
        if self.state is not None and self.is_current:
            self._fill_clocks()

    @on(OptionList.OptionSelected, "#actions")
    def _act(self, event: OptionList.OptionSelected) -> None:
        self.start_action(event.option.id or "")

    def start_action(self, kind: str) -> None:
        """Open the action's form (or say why it is not possible now)."""
        if self.available.get(kind) is not None:
            self.notify(self.app.t.reason(self.available[kind]), severity="warning")
            return
        from agent_console.screens.action_forms import ActionForm

        def done(recorded: bool | None) -> None:
            if recorded:
                self.notify(self.app.t("app.saved") + ": " + self.app.t(f"action.{kind}"))
                self.refresh_case()

        self.app.push_screen(ActionForm(self.case_id, kind), done)

    def action_focus_actions(self) -> None:
        self.query_one("#actions", OptionList).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_callback(self) -> None:
        self.app._open("agent_console.screens.callback_form", "ScheduleCallbackForm", self.case_id)

    def phrase_context(self) -> dict[str, Any]:
        s = self.state
        resolve = next((v for v in self.ws.views(s) if v.role == "resolve"), None) if s else None
        return {
            "case_id": self.case_id,
            "category": s.category if s else None,
            "stage": "case",
            "fields": {} if s is None else {
                "name": s.complainant.name, "title": s.complainant.title, "number": s.number,
                "due": resolve.due.astimezone(self.ws.tz).strftime("%Y-%m-%d") if resolve and resolve.due else "",
            },
        }
