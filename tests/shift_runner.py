"""A shift as a test: a data file (tests/shifts/*.toml) describes a shift -- the calls with what the caller says and
what the agent types, callbacks, closings, a lead's decisions, the console killed once mid-call, a restart -- and
this runner drives it through the real screens with Pilot, checking the records after every step.

Steps (`[[step]]`, `do = ...`):
  call      F2, the number typed key by key, the rest entered as an input method commits it, then `finish`:
            read_back (Ctrl+R, Enter) | save (Ctrl+S) | leave (Esc: unfinished) | crash (the console is killed) |
            enquiry (Ctrl+E); `refused = "text"`: the save must be refused with that text next to a field, the cursor
            on the first wrong one (the call is then left unfinished). `copy_via = "terminal"`: no system clipboard,
            the copy goes through OSC 52 and must say so. `pending = "keep"|"cancel"` answers the caller's pending callbacks once registered;
            `callback = "明天下午3点"` schedules one (Ctrl+B). `expect_offer` checks the unfinished-intake line.
  restore   F2, Ctrl+O on the offered unfinished intake, then like `call` (fields added, `finish`).
  discard   F2, Ctrl+D, Y.
  act       open the case of `phone`, run the action form `kind` with `fields`; `refused = "text"` expects the form
            to stay with that text, `empty_first = true` presses Ctrl+S on the untouched form first (must refuse);
            `pick = {field = "keys"}` types the keys in a person field, Enter opens the roster, Enter takes the first;
            `as_lead = true` acts from the lead's console.
  cli       `agent-console ARGV…` on the shift's database (`stdin`, `env`), `code` and `says` (texts it must print).
  survey    F6, the satisfaction call of `phone`'s case; Ctrl+S untouched must refuse; then the answers.
  lead      the lead's console on the same database: `reassign = [phone, person]` (`refused = true` for a person not
            on the roster), `approve = phone` for its pending decision (`self_refused = true`: the lead's own request,
            dimmed with the reason before anything is typed), `drill = "figure"`: the KPI figure's cases, then Tab to
            the ones that missed and to the whole denominator.
  pulled    a teammate's console with a database of its own registers cases (`bent`: one with its receipt moved by
            `received_days`) and pushes them to an embedded centre; this console pulls from it.
  advance   the clock moves `minutes` / `hours`.
  restart   the console closes and starts again (a clean restart).
Every step may carry `[step.expect]`, checked against the database (see `check`). The first failing step ends the
shift; with SHIFT_KEEP_GOING=1 the shift goes on and every failing step is listed (to see what old code gets wrong).
"""

from __future__ import annotations

import os
import time
import tomllib
from contextlib import AsyncExitStack
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Input, Select, SelectionList, Static, TextArea

from agent_console.app import AgentConsoleApp
from agent_console.core.case_query import CaseQuery
from agent_console.services import callbacks
from tests.conftest import FakeClock, make_workspace

SIZE = (120, 40)
AREAS = {"facts", "request", "report", "fault_description", "remedy", "text", "note", "value"}


async def settle(pilot: Any, times: int = 3) -> None:
    for _ in range(times):
        await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


class ShiftFailure(AssertionError):
    pass


class Shift:
    def __init__(self, path: Path, tmp_path: Path) -> None:
        self.path = path
        self.data = tomllib.loads(path.read_text(encoding="utf-8"))
        head = self.data["shift"]
        self.clock = FakeClock(datetime.fromisoformat(head["start"]))
        self.tmp_path = tmp_path
        self.agent = head.get("agent", "a-test")
        self.lead_id = head.get("lead", "lead-1")
        self.team_mates: list[str] = head.get("team_mates", [])
        self.stack: AsyncExitStack | None = None
        self.ws: Any = None
        self.app: Any = None
        self.pilot: Any = None
        self.role = ""
        self.step_no = 0
        self.timings: list[tuple[str, float]] = []

    # -- sessions -----------------------------------------------------------------------------------------------
    async def open(self, role: str = "agent") -> None:
        await self.close()
        who = self.agent if role == "agent" else self.lead_id
        extra = {"role": "lead"} if role == "lead" else {}
        self.ws = make_workspace(self.tmp_path, self.clock, name="shift.db", agent=who, **extra)
        self.app = AgentConsoleApp(self.ws)
        self.stack = AsyncExitStack()
        self.pilot = await self.stack.enter_async_context(self.app.run_test(size=SIZE))
        self.role = role
        await settle(self.pilot)

    async def close(self, crash: bool = False) -> None:
        """End the console. `crash`: as if killed -- no Esc, nothing saved on the way out."""
        if self.stack is None:
            return
        if not crash:
            await settle(self.pilot)
        await self.stack.aclose()
        self.ws.close()
        self.stack = self.ws = self.app = self.pilot = None

    def fail(self, step: dict[str, Any], message: str) -> None:
        raise ShiftFailure(f"{self.path.name} step {self.step_no} ({step.get('do')} {step.get('phone', '')}): "
                           f"{message}")

    # -- helpers ------------------------------------------------------------------------------------------------
    def case_of(self, phone: str) -> Any:
        cases = self.ws.list_cases(CaseQuery(phone=phone), mask=False)
        if not cases:
            return None
        latest = max(cases, key=lambda c: c["registered_at"])
        return self.ws.case(latest["id"])

    async def press(self, *keys: str) -> None:
        await self.pilot.press(*keys)
        await settle(self.pilot)

    def screen(self) -> Any:
        return self.app.screen

    # -- the steps ----------------------------------------------------------------------------------------------
    async def run(self) -> list[tuple[str, float]]:
        import pyperclip

        real_copy, self.copied = pyperclip.copy, []
        pyperclip.copy = self.copied.append  # what the agent copied, as the clipboard would get it
        await self.open("agent")
        try:
            failures: list[str] = []
            for step in self.data["step"]:
                self.step_no += 1
                began = time.perf_counter()
                try:
                    await getattr(self, "do_" + step["do"])(step)
                    if step.get("expect", {}).get("status_waiting"):
                        await self.pilot.pause(2.3)  # the status line looks at the outbox every 2 s
                        await settle(self.pilot)
                    self.check(step, step.get("expect", {}))
                except ShiftFailure as exc:
                    # SHIFT_KEEP_GOING=1: every failing step of a shift at once (to see which defects old code has)
                    if not os.environ.get("SHIFT_KEEP_GOING"):
                        raise
                    failures.append(str(exc))
                    print("FAILED", exc, flush=True)
                    await self.open("agent")
                self.timings.append((step["do"], time.perf_counter() - began))
                if os.environ.get("SHIFT_VERBOSE"):
                    print(f"step {self.step_no:>2} {step['do']:<8} {self.timings[-1][1]:6.2f} s", flush=True)
        finally:
            await self.close()
            pyperclip.copy = real_copy
        if failures:
            raise ShiftFailure(f"{len(failures)} steps failed:\n" + "\n".join(failures))
        return self.timings

    async def do_advance(self, step: dict[str, Any]) -> None:
        self.clock.advance(minutes=step.get("minutes", 0), hours=step.get("hours", 0))

    async def do_synced(self, step: dict[str, Any]) -> None:
        """A teammate's console registered a case in this team (it reached this database by sync)."""
        other = make_workspace(self.tmp_path, self.clock, name="shift.db", agent=step["agent"])
        other.register({"channel": "phone", "category": "other", "facts": "同组同事登记的案件", "request": "处理",
                        "complainant": {"name": "同事客户", "phone": step["phone"]}})
        other.close()

    async def do_restart(self, step: dict[str, Any]) -> None:
        await self.open("agent")

    async def _intake(self, step: dict[str, Any]) -> Any:
        from agent_console.screens.intake import IntakeScreen

        if self.role != "agent":
            await self.open("agent")
        await self.press("f2")
        screen = self.screen()
        if not isinstance(screen, IntakeScreen):
            self.fail(step, f"F2 opened {type(screen).__name__}, not the intake")
        return screen

    async def _fill_intake(self, step: dict[str, Any], screen: Any) -> None:
        if step.get("phone") and not step.get("restored"):
            phone_box = screen.query_one("#f-phone", Input)
            if self.screen() is not screen or self.app.focused is not phone_box:
                self.fail(step, "the phone field does not have the keys")
            await self.pilot.press(*step["phone"])
            await settle(self.pilot)
            if phone_box.value != step["phone"]:
                self.fail(step, f"typed {step['phone']!r}, the phone field says {phone_box.value!r}")
        if step.get("name"):  # typed on, right behind the number (a popup here once swallowed it)
            await self.pilot.press("tab")
            screen.query_one("#f-name", Input).insert_text_at_cursor(step["name"])
            await settle(self.pilot)
            if self.screen() is not screen:
                self.fail(step, f"{type(self.screen()).__name__} popped over the form while the agent typed")
        if step.get("title"):
            screen.query_one("#f-title", Select).value = step["title"]
        if step.get("category_keys"):  # pinyin initials, Enter takes the first suggestion
            screen.query_one("#f-category", Input).focus()
            await self.pilot.press(*step["category_keys"], "enter")
            await settle(self.pilot)
        elif step.get("category"):
            screen.query_one("#f-category", Input).value = step["category"]
        for name in ("respondent", "amount", "id_number"):
            if step.get(name):
                screen.query_one(f"#f-{name}", Input).value = str(step[name])
        for name in ("facts", "request"):
            if step.get(name):
                screen.query_one(f"#f-{name}", TextArea).text = step[name]
        for flag in step.get("flags", []):
            screen.query_one("#f-flags", SelectionList).select(flag)
        await settle(self.pilot)
        self.clock.advance(minutes=step.get("minutes", 3))

    async def _finish(self, step: dict[str, Any], screen: Any) -> None:
        from agent_console.screens.callback_queue import KeepOrCancel
        from agent_console.screens.intake import ReadBackDialog

        if step.get("phrase"):  # a reply from the phrase panel, filled from what is on the form
            from agent_console.screens.phrase_panel import AskValues

            await self.press("f3")
            await self.pilot.press(*step["phrase"]["keys"])
            await settle(self.pilot)
            await self.press("enter")
            if isinstance(self.screen(), AskValues):
                self.fail(step, f"the reply asks for {self.screen().names}, already on the form")
            if not self.copied or step["phrase"]["copied"] not in self.copied[-1]:
                self.fail(step, f"the reply copied was {self.copied[-1:]}, expected {step['phrase']['copied']!r}")
        finish = step.get("finish", "read_back")
        if finish == "read_back":
            await self.press("ctrl+r")
            if not isinstance(self.screen(), ReadBackDialog):
                self.fail(step, f"Ctrl+R showed no read-back: {screen.query_one('#side-note', Static).render()}")
            await self.press("enter")
        elif finish == "save":
            await self.press("ctrl+s")
        elif finish == "enquiry":
            await self.press("ctrl+e")
            return
        elif finish == "leave":
            await self.pilot.pause(0.4)
            await self.press("escape")
            return
        elif finish == "crash":
            await self.pilot.pause(0.5)  # the autosave runs 0.3 s after the last keystroke
            await settle(self.pilot)
            await self.close(crash=True)
            await self.open("agent")
            return
        if step.get("refused"):
            shown = [str(w.render()) for w in screen.query(".field-error") if str(w.render())]
            if screen.case_id is not None or not any(step["refused"] in x for x in shown):
                self.fail(step, f"expected the save refused with {step['refused']!r}, got {shown} "
                                f"(registered: {screen.case_id is not None})")
            focused = self.app.focused
            wrong = [w.id[4:] for w in screen.query(".field-error") if str(w.render()) and w.id]
            if focused is None or (focused.id or "")[2:] != wrong[0]:
                self.fail(step, f"the cursor is on {getattr(focused, 'id', None)}, not the first wrong field {wrong[0]}")
            await self.pilot.pause(0.4)
            await self.press("escape")
            return
        if step.get("pending"):
            if not isinstance(self.screen(), KeepOrCancel):
                self.fail(step, "the caller's pending callbacks were not asked about after registering")
            await self.press("k" if step["pending"] == "keep" else "c")
        if screen.case_id is None:
            errors = [str(w.render()) for w in screen.query(".field-error") if str(w.render())]
            self.fail(step, f"not registered: {errors}")
        if step.get("copy_number"):
            shown = screen.query_one("#case-number", Static)
            if not shown.display or screen.number not in str(shown.render()):
                self.fail(step, "the case number is not on the intake screen after registering")
            if step.get("copy_via") == "terminal":
                await self._copy_through_terminal(step, screen.number)
            else:
                await self.press("ctrl+y")
                if not self.copied or self.copied[-1] != screen.number:
                    self.fail(step, f"Ctrl+Y copied {self.copied[-1:]}, not the case number {screen.number}")
        if step.get("callback"):
            await self.press("ctrl+b")
            await self.pilot.press(*step["callback"]) if step["callback"].isascii() else None
            if not step["callback"].isascii():
                self.screen().query_one("#cb-when", Input).value = step["callback"]
            await settle(self.pilot)
            await self.press("ctrl+s")
        await self.press("escape")

    async def _copy_through_terminal(self, step: dict[str, Any], text: str) -> None:
        """No system clipboard (ssh, no display): the text goes out through OSC 52, which the console cannot see
        arrive; it must say so and show the text to select by hand, never claim it was copied."""
        import pyperclip

        from agent_console.screens.copying import CopiedText

        def no_clipboard(_: str) -> None:
            raise pyperclip.PyperclipException("no display")

        sent: list[str] = []
        system, terminal = pyperclip.copy, self.app.copy_to_clipboard
        pyperclip.copy, self.app.copy_to_clipboard = no_clipboard, sent.append
        try:
            await self.press("ctrl+y")
        finally:
            pyperclip.copy, self.app.copy_to_clipboard = system, terminal
        dialog = self.screen()
        if sent != [text] or not isinstance(dialog, CopiedText):
            self.fail(step, f"through the terminal: sent {sent}, shown {type(dialog).__name__}")
        note = str(dialog.query_one("#copied-note", Static).render())
        if "已发送到终端剪贴板" not in note or dialog.query_one("#copied-text", TextArea).text != text:
            self.fail(step, f"the copy through the terminal says {note!r}")
        await self.press("escape")

    async def do_call(self, step: dict[str, Any]) -> None:
        screen = await self._intake(step)
        if "expect_offer" in step:
            offer = screen.query_one("#draft-offer", Static)
            if step["expect_offer"] and (not offer.display or step["expect_offer"] not in str(offer.render())):
                self.fail(step, f"expected the unfinished intake offered ({step['expect_offer']}), got "
                                f"{offer.render() if offer.display else 'nothing'}")
        for name in ("f-phone", "f-name"):
            if screen.query_one(f"#{name}", Input).value:
                self.fail(step, f"a new call starts with {name} = {screen.query_one(f'#{name}', Input).value!r}")
        if screen.query_one("#f-facts", TextArea).text:
            self.fail(step, "a new call starts with the previous caller's facts")
        await self._fill_intake(step, screen)
        self._started = screen.started
        await self._finish(step, screen)

    async def do_restore(self, step: dict[str, Any]) -> None:
        screen = await self._intake(step)
        offer = screen.query_one("#draft-offer", Static)
        if not offer.display:
            self.fail(step, "no unfinished intake offered")
        if step.get("crashed") and "意外退出" not in str(offer.render()):
            self.fail(step, f"the cut-off intake does not say so: {offer.render()}")
        await self.press("ctrl+o")
        if screen.query_one("#f-phone", Input).value != step["phone"]:
            self.fail(step, f"restored phone {screen.query_one('#f-phone', Input).value!r}")
        if step.get("call_started") and screen.started != datetime.fromisoformat(step["call_started"]):
            self.fail(step, f"the restored call starts at {screen.started}, not {step['call_started']}")
        await self._fill_intake(step | {"restored": True, "name": ""}, screen)
        await self._finish(step, screen)

    async def do_discard(self, step: dict[str, Any]) -> None:
        screen = await self._intake(step)
        await self.press("ctrl+d")
        await self.press("y")
        await self.press("escape")
        del screen

    async def _open_case(self, step: dict[str, Any]) -> Any:
        from agent_console.screens.case_detail import CaseDetailScreen

        role = "lead" if step.get("as_lead") else "agent"
        if self.role != role:
            await self.open(role)
        case = self.case_of(step["phone"])
        if case is None:
            self.fail(step, "no case for this caller")
        while len(self.app.screen_stack) > 2:  # back to the case list first
            self.app.pop_screen()
            await settle(self.pilot)
        self.app.open_case(case.id)
        await settle(self.pilot)
        if not isinstance(self.screen(), CaseDetailScreen):
            self.fail(step, "the case did not open")
        return case

    async def _fill_form(self, form: Any, fields: dict[str, Any]) -> None:
        for name, value in fields.items():
            w = form.query_one(f"#f-{name}")
            if isinstance(w, TextArea):
                w.text = str(value)
            elif isinstance(w, SelectionList):
                for v in value:
                    w.select(v)
            elif isinstance(w, Select):
                w.value = value
            else:
                w.value = str(value)
        await settle(self.pilot)

    async def do_act(self, step: dict[str, Any]) -> None:
        from agent_console.screens.action_forms import ActionForm

        await self._open_case(step)
        self.screen().start_action(step["kind"])
        await settle(self.pilot)
        form = self.screen()
        if not isinstance(form, ActionForm):
            self.fail(step, f"the {step['kind']} form did not open")
        if step.get("empty_first"):
            for select in form.query(Select):
                if not select.is_blank():
                    self.fail(step, f"{select.id} is preselected ({select.value})")
            await self.press("ctrl+s")
            if self.screen() is not form:
                self.fail(step, "the untouched form was saved")
        await self._fill_form(form, step.get("fields", {}))
        for name, keys in step.get("pick", {}).items():  # a person is picked from the roster, by a few letters
            from agent_console.screens.pick_person import PickPerson

            form.query_one(f"#f-{name}", Input).focus()
            await self.press(*keys, "enter")
            if not isinstance(self.screen(), PickPerson):
                self.fail(step, f"Enter in {name} did not offer the roster")
            await self.press("enter")
            if self.screen() is not form:
                self.fail(step, f"{keys!r} found nobody on the roster")
        await self.press("ctrl+s")
        if step.get("refused"):
            shown = " ".join(str(w.render()) for w in form.query(".field-error, .form-error"))
            if self.screen() is not form or step["refused"] not in shown:
                self.fail(step, f"expected refusal {step['refused']!r}, got {shown!r}")
            await self.press("escape")
        elif self.screen() is form:
            shown = " ".join(str(w.render()) for w in form.query(".field-error, .form-error"))
            self.fail(step, f"the {step['kind']} form refused: {shown}")
        await self.press("escape")

    async def do_survey(self, step: dict[str, Any]) -> None:
        from agent_console.screens.callback_queue import CallbackCallScreen, CallbackQueueScreen

        if self.role != "agent":
            await self.open("agent")
        case = self.case_of(step["phone"])
        await self.press("f6")
        queue = self.screen()
        if not isinstance(queue, CallbackQueueScreen):
            self.fail(step, "F6 did not open the callback queue")
        wanted = [cb["id"] for cb in callbacks.for_case(self.ws, case.id)
                  if cb["kind"] == step.get("kind", "satisfaction") and cb["status"] == "pending"]
        if not wanted:
            self.fail(step, "no pending survey call for this case")
        table = queue.query_one("#callbacks", DataTable)
        keys = [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]
        if step.get("queue_first") and queue.rows[keys[0]]["kind"] != step["queue_first"]:
            self.fail(step, f"the queue starts with a {queue.rows[keys[0]]['kind']} call, not what a customer "
                            f"asked for ({step['queue_first']})")
        if step.get("queue_keeps_place"):  # by keys to the row, a popup over the queue and back: still there
            await self.press(*["down"] * keys.index(wanted[0]))
            await self.press("enter")
            await self.press("escape")
            at = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
            if self.screen() is not queue or at != wanted[0]:
                self.fail(step, f"after a popup the queue's cursor is on row {table.cursor_row}, not on "
                                f"row {keys.index(wanted[0])} where the agent left it")
        table.move_cursor(row=keys.index(wanted[0]))
        await self.press("enter")
        call = self.screen()
        if not isinstance(call, CallbackCallScreen):
            self.fail(step, "the survey call did not open")
        await self.press("ctrl+s")
        if self.screen() is not call or callbacks.get(self.ws, wanted[0])["status"] != "pending":
            self.fail(step, "the untouched survey was recorded")
        answers = step.get("answers", {})
        for name, value in answers.items():
            w = call.query_one(f"#r-{name}")
            if isinstance(w, Select):
                w.value = value
            else:
                w.value = str(value)
        await settle(self.pilot)
        await self.press("ctrl+s")
        if step.get("escalate") is not None:
            await self.press("y" if step["escalate"] else "n")
        while len(self.app.screen_stack) > 2:
            self.app.pop_screen()
            await settle(self.pilot)
        self._survey_id = wanted[0]

    async def do_lead(self, step: dict[str, Any]) -> None:
        from agent_console.screens.lead_console import LeadScreen, PickPerson

        await self.open("lead")
        await self.press("f7")
        screen = self.screen()
        if not isinstance(screen, LeadScreen):
            self.fail(step, "F7 did not open the lead console")
        if step.get("reassign"):
            phone, person = step["reassign"]
            case = self.case_of(phone)
            from textual.widgets import TabbedContent

            screen.query_one("#lead-tabs", TabbedContent).active = "tab-overdue"
            await settle(self.pilot)
            table = screen.query_one("#overdue")
            table.focus()
            row = next((i for i in range(table.row_count) if case.number in [str(c) for c in table.get_row_at(i)]),
                       None)
            if row is None:
                self.fail(step, f"{case.number} is not in the overdue queue")
            table.move_cursor(row=row)
            await self.press("r")
            picker = self.screen()
            if not isinstance(picker, PickPerson):
                self.fail(step, "reassigning did not offer the roster")
            await self.pilot.press(*person, "enter") if person.isascii() else None
            await settle(self.pilot)
            if step.get("refused"):
                if self.screen() is not picker:
                    self.fail(step, f"{person!r} (not on the roster) was accepted")
                await self.press("escape")
        if step.get("approve"):
            case = self.case_of(step["approve"])
            from textual.widgets import TabbedContent

            screen.query_one("#lead-tabs", TabbedContent).active = "tab-approvals"
            await settle(self.pilot)
            table = screen.query_one("#approvals", DataTable)
            table.focus()
            row = next((i for i in range(table.row_count) if str(table.get_row_at(i)[0]) == case.number), None)
            if row is None:
                self.fail(step, f"{case.number} has nothing waiting for the lead")
            table.move_cursor(row=row)
            await self.press("y")
            if step.get("self_refused"):  # the lead's own request: dimmed with the reason before anything is typed
                dialog = self.screen()
                said = dialog.query("#approval-refusal")
                if not said or "自己" not in str(said.first(Static).render()) \
                        or not dialog.query_one("#ask-text", Input).disabled:
                    self.fail(step, "the lead's own request is not refused before the reason is typed")
                await self.press("enter")
                if not self.case_of(step["approve"]).extension_pending:
                    self.fail(step, "the lead approved their own request")
                await self.press("escape")
                await self.open("agent")
                return
            shown = str(self.screen().query_one("#approval-facts", Static).render())
            for piece in step.get("approval_has", []):
                if piece not in shown.replace("{number}", case.number):
                    self.fail(step, f"the approval does not say {piece!r}: {shown}")
            if case.number not in shown:
                self.fail(step, f"the approval does not name the case: {shown}")
            await self.press("enter")
        if step.get("drill"):
            await self._drill(step, screen)
        await self.open("agent")

    async def _drill(self, step: dict[str, Any], screen: Any) -> None:
        """A KPI figure opens the cases behind it: its numerator, then (Tab) the ones that missed, the denominator."""
        from textual.widgets import TabbedContent

        from agent_console.screens.lead_console import DrillDown

        screen.query_one("#lead-tabs", TabbedContent).active = "tab-kpi"
        await settle(self.pilot)
        table = screen.query_one("#kpi", DataTable)
        table.focus()
        figures = [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]
        if step["drill"] not in figures:
            self.fail(step, f"no KPI figure {step['drill']!r} (figures: {figures})")
        table.move_cursor(row=figures.index(step["drill"]))
        await self.press("enter")
        drill = self.screen()
        if not isinstance(drill, DrillDown):
            self.fail(step, "the figure did not open its cases")
        met = set(drill.numbers)
        await self.press("tab")
        missed = set(drill.numbers)
        await self.press("tab")
        every = set(drill.numbers)
        if not missed or missed & met or met | missed != every:
            self.fail(step, f"the drill-down does not show the cases that missed: numerator {len(met)}, "
                            f"missed {len(missed)}, denominator {len(every)}")
        for phone in step.get("drill_missed", []):
            if self.case_of(phone).number not in missed:
                self.fail(step, f"{phone}'s case is not among the ones that missed")
        await self.press("escape")

    async def do_cli(self, step: dict[str, Any]) -> None:
        """The shell's door on the same database: the same rules and messages as the screens."""
        import contextlib
        import io
        import sys

        from agent_console.cli import main

        out, err = io.StringIO(), io.StringIO()
        saved_env = {k: os.environ.get(k) for k in step.get("env", {})}
        stdin = sys.stdin
        try:
            os.environ.update(step.get("env", {}))
            sys.stdin = io.StringIO(step.get("stdin", ""))
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main([*step["argv"], "--db", str(self.ws.settings.db), "--agent", self.agent])
        finally:
            sys.stdin = stdin
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        said = out.getvalue() + err.getvalue()
        if code != step.get("code", 0):
            self.fail(step, f"exit code {code}, expected {step.get('code', 0)}: {said}")
        for piece in step.get("says", []):
            if piece not in said:
                self.fail(step, f"the command did not say {piece!r}: {said}")

    async def do_pulled(self, step: dict[str, Any]) -> None:
        """A teammate with a database of their own (another site) registers cases and pushes them to an embedded
        centre; this console pulls. One registration (`bent`) was written by a console with other rules: its receipt
        lies `received_days` from its registration. It must be kept aside with the intake's message, not folded."""
        from datetime import timedelta

        from agent_console.sync.central import Identity
        from agent_console.sync.engine import SyncReport, pull, push
        from agent_console.sync.sqlite_central import SqliteCentral

        url = f"sqlite:///{self.tmp_path}/centre.db"
        mate = make_workspace(self.tmp_path, self.clock, name="mate.db", agent=step["agent"])
        try:
            for phone in step.get("phones", []):
                mate.register({"channel": "phone", "category": "other", "facts": "异地同事登记的案件",
                               "request": "处理", "complainant": {"name": "异地客户", "phone": phone}})
            if step.get("bent"):
                events = mate.registration_events({"channel": "phone", "category": "other", "facts": "外部导入",
                                                   "request": "处理",
                                                   "complainant": {"name": "错日期", "phone": step["bent"]}})
                first = events[0]
                received = first.at + timedelta(days=step["received_days"])
                events[0] = first.model_copy(update={"payload": {**first.payload,
                                                                 "received_at": received.isoformat()}})
                mate.store.append(events, mate.lifecycle)
            centre = SqliteCentral(url, Identity(step["agent"], "agent", (mate.settings.team,)))
            push(mate.store, centre)
            centre.close()
        finally:
            mate.close()
        centre = SqliteCentral(url, Identity(self.ws.actor, "agent", (self.ws.settings.team,)))
        self._pulled = SyncReport()
        try:
            pull(self.ws.store, centre, self.ws.lifecycle, report=self._pulled)
        finally:
            centre.close()

    # -- the records after a step -------------------------------------------------------------------------------
    def check(self, step: dict[str, Any], expect: dict[str, Any]) -> None:
        if not expect:
            return
        ws = self.ws
        if "drafts" in expect:
            found = len(ws.store.drafts(ws.actor))
            if found != expect["drafts"]:
                self.fail(step, f"{found} unfinished intakes kept, expected {expect['drafts']}")
        if "cases" in expect:
            found = ws.store.count_cases()
            if found != expect["cases"]:
                self.fail(step, f"{found} cases on record, expected {expect['cases']}")
        phone = expect.get("phone", step.get("phone"))
        case = self.case_of(phone) if phone else None
        fields = expect.get("case", {})
        if fields and case is None:
            self.fail(step, "no case on record for this caller")
        for key, want in fields.items():
            got: Any = case
            for part in key.split("."):
                got = getattr(got, part)
            if isinstance(got, Decimal) or (isinstance(want, str) and isinstance(got, Decimal)):
                want = Decimal(str(want))
            if got != want:
                self.fail(step, f"case.{key} is {got!r}, the agent meant {want!r}")
        if expect.get("read_back"):
            said = [e.payload["summary"] for e in ws.store.events(case.id) if e.kind == "read_back"]
            if not said:
                self.fail(step, "no read-back on record")
            for bad in ("。；", "。。", "；；"):
                if bad in said[-1]:
                    self.fail(step, f"the read-back has {bad!r}: {said[-1]}")
            if case.number not in said[-1]:
                self.fail(step, f"the read-back the caller heard has no case number: {said[-1]}")
            for piece in expect.get("read_back_has", []):
                if piece not in said[-1]:
                    self.fail(step, f"the read-back lacks {piece!r}: {said[-1]}")
        if "events" in expect:
            kinds = [e.kind for e in ws.store.events(case.id)]
            for kind in expect["events"]:
                if kind not in kinds:
                    self.fail(step, f"no {kind} on record (events: {kinds})")
        if expect.get("nothing_pending") and (case.extension_pending or case.closure_pending or case.remedy_pending):
            self.fail(step, "a decision is still waiting for the lead")
        if "callbacks" in expect:
            rows = {(cb["kind"], cb["status"]) for cb in callbacks.for_case(ws, case.id)}
            for kind, status in expect["callbacks"]:
                if (kind, status) not in rows:
                    self.fail(step, f"no {kind} callback {status} (callbacks: {sorted(rows)})")
        if "survey" in expect:
            cb = callbacks.get(ws, self._survey_id)
            got = cb.get("satisfaction") or {}
            for key, want in expect["survey"].items():
                if got.get(key) != want:
                    self.fail(step, f"survey {key} is {got.get(key)!r}, the agent chose {want!r}")
            if expect.get("survey_note"):
                notes = [e.payload.get("note") for e in ws.store.events(case.id) if e.kind == "callback_attempted"]
                if expect["survey_note"] not in notes:
                    self.fail(step, f"the survey's note is not on record (notes: {notes})")
        if "call_started" in expect:
            said = ws.store.events(case.id)[0]
            want = datetime.fromisoformat(expect["call_started"])
            if datetime.fromisoformat(said.payload["received_at"]) != want:
                self.fail(step, f"the case was received at {said.payload['received_at']}, the call began {want}")
        if expect.get("status_waiting"):  # the status line's waiting count moves as events are recorded
            from agent_console.widgets.sync_status import SyncStatus

            want = f"待同步 {ws.store.outbox_count()}"
            line = self.app.screen.query(SyncStatus)
            shown = str(line.first(SyncStatus).render()) if line else ""
            if want not in shown:
                self.fail(step, f"the status line says {shown!r}, not {want!r}")
        if "kept_aside" in expect:
            kept = ws.store.quarantined()
            reasons = " | ".join(str(q["reason"]) for q in kept)
            if len(kept) < expect["kept_aside"] or expect.get("kept_reason", "") not in reasons:
                self.fail(step, f"{len(kept)} pulled events kept aside ({reasons}), expected "
                                f"{expect['kept_aside']} saying {expect.get('kept_reason')!r}")
        for gone in expect.get("no_case_for", []):
            if self.case_of(gone) is not None:
                self.fail(step, f"{gone}'s implausible registration was folded into a case")
        if "enquiries" in expect:
            if len(ws.store.enquiries(phone=phone)) != expect["enquiries"]:
                self.fail(step, "the enquiry is not on record")


async def run_shift(path: Path, tmp_path: Path) -> list[tuple[str, float]]:
    return await Shift(path, tmp_path).run()

