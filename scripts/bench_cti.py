"""Screen-pop benchmark (issue 17). Prints figures; asserts nothing.

From the phone system's POST (a real HTTP request to the console's listener on 127.0.0.1) to the intake on screen
with the caller's history beside it: the number in the form, the earlier cases listed, the open-case / callback line
shown, and a frame rendered with all of it (the console's own frame, composed headless: what a terminal would be
sent). Polled every millisecond (Pilot.pause sleeps 20 ms at least). Measured on a copy of the 100,000-case database
scripts/bench_foundation.py builds (cached under /tmp; refolded first when it was built under an older profile or
calendar, as a console does once), headless (App.run_test), each call for a caller who has earlier cases there;
after each the agent leaves the form, the call is hung up, and the next comes 0.8 s later (calls come seconds
apart: the console builds the next call's intake meanwhile). Also the console's CPU time for each pop (less
dependent on what else the machine runs), how many calls took the intake built ahead, F2 by hand, and the pieces
on their own: parse + record (Desk.handle) and the history lookup.

    nice .venv/bin/python scripts/bench_cti.py [--cases 100000] [--calls 40]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import agent_console  # noqa: E402,F401 - first, as in the console's own process

TOKEN = "bench-token-0123456789"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def form_ready(screen: object) -> bool:
    """The intake on screen and ready for the caller's number: composed, mounted, the phone field focused."""
    from textual.css.query import NoMatches
    from agent_console.screens.intake import IntakeScreen

    if not isinstance(screen, IntakeScreen) or not screen.is_mounted:
        return False
    try:
        return screen.focused is screen.query_one("#f-phone")
    except NoMatches:
        return False


def popped(app: object, call_id: str, phone: str, earlier: int) -> bool:
    """The intake for this call on top, its number in the form, the caller's earlier cases listed and the
    open-case / callback line shown beside it."""
    from textual.css.query import NoMatches
    from textual.widgets import Input, OptionList, Static
    from agent_console.screens.intake import IntakeScreen

    screen = app.screen  # type: ignore[attr-defined]
    try:  # the screen may be pushed but not composed yet
        return (isinstance(screen, IntakeScreen) and screen.call is not None and screen.call.call_id == call_id
                and screen.query_one("#f-phone", Input).value == phone
                and screen.query_one("#earlier", OptionList).option_count == min(earlier, 20)
                and "shown" in screen.query_one("#call-history", Static).classes)
    except NoMatches:
        return False


async def run(db: Path, calls: int) -> dict[str, list[float]]:
    import aiohttp
    from textual import events

    from agent_console.app import AgentConsoleApp
    from agent_console.screens import intake
    from agent_console.screens.intake import IntakeScreen
    from agent_console.services import telephony
    from agent_console.services.workspace import Workspace
    from agent_console.support.config import load_settings

    ws = Workspace(load_settings(db=db, agent="me", demo_on_first_run=False,
                                 cti={"listen": "127.0.0.1:0", "token": TOKEN, "burst": 1000, "rate": 1000}))
    if ws.stale_reasons:  # the cached cases were built under an older profile or calendar: a console that opens
        ws.recompute_deadlines()  # them refolds them once, on a thread beside the screen; done before measuring
    # callers with earlier cases (several where the data has them), newest numbers first
    phones = [p for (p,) in ws.store.conn.execute(
        "SELECT phone_digits FROM cases WHERE length(phone_digits) >= 11 GROUP BY phone_digits"
        " ORDER BY count(*) DESC, max(received_at) DESC LIMIT ?", (calls,))]
    expected = {p: len(telephony.caller_history(ws, p).cases) for p in phones}
    out: dict[str, list[float]] = {"pop": [], "cpu": [], "spare": [], "handle": [], "history": []}
    for p in phones:  # the pieces alone (on the same database, before the console runs)
        t0 = time.perf_counter()
        telephony.caller_history(ws, p)
        out["history"].append((time.perf_counter() - t0) * 1000)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=(160, 48)) as pilot, aiohttp.ClientSession() as session:
        await app.phone.ready.wait()
        if not app.phone.address:
            raise SystemExit("the listener did not start (see the log)")
        url = f"http://{app.phone.address}/api/v1/cti/{TOKEN}"
        for _ in range(5):
            await pilot.pause()
        frames: list[float] = []  # when the console rendered a frame (headless: composed, not written out)
        display = app._display

        def counted(screen: object, renderable: object) -> None:
            display(screen, renderable)
            if renderable is not None:
                frames.append(time.perf_counter())

        app._display = counted  # type: ignore[method-assign]
        for n, phone in enumerate(phones):
            call_id = f"bench-{n}"
            fields = {"event": "newCall", "from": phone, "to": "4001", "direction": "in", "callId": call_id}
            spare_name = getattr(intake, "SPARE", None)  # (none before the spare existed: the figures before/after)
            spare = app.get_screen(spare_name) if spare_name and app.is_screen_installed(spare_name) else None
            t0, c0 = time.perf_counter(), time.process_time()
            sent = asyncio.ensure_future(session.post(url, data=fields))
            while not popped(app, call_id, phone, expected[phone]):
                await asyncio.sleep(0.001)  # a short poll: Pilot.pause sleeps 20 ms at least
            shown = time.perf_counter()
            while not frames or frames[-1] < shown:  # and a frame rendered with it
                await asyncio.sleep(0.001)
            out["pop"].append((frames[-1] - t0) * 1000)
            out["cpu"].append((time.process_time() - c0) * 1000)
            out["spare"].append(float(app.screen is spare))
            out.setdefault("marks", []).append((t0, shown, frames[-1]))  # for a timeline (not printed)
            (await sent).release()
            async with session.post(url, data={**fields, "event": "hangup", "cause": "cancel"}) as r:
                assert r.status == 200
            while isinstance(app.screen, IntakeScreen) or app.screen.is_modal:
                await pilot.press("escape")
                await pilot.pause()
            await pilot.pause(0.8)  # calls come seconds apart (the next spare intake is built meanwhile)
        for _ in range(min(calls, 10)):  # the same form opened by hand (F2), for comparison
            t0 = time.perf_counter()
            app.post_message(events.Key("f2", None))
            while not form_ready(app.screen):
                await asyncio.sleep(0.001)
            shown = time.perf_counter()
            while not frames or frames[-1] < shown:
                await asyncio.sleep(0.001)
            out.setdefault("f2", []).append((frames[-1] - t0) * 1000)
            out["widgets"] = [len(list(app.screen.walk_children()))]
            while isinstance(app.screen, IntakeScreen) or app.screen.is_modal:
                await pilot.press("escape")
                await pilot.pause()
            await pilot.pause(0.8)
    # parse + record alone, on a database that holds what the run recorded
    desk = telephony.Desk(ws)
    for n, phone in enumerate(phones):
        body = f"event=newCall&from={phone}&to=4001&direction=in&callId=solo-{n}".encode()
        t0 = time.perf_counter()
        desk.handle(telephony.parse(body, "application/x-www-form-urlencoded"))
        out["handle"].append((time.perf_counter() - t0) * 1000)
    ws.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--calls", type=int, default=40)
    args = ap.parse_args()
    from bench_foundation import big_db

    source = big_db(args.cases)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        shutil.copyfile(source, db)  # the run records calls (and drafts): never into the cached database
        figures = asyncio.run(run(db, args.calls))
    print(f"screen pop on {args.cases:,} cases, {len(figures['pop'])} calls (callers with earlier cases):")
    for key, label in (("pop", "POST -> intake on screen with the caller's history"),
                       ("cpu", "  the console's CPU time for it (less load-dependent)"),
                       ("handle", "parse + record the event (Desk.handle)"),
                       ("history", "caller history lookup (cases, callbacks, name)"),
                       ("f2", "F2 -> the empty intake form ready (phone field focused)")):
        v = figures[key]
        print(f"  {label:<55} median {statistics.median(v):6.1f} ms   p95 {pct(v, 95):6.1f} ms   "
              f"max {max(v):6.1f} ms")
    print(f"  calls that took the intake built ahead (the spare): {int(sum(figures['spare']))} of "
          f"{len(figures['spare'])}")
    print(f"  widgets on the empty intake screen: {figures['widgets'][0]}")
    print("  target: POST -> intake with history < 100 ms")


if __name__ == "__main__":
    main()
