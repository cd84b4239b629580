"""Console benchmark (issue 3). Prints figures; asserts nothing.

1. Cold start to an interactive open-cases screen on a 100,000-case database (a new process each time, headless),
   against a bare Textual app with one DataTable in the same run: the ratio.
2. Search as you type on that database: from the keystroke (or the input method's commit) to the end of the screen
   update that shows the new rows (measured by wrapping the list's `_show` and the compositor's refresh).
3. The countdown tick's cost with 1,000 open cases on screen, as a share of one core at one tick a second.

Uses the 100,000-case database that scripts/bench_foundation.py builds (cached under /tmp).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import agent_console  # noqa: E402,F401 - first, as in the console's own process (it sets Textual's frame rate)

PY = str(ROOT / ".venv" / "bin" / "python")

CONSOLE = """
import time, sys, asyncio
t0 = float(sys.argv[1])
from agent_console.support.config import load_settings
from agent_console.services.workspace import Workspace
from agent_console.app import AgentConsoleApp
from agent_console.widgets.case_table import CaseTable
ws = Workspace(load_settings(db=sys.argv[2], agent="me", demo_on_first_run=False))
app = AgentConsoleApp(ws)
async def main():
    async with app.run_test(size=(160, 48)) as pilot:
        while True:
            await pilot.pause()
            screen = app.screen
            tables = screen.query("#cases")
            if tables and tables.first(CaseTable).row_count:
                break
        print(time.time() - t0)
asyncio.run(main())
"""

BARE = """
import time, sys, asyncio
t0 = float(sys.argv[1])
from textual.app import App
from textual.widgets import DataTable
class Bare(App):
    def compose(self):
        yield DataTable()
    def on_mount(self):
        t = self.query_one(DataTable); t.add_columns("a", "b"); t.add_row("1", "2")
async def main():
    app = Bare()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        print(time.time() - t0)
asyncio.run(main())
"""


def cold(code: str, *args: str) -> float:
    runs = []
    for _ in range(3):
        out = subprocess.run([PY, "-c", code, str(time.time()), *args], capture_output=True, text=True, cwd=ROOT)
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return min(runs)


def mark_list_painted() -> tuple[dict[str, float], Callable[[], None]]:
    """Instrument the case list (benchmarks only): the returned dict gets "shown" when the list got its rows and
    "painted" at the end of the first screen update after that (the compositor has written the new table to the
    terminal); clear it before each keystroke. The function returned puts Textual back as it was."""
    from textual.screen import Screen

    from agent_console.screens.cases import CasesScreen

    marks: dict[str, float] = {}
    show, paint = CasesScreen._show, Screen._compositor_refresh

    def timed_show(self, rows, now):  # type: ignore[no-untyped-def]
        show(self, rows, now)
        marks["shown"] = time.perf_counter()

    def timed_paint(self):  # type: ignore[no-untyped-def]
        paint(self)
        if "shown" in marks and "painted" not in marks:
            marks["painted"] = time.perf_counter()

    CasesScreen._show, Screen._compositor_refresh = timed_show, timed_paint  # type: ignore[method-assign]

    def restore() -> None:
        CasesScreen._show, Screen._compositor_refresh = show, paint  # type: ignore[method-assign]

    return marks, restore


async def focused_search(app: Any, pilot: Any) -> Any:
    """The console's first list loaded and its search box focused: where a keystroke benchmark starts."""
    from textual.widgets import Input

    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    search = app.screen.query_one("#search", Input)
    search.focus()
    await pilot.pause()
    return search


async def search_and_tick(db: Path, tick_db: Path) -> tuple[list[float], float, int, float]:
    from agent_console.app import AgentConsoleApp
    from agent_console.support.config import load_settings
    from agent_console.services.workspace import Workspace

    marks, restore = mark_list_painted()
    # What an agent types: Chinese arrives from the input method one committed word at a time, digits key by key.
    steps: list[tuple[str, str]] = [("ime", "理"), ("ime", "理赔"), ("ime", "理赔材"), ("ime", "理赔材料"), ("ime", ""),
                                    *[("key", k) for k in "170123"], ("ime", ""),
                                    *[("key", k) for k in "2611-"], ("ime", ""),
                                    ("ime", "定损金额"), ("ime", "王"), ("ime", "")]
    ws = Workspace(load_settings(db=db, agent="me", demo_on_first_run=False))
    app = AgentConsoleApp(ws)
    latencies = []
    async with app.run_test(size=(160, 48)) as pilot:
        search = await focused_search(app, pilot)
        for _ in range(3):
            for how, text in steps:
                marks.clear()
                t0 = time.perf_counter()
                if how == "ime":
                    search.value = text
                else:
                    await pilot.press(text)
                while "painted" not in marks and time.perf_counter() - t0 < 5:
                    await asyncio.sleep(0.001)
                latencies.append(marks.get("painted", time.perf_counter()) - t0)
                await pilot.pause()
    restore()
    ws.close()
    ws = Workspace(load_settings(db=tick_db, agent="me", demo_on_first_run=False))
    app = AgentConsoleApp(ws)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        rows = screen.query_one("#cases").row_count
        t0 = time.process_time()
        for _ in range(20):
            screen.tick()
        per_tick = (time.process_time() - t0) / 20
        # and the whole console left alone for 10 s: the ticks with their repaints, timers, everything
        await pilot.pause(1.0)
        t0, w0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(10)
        idle = (time.process_time() - t0) / (time.perf_counter() - w0)
    ws.close()
    return latencies, per_tick, rows, idle


def tick_database() -> Path:
    path = Path(tempfile.gettempdir()) / "agent-console-bench" / "open-1000-v1.db"
    if not path.exists():
        from agent_console.support.config import load_settings
        from agent_console.services.workspace import Workspace

        ws = Workspace(load_settings(db=path, agent="me", demo_on_first_run=False))
        for i in range(1000):
            ws.register({"category": "claims", "complexity": ["general", "complex", "major"][i % 3],
                         "complainant": {"name": f"客户{i}", "phone": f"170{i:08d}"}, "facts": f"事实{i}",
                         "request": "尽快处理"})
        ws.close()
    return path


def main() -> None:
    db = Path(tempfile.gettempdir()) / "agent-console-bench" / "cases-100000-v3.db"
    if not db.exists():
        sys.exit("run scripts/bench_foundation.py first: it builds the 100,000-case database")
    console = cold(CONSOLE, str(db))
    bare = cold(BARE)
    print(f"cold start to an interactive open-cases screen on 100,000 cases: {console:.2f} s; bare Textual app "
          f"{bare:.2f} s -> ratio {console / bare:.1f}x")
    latencies, per_tick, rows, idle = asyncio.run(search_and_tick(db, tick_database()))
    if os.environ.get("BENCH_VERBOSE"):
        print([round(x * 1e3) for x in latencies])
    q = statistics.quantiles(latencies, n=20)
    print(f"search as you type on 100,000 cases ({len(latencies)} keystrokes): median "
          f"{statistics.median(latencies) * 1e3:.0f} ms, p95 {q[-1] * 1e3:.0f} ms, worst {max(latencies) * 1e3:.0f} ms "
          f"from the keystroke to the new table on screen")
    print(f"countdown tick with {rows:,} open cases on screen: {per_tick * 1e3:.1f} ms CPU per tick -> "
          f"{per_tick * 100:.1f} % of one core at one tick a second; the whole console idle with them ticking: "
          f"{idle * 100:.1f} % of one core (1,000 open cases, the 300 most urgent listed)")


if __name__ == "__main__":
    main()
