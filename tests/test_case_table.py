"""The open-cases table widget on its own: cursor keys, scrolling, rows replaced under the cursor, wide characters."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import App, ComposeResult

from agent_console.widgets.case_table import CaseTable, Column, _fit

COLUMNS = [Column("number", "编号"), Column("caller", "来电人", max_width=12, shrink=True), Column("left", "剩余")]


def rows(n: int, prefix: str = "") -> list[tuple[str, list[str | Text]]]:
    return [(f"{prefix}{i}", [f"N{i:04d}", f"客户{i}先生 170****{i:04d}", Text(f"{i}h", style="red")])
            for i in range(n)]


class TableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield CaseTable(COLUMNS, id="t")

    def on_case_table_row_selected(self, event: CaseTable.RowSelected) -> None:
        self.selected.append(event.key)


def line_text(table: CaseTable, y: int) -> str:
    return "".join(seg.text for seg in table.render_line(y))


async def test_keys_move_the_cursor_and_keep_it_on_screen() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(CaseTable)
        table.set_rows(rows(100))
        table.focus()
        await pilot.pause()
        await pilot.press("down", "down")
        assert table.cursor_row == 2 and table.cursor_key == "2"
        await pilot.press("pagedown")
        assert table.cursor_row > 2
        body = table.size.height - 1
        assert table.scroll_offset.y <= table.cursor_row < table.scroll_offset.y + body
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == 99
        assert "N0099" in line_text(table, table.cursor_row - int(table.scroll_offset.y) + 1)
        assert "编号" in line_text(table, 0)  # the header stays on the first line while scrolled
        await pilot.press("home", "enter")
        await pilot.pause()
        assert app.selected == ["0"]


async def test_new_rows_keep_the_cursor_on_the_same_case_and_cells_update_in_place() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(CaseTable)
        table.set_rows(rows(10))
        table.move_cursor(5)
        table.set_rows(list(reversed(rows(10))))
        assert table.cursor_key == "5" and table.cursor_row == 4
        table.update_cell("5", "left", Text("超1h", style="bold red"))
        await pilot.pause()
        assert table.cursor_row == 4 and table.get_row_at(4)[2] == "超1h"
        table.set_rows(rows(3, prefix="x"))  # the case left the list: the cursor stays in range
        assert table.cursor_row == 2
        table.set_rows([])
        assert table.row_count == 0 and table.cursor_key is None


async def test_wide_characters_keep_columns_aligned_and_narrow_terminals_shrink_columns() -> None:
    app = TableApp()
    async with app.run_test(size=(30, 8)) as pilot:
        table = app.query_one(CaseTable)
        table.set_rows(rows(3))
        await pilot.pause()
        for y in range(4):
            assert cell_len(line_text(table, y)) == table.size.width
        # the caller column (shrinkable) gave way, the number column did not
        assert "N0001" in line_text(table, 2) and "…" in line_text(table, 2)


def test_fit_pads_and_cuts_by_terminal_cells() -> None:
    assert _fit("客户", 6) == "客户  "
    assert cell_len(_fit("销售人员服务", 9)) == 9 and _fit("销售人员服务", 9).startswith("销售人员")
    assert _fit("销售人员服务", 8) == "销售人… "  # a wide character is never split in half
    assert cell_len(_fit("abc", 0)) == 0


async def test_a_click_moves_the_cursor_and_a_second_click_opens() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(CaseTable)
        table.set_rows(rows(5))
        await pilot.pause()
        await pilot.click(CaseTable, offset=(3, 3))  # line 3 = row 2 under the header
        assert table.cursor_row == 2 and app.selected == []
        await pilot.click(CaseTable, offset=(3, 3))
        await pilot.pause()
        assert app.selected == ["2"]


def test_control_characters_and_escapes_never_reach_the_terminal() -> None:
    from agent_console.widgets.case_table import _plain

    text, _ = _plain("王芳\x1b[31m\x07先生\x9b2J")
    assert text == "王芳[31m先生2J" and all(ord(c) >= 32 for c in text)
