"""A shift as a test: a data file (tests/shifts/*.toml) describes a shift -- the calls with what the caller says and
what the agent types, callbacks, closings, a lead's decisions, the console killed once mid-call, a restart -- and
this runner drives it through the real screens with Pilot, checking the records after every step.

Steps (`[[step]]`, `do = ...`):
  call      F2, the number typed key by key, the rest entered as an input method commits it, then `finish`:
            read_back (Ctrl+R, Enter) | save (Ctrl+S) | leave (Esc: unfinished) | crash (the console is killed) |
            enquiry (Ctrl+E). `pending = "keep"|"cancel"` answers the caller's pending callbacks once registered;
            `callback = "明天下午3点"` schedules one (Ctrl+B). `expect_offer` checks the unfinished-intake line.
  restore   F2, Ctrl+O on the offered unfinished intake, then like `call` (fields added, `finish`).
  discard   F2, Ctrl+D, Y.
  act       open the case of `phone`, run the action form `kind` with `fields`; `refused = "text"` expects the form
            to stay with that text, `empty_first = true` presses Ctrl+S on the untouched form first (must refuse).
  survey    F6, the satisfaction call of `phone`'s case; Ctrl+S untouched must refuse; then the answers.
  lead      the lead's console on the same database: `reassign = [phone, person]` (`refused = true` for a person not
            on the roster), `approve = phone` for its pending decision.
  advance   the clock moves `minutes` / `hours`.
  restart   the console closes and starts again (a clean restart).
Every step may carry `[step.expect]`, checked against the database (see `check`).
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
            for step in self.data["step"]:
                self.step_no += 1
                began = time.perf_counter()
                await getattr(self, "do_" + step["do"])(step)
                self.check(step, step.get("expect", {}))
                self.timings.append((step["do"], time.perf_counter() - began))
                if os.environ.get("SHIFT_VERBOSE"):
                    print(f"step {self.step_no:>2} {step['do']:<8} {self.timings[-1][1]:6.2f} s", flush=True)
        finally:
            await self.close()
            pyperclip.copy = real_copy
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

        if self.role != "agent":
            await self.open("agent")
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
            shown = str(self.screen().query_one("#approval-facts", Static).render())
            for piece in step.get("approval_has", []):
                if piece not in shown.replace("{number}", case.number):
                    self.fail(step, f"the approval does not say {piece!r}: {shown}")
            if case.number not in shown:
                self.fail(step, f"the approval does not name the case: {shown}")
            await self.press("enter")
        await self.open("agent")

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
        if "enquiries" in expect:
            if len(ws.store.enquiries(phone=phone)) != expect["enquiries"]:
                self.fail(step, "the enquiry is not on record")


async def run_shift(path: Path, tmp_path: Path) -> list[tuple[str, float]]:
    return await Shift(path, tmp_path).run()

