"""Team-lead benchmark (issue 7). Prints figures; asserts nothing.

Builds (once, cached under /tmp) a database whose 100,000 cases were all received within two months, then times the
KPIs over the period that holds all 100,000, and the overdue queue as the lead screen opens it.

Usage: .venv/bin/python scripts/bench_lead.py [--cases 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent_console import kpi, lead  # noqa: E402
from agent_console.config import load_settings  # noqa: E402
from agent_console.screens.lead import QUEUE_ROWS  # noqa: E402
from agent_console.demo import generate  # noqa: E402
from agent_console.workspace import Workspace  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100_000)
    args = ap.parse_args()
    cache = Path(tempfile.gettempdir()) / "agent-console-bench"
    cache.mkdir(exist_ok=True)
    path = cache / f"month-{args.cases}-v1.db"
    if not path.exists():
        print(f"building {args.cases:,} cases received within 60 days (once; cached at {path}) …", flush=True)
        t0 = time.perf_counter()
        ws = Workspace(load_settings(db=path.with_suffix(".tmp"), agent="me", demo_on_first_run=False))
        generate(ws, cases=args.cases, seed=99, history_days=60)
        ws.close()
        path.with_suffix(".tmp").rename(path)
        print(f"  built in {time.perf_counter() - t0:.0f} s")
    ws = Workspace(load_settings(db=path, agent="lead-1", role="lead", team="team-1", demo_on_first_run=False))
    now = ws.now()
    start, end = now - timedelta(days=61), now + timedelta(minutes=1)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        report = kpi.compute(ws, start, end, now)
        times.append(time.perf_counter() - t0)
    print(f"KPIs over {report.figures['complaints'].denominator:,} cases: {min(times):.3f} s (best of 3), "
          f"{statistics.median(times):.3f} s median")
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        rows = lead.overdue_queue(ws, 8, now)
        times.append(time.perf_counter() - t0)
    print(f"overdue queue ({len(rows):,} rows, overdue / due today / next 8 working hours): "
          f"{min(times) * 1e3:.0f} ms best, {statistics.median(times) * 1e3:.0f} ms median")
    opened, loaded = asyncio.run(screen_open(ws))
    print(f"lead screen (F7, headless): overdue queue in its table {opened * 1e3:.0f} ms after the key (the most"
          f" urgent {QUEUE_ROWS} rows); escalations, approvals, KPIs and charts filled by the worker {loaded:.2f} s"
          " after it")
    ws.close()


async def screen_open(ws: Workspace) -> tuple[float, float]:
    """(seconds from F7 to the overdue queue in its table, seconds until the worker has filled the other tabs).

    The key's action is called directly and the loop polled: Pilot.press would wait for the app to go idle,
    which includes the background worker.
    """
    from textual.widgets import DataTable

    from agent_console.app import AgentConsoleApp

    app = AgentConsoleApp(ws)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause(0.5)
        t0 = time.perf_counter()
        app.action_lead()
        while not app.screen.query("#overdue") or app.screen.query("#overdue").first(DataTable).row_count == 0:
            await asyncio.sleep(0.002)
        opened = time.perf_counter() - t0
        while getattr(app.screen, "report", None) is None:
            await asyncio.sleep(0.01)
        return opened, time.perf_counter() - t0


if __name__ == "__main__":
    main()
