"""CaseTable: the open-cases list as a light, virtual table (a line-API ScrollView).

Why not Textual's DataTable: on every search keystroke the list is replaced, and DataTable re-measures every cell
through Rich and renders each cell via the console (tens of milliseconds for 50–300 rows), which alone broke the
"results within 50 ms of the keystroke" target. Here a row is plain text cells with one style each; a line is built
from segments only when it is on screen, and column widths come from `rich.cells.cell_len`, so wide characters
keep their two columns. Replacing the rows costs a dictionary rebuild; painting costs the visible lines only.

What the screen needs from it: `set_rows` (keeps the cursor on the same case), `update_cell` (the live countdown,
repaints one line), the cursor (`cursor_row`, `cursor_key`), `get_row_at` and a `RowSelected` message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = str | Text


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    max_width: int = 40  # a long caller name or category is cut with an ellipsis rather than pushing columns away
    shrink: bool = False  # may be narrowed (never below its header nor MIN_SHRUNK) when the terminal is too narrow
    drop: int = 0  # when even narrowed columns do not fit, the highest `drop` goes first; 0: always shown


MIN_SHRUNK = 6


# what reaches the terminal as it is: never a control character or an escape sequence, whatever a row holds (input
# is cleaned at intake, but rows also arrive from other consoles)
# (and no bidirectional override or isolate, which would reorder what follows on the line: core.text removes the same)
_CONTROLS = dict.fromkeys([*range(32), 127, *range(0x80, 0xA0), 0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F),
                           *range(0x2066, 0x206A)])


def _plain(cell: Cell) -> tuple[str, Style | None]:
    text, style = _split(cell)
    return text.translate(_CONTROLS), style


def _split(cell: Cell) -> tuple[str, Style | None]:
    if isinstance(cell, Text):
        style = cell.style if isinstance(cell.style, Style) else (Style.parse(cell.style) if cell.style else None)
        if cell.spans:  # the list only uses one style per cell; take the first span's if there is one
            span_style = cell.spans[0].style
            style = span_style if isinstance(span_style, Style) else Style.parse(str(span_style))
        return cell.plain, style
    return str(cell), None


def _fit(text: str, width: int) -> str:
    """`text` in exactly `width` terminal columns: padded, or cut with an ellipsis (wide characters counted as 2)."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    if width < 2:
        return set_cell_size(text, width)
    cut = set_cell_size(text, width - 1).rstrip(" ")  # a wide character that would be split is left out whole
    return cut + "…" + " " * (width - 1 - cell_len(cut))


class CaseTable(ScrollView, can_focus=True):
    """A read-only table with a row cursor, a fixed header line and zebra stripes."""

    BINDINGS = [
        Binding("up", "cursor_up", show=False),
        Binding("down", "cursor_down", show=False),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
        Binding("home", "first", show=False),
        Binding("end", "last", show=False),
        Binding("enter", "select_cursor", show=False),
    ]

    COMPONENT_CLASSES = {"case-table--header", "case-table--cursor", "case-table--even-row"}

    DEFAULT_CSS = """
    CaseTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        overflow-x: hidden;
    }
    CaseTable > .case-table--header {
        text-style: bold;
        background: $panel;
        color: $foreground;
    }
    CaseTable > .case-table--even-row {
        background: $surface-lighten-1 50%;
    }
    CaseTable > .case-table--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
    }
    CaseTable:focus > .case-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True, repaint=False)

    class RowSelected(Message):
        """Enter (or a click on the cursor's row) on a row."""

        def __init__(self, table: "CaseTable", key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> "CaseTable":
            return self.table

    def __init__(self, columns: Sequence[Column], *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.columns = list(columns)
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._cells: list[list[tuple[str, Style | None]]] = []
        self._natural = [cell_len(c.label) for c in self.columns]  # widest cell of each column, capped
        self._widths = list(self._natural)  # what is drawn: the natural widths, narrowed to fit the terminal
        self._shown = [True] * len(self.columns)  # False: left out, the terminal is too narrow for it
        self._lines: dict[tuple[int, bool], Strip] = {}  # (row, is cursor) -> unstyled-by-scroll strip
        self._style: Style | None = None  # rich_style, remembered while the lines are (see _base)

    # -- data -------------------------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def row_keys(self) -> list[str]:
        return list(self._keys)

    @property
    def cursor_key(self) -> str | None:
        return self._keys[self.cursor_row] if 0 <= self.cursor_row < len(self._keys) else None

    def get_row_at(self, index: int) -> list[str]:
        return [text for text, _ in self._cells[index]]

    def get_row_index(self, key: str) -> int:
        return self._index[key]

    def set_rows(self, rows: Iterable[tuple[str, Sequence[Cell]]]) -> None:
        """Replace every row; the cursor stays on the same case when it is still listed, else on the same line."""
        keep = self.cursor_key
        self._keys, self._cells, self._index = [], [], {}
        widths = [cell_len(c.label) for c in self.columns]
        caps = [c.max_width for c in self.columns]
        for key, cells in rows:
            plain = [_plain(c) for c in cells]
            for i, (text, _) in enumerate(plain):
                n = cell_len(text)
                if n > widths[i]:
                    widths[i] = min(n, caps[i])
            self._index[key] = len(self._keys)
            self._keys.append(key)
            self._cells.append(plain)
        self._natural = widths
        self._fit_columns()
        row = self._index.get(keep, self.cursor_row) if keep else self.cursor_row
        self.cursor_row = max(0, min(row, len(self._keys) - 1))
        self.refresh()

    def update_cell(self, key: str, column: str, value: Cell) -> None:
        """Change one cell (the countdown); only its line is repainted and the cursor never moves."""
        row = self._index[key]
        col = next(i for i, c in enumerate(self.columns) if c.key == column)
        plain = _plain(value)
        self._cells[row][col] = plain
        self._lines.pop((row, False), None)
        self._lines.pop((row, True), None)
        if cell_len(plain[0]) > self._natural[col] and self._natural[col] < self.columns[col].max_width:
            self._natural[col] = min(cell_len(plain[0]), self.columns[col].max_width)
            self._fit_columns()
            self.refresh()
        else:
            self.refresh_line(row + 1)  # line 0 is the header

    def _fit_columns(self) -> None:
        """Fit the columns to the width, no sideways scrolling: narrow the shrinkable ones, widest first, down to
        their header (a header is never cut: no "Catego…"); if that is not enough, leave out whole columns by
        `drop` (highest first) and narrow the rest again from their natural widths."""
        natural = list(self._natural)
        room = self.scrollable_content_region.width or sum(natural) + 2 * len(natural)
        floors = [min(n, max(cell_len(c.label), MIN_SHRUNK)) if c.shrink else n
                  for c, n in zip(self.columns, natural)]
        shown = [True] * len(natural)
        droppable = sorted((c.drop, i) for i, c in enumerate(self.columns) if c.drop > 0)
        while True:
            widths = list(natural)
            excess = sum(w + 2 for w, on in zip(widths, shown) if on) - room
            while excess > 0:
                candidates = [i for i in range(len(widths)) if shown[i] and widths[i] > floors[i]]
                if not candidates:
                    break
                widest = max(candidates, key=lambda i: widths[i])
                widths[widest] -= 1
                excess -= 1
            if excess <= 0 or not droppable:
                break
            shown[droppable.pop()[1]] = False
        self._widths = [w if on else 0 for w, on in zip(widths, shown)]
        self._shown = shown
        self._lines.clear()
        self._style = None
        self._set_virtual_size(Size(sum(w + 2 for w, on in zip(widths, shown) if on), len(self._keys) + 1))

    def _set_virtual_size(self, size: Size) -> None:
        """A new size for what scrolls. Textual's virtual_size asks for a layout of the whole screen whenever it
        changes (every search keystroke that changes the number of rows: every widget arranged and rendered
        again); only a scrollbar that appears or goes needs one. Otherwise the scrollbar is told the new height and
        the table repaints itself."""
        if size == self.virtual_size:
            return
        room = self.scrollable_content_region
        bars_before = self.show_vertical_scrollbar, self.show_horizontal_scrollbar
        bars_after = size.height > room.height, size.width > room.width
        if not self.is_mounted or not room.height or bars_after != bars_before:
            self.virtual_size = size  # (the layout places the scrollbar)
            return
        self.set_reactive(CaseTable.virtual_size, size)
        if bars_after[0]:
            self.vertical_scrollbar.window_virtual_size = size.height
        self.scroll_y = self.validate_scroll_y(self.scroll_y)  # a shorter list: not scrolled past its end
        self.refresh()

    @property
    def shown_columns(self) -> list[str]:
        """The keys of the columns the width leaves room for, in order."""
        return [c.key for c, on in zip(self.columns, self._shown) if on]

    # -- cursor -----------------------------------------------------------------------------------------------
    def watch_cursor_row(self, old: int, new: int) -> None:
        for row in (old, new):
            self._lines.pop((row, False), None)
            self._lines.pop((row, True), None)
        self._scroll_to_cursor()
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        body = max(self.size.height - 1, 1)  # lines under the header
        top = int(self.scroll_offset.y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + body:
            self.scroll_to(y=self.cursor_row - body + 1, animate=False, immediate=True)

    def move_cursor(self, row: int) -> None:
        if self._keys:
            self.cursor_row = max(0, min(row, len(self._keys) - 1))

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor_row - max(self.size.height - 2, 1))

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor_row + max(self.size.height - 2, 1))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._keys) - 1)

    def action_select_cursor(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.RowSelected(self, self.cursor_key))

    def on_click(self, event: events.Click) -> None:
        row = event.y - 1 + int(self.scroll_offset.y)
        if event.y == 0 or not 0 <= row < len(self._keys):
            return
        if row == self.cursor_row or event.chain > 1:
            self.post_message(self.RowSelected(self, self._keys[row]))
        self.move_cursor(row)

    # -- painting ---------------------------------------------------------------------------------------------
    def on_resize(self) -> None:
        self._fit_columns()
        self._scroll_to_cursor()

    def on_focus(self) -> None:
        self._lines.clear()
        self._style = None
        self.refresh()

    def on_blur(self) -> None:
        self._lines.clear()
        self._style = None
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()
        self._style = None

    def _base(self) -> Style:
        """The table's own style. Textual's rich_style walks up the DOM blending backgrounds at every call, and a
        line asked for it twice (half a millisecond of a search keystroke's repaint for a screenful); it changes
        with focus or the CSS, when the lines are made again anyway."""
        if self._style is None:
            self._style = self.rich_style
        return self._style

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        if y == 0:
            strip = self._header()
        else:
            row = scroll_y + y - 1
            if row >= len(self._keys):
                return Strip.blank(width, self._base())
            cursor = row == self.cursor_row
            strip = self._lines.get((row, cursor))
            if strip is None:
                strip = self._lines[(row, cursor)] = self._row(row, cursor)
        return strip.crop_extend(scroll_x, scroll_x + width, self._base())

    def _header(self) -> Strip:
        style = self._base() + self.get_component_rich_style("case-table--header")
        segments = []
        for column, w, on in zip(self.columns, self._widths, self._shown):
            if on:
                segments.extend(self._cell(column.label, w, style))
        return Strip(segments, sum(w + 2 for w, on in zip(self._widths, self._shown) if on))

    @staticmethod
    def _cell(text: str, width: int, style: Style) -> list[Segment]:
        # the text in a segment of its own, padding in others: exports (SVG snapshots) then place every glyph run at
        # its exact column, as a terminal does
        fitted = _fit(text, width)
        body = fitted.rstrip(" ")
        pad = " " * (width - cell_len(body) + 1)
        return [Segment(" ", style), Segment(body, style), Segment(pad, style)] if body else [Segment(" " * (width + 2), style)]

    def _row(self, row: int, cursor: bool) -> Strip:
        base = self._base()
        if cursor:
            base = base + self.get_component_rich_style("case-table--cursor")
        elif row % 2:
            base = base + self.get_component_rich_style("case-table--even-row")
        segments = []
        for (text, style), w, on in zip(self._cells[row], self._widths, self._shown):
            if on:
                segments.extend(self._cell(text, w, base + style if style else base))
        return Strip(segments, sum(w + 2 for w, on in zip(self._widths, self._shown) if on))
