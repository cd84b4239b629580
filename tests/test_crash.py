"""A crash never shows personal data: a private, masked log; a short message; the intake being typed kept."""

from __future__ import annotations

import stat

import pytest
from textual.widgets import Input

from agent_console.app import AgentConsoleApp
from agent_console.screens.intake import IntakeScreen
from agent_console.services import live_intake
from agent_console.support.crash import mask_personal

PHONE, ID_NUMBER = "17098765432", "110101199003071234"


def test_masking_leaves_no_phone_or_id_number() -> None:
    text = f"ValueError: bad {PHONE} / +86 170-9876-5432 id={ID_NUMBER} passport P123456789012 at line 42"
    masked = mask_personal(text)
    for secret in (PHONE, "9876-5432", ID_NUMBER, "P123456789012"):
        assert secret not in masked
    assert "170****5432" in masked and "line 42" in masked


async def test_a_crash_in_the_console_logs_privately_and_keeps_the_intake(ws, tmp_path) -> None:
    app = AgentConsoleApp(ws)

    def boom() -> None:
        raise RuntimeError(f"something broke for {PHONE} with id {ID_NUMBER}")

    with pytest.raises(RuntimeError):
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            await pilot.press("f2")
            await pilot.pause()
            assert isinstance(app.screen, IntakeScreen)
            app.screen.query_one("#f-phone", Input).value = PHONE
            app.screen.query_one("#f-name", Input).value = "王小明"
            app.call_later(boom)  # before the draft timer fires: only the crash handler can save it
            await pilot.pause()
    message = app.crash_message
    assert PHONE not in message and ID_NUMBER not in message
    logs = list((tmp_path / "data" / "agent-console" / "crash").glob("crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in message
    assert stat.S_IMODE(logs[0].stat().st_mode) == 0o600
    body = logs[0].read_text(encoding="utf-8")
    assert "RuntimeError" in body and "boom" in body
    assert PHONE not in body and ID_NUMBER not in body and "170****5432" in body
    kept = live_intake.unfinished(ws)
    assert len(kept) == 1 and kept[0].data["form"]["phone"] == PHONE and kept[0].data["form"]["name"] == "王小明"
    assert kept[0].data["left"] is False  # offered next time as a call the crash cut
    # what is printed when the console closes: the short message only, no traceback
    printed = " ".join(str(r) for r in app._exit_renderables)
    assert "Traceback" not in printed and PHONE not in printed
