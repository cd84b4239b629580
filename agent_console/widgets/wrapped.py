"""Plain text broken into lines by Chinese rules (core/cells.wrap): no line starts with closing punctuation
(，。、；：？！）》」%), no line ends with an opening one, and a case number, phone number or date stays whole.

Rich folds a run of Chinese characters wherever the cell count falls, which split "2610-9MB-003" over two lines and
started lines with "，"; this widget wraps the text itself at its content width. The text is never read as markup.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from agent_console.widgets.plain import Static

from agent_console.core import cells
from agent_console.core.text import clean_text


class WrappedText(Static):
    DEFAULT_CSS = "WrappedText { height: auto; }"

    def __init__(self, text: str = "", *, style: str = "", id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, markup=False)
        self._text = clean_text(text, limit=10**9)  # shown as it is: no escape sequence reaches the terminal
        self._style = style

    @property
    def text(self) -> str:
        return self._text

    def update(self, text: Any = "", style: str = "") -> None:  # type: ignore[override]
        self._text, self._style = clean_text(str(text), limit=10**9), style
        self.refresh(layout=True)

    def lines(self, width: int) -> list[str]:
        return cells.wrap(self._text, max(2, width)) if self._text else []

    def render(self) -> Text:
        return Text("\n".join(self.lines(self.content_size.width or 80)), style=self._style, no_wrap=True,
                    overflow="crop")

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return len(self.lines(width))

    def get_content_width(self, container: Any, viewport: Any) -> int:
        return max((cells.width(line) for line in self._text.split("\n")), default=0)
