"""Text pushed by someone else never reaches a terminal raw (issue 13): every CLI command that prints a case's or an
event's words, and every screen of the console (what Textual is about to draw), with a case whose every text field
-- its number, the caller's name, the facts, a note, a sync conflict's reason -- carries escape sequences, control
characters and bidirectional overrides, as a teammate's console (or a psql session) could push them."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.geometry import Region

from agent_console.cli import main
from agent_console.core.events import Event
from tests.conftest import console, make_workspace, sample_case, settle

NASTY = "理赔\x1b]52;c;ZXZpbA==\x07拖延\x1b[2J\x1b[1;1H\x9b31m\r伪造\u202e反向\x07"
BAD = ("\x1b", "\x07", "\x9b", "\r", "\u202e", "\x00", "\x08")


def poisoned(tmp_path, clock, **kw: Any) -> tuple[Any, str]:
    """A workspace holding a case registered elsewhere whose texts are all poisoned, with a note and a conflict."""
    ws = make_workspace(tmp_path, clock, **kw)
    other = make_workspace(tmp_path, clock, name="other.db", agent="a-2")
    made = other.register(sample_case())
    reg = other.store.events(made.id)
    first = reg[0]
    payload = first.payload | {"number": "T\x1b[8m-1", "facts": NASTY, "request": NASTY,
                               "complainant": first.payload["complainant"] | {"name": "王\x1b[8m芳\u202e"}}
    events = [first.model_copy(update={"payload": payload}), *reg[1:]]
    case_id = first.case_id
    stamp = f"{time.time_ns() // 1_000_000:013d}"
    events.append(Event(case_id=case_id, kind="progress_noted", actor="a-2\x1b[31m", device="d2", at=ws.now(),
                        hlc=f"{stamp}-0001-d2", payload={"note": NASTY}))
    events.append(Event(case_id=case_id, kind="conflict_flagged", actor="centre", device="centre", at=ws.now(),
                        hlc=f"{stamp}-0002-centre", payload={"events": ["x"], "reason": NASTY}))
    ws.store.ingest(events, ws.lifecycle)
    assert not ws.store.quarantined() and ws.store.state(case_id) is not None
    other.close()
    return ws, case_id


COMMANDS = [
    ["case", "show", "{id}"], ["case", "show", "{id}", "--events"], ["case", "show", "{id}", "--json", "--events"],
    ["case", "list"], ["case", "list", "--json"], ["case", "list", "--search", "理赔"],
    ["report", "overdue"], ["report", "overdue", "--format", "json"],
    ["sync", "--conflicts"], ["sync", "--conflicts", "--json"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a))
def test_no_cli_output_carries_control_characters(tmp_path, clock, capsys, argv) -> None:
    ws, case_id = poisoned(tmp_path, clock, agent="boss", role="lead", team="team-1")
    ws.close()
    argv = [a.replace("{id}", case_id) for a in argv]
    code = main([*argv, "--db", str(tmp_path / "local.db"), "--agent", "boss", "--role", "lead", "--team", "team-1"])
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert code == 0, out
    # the words themselves are shown, only cleaned (the number's hidden-text sequence taken out)
    shown = {"show": "伪造", "list": "T-1", "report": "T-1", "sync": "T-1"}[argv[1] if argv[0] == "case" else argv[0]]
    assert shown in out or "--json" in argv or "json" in argv, (argv, out[:500])
    for bad in BAD:
        assert bad not in out, (argv, bad, out[:500])


def _drawn(app: Any) -> str:
    """Everything the current screen's widgets would draw, as the text of their segments."""
    parts = []
    for widget in app.screen.walk_children(with_self=True):
        if not widget.display or not widget.size.area:
            continue
        for strip in widget.render_lines(Region(0, 0, widget.size.width, widget.size.height)):
            parts.append("".join(segment.text for segment in strip))
    return "\n".join(parts)


async def test_no_screen_draws_control_characters(tmp_path, clock) -> None:
    ws, case_id = poisoned(tmp_path, clock, agent="boss", role="lead", team="team-1")
    async with console(ws) as (app, pilot):
        seen = {"cases": _drawn(app)}
        app.open_case(case_id)
        await settle(pilot)
        seen["case"] = _drawn(app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        seen["lead"] = _drawn(app)
        screen = app.screen
        from textual.widgets import TabbedContent

        screen.query_one("#lead-tabs", TabbedContent).active = "tab-conflicts"
        await settle(pilot)
        seen["conflicts"] = _drawn(app)
    assert "拖延" in seen["case"] and "伪造" in seen["case"] and "T-1" in seen["case"]
    assert "T-1" in seen["conflicts"]
    for where, text in seen.items():
        for bad in BAD:
            assert bad not in text, (where, repr(bad))


def test_the_fast_case_list_draws_no_control_or_bidi_characters() -> None:
    from rich.text import Text

    from agent_console.widgets.case_table import _plain

    for cell in (NASTY, Text(NASTY, style="bold"), "王\u202e芳\u2066\u200f"):
        text, _ = _plain(cell)
        assert "拖延" in text or "王" in text
        for bad in (*BAD, "\u2066", "\u200f"):
            assert bad not in text, repr(bad)


def test_styled_text_keeps_its_style_and_loses_its_escapes() -> None:
    from rich.text import Text

    from agent_console.widgets.plain import safe

    styled = Text.assemble(("T\x1b[8m-1", "bold"), "  已受理\x07")
    cleaned = safe(styled)
    assert cleaned.plain == "T[8m-1  已受理" or cleaned.plain == "T-1  已受理"
    assert "\x1b" not in cleaned.plain and "\x07" not in cleaned.plain
    assert any(str(span.style) == "bold" and cleaned.plain[span.start:span.end].startswith("T") for span in cleaned.spans)


_HOSTILE = st.lists(st.sampled_from(
    list("王芳理赔 ab1[]/\\n\"") + ["\x1b[2J", "\x1b]52;c;aGk=\x07", "\x9b31m", "\x1bP+q\x1b\\", "\r\n", "\r", "\t",
                                    "\x00", "\x07", "\x7f", "\x85", "\x9f", "\u200b", "\u202e", "\u2067"]), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_HOSTILE)
def test_display_text_leaves_nothing_a_terminal_would_act_on_and_safe_text_untouched(text: str) -> None:
    from agent_console.core.text import _CONTROLS, display_text

    shown = display_text(text)
    assert "\x1b" not in shown and "\r" not in shown and "\t" not in shown and not _CONTROLS.search(shown)
    assert display_text(shown) == shown  # what is already safe comes back as it is (the fast path)
