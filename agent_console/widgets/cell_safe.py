"""Workaround for a Textual compositor bug that blanks wide (CJK) glyphs of a widget drawn over other widgets.

The bug (Textual 8.2.8, rich 15; upstream issue Textualize/textual#6357, open): `Compositor.cuts` holds, for each
screen line, the edges of every visible widget on it, hidden ones included, and `Compositor._render_chops` divides
every widget's line at each of those cuts (`Strip.divide` -> rich `Segment.split_cells`). A cut in the middle of a
double-width character turns it into two spaces, so where a label under the Select dropdown, the command palette
or a toast ends at an odd column, the overlay's glyph there disappears ("财务部" shown as "  务部").
Minimal reproduction: scripts/repro_textual_cjk_overlay.py.

The fix here: a widget's line is divided only where the chops it wins (is topmost on) start or stop; a run of
chops it wins is kept whole in the run's first chop, the chops inside the run hold an empty strip. A cut inside a
run is never drawn, so no glyph is cut there; a cut at a run's edge is a real overlap edge, where half a glyph is
covered and a blank is right. Partial terminal updates get each chop's true end, so a dirty span that starts inside
a run still repaints it. `install()` makes every new Screen (the command palette's too) use this compositor.

Also here: TextArea's soft wrap (textual._wrap.compute_wrap_offsets) folds Chinese anywhere, so a wrapped line of a
form's note could start with "，"; `install()` has it follow core/cells.py's rules (the break moves back a
character or two, so the line before never runs past the area's width).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import textual.document._wrapped_document as _wrapped_document
import textual.screen
from textual._compositor import ChopsUpdate, Compositor
from textual._wrap import compute_wrap_offsets
from textual.geometry import Region
from textual.strip import Strip

from agent_console.core.cells import NO_LINE_END, NO_LINE_START

_EMPTY = Strip([], 0)


class CellSafeCompositor(Compositor):
    """A Compositor that never divides a widget's line where nothing is drawn over it."""

    def _render_chops(
        self, crop: Region, is_rendered_line: Callable[[int], bool]
    ) -> Sequence[Mapping[int, Strip]]:
        cuts = self.cuts
        chops: list[dict[int, Strip | None]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
        for region, clip, strips in self._get_renders(crop):
            render_region = region.intersection(clip)
            render_x = render_region.x
            first_cut, last_cut = render_region.column_span
            for y, strip in zip(render_region.line_range, strips):
                if not is_rendered_line(y):
                    continue
                line = chops[y]
                inside = [cut for cut in cuts[y] if last_cut >= cut >= first_cut]
                wins = [line.get(cut) is None for cut in inside[:-1]]
                if not any(wins):
                    continue
                # Keep only the cuts where this widget starts or stops being the topmost one.
                edges = [inside[0]]
                edges += [inside[i] for i in range(1, len(wins)) if wins[i] != wins[i - 1]]
                edges.append(inside[-1])
                pieces = strip.divide([cut - render_x for cut in edges[1:]])
                run_at = dict(zip(edges, pieces))
                for cut, won in zip(inside, wins):
                    if won:
                        line[cut] = run_at.get(cut, _EMPTY)
        return chops  # type: ignore[return-value]

    def render_partial_update(self) -> ChopsUpdate | None:
        update = super().render_partial_update()
        if update is None:
            return None
        # A run's strip runs past its chop's cut end; ChopsUpdate must know, or it skips spans inside the run.
        update.chop_ends = [
            [end if strip is None else x + strip.cell_length for end, (x, strip) in zip(ends, line.items())]
            for ends, line in zip(update.chop_ends, update.chops)
        ]
        return update


def _bad_break(text: str, at: int) -> bool:
    return text[at] in NO_LINE_START or text[at - 1] in NO_LINE_END


def kinsoku_wrap_offsets(text: str, width: int, tab_size: int, fold: bool = True,
                         precomputed_tab_sections: list[tuple[str, int]] | None = None) -> list[int]:
    """compute_wrap_offsets, with no line opening on closing punctuation nor ending on an opening one."""
    offsets = compute_wrap_offsets(text, width, tab_size, fold, precomputed_tab_sections)
    if "\t" in text or not any(_bad_break(text, at) for at in offsets):
        return offsets  # the common case; tabs' widths depend on the whole line: left as Textual wraps them
    out: list[int] = []
    start = 0
    while rest := compute_wrap_offsets(text[start:], width, tab_size, fold):
        at = first = start + rest[0]
        while at - 1 > start and first - at < 2 and _bad_break(text, at):
            at -= 1
        if _bad_break(text, at):  # a run of punctuation: Textual's break is as good as any
            at = first
        out.append(at)
        start = at
    return out


def install() -> None:
    """Make every Screen created from now on compose its lines with CellSafeCompositor, and TextArea wrap by
    Chinese line-breaking rules."""
    textual.screen.Compositor = CellSafeCompositor  # type: ignore[attr-defined,misc]
    _wrapped_document.compute_wrap_offsets = kinsoku_wrap_offsets  # type: ignore[assignment]
