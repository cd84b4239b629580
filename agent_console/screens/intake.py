"""Live intake: the form an agent fills while the caller is on the line, in the order of the call.

Phone first (the caller's earlier cases appear beside the form at once), then what happened and what they ask. The
draft is saved as it is typed; read-back builds the sentence to say with the real due date; the call timer and the
dissatisfaction ladder run from the workspace clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.css.query import NoMatches
from textual.geometry import Region
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Input, TextArea
from agent_console.widgets.footer import Footer
from agent_console.widgets.plain import Label, OptionList, Select, SelectionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from agent_console.core import cells
from agent_console.core.text import digits
from agent_console.core.models import is_open_status
from agent_console.core.repeat_callers import REPEAT_FLAG, is_repeat_caller
from agent_console.services import callbacks
from agent_console.services import live_intake as svc
from agent_console.core.new_case import IntakeError
from agent_console.services.workspace import StoreError
from agent_console.core.reasons import Reason
from agent_console.core.text import MAX_FIELD_CHARS, clean_text
from agent_console.core.typeahead import rank
from agent_console.widgets.wrapped import WrappedText
from agent_console.widgets.localized import localize_bindings, show_keys_from
from agent_console.screens.fresh_file import offer_fresh_file
from agent_console.widgets.dialogs import YesNo
from agent_console.widgets.workspace_access import UsesWorkspace

TEXT_INPUTS = ("phone", "name", "id_number", "category", "respondent", "amount")
AREAS = ("facts", "request")


class ReadBackDialog(YesNo):
    """The sentence to read to the caller; Enter when they confirm it."""

    BOX_ID = "readback-box"
    BINDINGS = [Binding("escape", "no", "keys.back", id="readback_cancel"),
                Binding("enter", "yes", "intake.confirm", id="readback_confirm")]

    def body(self) -> Iterable[Widget]:
        t = self.app.t
        yield Static(t("intake.readback_title"), classes="panel-title")
        yield WrappedText(self.text, id="readback-text")
        yield Static(t("intake.readback_hint"))


class ConfirmDiscard(YesNo):
    """Discarding an unfinished intake asks once: Y discards, N or Esc keeps it."""

    BINDINGS = [Binding("y,enter", "yes", "intake.discard", id="discard_yes"),
                Binding("n,escape", "no", "keys.back", id="discard_no")]

    def body(self) -> Iterable[Widget]:
        yield Static(self.text, id="discard-text")


class IntakeScreen(UsesWorkspace, Screen):
    # the phone field has focus from the first moment: digits typed right behind F2 are the caller's number
    # (with the default, the scrolling form took focus first and swallowed them)
    AUTO_FOCUS = "#f-phone"

    BINDINGS = [
        # Tab at priority: keys typed ahead of it (one burst from the terminal, or while the screen was busy) go to
        # the next field; left to bubble up, Tab moved the focus only after they had gone into this one.
        Binding("tab", "app.focus_next", "textual.focus_next", id="intake_next_field", priority=True, show=False),
        Binding("shift+tab", "app.focus_previous", "textual.focus_previous", id="intake_previous_field",
                priority=True, show=False),
        Binding("ctrl+r", "read_back", "intake.read_back", id="intake_read_back", priority=True),
        Binding("ctrl+s", "save", "intake.save", id="intake_save", priority=True),
        Binding("ctrl+e", "enquiry", "intake.enquiry", id="intake_enquiry", priority=True),
        Binding("ctrl+u", "upset", "intake.upset", id="intake_upset", priority=True),
        Binding("ctrl+l", "report_lead", "intake.report", id="intake_report", priority=True),
        Binding("ctrl+a", "attach", "intake.attach", id="intake_attach", priority=True),
        Binding("ctrl+b", "callback", "keys.callback", id="intake_callback", priority=True),
        Binding("ctrl+o", "restore_draft", "intake.restore", id="intake_restore", priority=True, show=False),
        Binding("ctrl+d", "discard_draft", "intake.discard", id="intake_discard", priority=True, show=False),
        Binding("ctrl+k", "pending_callbacks", "intake.callbacks_key", id="intake_pending", priority=True,
                show=False),
        Binding("ctrl+y", "copy_number", "intake.copy_number", id="intake_copy_number", priority=True,
                show=False),
        Binding("escape", "leave", "keys.back", id="intake_leave"),
    ]

    def __init__(self, draft_key: str | None = None, call: Any = None, *, spare: bool = False) -> None:
        super().__init__()
        # a spare is built ahead, out of sight, for the next call (prepare_spare); it begins when it is taken
        self._spare = spare
        self._ready = False  # composed and mounted
        self._on_screen_yet = False
        self._styled_theme = ""
        self._skip_lookup: str | None = None  # the number a screen pop looked up already (fill_for_call)
        self.draft_key = draft_key
        self.call = call  # the telephony.Call the phone system popped this intake for (screens/call_pop.py)
        self.started: datetime | None = None
        self.upset_since: datetime | None = None
        self.case_id: str | None = None  # once registered (or attached)
        self._save_timer: Any = None
        self._db_problem = ""  # the database's bad day now (busy, read_only, damaged, full), shown once
        self._restoring = False
        self._earlier: list[dict[str, Any]] = []
        self._asked_callbacks: set[str] = set()
        self._pending: list[dict[str, Any]] = []  # the caller's pending callbacks, not yet kept or cancelled
        self.offer: svc.DraftOffer | None = None  # an earlier call's unfinished intake, offered (never merged)
        self.number: str | None = None  # the registered case's number, shown until the next call
        self._lookups = 0  # caller lookups asked for; only the latest answer is shown

    def _set_error(self, name: str, message: str) -> None:
        """A field's error line, made the first time the field has one (most calls never show one: the screen
        opens faster without a dozen hidden lines to style and lay out)."""
        found = self.query(f"#err-{name}")
        if not found:
            if not message:
                return
            field = self.query_one(f"#f-{name}")
            self.query_one("#intake-form").mount(Static(message, id=f"err-{name}", classes="field-error shown"),
                                                 after=field)
            return
        box = found.first(Static)
        box.update(message)
        box.set_class(bool(message), "shown")

    def compose(self) -> ComposeResult:
        t, ws = self.app.t, self.ws
        lang = ws.settings.lang
        localize_bindings(self, t)
        self._fit_footer(self.app.size.width)  # before the footer's first build (not again on the first resize)
        yield Header()
        yield Static(id="call-timer")
        yield Static(id="draft-offer")
        yield Static(id="case-number")
        with Horizontal(id="intake-body"):
            with VerticalScroll(id="intake-form"):
                for name in ("phone", "name"):
                    yield from self._field(name, Input(id=f"f-{name}", placeholder=t(f"intake.{name}")))
                titles = [(x.text(lang) or "—", x.id) for x in ws.vocab.terms("titles")]
                yield from self._field("title", Select(titles, id="f-title", allow_blank=True,
                                                       prompt=self.app.t("app.select_prompt")))
                yield from self._field("id_number", Input(id="f-id_number"))
                yield from self._field("category", Input(id="f-category", placeholder="理赔 / lipei / lp"))
                # the category suggestions come with the first letters typed there (_suggestions)
                channels = [(x.text(lang), x.id) for x in ws.vocab.terms("channels")]
                yield from self._field("channel", Select(channels, id="f-channel", value="phone", allow_blank=False))
                tiers = [(x.text(lang), x.id) for x in ws.vocab.terms("tiers")]
                yield from self._field("complexity", Select(tiers, id="f-complexity", value="general",
                                                            allow_blank=False))
                yield from self._field("respondent", Input(id="f-respondent"))
                yield from self._field("facts", TextArea(id="f-facts"))
                yield from self._field("request", TextArea(id="f-request"))
                yield from self._field("amount", Input(id="f-amount"))
                flags = [(x.text(lang), x.id) for x in ws.vocab.terms("flags")]
                yield from self._field("flags", SelectionList[str](*flags, id="f-flags"))
                # one call about several departments: each ticked category becomes a linked copy for its department
                others = [(self.app.t.label(c), c.id) for c in ws.profile.categories]
                yield from self._field("also", SelectionList[str](*others, id="f-also"))
            with Vertical(id="intake-side"):
                yield Static(t("intake.earlier"), classes="panel-title")
                yield OptionList(id="earlier")
                yield WrappedText(id="side-note")  # Chinese line-breaking: "1 件" stays on one line
                yield Static(id="call-history")
        yield Footer()

    def _field(self, name: str, widget: Any) -> ComposeResult:
        required = name in self.ws.profile.required or (name == "phone" and "phone" in self.ws.profile.required)
        yield Label(self.app.t(f"intake.{name}") + (" *" if required else ""), classes="field-label")
        yield widget  # its error line comes when it has one (_set_error)

    # what an 80-column footer keeps: save, read back and leave (the rest stay on their keys and in F1's help)
    ESSENTIAL_KEYS = {"intake_save", "intake_read_back", "intake_leave"}
    FOOTER_KEEP = ("intake_read_back", "intake_save", "intake_leave")  # widgets/footer.py
    OPTIONAL_KEYS = {"intake_enquiry", "intake_upset", "intake_report", "intake_attach", "intake_callback"}

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual restyles a screen each time it comes back. Until this one is first on screen its widgets are as
        # they were styled when they mounted (a moment ago, or while it waited as the spare): styling the whole form
        # again was a third of the time the form took to open. A theme changed meanwhile, and every later resume
        # (back from a dialog), restyle as usual. (This runs before Screen's own handler, on the same event.)
        if not self._on_screen_yet and self.app.theme == self._styled_theme:
            event.refresh_styles = False
        if self.is_current:
            self._on_screen_yet = True
        elif self._spare:  # the spare, laid out out of sight by this resume: its lines are drawn next
            self.set_timer(0.2, self._draw_ahead)

    def _draw_ahead(self) -> None:
        """Draw each widget of the spare once, out of sight: the first frame on screen then takes most of its lines
        from the widgets' caches (drawing the whole form afresh was a third of that frame's time)."""
        if not self._spare or self.is_current:
            return
        for field in self.query(Input):  # the class a first value gives a field (restyling it), given now
            field.validate(field.value)
        for widget in self.walk_children(Widget):
            if widget.display and widget.size.area:
                widget.render_lines(Region(0, 0, *widget.outer_size))

    def on_resize(self, event: Any) -> None:
        self._fit_footer(event.size.width)

    def _fit_footer(self, width: int) -> None:
        if show_keys_from(self, self.OPTIONAL_KEYS, width, 120):
            self.refresh_bindings()

    def on_mount(self) -> None:
        self._styled_theme = self.app.theme
        self.query_one("#case-number", Static).display = False
        self.set_interval(1.0, self._tick)
        self._ready = True
        if not self._spare:
            self._begin()

    def _begin(self) -> None:
        """The call begins: the timer from now, a new draft (an unfinished one is only offered), the phone focused,
        and, for a call the phone system reported, its number and the caller's history."""
        self.started = self.ws.now()
        if self.draft_key is None:
            self.draft_key = svc.new_draft_key()  # a new call starts empty; an unfinished one is only offered
        else:
            found = svc.draft(self.ws, self.draft_key)
            if found:
                self._restore(found)
        self._offer_next()
        self.query_one("#f-phone", Input).focus(scroll_visible=False)
        # auto-focus scrolled the phone field to the top edge; show its label too
        self.call_after_refresh(self.query_one("#intake-form").scroll_home, animate=False)
        if self.call is not None:
            from agent_console.screens.call_pop import fill_for_call

            fill_for_call(self, self.call)
        self._tick()

    def take(self, draft_key: str | None = None, call: Any = None) -> None:
        """A spare taken for a call: it begins now (it was built empty and never shown or typed into)."""
        self._spare = False
        self.draft_key, self.call = draft_key, call
        self._fit_footer(self.app.size.width)  # the terminal may have changed size while it waited
        self._begin()

    # -- unfinished intakes of earlier calls: offered in a line above the form, never popped over a field -----
    def _offer_next(self) -> None:
        offers = svc.unfinished(self.ws, exclude=self.draft_key)
        self.offer = offers[0] if offers else None
        box = self.query_one("#draft-offer", Static)
        box.display = self.offer is not None
        if self.offer is not None:
            key = "intake.draft_offer_crashed" if self.offer.crashed else "intake.draft_offer"
            box.update(self.app.t(key, phone=self.offer.phone or "—", time=self._hhmm(self.offer.started)))

    def _hhmm(self, when: datetime | None) -> str:
        return when.astimezone(self.ws.tz).strftime("%H:%M") if when else "—"

    def action_restore_draft(self) -> None:
        offer = self.offer
        if offer is None or self.case_id is not None:
            return
        if self._save_timer is not None:
            self._save_timer.stop()
        current = self.form()
        if not svc.blank(current):  # what was typed for the call on the line stays a draft of its own
            self.save_draft()
        else:
            svc.discard_draft(self.ws, self.draft_key)
        self.draft_key = offer.key
        self._clear()
        self._restore(offer.data)
        if offer.started is not None:
            self.started = offer.started  # the restored call keeps its own start and timer
        if offer.crashed:
            self.notify(self.app.t("intake.restored_crash", time=self._hhmm(offer.started)), timeout=10)
        else:
            self.notify(self.app.t("intake.draft_restored"))
        self.save_draft()  # it belongs to this run now
        self._offer_next()
        self._tick()
        self.query_one("#f-phone", Input).focus()

    def action_discard_draft(self) -> None:
        offer = self.offer
        if offer is None:
            return

        def decided(yes: bool | None) -> None:
            if yes:
                svc.discard_draft(self.ws, offer.key)
                self.notify(self.app.t("intake.discarded"))
            self._offer_next()

        self.app.push_screen(ConfirmDiscard(self.app.t("intake.discard_confirm", phone=offer.phone or "—",
                                                       time=self._hhmm(offer.started))), decided)

    def _clear(self) -> None:
        self._restoring = True
        try:
            for name in TEXT_INPUTS:
                self.query_one(f"#f-{name}", Input).value = ""
            for name in AREAS:
                self.query_one(f"#f-{name}", TextArea).text = ""
            self.query_one("#f-title", Select).clear()
            self.query_one("#f-flags", SelectionList).deselect_all()
            self.query_one("#f-also", SelectionList).deselect_all()
            self.upset_since = None
        finally:
            self._restoring = False

    # -- the form as data -------------------------------------------------------------------------------------
    def form(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in TEXT_INPUTS:
            out[name] = self.query_one(f"#f-{name}", Input).value.strip()
        for name in AREAS:
            out[name] = self.query_one(f"#f-{name}", TextArea).text
        for name in ("title", "channel", "complexity"):
            select = self.query_one(f"#f-{name}", Select)
            out[name] = "" if select.is_blank() else select.value
        if out["title"] == "none":
            out["title"] = ""
        out["flags"] = list(self.query_one("#f-flags", SelectionList).selected)
        out["also"] = list(self.query_one("#f-also", SelectionList).selected)
        return out

    def _restore(self, data: dict[str, Any]) -> None:
        self._restoring = True
        try:
            form = data.get("form", {})
            for name in TEXT_INPUTS:
                field = self.query_one(f"#f-{name}", Input)
                field.value = form.get(name, "")
                field.cursor_position = len(field.value)  # typed on at its end, never in front of the number
            for name in AREAS:
                area = self.query_one(f"#f-{name}", TextArea)
                area.text = form.get(name, "")
                area.move_cursor(area.document.end)
            for name in ("title", "channel", "complexity"):
                if form.get(name):
                    self.query_one(f"#f-{name}", Select).value = form[name]
            flags = self.query_one("#f-flags", SelectionList)
            for flag in form.get("flags", []):
                flags.select(flag)
            also = self.query_one("#f-also", SelectionList)
            for category in form.get("also", []):
                also.select(category)
            if data.get("upset_since"):
                self.upset_since = datetime.fromisoformat(data["upset_since"])
            if data.get("started"):
                self.started = datetime.fromisoformat(data["started"])
        finally:
            self._restoring = False

    def _schedule_save(self) -> None:
        if self._restoring or self.case_id is not None or self._spare:  # a spare has no call, nothing to keep
            return
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(0.3, self.save_draft)

    def save_draft(self, left: bool = False) -> None:
        if self.case_id is not None or self._spare:
            return
        try:
            form = self.form()
        except NoMatches:  # the form is being taken down (the console is closing): nothing is left on it to keep
            return
        data = {"left": left, "form": form, "started": self.started.isoformat() if self.started else None,
                "upset_since": self.upset_since.isoformat() if self.upset_since else None}
        try:
            with self.ws.waiting_at_most(0.2):
                svc.save_draft(self.ws, self.draft_key, data)
        except StoreError as exc:  # the form stays as typed, on screen and in memory; saved when the day is better
            self._bad_day(exc, lambda: self.save_draft(left))
            return
        self._good_day()

    # -- the database on a bad day: nothing typed is lost -----------------------------------------------------
    def _bad_day(self, exc: StoreError, retry: Any) -> None:
        """Busy: say so and try again in a second. Read-only, damaged, full: say why once, keep the form."""
        t = self.app.t
        if exc.kind == "busy":
            self.sub_title = t("app.db_waiting")
            if self._db_problem != "busy":
                self.notify(t("app.db_waiting"), timeout=3)
            self._db_problem = "busy"
            self.set_timer(1.0, retry)
            return
        if self._db_problem != exc.kind:
            self.notify(t(f"app.db_{exc.kind}", reason=t.error(exc)), severity="error", timeout=20)
            if exc.kind == "damaged":  # which check failed, the file kept; F moves it aside for a fresh one
                offer_fresh_file(self.app, exc)
        self._db_problem = exc.kind
        self.sub_title = t(f"app.db_{exc.kind}_short")

    def fresh_file_started(self) -> None:
        """On a fresh file: the form as typed is saved there as the draft; Ctrl+S registers it."""
        self._good_day()
        self.save_draft()

    def _good_day(self) -> None:
        if self._db_problem:
            self._db_problem = ""
            self.sub_title = ""

    # -- reacting to typing -----------------------------------------------------------------------------------
    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("f-")
        if len(event.value) > MAX_FIELD_CHARS or any(ord(c) < 32 or c == "\x7f" for c in event.value):
            cleaned = clean_text(event.value, multiline=False)
            if cleaned != event.value:
                event.input.value = cleaned
                if len(event.value) > MAX_FIELD_CHARS:
                    self.notify(self.app.t("intake.too_long", limit=MAX_FIELD_CHARS), severity="warning")
                return
        if name == "phone":
            skip, self._skip_lookup = self._skip_lookup, None
            if event.value != skip:
                self._lookup(event.value)
        elif name == "category":
            self._suggest(event.value)
        self._schedule_save()

    @on(TextArea.Changed)
    def _area_changed(self, event: TextArea.Changed) -> None:
        text = event.text_area.text
        cleaned = clean_text(text)
        if cleaned != text:
            event.text_area.text = cleaned
            if len(text) > MAX_FIELD_CHARS:
                self.notify(self.app.t("intake.too_long", limit=MAX_FIELD_CHARS), severity="warning")
            return
        self._schedule_save()

    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    def _choice_changed(self) -> None:
        self._schedule_save()

    def _lookup(self, phone: str) -> None:
        """Look the caller up on a worker thread (never on a keystroke's thread); only the latest answer shows."""
        self._lookups += 1
        self._lookup_worker(self._lookups, phone)

    @work(thread=True, exclusive=True, group="caller-lookup", exit_on_error=False)
    def _lookup_worker(self, generation: int, phone: str) -> None:
        pending = callbacks.pending_for_phone(self.ws, phone)
        earlier = svc.earlier_cases(self.ws, phone)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_caller, generation, phone, pending, earlier)

    def show_caller_now(self, phone: str, pending: list[dict[str, Any]], earlier: list[dict[str, Any]]) -> None:
        """A screen pop put the number in and looked the caller up already (one indexed lookup, about a
        millisecond on 100,000 cases): shown at once, not after a worker's round trip for the same answer."""
        self._lookups += 1
        self._show_caller(self._lookups, phone, pending, earlier)

    def _show_caller(self, generation: int, phone: str, pending: list[dict[str, Any]],
                     earlier: list[dict[str, Any]]) -> None:
        if generation != self._lookups:
            return  # a newer keystroke asked again
        # a caller's pending callbacks are named beside the form, never popped over it: the agent is typing the
        # number (a popup here once swallowed the caller's digits); Ctrl+K or the registration asks what to do
        self._pending = [] if digits(phone) in self._asked_callbacks else pending
        self._earlier = earlier
        box = self.query_one("#earlier", OptionList)
        box.clear_options()
        t = self.app.t
        room = max(8, (box.content_size.width or 24) - 1)
        for case in earlier:  # number and status, then the facts cut to the line with "…" (never folded mid-word)
            status = t(f"status.{case['status']}")
            box.add_option(Option(f"{case['number']} {status}\n{cells.truncate(case['facts'], room)}", id=case["id"]))
        note = self.query_one("#side-note", Static)
        open_ = [c for c in earlier if is_open_status(c["status"])]
        lines = []
        if self._pending:
            lines.append(t("intake.pending_callbacks", count=len(self._pending)))
        if earlier:
            lines.append(t("intake.repeat", total=len(earlier), open=len(open_)))
        note.update("\n".join(lines))
        if is_repeat_caller(earlier):
            flags = self.query_one("#f-flags", SelectionList)
            if REPEAT_FLAG not in flags.selected:
                flags.select(REPEAT_FLAG)

    def _suggestions(self, make: bool = False) -> OptionList | None:
        """The category suggestions under the category field; made when first needed (`make`)."""
        found = self.query("#category-suggestions")
        if found:
            return found.first(OptionList)
        if not make:
            return None
        box = OptionList(id="category-suggestions")
        self.query_one("#intake-form").mount(box, after=self.query_one("#f-category"))
        return box

    def _suggest(self, text: str) -> None:
        box = self._suggestions(make=bool(text.strip()))
        if box is None:
            return
        box.clear_options()
        if not text.strip():
            box.display = False
            return
        cats = {c.id: c for c in self.ws.profile.categories}
        ids = rank(text, [(c.id, [c.label, c.label_en, c.id]) for c in cats.values()])
        exact = any(text.strip() in (c.label, c.label_en, c.id) for c in cats.values())
        for cid in ids[:6]:
            c = cats[cid]
            # in English the Chinese label beside (what the caller says); in Chinese only the Chinese one
            box.add_option(Option(self.app.t.label(c) if self.app.t.lang == "zh" else f"{c.label_en}  {c.label}",
                                  id=cid))
        box.display = bool(ids) and not exact
        if ids:
            box.highlighted = 0

    @on(Input.Submitted, "#f-category")
    def _category_enter(self) -> None:
        box = self._suggestions()
        if box is not None and box.display and box.option_count:
            option = box.get_option_at_index(box.highlighted or 0)
            self._pick_category(option.id or "")

    @on(OptionList.OptionSelected, "#category-suggestions")
    def _category_picked(self, event: OptionList.OptionSelected) -> None:
        self._pick_category(event.option.id or "")

    def _pick_category(self, category_id: str) -> None:
        cat = self.ws.profile.category(category_id)
        if cat is None:
            return
        field = self.query_one("#f-category", Input)
        field.value = self.app.t.label(cat)
        box = self._suggestions()
        if box is not None:
            box.display = False
        self.query_one("#f-channel", Select).focus()

    def on_key(self, event: Any) -> None:
        if event.key == "down" and self.focused is self.query_one("#f-category", Input):
            box = self._suggestions()
            if box is not None and box.display:
                box.focus()
                event.stop()

    # -- timer and ladder -------------------------------------------------------------------------------------
    def _tick(self) -> None:
        if self.started is None:
            return
        t = self.app.t
        now = self.ws.now()
        call = int((now - self.started).total_seconds())
        text = t("intake.call_timer", time=f"{call // 60:02d}:{call % 60:02d}")
        timer = self.query_one("#call-timer", Static)
        state = svc.ladder(self.ws, self.upset_since, now)
        timer.set_class(state is not None, "upset")
        timer.set_class(bool(state and state.report_due), "report-due")
        if state is not None:
            up = int(state.upset_seconds)
            text += "  ·  " + t("intake.upset_timer", time=f"{up // 60:02d}:{up % 60:02d}")
            if state.report_due:
                text += "  ·  " + t("intake.report_now", minutes=state.limit_minutes)
        timer.update(text)

    def action_upset(self) -> None:
        if self.upset_since is None:
            self.upset_since = self.ws.now()
            self._schedule_save()
        self._tick()

    def action_report_lead(self) -> None:
        if self.upset_since is None:
            self.upset_since = self.ws.now()
        case_id = self.case_id or self._selected_earlier()
        if case_id is None:
            state = self._register(read_back=False)
            if state is None:
                return
            case_id = state.id
        svc.report_dissatisfaction(self.ws, case_id, self.upset_since, self.app.t("intake.report_note"))
        self.notify(self.app.t("intake.reported"), severity="warning")

    # -- finishing the call -----------------------------------------------------------------------------------
    def _errors(self, fields: dict[str, str]) -> None:
        names = {*TEXT_INPUTS, *AREAS, "title", "channel", "complexity", "flags"}
        for name in names:
            self._set_error(name, "")
        general = []
        t = self.app.t
        for key, message in fields.items():
            message = t.reason(message) if isinstance(message, Reason) else (
                t("intake.bad_value") if t.lang == "zh" else message)
            name = key.removeprefix("complainant.")
            if name in names:
                self._set_error(name, message)
            else:
                general.append(f"{t('intake.' + name) if t.has('intake.' + name) else key}：{message}")
        if general:
            self.notify("; ".join(general), severity="error")
        if fields:
            self._focus_first_wrong({key.removeprefix("complainant.") for key in fields})

    def _focus_first_wrong(self, wrong: set[str]) -> None:
        """The cursor goes to the first wrong field in the form's order, so the agent fixes it without hunting."""
        for widget in self.query("#intake-form *"):
            if widget.id and widget.id.startswith("f-") and widget.id[2:] in wrong and widget.focusable:
                widget.focus()
                widget.scroll_visible()
                return

    def action_read_back(self) -> None:
        if self.case_id is not None:
            return
        try:
            shown = svc.preview(self.ws, self.form(), self.started or self.ws.now())
        except IntakeError as exc:
            self._errors(exc.fields)
            return
        self._errors({})

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._register(read_back=True)

        self.app.push_screen(ReadBackDialog(shown.summary + self.app.t("intake.readback_number_later")), confirmed)

    def action_save(self) -> None:
        self._register(read_back=False)

    def _register(self, read_back: bool, leave: bool = False) -> Any:
        """Register the call's case. The screen stays, with the case number in plain sight, until the next call."""
        if self.case_id is not None:
            return self.ws.case(self.case_id)
        try:
            with self.ws.waiting_at_most(0.5):
                state, *copies = svc.register(self.ws, self.form(), self.started or self.ws.now(), read_back)
        except IntakeError as exc:
            self._errors(exc.fields)
            return None
        except StoreError as exc:  # not registered: the form stays; a busy database is tried again
            again = self._db_problem == exc.kind == "damaged"  # said before, and the agent tries again: ask again
            self._bad_day(exc, lambda: self._register(read_back, leave))
            if again:
                offer_fresh_file(self.app, exc)
            return None
        self._good_day()
        self._errors({})
        self.case_id = state.id
        self._call_case(state.id)
        if self._save_timer is not None:
            self._save_timer.stop()
        svc.discard_draft(self.ws, self.draft_key)
        self._show_number(state.number, [c.number for c in copies])
        phone = self.query_one("#f-phone", Input).value
        if digits(phone) not in self._asked_callbacks:  # the lookup may still be on its way: ask now
            self._pending = callbacks.pending_for_phone(self.ws, phone)
        if self._pending:  # the agent has finished typing: now ask about the caller's pending callbacks
            self.action_pending_callbacks()
        if leave:
            self.app.pop_screen()
        return state

    def _call_case(self, case_id: str) -> None:
        """The call this intake was popped for belongs to the case it registered or was attached to."""
        phone = getattr(self.app, "phone", None)
        if self.call is not None and phone is not None:
            phone.case_for_call(self.call.call_id, case_id)

    def _show_number(self, number: str, copies: list[str]) -> None:
        t = self.app.t
        self.number = number
        box = self.query_one("#case-number", Static)
        box.update(t("intake.case_number", number=number, spoken=svc.spoken_number(number, self.ws.settings.lang)))
        box.display = True
        said = t("intake.registered", number=number)
        if copies:
            said += "\n" + t("intake.copies", numbers="、".join(copies))
        self.query_one("#side-note", Static).update(said)
        for widget in self.query("#intake-form Input, #intake-form TextArea, #intake-form Select, "
                                 "#intake-form SelectionList"):
            widget.disabled = True  # what was registered is on record; changes go through the case
        self.query_one("#draft-offer", Static).display = False
        self.offer = None

    def action_copy_number(self) -> None:
        if self.number:
            from agent_console.screens.copying import copy_and_tell

            copy_and_tell(self, self.number)

    def action_pending_callbacks(self) -> None:
        from agent_console.core.text import digits
        from agent_console.screens.callback_queue import KeepOrCancel

        if not self._pending:
            return
        pending, self._pending = self._pending, []
        self._asked_callbacks.add(digits(self.query_one("#f-phone", Input).value))
        self.app.push_screen(KeepOrCancel(pending))

    def _selected_earlier(self) -> str | None:
        box = self.query_one("#earlier", OptionList)
        if box.highlighted is None or not box.option_count:
            return None
        return box.get_option_at_index(box.highlighted).id

    def action_attach(self) -> None:
        case_id = self._selected_earlier()
        open_ids = {c["id"] for c in self._earlier if is_open_status(c["status"])}
        if case_id is None or case_id not in open_ids:
            self.notify(self.app.t("intake.attach_pick"), severity="warning")
            return
        state = svc.attach_call(self.ws, case_id, self.form())
        self.case_id = state.id
        self._call_case(state.id)
        svc.discard_draft(self.ws, self.draft_key)
        self.notify(self.app.t("intake.attached", number=state.number))
        self.app.pop_screen()

    def action_callback(self) -> None:
        """"Call me back after 3 pm tomorrow": register the case first if needed, then schedule."""
        case_id = self.case_id
        if case_id is None:
            state = self._register(read_back=False)
            if state is None:
                return
            case_id = state.id
        from agent_console.screens.callback_form import ScheduleCallbackForm

        self.app.push_screen(ScheduleCallbackForm(case_id))

    def action_enquiry(self) -> None:
        form = self.form()
        try:
            self.ws.record_enquiry(form["phone"], form["name"], form["facts"] or form["category"], form["request"],
                                   self.app.t("intake.enquiry_reason"))
        except IntakeError as exc:  # the same plausibility rules as a case's: a 5,000-digit phone is refused
            self._errors(exc.fields)
            return
        svc.discard_draft(self.ws, self.draft_key)
        self.notify(self.app.t("intake.enquiry_saved"))
        self.app.pop_screen()

    def action_leave(self) -> None:
        if self.case_id is None:
            if self._save_timer is not None:
                self._save_timer.stop()
            self.save_draft(left=True)  # the draft is offered at the next call (never merged into it)
        self.app.pop_screen()

    def next_call(self) -> None:
        """F2 on the intake screen: this call is over (its draft kept if unfinished); the next starts empty."""
        self.action_leave()
        open_intake(self.app)

    def phrase_context(self) -> dict[str, Any]:
        """What the phrase panel fills a reply from: everything already on this form (and the case once
        registered), so a reply asks only for what is truly unknown."""
        form = self.form()
        from agent_console.core.new_case import _resolve_category

        category = _resolve_category(self.ws.profile, form["category"])
        fields = svc.phrase_fields(self.ws, form, category)
        return {"case_id": self.case_id, "category": category, "stage": "intake", "fields": fields}


# -- the next call's intake, built ahead ---------------------------------------------------------------------------
# Building the form (some seventy widgets composed, styled and laid out) took most of the time from the phone
# system's POST to the intake on screen. A console that takes calls keeps one spare intake built ahead, out of sight:
# a new, empty IntakeScreen, installed under SPARE and pushed and popped in the same moment (no key can reach it
# meanwhile), which composes, mounts and lays it out in the background. The next call takes it; it is then an
# ordinary intake, removed when it is left; the next spare is built a little after.
SPARE = "intake-spare"


def prepare_spare(app: Any) -> None:
    """Build the next call's intake ahead (once; nothing if a spare waits already)."""
    if app.is_screen_installed(SPARE) or not app.is_running:
        return
    spare = IntakeScreen(spare=True)
    app.install_screen(spare, SPARE)
    # pushed and popped without yielding: it is composed and laid out at the console's size, never on screen, and
    # no keystroke can land in it (keys are dispatched between the loop's turns, never inside this function)
    app.push_screen(spare)
    app.pop_screen()


def take_spare(app: Any) -> IntakeScreen | None:
    """The spare intake, if one is built and ready; it is no longer installed (left, it goes like any screen)."""
    if not app.is_screen_installed(SPARE):
        return None
    spare = app.get_screen(SPARE)
    if not isinstance(spare, IntakeScreen) or not spare._ready or spare in app.screen_stack:
        return None  # still being built: this call gets a new one
    app.uninstall_screen(SPARE)
    return spare


def open_intake(app: Any, draft_key: str | None = None, call: Any = None) -> IntakeScreen:
    """Show an intake for a call (the spare when one is ready); a console that takes calls builds the next spare a
    little later, while the agent talks (a new one would cost the same on the way to the screen)."""
    screen = take_spare(app)
    if screen is not None:
        screen.take(draft_key, call)
    else:
        screen = IntakeScreen(draft_key=draft_key, call=call)
    app.push_screen(screen)
    if getattr(app, "phone", None) is not None and app.phone.listening:
        app.set_timer(SPARE_AFTER, lambda: prepare_spare(app))
    return screen


SPARE_AFTER = 0.5  # seconds after an intake opens: its own first frames are done by then
