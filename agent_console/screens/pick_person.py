"""Pick someone from the team's roster (services/roster.py) with pinyin type-ahead: the lead's reassign and the
transfer form's assignee both choose here, so nobody is typed into existence."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input
from textual.widgets.option_list import Option

from agent_console.core.reasons import Reason
from agent_console.core.typeahead import rank
from agent_console.widgets.plain import OptionList, Static


class PickPerson(ModalScreen[str | None]):
    """Pick someone from the team's roster: type a few letters (pinyin initials, part of the id), Enter takes the
    highlighted one. Nobody is typed into existence: an id not on the roster is refused here already."""

    BINDINGS = [Binding("escape", "cancel", "keys.back", id="pick_person_cancel"),
                Binding("down", "down", show=False, id="pick_person_down"),
                Binding("up", "up", show=False, id="pick_person_up")]

    def __init__(self, title: str, people: list[str], typed: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.people = people
        self.typed = typed  # what the agent had typed in the field already: the list starts filtered by it

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Static(self.title_text, classes="panel-title")
            yield Input(self.typed, id="pick-query")
            yield OptionList(*[Option(p, id=p) for p in self.people], id="pick-people")
            yield Static("", id="ask-error", classes="form-error")

    def on_mount(self) -> None:
        self.query_one("#pick-query", Input).focus()
        self._show(self.typed)

    @on(Input.Changed, "#pick-query")
    def _filter(self, event: Input.Changed) -> None:
        self._show(event.value)

    def _show(self, query: str) -> None:
        # pinyin type-ahead: initials, full pinyin, near-homophones or part of the id (core/typeahead.py)
        found = rank(query, [(p, [p]) for p in self.people]) if query.strip() else self.people
        box = self.query_one("#pick-people", OptionList)
        box.clear_options()
        box.add_options([Option(p, id=p) for p in found])
        if found:
            box.highlighted = 0

    def action_down(self) -> None:
        self.query_one("#pick-people", OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one("#pick-people", OptionList).action_cursor_up()

    @on(Input.Submitted, "#pick-query")
    def _done(self, event: Input.Submitted) -> None:
        box = self.query_one("#pick-people", OptionList)
        typed = event.value.strip()
        if typed in self.people:
            self.dismiss(typed)
        elif box.option_count and box.highlighted is not None:
            self.dismiss(box.get_option_at_index(box.highlighted).id)
        else:
            self.query_one("#ask-error", Static).update(self.app.t.reason(Reason("unknown_person", who=typed)))

    @on(OptionList.OptionSelected, "#pick-people")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
