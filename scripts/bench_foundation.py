"""Benchmarks for the foundation (issue 2). Prints figures; asserts nothing.

1. Registering a case (event + projection + FTS + outbox) vs a raw sqlite3 insert of the same rows, same run.
2. `agent-console case list --open --json` on a database of 100,000 cases (built once, cached under /tmp).
3. Computing the deadlines of 10,000 open cases.

Usage: .venv/bin/python scripts/bench_foundation.py [--cases 100000] [--register 1000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent_console.support.config import load_settings  # noqa: E402
from agent_console.services.demo_data import generate  # noqa: E402
from agent_console.store.local import CaseQuery  # noqa: E402
from agent_console.store.migrations import migrate  # noqa: E402
from agent_console.services.workspace import Workspace  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "agent-console-bench"
SAMPLE = {
    "channel": "phone", "category": "claims", "complexity": "complex",
    "complainant": {"name": "王芳", "title": "女士", "phone": "17012345678", "id_number": "P123456789012"},
    "respondent": "理赔部", "facts": "理赔材料交齐三周仍无进度，多次来电都说在审核。", "request": "尽快赔付并说明原因",
}


def workspace(db: Path, agent: str = "bench") -> Workspace:
    return Workspace(load_settings(db=db, agent=agent, demo_on_first_run=False))


def bench_register(n: int, synchronous: str) -> tuple[float, float]:
    tmp = Path(tempfile.mkdtemp())
    ws = workspace(tmp / "ours.db")
    ws.store.conn.execute(f"PRAGMA synchronous={synchronous}")
    t0 = time.perf_counter()
    for _ in range(n):
        ws.register(SAMPLE)
    ours = time.perf_counter() - t0
    # the same rows, written raw: one transaction per case, as the console does
    src = ws.store.conn
    tables = {
        "events": src.execute("SELECT * FROM events ORDER BY seq").fetchall(),
        "outbox": src.execute("SELECT * FROM outbox ORDER BY seq").fetchall(),
        "cases": src.execute("SELECT * FROM cases ORDER BY rowid").fetchall(),
        "cases_search": src.execute("SELECT rowid, who1, who2, body1, body2, tel, scope FROM cases_search"
                                    " ORDER BY rowid").fetchall(),
        "open_search": src.execute("SELECT rowid, who1, who2, body1, body2, tel, scope FROM open_search"
                                   " ORDER BY rowid").fetchall(),
    }
    ws.close()
    raw = sqlite3.connect(tmp / "raw.db", isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute(f"PRAGMA synchronous={synchronous}")
    migrate(raw)
    ev, ob, cs, ft, op = (tables[k] for k in ("events", "outbox", "cases", "cases_search", "open_search"))
    per_case_events = len(ev) // len(cs)
    t0 = time.perf_counter()
    for i in range(len(cs)):
        raw.execute("BEGIN IMMEDIATE")
        for j in range(per_case_events):
            k = i * per_case_events + j
            raw.execute(f"INSERT INTO events VALUES ({','.join('?' * len(ev[k]))})", ev[k])
            raw.execute(f"INSERT INTO outbox VALUES ({','.join('?' * len(ob[k]))})", ob[k])
        raw.execute(f"INSERT INTO cases VALUES ({','.join('?' * len(cs[i]))})", cs[i])
        raw.execute("INSERT INTO cases_search (rowid, who1, who2, body1, body2, tel, scope) VALUES (?,?,?,?,?,?,?)",
                    ft[i])
        if i < len(op):  # the open cases' own index (every registered case is open)
            raw.execute("INSERT INTO open_search (rowid, who1, who2, body1, body2, tel, scope) VALUES (?,?,?,?,?,?,?)",
                        op[i])
        raw.execute("COMMIT")
    bare = time.perf_counter() - t0
    raw.close()
    shutil.rmtree(tmp)
    return ours / n, bare / n


def big_db(cases: int) -> Path:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"cases-{cases}-v3.db"
    if not path.exists():
        print(f"building a {cases:,}-case database (once; cached at {path}) …", flush=True)
        t0 = time.perf_counter()
        ws = workspace(path.with_suffix(".tmp"), agent="me")
        generate(ws, cases=cases, seed=42, history_days=540)
        ws.close()
        path.with_suffix(".tmp").rename(path)
        print(f"  built in {time.perf_counter() - t0:.0f} s", flush=True)
    return path


def bench_list(path: Path) -> tuple[float, int]:
    cmd = [str(ROOT / ".venv" / "bin" / "agent-console"), "--db", str(path), "--agent", "me", "case", "list",
           "--open", "--json"]
    times, count = [], 0
    for _ in range(3):
        t0 = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, check=True).stdout
        times.append(time.perf_counter() - t0)
        count = len(json.loads(out))
    return min(times), count


def bench_deadlines(path: Path, n: int = 10_000) -> tuple[float, float, float, int]:
    """(compute each case on its own, compute with the list's shared memo, JSON parse of the clocks, cases)."""
    ws = workspace(path, agent="me")
    rows = ws.store.case_rows(CaseQuery(open_only=True, limit=n), columns="c.clocks")
    if len(rows) < n:  # fewer open cases than asked: repeat them, the cost per case is what counts
        rows = (rows * (n // max(len(rows), 1) + 1))[:n]
    now = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    clocks = [json.loads(r["clocks"]) for r in rows]
    parsed = time.perf_counter() - t0
    t0 = time.perf_counter()
    for c in clocks:
        ws.deadlines(c, now)
    alone = time.perf_counter() - t0
    memo: dict = {}
    t0 = time.perf_counter()
    for c in clocks:
        ws.deadlines(c, now, memo)
    shared = time.perf_counter() - t0
    ws.close()
    return alone, shared, parsed, len(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--register", type=int, default=1000)
    args = ap.parse_args()

    for sync in ("FULL", "NORMAL"):
        ours, bare = bench_register(args.register, sync)
        print(f"register a case (synchronous={sync}): {ours * 1e3:.3f} ms vs raw sqlite3 {bare * 1e3:.3f} ms "
              f"-> ratio {ours / bare:.2f}x  ({args.register} cases, one transaction each)")
    path = big_db(args.cases)
    ws = workspace(path, agent="me")
    total, open_ = ws.store.count_cases(), ws.store.count_cases(open_only=True)
    ws.close()
    elapsed, count = bench_list(path)
    print(f"`case list --open --json` on {total:,} cases ({open_:,} open): {elapsed:.3f} s wall, whole process "
          f"(best of 3), {count:,} cases printed")
    alone, shared, parsed, n = bench_deadlines(path)
    print(f"deadlines of {n:,} open cases: {alone:.3f} s computed case by case, {shared:.3f} s with the list's "
          f"shared memo (+ {parsed:.3f} s parsing the stored clocks)")
    times = []
    ws = workspace(path, agent="me")
    for _ in range(5):
        t0 = time.perf_counter()
        ws.store.case_rows(CaseQuery(open_only=True, owner="me", limit=200))
        times.append(time.perf_counter() - t0)
    ws.close()
    print(f"first screen query (my open cases, 200 rows): {statistics.median(times) * 1e3:.1f} ms median")


if __name__ == "__main__":
    main()
