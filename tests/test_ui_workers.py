"""Workers as Textual intends: a keystroke's query runs off the UI thread, an answer that arrives after a newer
keystroke never reaches the screen, each thread has its own database connection, a worker's error reaches the agent,
and the command palette offers the actions of the screen it was opened over."""

from __future__ import annotations

import threading

from textual.command import CommandPalette

from agent_console.screens import case_rows, cases, intake
from agent_console.screens.case_detail import CaseDetailScreen
from agent_console.screens.cases import CasesScreen
from agent_console.screens.intake import IntakeScreen
from agent_console.services import live_intake
from agent_console.widgets.case_table import CaseTable
from tests.conftest import console, sample_case, settle

def shown_numbers(app) -> list[str]:
    table = app.screen.query_one("#cases", CaseTable)
    return [table.get_row_at(i)[0] for i in range(table.row_count)]


async def test_an_older_search_answer_never_repaints_over_a_newer_one(ws, monkeypatch) -> None:
    """Typing 定 then 定损: the query for 定 is slow and finishes last; the screen keeps the answer for 定损."""
    dingsun = ws.register(sample_case(facts="车险定损金额偏低"))
    ding = ws.register(sample_case(facts="保单约定的期限不对"))
    release_first = threading.Event()
    real = case_rows.load_rows

    def slow_for_one_character(w, flt, now, narrow=False):  # type: ignore[no-untyped-def]
        rows = real(w, flt, now, narrow)
        if flt.text == "定":
            release_first.wait(5)  # held until the newer query has been shown
        return rows

    monkeypatch.setattr(cases, "load_rows", slow_for_one_character)
    async with console(ws) as (app, pilot):
        assert set(shown_numbers(app)) == {dingsun.number, ding.number}
        await pilot.press("slash", "定")
        await pilot.pause()
        await pilot.press("损")
        for _ in range(50):  # the newer answer arrives while the older query is still held
            await pilot.pause(0.02)
            if shown_numbers(app) == [dingsun.number]:
                break
        assert shown_numbers(app) == [dingsun.number]
        release_first.set()
        await settle(pilot)
        assert shown_numbers(app) == [dingsun.number], "the stale answer for 定 repainted the list"


async def test_the_caller_lookup_runs_on_a_worker_thread(ws, monkeypatch) -> None:
    ws.register(sample_case(complainant={"name": "赵敏", "phone": "17055556666"}))
    threads: list[str] = []
    real = live_intake.earlier_cases

    def recording(w, phone, limit=20):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return real(w, phone, limit)

    monkeypatch.setattr(intake.svc, "earlier_cases", recording)
    async with console(ws) as (app, pilot):
        await pilot.press("f2")
        await pilot.press(*"17055556666")
        await settle(pilot)
        assert isinstance(app.screen, IntakeScreen)
        assert threads and threading.main_thread().name not in threads
        assert "1" in str(app.screen.query_one("#side-note").render())  # the earlier case is reported


def test_each_thread_has_its_own_connection(ws) -> None:
    home = ws.store
    seen: list[object] = []

    def work() -> None:
        seen.append(ws.store)
        seen.append(ws.store)  # the same one again on the same thread
        ws.store.set_meta("from_thread", "yes")

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen[0] is seen[1] and seen[0] is not home
    assert seen[0].path == home.path
    assert home.meta("from_thread") == "yes"  # one database, two connections


async def test_a_failing_worker_is_told_to_the_agent_and_the_console_lives(ws, monkeypatch) -> None:
    ws.register(sample_case())
    async with console(ws) as (app, pilot):

        def broken(*a, **k):  # type: ignore[no-untyped-def]
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(cases, "load_rows", broken)
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, CasesScreen)
        said = " ".join(str(n.message) for n in app._notifications)
        assert "disk on fire" in said and "后台操作失败" in said


async def test_the_palette_offers_the_actions_of_the_case_under_it(ws) -> None:
    state = ws.register(sample_case())
    async with console(ws, state.id) as (app, pilot):
        assert isinstance(app.screen, CaseDetailScreen)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"进展记录")
        await settle(pilot, 6)
        options = app.screen.query_one("CommandList")
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any(state.number in p and "进展记录" in p for p in prompts), prompts


async def test_refused_events_are_sent_again_by_one_key_in_the_status_line(tmp_path, clock) -> None:
    """Issue 13: refused is not forever. The status line names the refusal and the key; e queues them again and the
    next round sends them (here the embedded centre takes them)."""
    from tests.conftest import make_workspace

    ws = make_workspace(tmp_path, clock, central=f"sqlite:///{tmp_path / 'centre.db'}")
    state = ws.register(sample_case())
    event_id = ws.timeline(state.id)[0].id
    ws.store.acknowledge([], [(event_id, "wrong login")])  # as a push under a wrong URL left it
    assert ws.store.refused() == [(event_id, "wrong login")]
    async with console(ws) as (app, pilot):
        line = str(app.screen.query_one("#sync-status").render())
        assert "被拒" in line and "按 e" in line
        await pilot.press("e")
        await settle(pilot, 6)
        assert ws.store.refused() == []
        said = " ".join(str(n.message) for n in app._notifications)
        assert "重新排队" in said
    ws.close()


async def test_with_a_centre_the_first_sync_waits_for_the_screen(tmp_path, clock, monkeypatch) -> None:
    """A console with a centre opened as fast as one without only once its first sync round stopped starting in the
    same instant as the first paint (a big push held Python's lock from it: 2.4x slower at 1M cases)."""
    from agent_console.services import syncing
    from agent_console.widgets import sync_status
    from tests.conftest import make_workspace

    rounds: list[float] = []
    real = syncing.run_round
    monkeypatch.setattr(syncing, "run_round", lambda ws: rounds.append(1) or real(ws))
    monkeypatch.setattr(sync_status, "FIRST_SYNC_AFTER", 4.0)
    ws = make_workspace(tmp_path, clock, central=f"sqlite:///{tmp_path / 'centre.db'}")
    ws.register(sample_case())
    async with console(ws) as (app, pilot):
        assert app.screen.query_one(CaseTable).row_count == 1
        assert rounds == []  # the screen is up, no round yet
        await pilot.pause(4.5)
        await settle(pilot, 6)
        assert rounds and ws.store.outbox_count() == 0  # then it ran, and the centre has the case
    ws.close()
