"""Figures for the deadline recompute (issues 16 and 18).

    .venv/bin/python scripts/bench_recompute.py [N]
        N demo cases, then a new official year is loaded and a closures file changes: how long the stale check and
        each recompute take and how many open cases moved.

    .venv/bin/python scripts/bench_recompute.py --db PATH [--rebuild] [--cpu]
        On an existing database (bench_scale's cached ones), IN PLACE, leaving its deadlines as they were found:
        a full recompute of every open case (which records what each counted over), then the incremental
        recompute after a closure in three months, one next week too, an override of one clock's length, and
        back to the calendar and profile as found; each beside the full recompute. --rebuild: also `rebuild`
        with every row rewritten (rewrite=True: every column and search row written, the contents unchanged)
        beside a raw read-and-rewrite of the same rows, on the same file. Work on a copy of a database you keep.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent_console.services.demo_data import generate  # noqa: E402
from agent_console.services.workspace import Workspace  # noqa: E402
from agent_console.support.config import load_settings  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
YEAR = ROOT / "tests" / "data" / "CN-2027-test.toml"


def demo(n: int) -> None:
    root = Path(tempfile.mkdtemp())
    now = lambda: datetime(2027, 1, 20, 10, 0, tzinfo=TZ)  # noqa: E731 - open cases reach the Spring Festival
    base = {"db": root / "bench.db", "agent": "lead-1", "role": "lead", "demo_on_first_run": False}
    ws = Workspace(load_settings(**base), now=now)
    t = time.perf_counter()
    generate(ws, cases=n, seed=3, history_days=30)
    print(f"{n} demo cases in {time.perf_counter() - t:.1f} s; open: {ws.store.count_cases(open_only=True)}")
    t = time.perf_counter()
    _, report = ws.load_calendar_year(YEAR)
    print(f"load a new official year + recompute: {time.perf_counter() - t:.2f} s, {report.cases} open cases "
          f"refolded, {report.cases_moved} moved (largest {report.largest_shift_days:g} days)")
    ws.close()
    closures = root / "closures.toml"
    closures.write_text("[[closed]]\ndate = 2027-01-22\n", encoding="utf-8")
    t = time.perf_counter()
    ws = Workspace(load_settings(**base, calendar_file=closures), now=now)
    opened = time.perf_counter() - t
    t = time.perf_counter()
    report = ws.recompute_deadlines()
    print(f"closures changed: console opened (stale check) in {opened * 1000:.0f} ms, recompute "
          f"{time.perf_counter() - t:.2f} s, {report.cases_moved} of {report.cases} refolded moved")
    # what a running console does every few seconds to notice a change made by another process
    rounds = 2000
    t = time.perf_counter()
    for _ in range(rounds):
        ws.reference_changed()
    print(f"running console's look for a calendar/reference change: {(time.perf_counter() - t) / rounds * 1e6:.0f} µs"
          f" per look ({n} cases)")
    ws.close()


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def in_place(db: Path, rebuild: bool, cpu: bool, only_rebuild: bool = False) -> None:
    clock = time.thread_time if cpu else time.perf_counter
    unit = "s CPU" if cpu else "s"
    work = Path(tempfile.mkdtemp())
    closures = work / "closures.toml"

    def workspace(closed: list[str] = (), override: int | None = None) -> Workspace:
        closures.write_text("".join(f"[[closed]]\ndate = {d}\n" for d in closed), encoding="utf-8")
        over = {"clocks": {"update_customer": {"length": override}}} if override else {}
        return Workspace(load_settings(db=db, agent="bench", demo_on_first_run=False, calendar_file=closures,
                                       profile_overrides=over))

    def step(label: str, ws: Workspace, full: bool = False) -> float:
        reasons = list(ws.stale_reasons) or ["asked"]
        seen: list[int] = []
        t = clock()
        report = ws.recompute_deadlines(reasons, progress=lambda done, total: seen.append(done), full=full)
        took = clock() - t
        print(f"  {label:<52} {took:8.2f} {unit}  {report.cases:>7} refolded of {ws.count_cases(open_only=True)}"
              f" open, {report.cases_moved} moved, {len(seen)} progress reports  ({', '.join(reasons)}; {load()})",
              flush=True)
        ws.close()
        return took

    ws = workspace()
    print(f"{db.name}: {ws.count_cases()} cases, {ws.count_cases(open_only=True)} open ({load()})", flush=True)
    today = ws.now().astimezone(TZ).date()
    if only_rebuild:
        ws.close()
    full = 0.0 if only_rebuild else step("full recompute (every open case; records their days)", ws, full=True)
    later, soon = str(today + timedelta(days=90)), str(today + timedelta(days=7))
    for label, closed, override in () if only_rebuild else (
            ("+ a closure in three months (incremental)", [later], None),
            ("+ a closure next week (incremental)", [later, soon], None),
            ("+ an override of one clock's length (incremental)", [later, soon], 9),
            ("back as found: no closure, no override (incremental)", [], None)):
        took = step(label, workspace(closed, override))
        print(f"  {'':<52} {took / full:8.2f}x the full recompute", flush=True)
    if rebuild:
        sys.path.insert(0, str(ROOT / "scripts"))
        import bench_scale

        bench_scale.CPU["on"] = cpu
        raw = bench_scale.raw_rewrite(db)
        print(f"  {'raw read-and-rewrite of every row':<52} {raw:8.2f} {unit} ({load()})", flush=True)
        ws = workspace()
        t = clock()
        differences = ws.store.rebuild(ws.lifecycle, rewrite=True)
        ours = clock() - t
        ws.close()
        print(f"  {'rebuild, every row rewritten (rewrite=True)':<52} {ours:8.2f} {unit}  {ours / raw:.2f}x raw,"
              f" {len(differences)} differences ({load()})", flush=True)
        for line in differences[:5]:
            print(f"    {line}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cases", nargs="?", type=int, default=20_000)
    ap.add_argument("--db", type=Path, help="an existing database, worked on in place")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--only-rebuild", action="store_true", help="the rebuild figures alone")
    ap.add_argument("--cpu", action="store_true", help="this thread's CPU time instead of the wall clock")
    args = ap.parse_args()
    if args.db:
        in_place(args.db, args.rebuild or args.only_rebuild, args.cpu, args.only_rebuild)
    else:
        demo(args.cases)


if __name__ == "__main__":
    main()
