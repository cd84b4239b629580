"""A table refilled under the cursor keeps it on the same row (widgets.kept_cursor): the lead's tabs and the F6
queue refresh from timers and background recomputes while a person is reading them."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from agent_console.widgets.kept_cursor import cursor_kept


class _Table(App):
    def compose(self) -> ComposeResult:
        yield DataTable()


def _fill(table: DataTable, keys: list[str]) -> None:
    table.clear()
    for key in keys:
        table.add_row(key, key=key)


async def test_a_refill_keeps_the_cursor_on_its_row_and_forgets_a_row_that_went() -> None:
    app = _Table()
    async with app.run_test() as pilot:
        table = app.query_one(DataTable)
        table.add_column("k")
        _fill(table, ["a", "b", "c"])
        table.move_cursor(row=2)
        await pilot.pause()
        with cursor_kept(table):
            _fill(table, ["new", "a", "b", "c"])  # a row came on top: the cursor follows "c"
        await pilot.pause()
        assert table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value == "c"
        _fill(table, ["x", "y", "z", "c"])
        table.move_cursor(row=3)
        with cursor_kept(table):
            _fill(table, ["x", "y"])  # its row went: no error, the cursor stays in the table
        await pilot.pause()
        assert table.cursor_row in (0, 1)
        table.clear()
        with cursor_kept(table):  # an empty table: nothing to keep
            _fill(table, ["a"])
