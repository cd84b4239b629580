"""SearchBox: a one-line Input whose typing never lays the screen out again.

Textual's Input keeps its virtual width at the text's width plus the cursor, and that reactive is declared
`layout=True`: every keystroke asks for a layout of the whole screen (every widget arranged, the footer's keys
measured, which asks for a second pass, and everything rendered again), 5-20 ms of a search keystroke's 50 ms on a
loaded machine before the list even gets its rows. A box whose size CSS fixes (not `auto`) only scrolls inside
itself when its text grows, so here the virtual size repaints the box and nothing else.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class SearchBox(Input):
    """An Input for a box of fixed size (the open-cases search): same behaviour, no layout per keystroke."""

    # (a box that CSS sizes by its text, `width: auto`, is still laid out: Input asks for that itself)
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
