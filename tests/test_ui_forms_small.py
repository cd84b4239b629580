"""At 80x24, the smallest terminal an agent's console runs in, every case action's form keeps its Ctrl+S button in
view (the fields scroll beneath it; the close form's button was 27 rows below the screen) and Ctrl+S records; the
callback form's Ctrl+S hint shows too."""

from __future__ import annotations

import pytest

from agent_console.screens.action_forms import ActionForm
from agent_console.services.case_actions import FORMS
from tests.conftest import console, sample_case, settle

SMALL = (80, 24)


def _in_view(app, widget) -> bool:
    """Whether the widget is what the terminal shows at its first cell (not scrolled away, not covered)."""
    r = widget.region
    if not r.height or r.bottom > app.size.height or r.right > app.size.width:
        return False
    return app.screen.get_widget_at(r.x + 1, r.y)[0] is widget


@pytest.mark.parametrize("kind", sorted(k for k, fields in FORMS.items() if len(fields) >= 2))
async def test_the_submit_button_stays_in_view(ws, kind: str) -> None:
    case = ws.register(sample_case())
    async with console(ws, case.id, size=SMALL) as (app, pilot):
        app.screen.start_action(kind)
        await settle(pilot)
        form = app.screen
        if not isinstance(form, ActionForm):
            pytest.skip(f"{kind} is not open to a registered case")
        assert _in_view(app, form.query_one("#submit")), kind
        assert "Ctrl+S" in str(form.query_one("#submit").label)


async def test_ctrl_s_records_at_80x24(ws) -> None:
    case = ws.register(sample_case())
    async with console(ws, case.id, size=SMALL) as (app, pilot):
        app.screen.start_action("progress_noted")
        await settle(pilot)
        await pilot.press(*"已联系理赔部")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, ActionForm)
    assert ws.store.events(case.id)[-1].kind == "progress_noted"


async def test_the_callback_forms_hint_shows_at_80x24(ws) -> None:
    from agent_console.widgets.plain import Static

    case = ws.register(sample_case())
    async with console(ws, case.id, size=SMALL) as (app, pilot):
        await pilot.press("b")
        await settle(pilot)
        hints = [w for w in app.screen.query(Static) if "Ctrl+S" in str(w.render())]
        assert hints and all(_in_view(app, w) for w in hints)
