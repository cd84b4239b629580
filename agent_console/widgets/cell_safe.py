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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import textual.screen
from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.strip import Strip

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


def install() -> None:
    """Make every Screen created from now on compose its lines with CellSafeCompositor."""
    textual.screen.Compositor = CellSafeCompositor  # type: ignore[attr-defined,misc]
