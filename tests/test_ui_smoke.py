"""Every screen opens on the demo database, as a newcomer would try it: no key may crash the console, and each key
shows what it should (the screen it opens, the case it opened, the filter it set, the refusal an agent gets)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import DataTable, OptionList

from agent_console.core.models import OPEN_STATUS_ORDER
from agent_console.services.demo_data import generate
from agent_console.widgets.case_table import CaseTable
from tests.conftest import console, make_workspace, settle


def _rows(app: Any, selector: str, kind: type = DataTable) -> int:
    return app.screen.query_one(selector, kind).row_count if kind is not OptionList else \
        app.screen.query_one(selector, kind).option_count


@pytest.mark.parametrize("role", ["agent", "lead"])
async def test_every_screen_opens_on_demo_data(tmp_path, clock, role) -> None:
    ws = make_workspace(tmp_path, clock, agent="me", role=role)
    generate(ws, cases=250, seed=7)
    lead = role == "lead"
    async with console(ws, size=(120, 40)) as (app, pilot):
        async def press(*keys: str) -> str:
            for key in keys:
                await pilot.press(key)
                await settle(pilot)
            return type(app.screen).__name__

        assert type(app.screen).__name__ == "CasesScreen"
        cases = app.screen.query_one("#cases", CaseTable)
        assert cases.row_count > 0  # the demo's cases are listed
        highlighted = cases.cursor_key
        assert await press("enter") == "CaseDetailScreen"
        assert app.screen.case_id == highlighted  # the case under the cursor, not another
        assert await press("escape") == "CasesScreen"
        assert await press("f2") == "IntakeScreen"
        assert await press("escape") == "CasesScreen"
        assert await press("f3") == "PhrasePanel"
        assert await press("escape") == "CasesScreen"
        assert await press("f4") == "PhrasebookScreen"
        assert _rows(app, "#situations", OptionList) > 0  # the shipped phrasebook's situations
        assert await press("escape") == "CasesScreen"
        assert await press("f6") == "CallbackQueueScreen"
        assert _rows(app, "#callbacks") > 0  # the demo schedules callbacks
        assert await press("enter") == "CallbackCallScreen"
        assert await press("escape") == "CallbackQueueScreen"
        assert await press("escape") == "CasesScreen"
        notices = len(app._notifications)
        if lead:
            assert await press("f7") == "LeadScreen"
            assert _rows(app, "#overdue", CaseTable) > 0  # the demo has cases past their due
            assert await press("g") == "LeadScreen"
            assert await press("escape") == "CasesScreen"
        else:
            assert await press("f7") == "CasesScreen"  # refused, and told why
            assert len(app._notifications) == notices + 1
            assert list(app._notifications)[-1].message == app.t("app.lead_only")
        assert await press("f1") == "HelpScreen"
        assert await press("escape") == "CasesScreen"
        screen = app.screen
        for key, horizon in (("o", "overdue"), ("t", "today"), ("w", "week")):
            assert await press(key) == "CasesScreen" and screen.filter.horizon == horizon
        await press("s")
        assert screen.filter.status == OPEN_STATUS_ORDER[0]
        await press("c")
        assert screen.filter.category == ws.profile.categories[0].id
        await press("n")
        assert screen.filter.channel == ws.vocab.ids("channels")[0]
        team = screen.filter.team
        await press("m")
        assert screen.filter.team == (not team if lead else team)
        assert await press("a") == "CasesScreen" and screen.filter.horizon == "all"
        assert app.is_running
    ws.close()
