"""Every screen opens on the demo database, as a newcomer would try it: no key may crash the console."""

from __future__ import annotations

import pytest

from agent_console.app import AgentConsoleApp
from agent_console.services.demo_data import generate
from tests.conftest import make_workspace
from tests.test_ui_console import settle


@pytest.mark.parametrize("role", ["agent", "lead"])
async def test_every_screen_opens_on_demo_data(tmp_path, clock, role) -> None:
    ws = make_workspace(tmp_path, clock, agent="me", role=role)
    generate(ws, cases=250, seed=7)
    app = AgentConsoleApp(ws)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for keys in (["enter"], ["escape", "f2", "escape"], ["f3", "escape"], ["f4", "escape"],
                     ["f6", "enter", "escape", "escape"], ["f7", "g", "escape"], ["f1", "escape"],
                     ["o", "t", "w", "s", "c", "n", "m", "a"]):
            for key in keys:
                await pilot.press(key)
                await settle(pilot)
        assert app.is_running
    ws.close()
