"""The small modal form each case action asks with; problems appear next to the field they concern."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, TextArea
from agent_console.widgets.plain import Label, Select, SelectionList, Static

from agent_console.screens.pick_person import PickPerson
from agent_console.services import roster
from agent_console.services.case_actions import FORMS, Field, perform
from agent_console.core.lifecycle import CLOSE_NEEDS_APPROVAL
from agent_console.core.text import clean_text
from agent_console.widgets.workspace_access import UsesWorkspace


class ActionForm(UsesWorkspace, ModalScreen[bool]):
    """Ask what `kind` needs, then record it on the case; dismisses with True once recorded."""

    BINDINGS = [
        Binding("escape", "cancel", "keys.back", id="form_cancel"),
        Binding("ctrl+s", "submit", "form.submit", id="form_submit"),
    ]

    def __init__(self, case_id: str, kind: str) -> None:
        super().__init__()
        self.case_id = case_id
        self.kind = kind
        self.fields: tuple[Field, ...] = FORMS.get(kind, ())

    def _set_error(self, name: str, message: str) -> None:
        box = self.query_one(f"#err-{name}", Static)
        box.update(message)
        box.set_class(bool(message), "shown")

    def compose(self) -> ComposeResult:
        t = self.app.t
        with VerticalScroll(id="form-box"):
            yield Static(t(f"action.{self.kind}"), classes="panel-title")
            yield Static("", id="form-error", classes="form-error")
            yield Static("", id="form-warning", classes="form-warning")
            for f in self.fields:
                label = t(f.label) + (" *" if f.required else "")
                yield Label(label, classes="field-label")
                yield self._widget(f)
                yield Static("", id=f"err-{f.name}", classes="field-error")
            # docked: on a small terminal (80x24) the fields scroll, the buttons and their Ctrl+S hint stay in view
            with Horizontal(classes="form-actions"):
                yield Button(t("form.submit") + " (Ctrl+S)", id="submit", variant="primary")
                yield Button(t("form.cancel"), id="cancel")

    def _widget(self, f: Field) -> Any:
        ws, lang = self.ws, self.ws.settings.lang
        wid = f"f-{f.name}"
        if f.kind == "area":
            return TextArea(id=wid)
        if f.kind == "bool":
            return Checkbox(self.app.t(f.label), id=wid)
        if f.kind.startswith("select:") or f.kind.startswith("multi:"):
            group = f.kind.split(":", 1)[1]
            if group == "departments":
                options = [(self.app.t.label(d), d.id) for d in ws.profile.departments]
            else:
                terms = ws.vocab.terms(group)
                if group == "outcomes":  # some outcomes close only with the lead's approval, not from this form
                    terms = [x for x in terms if x.id not in CLOSE_NEEDS_APPROVAL]
                options = [(x.text(lang), x.id) for x in terms]
            if f.kind.startswith("multi:"):
                return SelectionList[str](*options, id=wid)
            # never a preselected answer: a verdict (outcome, fault) is the agent's choice, refused until made
            return Select(options, id=wid, allow_blank=True, prompt=self.app.t("app.select_prompt"))
        if f.kind == "person":  # picked from the roster (Enter), never typed into existence
            return Input(id=wid, placeholder=self.app.t("form.pick_person"))
        if f.kind == "minutes_ago":
            return Input(value=str(ws.profile.ladder.agent_minutes), id=wid, type="number")
        return Input(id=wid, type="integer" if f.kind == "int" else "text")

    def on_mount(self) -> None:
        if self.fields:
            self.query_one(f"#f-{self.fields[0].name}").focus()
        else:
            self.query_one("#submit", Button).focus()

    def answers(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields:
            w = self.query_one(f"#f-{f.name}")
            if isinstance(w, TextArea):
                out[f.name] = clean_text(w.text)
            elif isinstance(w, Checkbox):
                out[f.name] = w.value
            elif isinstance(w, SelectionList):
                out[f.name] = list(w.selected)
            elif isinstance(w, Select):
                out[f.name] = None if w.is_blank() else w.value
            else:
                out[f.name] = clean_text(w.value, multiline=False)
        return out

    def _show(self, problems: dict[str, str], general: str = "") -> None:
        for f in self.fields:
            self._set_error(f.name, problems.get(f.name, ""))
        self.query_one("#form-error", Static).update(general)
        first = next((f for f in self.fields if problems.get(f.name)), None)
        if first is not None:  # the cursor goes to the first wrong field, in the form's order
            box = self.query_one(f"#f-{first.name}")
            box.focus()
            box.scroll_visible()

    def action_submit(self) -> None:
        done = perform(self.ws, self.case_id, self.kind, self.answers(), self.app.t)
        if not done.ok:
            self._show(done.problems or {}, done.general)
            if getattr(done.store_problem, "kind", "") == "damaged":  # the file kept; F moves it for a fresh one
                from agent_console.screens.fresh_file import offer_fresh_file

                offer_fresh_file(self.app, done.store_problem)
            return
        self.dismiss(True)

    @on(Input.Submitted)
    def _pick_person(self, event: Input.Submitted) -> None:
        """Enter in a person field opens the roster picker, filtered by what was typed; the pick fills the field."""
        name = (event.input.id or "").removeprefix("f-")
        f = next((f for f in self.fields if f.name == name), None)
        if f is None or f.kind != "person":
            return
        event.stop()
        box = event.input

        def picked(who: str | None) -> None:
            if who:
                box.value = who
                self._set_error(name, "")
            box.focus()

        self.app.push_screen(PickPerson(self.app.t(f.label), roster.people(self.ws), box.value.strip()), picked)

    @on(TextArea.Changed)
    @on(Input.Changed)
    def _warn_forbidden(self, event: Any) -> None:
        """A reply or note with forbidden phrasing gets a warning and what to say instead (it is not blocked)."""
        from agent_console.services import phrase_lookup as phrase_service

        text = event.text_area.text if isinstance(event, TextArea.Changed) else event.value
        hits = phrase_service.forbidden_in(self.ws, text) if text else []
        warning = self.query_one("#form-warning", Static)
        if hits:
            hit = hits[0]
            warning.update(self.app.t("phrase.forbidden", phrase=hit.phrase, instead=hit.say_instead))
        else:
            warning.update("")

    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)

    def action_cancel(self) -> None:
        self.dismiss(False)
