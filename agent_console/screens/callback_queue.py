"""The callback queue (F6): overdue, due now, due today, later. Enter starts the call: the case, the script from the
phrasebook beside it, a call timer, and one form for the result (satisfaction included)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Header, Input
from rich.text import Text

from agent_console.widgets.footer import Footer
from agent_console.widgets.plain import DataTable, Label, Select, Static, plain

from agent_console.services import callbacks
from agent_console.core.text import clean_text, mask_phone
from agent_console.widgets.wrapped import WrappedText
from agent_console.widgets.localized import localize_bindings
from agent_console.widgets.kept_cursor import cursor_kept
from agent_console.widgets.dialogs import YesNo
from agent_console.widgets.workspace_access import UsesWorkspace

SCRIPTS = {"satisfaction": ["survey.open", "survey.proactive", "survey.outcome", "survey.attitude",
                            "survey.professional", "survey.timely", "survey.thanks"],
           "audit": ["survey.open", "survey.outcome", "survey.thanks"],
           "progress": ["progress.status", "progress.on_track"],
           "requested": ["survey.requested_callback", "close.anything_else"]}


class CallbackQueueScreen(UsesWorkspace, Screen):
    BINDINGS = [Binding("escape", "back", "keys.back", id="cbq_back"),
                Binding("enter", "start", "callbacks.start", id="cbq_start"),
                Binding("m", "toggle_mine", "callbacks.mine_all", id="cbq_mine")]

    def __init__(self) -> None:
        super().__init__()
        self.mine = True
        self.rows: dict[str, dict[str, Any]] = {}

    def compose(self) -> ComposeResult:
        t = self.app.t
        localize_bindings(self, t)
        yield Header()
        yield Static(id="status-line")
        table = DataTable(id="callbacks", cursor_type="row", zebra_stripes=True)
        for key in ("group", "due", "number", "kind", "caller", "attempts", "note"):
            table.add_column(t(f"callbacks.col_{key}"), key=key)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#callbacks", DataTable).focus()
        self.set_interval(30, self.reload)

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        t, ws = self.app.t, self.ws
        callbacks.ensure_automatic(ws)
        table = self.query_one("#callbacks", DataTable)
        self.rows = {}
        queue = callbacks.queue(ws, ws.actor if self.mine else None)
        # the cursor stays on the callback it was on (a popup or the 30-second refresh used to send it to the top)
        with cursor_kept(table):
            table.clear()
            self._fill(table, queue)
        self.query_one("#status-line", Static).update(
            f"{t('callbacks.title')} · {t('callbacks.mine') if self.mine else t('callbacks.all')} · {len(queue)}")

    def _fill(self, table: DataTable, queue: list[tuple[str, dict[str, Any]]]) -> None:
        t, ws = self.app.t, self.ws
        for group, row in queue:
            self.rows[row["id"]] = row
            due = datetime.fromisoformat(row["due"]).astimezone(ws.tz).strftime("%m-%d %H:%M")
            caller = f"{(row.get('name') or '')[:1]}** {mask_phone(row.get('phone_digits') or '')}"
            style = {"overdue": "bold red", "due_now": "bold yellow"}.get(group, "")
            label = t(f"callbacks.group_{group}") + " · " + t(
                "callbacks.survey_calls" if row["kind"] in callbacks.SURVEY_KINDS else "callbacks.customer_asked")
            table.add_row(Text(label, style=style), due, row.get("number") or "",
                          t(f"callbacks.kind_{row['kind']}"), caller, str(len(row["attempts"])), row["note"][:30],
                          key=row["id"])

    def action_start(self) -> None:
        table = self.query_one("#callbacks", DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        if key in self.rows:
            self.app.push_screen(CallbackCallScreen(self.rows[key]))

    @on(DataTable.RowSelected, "#callbacks")
    def _selected(self) -> None:
        self.action_start()

    def action_toggle_mine(self) -> None:
        self.mine = not self.mine
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()


class CallbackCallScreen(UsesWorkspace, Screen):
    """One callback being made: case summary, the script, a call timer and the result form."""

    BINDINGS = [Binding("escape", "back", "keys.back", id="cbcall_back"),
                Binding("ctrl+s", "save", "callbacks.record", id="cbcall_save", priority=True)]

    def __init__(self, row: dict[str, Any]) -> None:
        super().__init__()
        self.row = row
        self.started: datetime | None = None

    def compose(self) -> ComposeResult:
        t, ws = self.app.t, self.ws
        localize_bindings(self, t)
        lang = ws.settings.lang
        survey = self.row["kind"] in ("satisfaction", "audit")
        yield Header()
        yield Static(id="call-timer")
        with Horizontal():
            with VerticalScroll(id="cb-script"):
                yield Static(self._summary())
                yield Static(t("callbacks.script"), classes="panel-title")
                yield WrappedText(self._script())
            with VerticalScroll(id="cb-result"):
                yield Label(t("form.outcome"), classes="field-label")
                outcomes = [(x.text(lang), x.id) for x in ws.vocab.terms("contact_outcomes")]
                # no answer is preselected: one Ctrl+S must not record a perfect survey nobody gave
                prompt = t("app.select_prompt")
                yield Select(outcomes, id="r-outcome", allow_blank=True, prompt=prompt)
                yield Label(t("form.note"), classes="field-label")
                yield Input(id="r-note")
                if survey:
                    yield Label(t("callbacks.proactive"), classes="field-label")
                    yield Select([(t("callbacks.yes"), "yes"), (t("callbacks.no"), "no")], id="r-proactive",
                                 allow_blank=True, prompt=prompt)
                    yield Label(t("callbacks.outcome_view"), classes="field-label")
                    yield Select([(t(f"callbacks.view_{v}"), v) for v in ("satisfied", "neutral", "dissatisfied")],
                                 id="r-view", allow_blank=True, prompt=prompt)
                    for name in ("attitude", "professionalism", "timeliness"):
                        yield Label(t(f"callbacks.{name}"), classes="field-label")
                        yield Select([(str(n), n) for n in range(5, 0, -1)], id=f"r-{name}", allow_blank=True,
                                     prompt=prompt)
                    yield Label(t("callbacks.comment"), classes="field-label")
                    yield Input(id="r-comment")
                yield Static("", id="r-error", classes="form-error")
        yield Footer()

    def _summary(self) -> str:
        state = self.ws.case(self.row["case_id"])
        if state is None:
            return self.row.get("number") or ""
        t = self.app.t
        return Text.assemble((state.number, "bold"), plain(
            f" {t('status.' + state.status)}\n{state.complainant.name}"
            f"{state.complainant.title}  {state.complainant.phone}\n{state.facts}\n→ {state.request}"))

    def _script(self) -> str:
        try:
            from agent_console.services import phrase_lookup as phrase_service
        except ImportError:
            return ""
        context = {"case_id": self.row["case_id"], "category": None, "stage": "callback", "fields": {}}
        book = phrase_service.book(self.ws)
        lines = []
        for entry_id in SCRIPTS.get(self.row["kind"], []):
            entry = book.get(entry_id)
            if entry is not None:
                lines.append("• " + phrase_service.fill_entry(self.ws, entry, context).text)
        return "\n".join(lines)

    def on_mount(self) -> None:
        self.started = self.ws.now()
        state = self.ws.case(self.row["case_id"])
        if state is not None and state.complainant.phone:  # the phone system dials, when it is set up to
            self.app.dial_out(state.complainant.phone, state.id)
        self._tick()
        self.set_interval(1.0, self._tick)
        self.query_one("#r-outcome", Select).focus()

    def _tick(self) -> None:
        if self.started is None:
            return
        seconds = int((self.ws.now() - self.started).total_seconds())
        self.query_one("#call-timer", Static).update(
            self.app.t("intake.call_timer", time=f"{seconds // 60:02d}:{seconds % 60:02d}"))

    def _missing(self, names: tuple[str, ...]) -> list[str]:
        return [name for name in names if self.query_one(f"#r-{name}", Select).is_blank()]

    def action_save(self) -> None:
        ws, t = self.ws, self.app.t
        error = self.query_one("#r-error", Static)
        if self._missing(("outcome",)):
            error.update(t("callbacks.choose", what=t("form.outcome")))
            return
        outcome = str(self.query_one("#r-outcome", Select).value)
        note = clean_text(self.query_one("#r-note", Input).value, multiline=False)
        survey = self.row["kind"] in ("satisfaction", "audit")
        try:
            if survey and outcome == "reached":
                missing = self._missing(("proactive", "view", "attitude", "professionalism", "timeliness"))
                if missing:
                    labels = {"proactive": "callbacks.proactive", "view": "callbacks.outcome_view"}
                    error.update(t("callbacks.choose", what="、".join(
                        t(labels.get(m, f"callbacks.{m}")) for m in missing)))
                    return
                result = callbacks.record_satisfaction(
                    ws, self.row["id"], self.query_one("#r-proactive", Select).value == "yes",
                    str(self.query_one("#r-view", Select).value),
                    int(self.query_one("#r-attitude", Select).value),
                    int(self.query_one("#r-professionalism", Select).value),
                    int(self.query_one("#r-timeliness", Select).value),
                    clean_text(self.query_one("#r-comment", Input).value, multiline=False), note=note)
                if result.offer_escalation:
                    self.app.push_screen(EscalateOffer(self.row["case_id"]), lambda _: self.app.pop_screen())
                    return
            else:
                callbacks.attempt(ws, self.row["id"], outcome, note)
        except (ValueError, KeyError) as exc:
            self.query_one("#r-error", Static).update(self.app.t.reason(exc))
            return
        self.notify(t("app.saved"))
        self.app.pop_screen()

    def action_back(self) -> None:
        self.app.pop_screen()


class EscalateOffer(YesNo):
    """An unhappy customer on a closed case: offer a new linked case."""

    BINDINGS = [Binding("y", "yes", "callbacks.escalate_yes", id="offer_yes"),
                Binding("n,escape", "no", "callbacks.escalate_no", id="offer_no")]

    def __init__(self, case_id: str) -> None:
        super().__init__()
        self.case_id = case_id

    def body(self) -> Iterable[Widget]:
        yield Static(self.app.t("callbacks.escalate_offer"))

    def action_yes(self) -> None:
        _, new = self.app.ws.escalate(self.case_id, self.app.t("callbacks.escalate_reason"))
        self.notify(self.app.t("intake.registered", number=new.number))
        self.dismiss(True)



class KeepOrCancel(UsesWorkspace, ModalScreen[str]):
    """An inbound call from a customer with pending callbacks: keep them or cancel them; never silently."""

    BINDINGS = [Binding("k", "keep", "callbacks.keep", id="inbound_keep"),
                Binding("c", "cancel_callbacks", "callbacks.cancel", id="inbound_cancel")]

    def __init__(self, pending: list[dict[str, Any]]) -> None:
        super().__init__()
        self.pending = pending

    def compose(self) -> ComposeResult:
        t = self.app.t
        localize_bindings(self, t)
        lines = [t("callbacks.pending_inbound", count=len(self.pending))]
        for row in self.pending:
            due = datetime.fromisoformat(row["due"]).astimezone(self.app.ws.tz).strftime("%m-%d %H:%M")
            lines.append(f"  {row.get('number') or ''}  {due}  {t('callbacks.kind_' + row['kind'])}  {row['note']}")
        with Vertical(id="confirm-box"):
            yield Static("\n".join(lines))

    def action_keep(self) -> None:
        self.notify(self.app.t("callbacks.kept"))
        self.dismiss("keep")

    def action_cancel_callbacks(self) -> None:
        for row in self.pending:
            callbacks.cancel(self.app.ws, row["id"], self.app.t("callbacks.cancel_reason"))
        self.notify(self.app.t("callbacks.cancelled"))
        self.dismiss("cancel")
