"""Many consoles syncing with one centre at once (issue 18), on loopback. Prints figures; asserts nothing.

N consoles (agents) in M teams, each with its own local SQLite store holding E events of its own in the outbox,
run one `sync_once` round each, all at the same moment (push their events, pull their team's), then a second round
(the events their teammates pushed after them). The same work is then run one console after another on a second,
identical centre and set of stores. Printed: the makespan of the concurrent run (first start to last finish), the
slowest console, the median, and the sequential total beside it.

Consoles run as threads in a few worker processes (the GIL is released while psycopg and SQLite work), so 200
consoles fit a 2-core machine; `--workers` bounds the processes.

  bash -c 'source scripts/pg_cluster.sh && pg_cluster_start && nice .venv/bin/python scripts/bench_consoles.py \
      --consoles 10 --teams 1 --events 2865; pg_cluster_stop'
  ... --consoles 200 --teams 20 --events 200 --workers 4

Needs a PostgreSQL superuser URL in AGENT_CONSOLE_TEST_PG (scripts/pg_cluster.sh starts one).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from agent_console.support.config import load_settings  # noqa: E402
from agent_console.sync import pg  # noqa: E402
from agent_console.services.workspace import Workspace  # noqa: E402


def login(i: int) -> str:
    return f"bench_c{i:03d}"


def make_centre(admin_url: str, consoles: int, teams: int) -> str:
    name = "bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    pg.install(url)
    for i in range(consoles):
        pg.add_user(url, login(i), "agent", [f"team{i % teams}"])
    return url


def make_console(folder: Path, i: int, teams: int, events: int) -> None:
    """A console's store with `events` of its own waiting: a few cases and their progress notes, in the past."""
    ws = Workspace(load_settings(db=folder / f"c{i}.db", agent=login(i), team=f"team{i % teams}",
                                 demo_on_first_run=False))
    start = ws.now() - timedelta(hours=6)
    cases = max(1, events // 50)
    made = 0
    batch = []
    for c in range(cases):
        case = ws.register({"category": "claims", "complainant": {"name": "甲", "phone": f"170{i:04d}{c:04d}"},
                            "facts": f"基准 {i}-{c}", "request": "基准"}, at=start + timedelta(seconds=c))
        made += 2
        for n in range((events - 2 * cases) // cases):
            batch.append(ws.event("progress_noted", case.id, {"note": f"进展 {n}"},
                                  at=start + timedelta(seconds=c, milliseconds=n + 1)))
    ws.store.append(batch, ws.lifecycle)
    ws.close()


def run_console(db: Path, url: str, i: int, teams: int, times: list, barrier: object | None, rounds: int = 2) -> None:
    from agent_console.sync.engine import sync_once

    ws = Workspace(load_settings(db=db, agent=login(i), team=f"team{i % teams}", demo_on_first_run=False))
    central = pg.PostgresCentral(pg.with_login(url, login(i)))
    if barrier is not None:
        barrier.wait()
    out = []
    for _ in range(rounds):  # the first round, then the one that brings what teammates pushed after it
        t0 = time.time()
        report = sync_once(ws.store, central, ws.lifecycle)
        out.append((t0, time.time(), report.pushed, report.pulled, report.error))
    times.append((i, out))
    central.close()
    ws.close()


def worker(dbs: list[tuple[int, str]], url: str, teams: int, barrier: object, queue: object) -> None:
    times: list = []
    threads = [threading.Thread(target=run_console, args=(Path(db), url, i, teams, times, barrier))
               for i, db in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--consoles", type=int, default=10)
    ap.add_argument("--teams", type=int, default=1)
    ap.add_argument("--events", type=int, default=2865, help="events of its own each console pushes")
    ap.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 2), help="worker processes")
    ap.add_argument("--no-sequential", action="store_true", help="skip the one-after-another comparison")
    args = ap.parse_args()
    admin_url = os.environ.get("AGENT_CONSOLE_TEST_PG")
    if not admin_url:
        sys.exit("set AGENT_CONSOLE_TEST_PG (see the docstring)")
    n, m = args.consoles, args.teams
    tmp = Path(tempfile.mkdtemp(prefix="bench_consoles_"))
    t0 = time.perf_counter()
    seed = tmp / "seed"
    seed.mkdir()
    for i in range(n):
        make_console(seed, i, m, args.events)
    print(f"{n} consoles in {m} teams, {args.events:,} events each ({n * args.events:,} in all); setup "
          f"{time.perf_counter() - t0:.1f} s", flush=True)

    # at once: every console starts its round at the same moment
    together = tmp / "together"
    shutil.copytree(seed, together)
    url = make_centre(admin_url, n, m)
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(n)
    queue = ctx.Queue()
    shares = [[(i, str(together / f"c{i}.db")) for i in range(n) if i % args.workers == w]
              for w in range(args.workers)]
    procs = [ctx.Process(target=worker, args=(share, url, m, barrier, queue)) for share in shares if share]
    for p in procs:
        p.start()
    results = [r for _ in procs for r in queue.get()]
    for p in procs:
        p.join()
    firsts = [out[0] for _, out in results]
    start = min(f[0] for f in firsts)
    round1 = max(f[1] for f in firsts) - start
    both = max(out[1][1] for _, out in results) - start
    per = sorted(out[0][1] - out[0][0] for _, out in results)
    errors = [e for _, out in results for *_, e in out if e]
    pushed = sum(o[2] for _, out in results for o in out)
    pulled = sum(o[3] for _, out in results for o in out)
    print(f"at once: first round makespan {round1:.2f} s (slowest console {per[-1]:.2f} s, median "
          f"{statistics.median(per):.2f} s, fastest {per[0]:.2f} s); both rounds {both:.2f} s; pushed {pushed:,}, "
          f"pulled {pulled:,}; errors {len(errors)}" + (f" (first: {errors[0]})" if errors else ""), flush=True)

    if args.no_sequential:
        return
    alone = tmp / "alone"
    shutil.copytree(seed, alone)
    url2 = make_centre(admin_url, n, m)
    seq_times: list = []
    t0 = time.perf_counter()
    for _ in range(2):  # every console's first round, one after another, then every second round
        for i in range(n):
            run_console(alone / f"c{i}.db", url2, i, m, seq_times, None, rounds=1)
    sequential = time.perf_counter() - t0
    one = sorted(out[0][1] - out[0][0] for _, out in seq_times[:n])
    pulled2 = sum(o[3] for _, out in seq_times for o in out)
    print(f"one after another: {sequential:.2f} s for all, both rounds (pulled {pulled2:,}; a console's first "
          f"round alone: median {statistics.median(one):.2f} s, slowest {one[-1]:.2f} s)")
    print(f"at once / one after another: {both / sequential:.2f}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
