"""Figures for the deadline recompute (issue 16): N demo cases, then a new official year is loaded and a closures
file changes; prints how long the stale check and each recompute take and how many open cases moved.

    .venv/bin/python scripts/bench_recompute.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from agent_console.services.demo_data import generate
from agent_console.services.workspace import Workspace
from agent_console.support.config import load_settings

TZ = ZoneInfo("Asia/Shanghai")
YEAR = Path(__file__).resolve().parents[1] / "tests" / "data" / "CN-2027-test.toml"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    root = Path(tempfile.mkdtemp())
    now = lambda: datetime(2027, 1, 20, 10, 0, tzinfo=TZ)  # noqa: E731 - open cases reach the Spring Festival
    base = {"db": root / "bench.db", "agent": "lead-1", "role": "lead", "demo_on_first_run": False}
    ws = Workspace(load_settings(**base), now=now)
    t = time.perf_counter()
    generate(ws, cases=n, seed=3, history_days=30)
    print(f"{n} demo cases in {time.perf_counter() - t:.1f} s; open: {ws.store.count_cases(open_only=True)}")
    t = time.perf_counter()
    _, report = ws.load_calendar_year(YEAR)
    print(f"load a new official year + recompute: {time.perf_counter() - t:.2f} s, {report.cases} open cases, "
          f"{report.cases_moved} moved (largest {report.largest_shift_days:g} days)")
    ws.close()
    closures = root / "closures.toml"
    closures.write_text("[[closed]]\ndate = 2027-01-22\n", encoding="utf-8")
    t = time.perf_counter()
    ws = Workspace(load_settings(**base, calendar_file=closures), now=now)
    opened = time.perf_counter() - t
    t = time.perf_counter()
    report = ws.recompute_deadlines()
    print(f"closures changed: console opened (stale check) in {opened * 1000:.0f} ms, recompute "
          f"{time.perf_counter() - t:.2f} s, {report.cases_moved} of {report.cases} moved")
    # what a running console does every few seconds to notice a change made by another process
    rounds = 2000
    t = time.perf_counter()
    for _ in range(rounds):
        ws.reference_changed()
    print(f"running console's look for a calendar/reference change: {(time.perf_counter() - t) / rounds * 1e6:.0f} µs"
          f" per look ({n} cases)")
    ws.close()


if __name__ == "__main__":
    main()
