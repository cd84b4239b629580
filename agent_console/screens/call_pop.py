"""Screen pop: what the console does when the phone system reports a call (services/telephony.py says what the event
was; this decides what the agent sees).

- A new inbound call for this agent opens an intake with the number filled in, the call timer running from the real
  ring time (from the answer once it comes), the caller's cases and pending callbacks beside it, and a known caller's
  name and title offered in the form.
- If the agent is already in an intake, the form is never touched: the call waits as a banner on top; F9 keeps the
  current intake as a draft and takes the call.
- A call hung up before it was taken is a missed call (the service may have turned it into a callback): the banner
  goes, a message says so.
- The case registered or opened during a call gets the call attached.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from textual.widgets import Input

from agent_console.widgets.plain import Select, Static

from agent_console.services import telephony

if TYPE_CHECKING:
    from agent_console.screens.intake import IntakeScreen

log = logging.getLogger("agent_console.cti")


def _clock(seconds: float | None) -> str:
    s = int(seconds or 0)
    return f"{s // 60:02d}:{s % 60:02d}"


class CallBanner(Static):
    """Calls waiting while the agent finishes an intake (docked on top of that intake)."""

    DEFAULT_CSS = "CallBanner { dock: top; height: auto; padding: 0 1; background: $warning; color: $text; }"


class PhoneController:
    """The app's side of the phone desk: owns the listener and follows each call on screen."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.desk = telephony.Desk(app.ws)
        self.listener: Any = None
        self.waiting: list[telephony.Call] = []
        self.ready = asyncio.Event()  # set once the listener listens (or failed to)
        self._task: asyncio.Task[None] | None = None

    # -- the listener -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Listen in a task of the console's loop (not a worker: waiting for the workers must not wait for it)."""
        self._task = asyncio.get_running_loop().create_task(self.serve(), name="cti-listener")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def serve(self) -> None:
        """Run the listener until the console ends (cancelled by `close`, then the socket is closed)."""
        from agent_console.widgets.cti_listener import CtiListener

        cti = self.app.ws.settings.cti
        t = self.app.t
        self.listener = CtiListener(self.desk, cti.listen, cti.token, self.follow)
        try:
            address = await self.listener.start()
        except (OSError, ValueError) as exc:
            log.error("CTI listener did not start: %s", exc)
            why = telephony.listen_failure(exc, cti.listen)  # the OS's English only as the detail in brackets
            self.app.notify(t("calls.listen_failed", error=t.error(why)), severity="error", timeout=15)
            self.ready.set()
            return
        log.info("CTI listener on %s", address)
        self.ready.set()
        from agent_console.screens.intake import SPARE_AFTER, prepare_spare

        self.app.set_timer(SPARE_AFTER, lambda: prepare_spare(self.app))  # the first call's intake, built ahead
        try:
            await asyncio.Event().wait()
        finally:
            await self.listener.stop()

    @property
    def listening(self) -> bool:
        return bool(self.listener is not None and self.listener.address)

    @property
    def address(self) -> str:
        return self.listener.address if self.listener is not None else ""

    # -- following the calls ----------------------------------------------------------------------------------
    def follow(self, outcome: telephony.Outcome) -> None:
        call, t = outcome.call, self.app.t
        if call is None or outcome.action in ("ignored", "duplicate"):
            return
        number = call.remote or t("calls.withheld")
        if outcome.action == "ring":
            if call.direction == "out":
                self.app.notify(t("calls.ringing_out", number=number))
            else:
                self.incoming_call(call)
        elif outcome.action == "answer":
            intake = self._intake_for(call.call_id)
            if intake is not None:
                intake.started = call.answered_at  # the call timer now counts the conversation
        elif outcome.action in ("hangup", "elsewhere"):
            was_waiting = any(w.call_id == call.call_id for w in self.waiting)
            self.waiting = [w for w in self.waiting if w.call_id != call.call_id]
            self._show_banner()
            if outcome.action == "elsewhere":
                self.app.notify(t("calls.elsewhere"))
            elif call.status == "missed":
                key = "calls.missed_callback" if outcome.callback else "calls.missed"
                self.app.notify(t(key, number=number), severity="warning", timeout=10)
            elif not was_waiting and self._intake_for(call.call_id) is not None:
                self.app.notify(t("calls.hung_up", time=_clock(call.duration_s)))

    def incoming_call(self, call: telephony.Call) -> None:
        """Pop an intake for the call, or, while the agent is in an intake, let it wait as a banner."""
        intake = self._current_intake()
        if intake is not None and intake.case_id is None:
            self.waiting.append(call)
            self._show_banner()
            return
        if intake is not None:  # the last call's case is registered: that intake is done, the new call starts
            while self.app.screen is not intake:
                self.app.pop_screen()
            intake.action_leave()
        from agent_console.screens.intake import open_intake

        open_intake(self.app, call=call)

    def take_waiting(self) -> None:
        """F9: keep the current intake as a draft and take the oldest waiting call."""
        if not self.waiting:
            self.app.notify(self.app.t("calls.no_waiting"))
            return
        call = self.waiting.pop(0)
        intake = self._current_intake()
        if intake is not None:
            intake.query("CallBanner").remove()
            while self.app.screen is not intake:  # a dialog over the form goes first
                self.app.pop_screen()
            intake.action_leave()  # saves the draft (nothing is lost) and leaves
        from agent_console.screens.intake import open_intake

        open_intake(self.app, call=call)
        self.app.call_after_refresh(self._show_banner)

    def _show_banner(self) -> None:
        intake = self._current_intake()
        for screen in self.app.screen_stack:
            if screen is not intake:
                screen.query("CallBanner").remove()
        if intake is None:
            return
        banners = list(intake.query(CallBanner))
        if not self.waiting:
            for banner in banners:
                banner.remove()
            return
        t, first = self.app.t, self.waiting[0]
        at = first.rang_at.astimezone(self.app.ws.tz).strftime("%H:%M:%S") if first.rang_at else ""
        text = t("calls.waiting", number=first.remote or t("calls.withheld"), time=at)
        if len(self.waiting) > 1:
            text += " · " + t("calls.waiting_more", count=len(self.waiting) - 1)
        if banners:
            banners[0].update(text)
        else:
            intake.mount(CallBanner(text, id="call-banner"))

    def _current_intake(self) -> IntakeScreen | None:
        """The intake the agent is in: the top screen, or the screen under a dialog opened from it."""
        from agent_console.screens.intake import IntakeScreen

        for screen in reversed(self.app.screen_stack):
            if isinstance(screen, IntakeScreen):
                return screen
            if not screen.is_modal:
                return None
        return None

    def _intake_for(self, call_id: str) -> IntakeScreen | None:
        from agent_console.screens.intake import IntakeScreen

        for screen in self.app.screen_stack:
            if isinstance(screen, IntakeScreen) and screen.call is not None and screen.call.call_id == call_id:
                return screen
        return None

    # -- the case a call belongs to ---------------------------------------------------------------------------
    def case_for_call(self, call_id: str | None, case_id: str) -> None:
        """The intake registered (or attached to) `case_id` during the call; with no call id, a case opened while
        a call is going."""
        try:
            self.desk.attach(call_id, case_id) if call_id else self.desk.attach_active(case_id)
        except Exception:  # noqa: BLE001 - the case is saved; a call left unattached is logged, not fatal
            log.exception("could not attach the call to case %s", case_id)

    def dial(self, number: str, case_id: str | None = None) -> None:
        """Ask the phone system to dial (when configured); say what happened."""
        cti = self.app.ws.settings.cti
        if not (cti.dial_command or cti.dial_url):
            return
        t = self.app.t
        try:
            done = self.desk.dial(number, case_id)
        except (telephony.DialError, telephony.CtiError) as exc:
            self.app.notify(t("calls.dial_failed", error=t.error(exc)), severity="error")
            return
        self.app.notify(t("calls.dialled", what=done))


def fill_for_call(screen: IntakeScreen, call: telephony.Call) -> None:
    """An intake popped for a call: the number, the timer from the real ring/answer time, the caller's history."""
    ws, t = screen.ws, screen.app.t
    screen.started = call.started or ws.now()
    if not call.remote:  # withheld: an intake without a phone
        return
    history = telephony.caller_history(ws, call.remote)
    phone = screen.query_one("#f-phone", Input)
    if phone.value != call.remote:
        screen._skip_lookup = call.remote  # looked up here already: its Changed event asks no worker again
        phone.value = call.remote
    screen.show_caller_now(call.remote, history.callbacks, history.cases)
    note = t("calls.open_cases", open=len(history.open_cases), total=len(history.cases),
             callbacks=len(history.callbacks))
    if history.name:
        name = screen.query_one("#f-name", Input)
        if not name.value:
            name.value = history.name
        title = screen.query_one("#f-title", Select)
        term = telephony.title_term(ws, history.title)
        if term and title.is_blank():
            title.value = term
        note = t("calls.known_caller", name=history.name, title=history.title) + "\n" + note
    box = screen.query_one("#call-history", Static)
    box.update(note)
    box.add_class("shown")
