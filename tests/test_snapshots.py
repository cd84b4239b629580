"""Snapshots of the main screens at 80x24 and 160x48, in Chinese and English, on a fixed clock and fixed demo."""

from __future__ import annotations

import pytest
from textual.widgets import Input, TextArea

from agent_console.app import AgentConsoleApp
from agent_console.services.demo_data import generate
from tests.conftest import make_workspace

SIZES = [(80, 24), (160, 48)]
LANGS = ["zh", "en"]


def build_app(tmp_path, clock, lang: str, **settings) -> AgentConsoleApp:
    ws = make_workspace(tmp_path, clock, lang=lang, **settings)
    ws.store.device_code = "SNP"  # case numbers must not depend on a random device id
    generate(ws, cases=40, seed=11)
    return AgentConsoleApp(ws)


async def no_blink(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    for widget in pilot.app.screen.query(TextArea):
        widget.cursor_blink = False
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", LANGS)
def test_open_cases(snap_compare, tmp_path, clock, size, lang) -> None:
    assert snap_compare(build_app(tmp_path, clock, lang), terminal_size=size, run_before=no_blink)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", LANGS)
def test_case_detail(snap_compare, tmp_path, clock, size, lang) -> None:
    async def open_first(pilot) -> None:
        await no_blink(pilot)
        await pilot.press("enter")
        await no_blink(pilot)

    assert snap_compare(build_app(tmp_path, clock, lang), terminal_size=size, run_before=open_first)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", LANGS)
def test_intake(snap_compare, tmp_path, clock, size, lang) -> None:
    async def start_intake(pilot) -> None:
        await no_blink(pilot)
        await pilot.press("f2")
        await no_blink(pilot)
        await pilot.press(*"17012345678")
        await no_blink(pilot)

    assert snap_compare(build_app(tmp_path, clock, lang), terminal_size=size, run_before=start_intake)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", LANGS)
def test_lead_overdue_queue(snap_compare, tmp_path, clock, size, lang) -> None:
    async def open_lead(pilot) -> None:
        await no_blink(pilot)
        await pilot.press("f7")
        await no_blink(pilot)

    app = build_app(tmp_path, clock, lang, agent="lead-1", role="lead")
    assert snap_compare(app, terminal_size=size, run_before=open_lead)
