"""A table refilled under the user's cursor keeps the cursor on the row it was on (by its key), so a refresh, a
popup or a background recompute never sends the person back to the top of a list they were reading."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from agent_console.widgets.plain import DataTable
from textual.widgets.data_table import RowDoesNotExist


@contextmanager
def cursor_kept(table: DataTable) -> Iterator[None]:
    """Around a `table.clear()` and its new rows: the cursor goes back to its row when that row is still there."""
    keep = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value if table.row_count else None
    yield
    if keep is not None:
        try:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        except RowDoesNotExist:
            pass
