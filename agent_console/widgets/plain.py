"""Widgets that show text as data, never as markup.

A caller's words, a phrasebook entry or a row from another console may hold `[/]`, `[bold]` or `[link=…]`; Textual's
stock widgets parse strings as markup and either crash (MarkupError) or restyle the text. Screens import these
instead of the stock ones (same names, same arguments): a plain string is shown exactly as written, with escape
sequences and control characters left out so nothing reaches the terminal that it would interpret. Styling is done
with a Rich `Text` or a Textual `Content`, which pass through untouched.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from rich.text import Text
from textual import widgets as _w
from textual.content import Content
from textual.widgets.option_list import Option

from agent_console.core.text import clean_text

__all__ = ["DataTable", "Label", "OptionList", "Select", "SelectionList", "Static", "plain", "safe"]

_NO_LIMIT = 10**9
_T = TypeVar("_T")


def plain(value: object) -> str:
    """`value` as a string a terminal shows as it is (no escape sequences, no control characters, no bidi
    overrides); newlines are kept."""
    return clean_text(str(value), limit=_NO_LIMIT)


def safe(value: Any) -> Any:
    """A renderable that never parses markup: strings become `Text`; a `Text` or `Content` keeps its styles, with
    escape sequences and control characters left out of its words too (a styled case number is still a teammate's
    text)."""
    if isinstance(value, str):
        return Text(plain(value))
    return clean_styled(value)


def clean_styled(value: Any) -> Any:
    """A Rich `Text` or a Textual `Content` with its words cleaned like `plain` and its styles kept (a style over a
    run of words stays on what is left of them); anything else as it is."""
    if isinstance(value, Text):
        if plain(value.plain) == value.plain:
            return value
        cuts = sorted({span.start for span in value.spans} | {span.end for span in value.spans})
        out = Text(style=value.style, justify=value.justify, overflow=value.overflow, no_wrap=value.no_wrap,
                   end=value.end)
        for piece in value.divide(cuts):  # each piece lies wholly inside or outside every span
            words = Text(plain(piece.plain))
            for span in piece.spans:
                words.stylize(span.style, 0, len(words))
            out.append_text(words)
        return out
    if isinstance(value, Content):
        if plain(value.plain) == value.plain:
            return value
        return Content(plain(value.plain))  # rare (our own Content holds our own words): the words over the styles
    return value


class Cell(Text):
    """A table cell shown as written; equal to the string it was made from (code that reads a row back and
    compares it with a case number keeps working)."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.plain == other
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash(self.plain)


def _cell(value: Any) -> Any:
    return Cell(plain(value)) if isinstance(value, str) else clean_styled(value)


class Static(_w.Static):
    def __init__(self, content: Any = "", *, markup: bool = False, **kw: Any) -> None:
        super().__init__(_clean(content), markup=markup, **kw)

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        super().update(_clean(content), layout=layout)


class Label(_w.Label):
    def __init__(self, content: Any = "", *, markup: bool = False, **kw: Any) -> None:
        super().__init__(_clean(content), markup=markup, **kw)

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        super().update(_clean(content), layout=layout)


class OptionList(_w.OptionList):
    def __init__(self, *content: Any, markup: bool = False, **kw: Any) -> None:
        super().__init__(*[_option(c) for c in content], markup=markup, **kw)

    def add_option(self, option: Any = None) -> Any:
        return super().add_option(_option(option))

    def add_options(self, items: Iterable[Any]) -> Any:
        return super().add_options([_option(i) for i in items])


class SelectionList(_w.SelectionList[_T]):
    def __init__(self, *selections: Any, **kw: Any) -> None:
        super().__init__(*[_selection(s) for s in selections], **kw)
        self._markup = False

    def add_option(self, item: Any = None) -> Any:
        return super().add_option(_selection(item))

    def add_options(self, items: Iterable[Any]) -> Any:
        return super().add_options([_selection(i) for i in items])


class Select(_w.Select[_T]):
    def __init__(self, options: Iterable[tuple[Any, Any]], **kw: Any) -> None:
        super().__init__([(safe(p), v) for p, v in options], **kw)

    def set_options(self, options: Iterable[tuple[Any, Any]]) -> None:
        super().set_options([(safe(p), v) for p, v in options])


class DataTable(_w.DataTable):
    """Cells given as strings are shown as written (the stock table parses any string holding `[` as markup)."""

    def add_row(self, *cells: Any, **kw: Any) -> Any:
        return super().add_row(*[_cell(c) for c in cells], **kw)

    def update_cell(self, row_key: Any, column_key: Any, value: Any, **kw: Any) -> None:
        super().update_cell(row_key, column_key, _cell(value), **kw)

    def update_cell_at(self, coordinate: Any, value: Any, **kw: Any) -> None:
        super().update_cell_at(coordinate, _cell(value), **kw)

    def add_column(self, label: Any, **kw: Any) -> Any:
        return super().add_column(safe(label), **kw)


def _clean(content: Any) -> Any:
    return plain(content) if isinstance(content, str) else clean_styled(content)


def _option(item: Any) -> Any:
    if isinstance(item, Option):
        if isinstance(item.prompt, str):
            return Option(safe(item.prompt), id=item.id, disabled=item.disabled)
        return item
    if isinstance(item, str):
        return safe(item)
    return item


def _selection(item: Any) -> Any:
    if isinstance(item, tuple):
        return (safe(item[0]), *item[1:])
    return item


def content_of(widget: _w.Static) -> str:
    """The plain text a Static shows (tests and the rendering property test read it)."""
    visual = widget.visual
    if isinstance(visual, Content):
        return visual.plain
    return str(getattr(visual, "plain", visual))
