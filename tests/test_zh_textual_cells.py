"""Chinese in Textual's own drawing (widgets/cell_safe.py; repro: scripts/repro_textual_cjk_overlay.py).

Textual 8.2.8 blanks a CJK glyph of an overlay wherever a widget below it ends in the middle of the glyph. These
tests put rows of narrow labels (ending at every column parity) under a block of Chinese text and read the screen
three ways: the composed lines, the screenshot, and what a terminal shows after a partial update. And TextArea's
soft wrap, which folds Chinese anywhere, must not start a line with closing punctuation.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len, get_character_cell_size
from rich.segment import ControlType
from textual._wrap import compute_wrap_offsets
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Static, TextArea

from agent_console.core.cells import NO_LINE_END, NO_LINE_START
from agent_console.widgets.cell_safe import install, kinsoku_wrap_offsets

TEXT = "财务部信息技术部综合管理部"
WIDTHS = [(1, 4, 3), (3,), (5, 1), (2, 2, 1, 6), (7,), (1, 1, 1, 1, 1)]


class Overlay(App):
    CSS = """
    Screen { layers: below above; }
    #rows { layer: below; }
    Horizontal { height: 1; }
    #above { layer: above; width: 30; height: auto; offset: 1 0; }
    """

    def compose(self) -> ComposeResult:
        with Vertical(id="rows"):
            for n, widths in enumerate(WIDTHS):
                with Horizontal():
                    for i, width in enumerate(widths):
                        yield Label("x" * width, id=f"l{n}-{i}")
        yield Static("\n".join(TEXT for _ in WIDTHS), id="above")


def paint(grid: list[list[str]], update) -> None:
    """Apply a Textual update renderable to a grid of cells the way a terminal would."""
    x = y = 0
    for segment in update.__rich_console__(None, None):
        if segment.control:
            for code in segment.control:
                if code[0] == ControlType.CURSOR_MOVE_TO:
                    x, y = code[1], code[2]
            continue
        if segment.text == "\n":
            x, y = 0, y + 1
            continue
        for char in segment.text:
            width = get_character_cell_size(char)
            grid[y][x] = char
            if width == 2:
                grid[y][x + 1] = ""
            x += width


def rows(grid: list[list[str]]) -> list[str]:
    return ["".join(row) for row in grid]


async def test_overlay_text_is_whole_over_widgets_ending_mid_glyph() -> None:
    install()
    app = Overlay()
    async with app.run_test(size=(40, len(WIDTHS) + 1)) as pilot:
        await pilot.pause()
        lines = [strip.text for strip in app.screen._compositor.render_strips()]
        screenshot = app.export_screenshot()
    for line in lines[: len(WIDTHS)]:
        assert line[1:].startswith(TEXT), lines
    assert screenshot.count("财务部") >= len(WIDTHS)


async def test_terminal_repaints_overlay_glyphs_when_a_widget_below_changes() -> None:
    install()
    app = Overlay()
    async with app.run_test(size=(40, len(WIDTHS) + 1)) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor
        grid = [[" "] * 40 for _ in range(len(WIDTHS) + 1)]
        paint(grid, compositor.render_full_update())
        # The terminal's cells under the third label of row 0 hold something else (say, a frame drawn before);
        # a refresh of that label alone must draw the overlay's glyphs there again, not leave or halve them.
        label = app.query_one("#l0-2")
        for x in range(label.region.x, label.region.right):
            grid[0][x] = "?"
        compositor._dirty_regions.add(label.region)
        update = compositor.render_partial_update()
        assert update is not None
        paint(grid, update)
    assert rows(grid)[0][1:].startswith(TEXT), rows(grid)


# -- TextArea's soft wrap ----------------------------------------------------------------------------------------------
NOTE = "客户反映：理赔材料已于上月十五日全部交齐，至今三周仍无任何进度，多次致电客服均答复“正在审核中”，要求尽快答复。"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="理赔材料已交齐三周仍无进度ab ，。、：；？！）》」%（《「“”", max_size=80), st.integers(4, 30))
def test_wrap_offsets_keep_every_character_within_width_and_punctuation_off_line_starts(text, width) -> None:
    offsets = kinsoku_wrap_offsets(text, width, 4)
    lines = [text[a:b] for a, b in zip([0, *offsets], [*offsets, len(text)])]
    assert "".join(lines) == text
    assert offsets == sorted(set(offsets)) and all(0 < at < len(text) for at in offsets)
    assert all(cell_len(line.rstrip(" ")) <= width for line in lines)
    textual = compute_wrap_offsets(text, width, 4)
    for at in offsets:  # a bad break only where Textual's own is one too (a run of punctuation)
        if text[at] in NO_LINE_START or text[at - 1] in NO_LINE_END:
            assert any(text[b] in NO_LINE_START or text[b - 1] in NO_LINE_END for b in textual), (lines, at)


class Note(App):
    def compose(self) -> ComposeResult:
        yield TextArea(NOTE, soft_wrap=True)


@pytest.mark.parametrize("columns", [19, 26, 33, 41, 46, 52])  # Textual's own wrap starts a line with ， or ” there
async def test_text_area_lines_never_start_with_closing_punctuation(columns) -> None:
    install()
    app = Note()
    async with app.run_test(size=(columns, 12)) as pilot:
        await pilot.pause()
        lines = [strip.text[1:-1].strip() for strip in app.screen._compositor.render_strips()[1:-1]]
        text = [line for line in lines if line]
    assert "".join(text) == NOTE
    assert not [line for line in text if line[0] in NO_LINE_START or line[-1] in NO_LINE_END], text
