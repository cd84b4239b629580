"""A search keystroke repaints the box and the list, never the whole screen's layout (issue 18: keystroke -> rows on
screen under 50 ms at a million cases; a layout pass arranges and renders every widget again, the footer's keys
twice). Only a scrollbar that appears or goes lays the screen out."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from textual.widget import Widget
from textual.widgets import Input

from agent_console.widgets.case_table import CaseTable
from tests.conftest import console, sample_case, settle


@contextmanager
def layouts_asked() -> Iterator[list[str]]:
    """The widgets that ask for a layout of the screen meanwhile (Widget.refresh(layout=True), which is also what
    a reactive declared layout=True calls)."""
    asked: list[str] = []
    original = Widget.refresh

    def refresh(self, *regions, repaint=True, layout=False, recompose=False):  # type: ignore[no-untyped-def]
        if layout:
            asked.append(type(self).__name__)
        return original(self, *regions, repaint=repaint, layout=layout, recompose=recompose)

    Widget.refresh = refresh  # type: ignore[method-assign]
    try:
        yield asked
    finally:
        Widget.refresh = original  # type: ignore[method-assign]


def _register(ws, n: int, facts: str, phone_from: int) -> None:
    for i in range(n):
        ws.register(sample_case(facts=facts, respondent="客服部",
                                complainant={"name": "王芳", "phone": f"170{phone_from + i:08d}"}))


async def test_typing_a_search_never_lays_out_the_screen(ws) -> None:
    _register(ws, 70, "理赔材料不全", 0)
    _register(ws, 60, "理赔进度", 100)  # 130 cases, 60 of them for 进度: the scrollbar stays either way
    async with console(ws) as (app, pilot):
        box = app.screen.query_one("#search", Input)
        table = app.screen.query_one("#cases", CaseTable)
        box.focus()
        await settle(pilot)
        assert table.show_vertical_scrollbar
        with layouts_asked() as asked:
            for key in "进度":
                await pilot.press(key)
                await settle(pilot)
            assert table.row_count == 50  # a search shows its best 50 (a change in rows: 130 -> 50)
            await pilot.press("backspace", "backspace")
            await settle(pilot)
        assert table.row_count > 50
        assert [name for name in asked if name in ("SearchBox", "Input", "CaseTable")] == [], asked


async def test_the_scrollbar_follows_the_rows(ws) -> None:
    _register(ws, 70, "理赔材料不全", 0)
    _register(ws, 3, "定损金额偏低", 100)
    async with console(ws) as (app, pilot):
        box = app.screen.query_one("#search", Input)
        table = app.screen.query_one("#cases", CaseTable)
        table.focus()
        await pilot.press("end")  # scrolled to the bottom of 73 rows
        await settle(pilot)
        assert table.scroll_y > 0 and table.show_vertical_scrollbar
        box.value = "理赔"  # 50 rows: still a scrollbar, told the new height, not scrolled past the end
        await settle(pilot)
        assert table.row_count == 50
        assert table.vertical_scrollbar.window_virtual_size == table.virtual_size.height == 51
        assert table.scroll_y <= table.max_scroll_y
        box.value = "定损"  # 3 rows: the scrollbar goes (a layout), the table takes its column
        await settle(pilot)
        assert table.row_count == 3 and not table.show_vertical_scrollbar
        assert table.scroll_y == 0
        box.value = ""
        await settle(pilot)
        assert table.row_count == 73 and table.show_vertical_scrollbar


async def test_a_new_theme_repaints_the_list_in_its_colours(ws) -> None:
    _register(ws, 3, "理赔材料不全", 0)
    async with console(ws) as (app, pilot):
        table = app.screen.query_one("#cases", CaseTable)
        before = list(table.render_line(2))[0].style
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await settle(pilot)
        after = list(table.render_line(2))[0].style
        assert before != after
