"""Minimal reproduction: Textual drops a wide (CJK) glyph of an overlay where a widget *below* it ends mid-glyph.

Run: .venv/bin/python scripts/repro_textual_cjk_overlay.py          (Textual as shipped)
     .venv/bin/python scripts/repro_textual_cjk_overlay.py --fixed  (with agent_console.widgets.cell_safe installed)

A 3-cell Label "abc" sits on the bottom layer; a Static "财务部" sits on a layer above it, at the same place.
Expected first screen line: "财务部". Textual (checked on 8.2.8, rich 15.0.0) prints "财  部".

Why: `Compositor.cuts` collects, for each screen line, the left and right edge of *every* visible widget on that
line, hidden ones included. `Compositor._render_chops` then divides each widget's line with `Strip.divide` at every
cut inside it and fills each chop with the first (topmost) widget's piece. The Label's right edge (x=3) falls in the
middle of 务 (cells 2-3), so the overlay's own line is divided there; rich's `Segment.split_cells` turns a
double-width character cut in half into two spaces, and both halves of the overlay win their chops: the glyph is
gone, although nothing is drawn over it. The same happens to the Select dropdown over the form's labels, to the
command palette over the screen and to toasts, in the real terminal (ChopsUpdate / LayoutUpdate) and in
`App.export_screenshot` alike, since all of them are built from the same chops.
"""

from __future__ import annotations

import asyncio
import sys

from textual.app import App, ComposeResult
from textual.widgets import Label, Static


class Repro(App):
    CSS = """
    Screen { layers: below above; }
    #below { layer: below; }
    #above { layer: above; width: 12; }
    """

    def compose(self) -> ComposeResult:
        yield Label("abc", id="below")
        yield Static("财务部", id="above")


async def first_line(fixed: bool) -> str:
    if fixed:
        from agent_console.widgets.cell_safe import install

        install()
    app = Repro()
    async with app.run_test(size=(20, 3)) as pilot:
        await pilot.pause()
        return app.screen._compositor.render_strips()[0].text.rstrip()


def main() -> int:
    fixed = "--fixed" in sys.argv
    line = asyncio.run(first_line(fixed))
    import textual

    print(f"textual {textual.__version__}, workaround {'on' if fixed else 'off'}: {line!r}"
          f" ({'all glyphs' if line == '财务部' else 'GLYPH DROPPED'})")
    return 0 if line == "财务部" else 1


if __name__ == "__main__":
    sys.exit(main())
