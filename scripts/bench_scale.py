"""A million cases (issue 18): every figure beside the raw SQLite doing the same work, at 10k, 100k and 1M cases.

Databases are demo data (seed 42, a year and a half of work), built once and cached under the system's temp
directory (agent-console-scale/); every run works on a copy, so the cache stays as built. Prints figures; asserts
nothing. Figures from one run on a shared machine: the ratios are what count.

Usage: .venv/bin/python scripts/bench_scale.py [--sizes 10000,100000,1000000] [--build-only] [--skip rebuild,...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent_console.core.case_query import CaseQuery  # noqa: E402
from agent_console.services.demo_data import generate  # noqa: E402
from agent_console.services.workspace import Workspace  # noqa: E402
from agent_console.support.config import load_settings  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "agent-console-scale"
AGENT = "bench"


def workspace(db: Path) -> Workspace:
    return Workspace(load_settings(db=db, agent=AGENT, demo_on_first_run=False))


def build(cases: int) -> Path:
    """The cached database of `cases` demo cases, built on first use (a progress line on stderr)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"cases-{cases}.db"
    if path.exists():
        return path
    tmp = CACHE / f"building-{cases}.db"
    for old in CACHE.glob(f"building-{cases}.db*"):
        old.unlink()
    ws = workspace(tmp)
    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        rate = done / max(time.perf_counter() - t0, 1e-9)
        sys.stderr.write(f"\rbuilding {total} cases: {done} ({rate:.0f}/s)   ")
        sys.stderr.flush()

    generate(ws, cases=cases, seed=42, history_days=540, progress=progress)
    ws.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ws.close()
    sys.stderr.write(f"\nbuilt {cases} cases in {time.perf_counter() - t0:.0f} s\n")
    tmp.rename(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--build-only", action="store_true")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    for n in sizes:
        build(n)
    if args.build_only:
        return


if __name__ == "__main__":
    main()
