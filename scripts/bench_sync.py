"""Sync benchmark (issue 5) against a real PostgreSQL. Prints figures; asserts nothing.

- push and pull 100,000 events through PostgreSQL, against a bare psycopg COPY of the same rows into a table like
  ac.events (with its keys and indexes; a bare heap of that shape is printed too), in the same run (pull is also set against a bare COPY TO of those rows); both go through the same
  functions `agent-console sync` and the console's worker use (engine.push / engine.pull, their default batches);
- an incremental sync with 10 new events;
- peak memory (RSS) while syncing, to show it stays flat (batches are streamed);
- the CPU time of the push and of the COPY it is set against, this process's and the centre's (its server processes,
  read from /proc: only when the centre runs on this machine), since on a shared machine the wall clock mostly says how
  busy the others are.

Needs a PostgreSQL superuser URL in AGENT_CONSOLE_TEST_PG (scripts/pg_cluster.sh starts one):
  bash -c 'source scripts/pg_cluster.sh && pg_cluster_start && .venv/bin/python scripts/bench_sync.py; pg_cluster_stop'
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from agent_console.support.config import load_settings  # noqa: E402
from agent_console.sync import pg  # noqa: E402
from agent_console.sync.engine import pull, push, sync_once  # noqa: E402
from agent_console.services.workspace import Workspace  # noqa: E402

N = int(os.environ.get("BENCH_EVENTS", "100000"))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def server_cpu(admin_url: str, dbname: str) -> dict[int, float]:
    """CPU seconds used so far by each server process connected to `dbname` (empty when they are not on this
    machine)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (dbname,))]
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def main() -> None:
    admin_url = os.environ.get("AGENT_CONSOLE_TEST_PG")
    if not admin_url:
        sys.exit("set AGENT_CONSOLE_TEST_PG (see the docstring)")
    dbname = name = "bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    pg.install(url)
    pg.add_user(url, "bench_a", "agent", ["t1"])
    pg.add_user(url, "bench_b", "agent", ["t1"])
    tmp = Path(tempfile.mkdtemp())
    a = Workspace(load_settings(db=tmp / "a.db", agent="bench_a", team="t1", demo_on_first_run=False))
    b = Workspace(load_settings(db=tmp / "b.db", agent="bench_b", team="t1", demo_on_first_run=False))
    # the history lies in the past, a second apart (the centre refuses times more than a day ahead of its clock)
    start = a.now() - timedelta(seconds=N + 60)
    case = a.register({"category": "claims", "complainant": {"name": "甲", "phone": "17000000000"},
                       "facts": "基准", "request": "基准"}, at=start)
    batch = []
    for i in range(N - 2):
        batch.append(a.event("progress_noted", case.id, {"note": f"进展 {i}"}, at=start + timedelta(seconds=i + 1)))
        if len(batch) == 20_000:
            a.store.append(batch, a.lifecycle)
            batch = []
    if batch:
        a.store.append(batch, a.lifecycle)
    events = a.store.outbox_batch(N)
    rows = [(i + 1, i + 1, e.id, e.case_id, e.kind, e.actor, e.device, e.at, e.hlc,
             json.dumps(e.payload, ensure_ascii=False), json.dumps(e.flags), "t1") for i, e in enumerate(events)]
    del events
    with psycopg.connect(url) as conn:
        # Two baselines: the same rows COPYed into a heap shaped like ac.events but without its keys and indexes,
        # and into a table like it *with* them (INCLUDING ALL: primary key, unique id, the team and case indexes).
        # The scale ("COPY does about 150,000 rows/s on these machines") is the second; the first is
        # printed too, so neither ratio is hidden.
        copy_times = {}
        for name, like in (("copy_heap", "INCLUDING DEFAULTS"), ("copy_target", "INCLUDING ALL")):
            conn.execute(f"CREATE TABLE {name} (LIKE ac.events {like})")
            conn.commit()
            server0, client0 = server_cpu(admin_url, dbname), time.process_time()
            t0 = time.perf_counter()
            with conn.cursor().copy(f"COPY {name} (seq, tseq, id, case_id, kind, actor, device, at, hlc, payload,"
                                    " flags, team) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
            conn.commit()
            copy_times[name] = time.perf_counter() - t0
            copy_cpu = (time.process_time() - client0, cpu_since(server0, server_cpu(admin_url, dbname)))
        copy_s, heap_s = copy_times["copy_target"], copy_times["copy_heap"]
        t0 = time.perf_counter()  # and back out: a bare COPY TO of the same rows, for scale on the pull side
        with conn.cursor().copy("COPY (SELECT * FROM copy_target ORDER BY seq) TO STDOUT") as copy:
            copied_out = sum(1 for _ in copy.rows())
        copy_to_s = time.perf_counter() - t0
        conn.commit()
    del rows
    rss_before = rss_mb()
    central_a = pg.PostgresCentral(pg.with_login(url, "bench_a"))
    server0, client0 = server_cpu(admin_url, dbname), time.process_time()
    t0 = time.perf_counter()
    pushed = push(a.store, central_a)  # the batch sizes sync_once uses
    push_s = time.perf_counter() - t0
    push_cpu = (time.process_time() - client0, cpu_since(server0, server_cpu(admin_url, dbname)))
    central_b = pg.PostgresCentral(pg.with_login(url, "bench_b"))
    t0 = time.perf_counter()
    pulled = pull(b.store, central_b, b.lifecycle)
    pull_s = time.perf_counter() - t0
    rss_after = rss_mb()
    for i in range(10):
        a.act(case.id, "progress_noted", {"note": f"增量 {i}"})
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        sync_once(a.store, central_a, a.lifecycle)
        times.append(time.perf_counter() - t0)
        for i in range(10):
            a.act(case.id, "progress_noted", {"note": f"增量 {i}"})
    t0 = time.perf_counter()
    sync_once(b.store, central_b, b.lifecycle)
    pull_10 = time.perf_counter() - t0
    raw_s = raw_sqlite_insert(url, tmp)
    print(f"COPY of {N:,} event rows into a table like ac.events (its keys and indexes): {copy_s:.2f} s "
          f"({N / copy_s:,.0f} rows/s); into a bare heap of that shape: {heap_s:.2f} s ({N / heap_s:,.0f} rows/s)")
    print(f"push {pushed.pushed:,} events: {push_s:.2f} s ({N / push_s:,.0f}/s) -> {push_s / copy_s:.1f}x COPY "
          f"({push_s / heap_s:.1f}x the bare heap)")
    if copy_cpu[1] and push_cpu[1]:
        print(f"CPU time: push {sum(push_cpu):.2f} s (console {push_cpu[0]:.2f} s, centre {push_cpu[1]:.2f} s) vs COPY "
              f"into the keyed table {sum(copy_cpu):.2f} s (client {copy_cpu[0]:.2f} s, server {copy_cpu[1]:.2f} s) "
              f"-> {sum(push_cpu) / sum(copy_cpu):.1f}x")
    print(f"pull {pulled:,} events (applied to a local store, cases refolded): {pull_s:.2f} s "
          f"({N / pull_s:,.0f}/s) -> {pull_s / copy_s:.1f}x COPY ({pull_s / heap_s:.1f}x the bare heap; "
          f"{pull_s / copy_to_s:.1f}x a bare COPY TO of {copied_out:,} rows, {copy_to_s:.2f} s)")
    print(f"pull vs a raw insert of the same pages into a fresh console's events table (no checks, no fold, no "
          f"projection; fetching included): {raw_s:.2f} s -> pull {pull_s / raw_s:.1f}x raw insert")
    print(f"incremental sync, 10 new events: push side {min(times) * 1e3:.0f} ms (best of 3), pull side "
          f"{pull_10 * 1e3:.0f} ms")
    print(f"peak RSS: {rss_before:.0f} MB before syncing, {rss_after:.0f} MB after pushing and pulling {N:,} events")
    central_a.close()
    central_b.close()
    a.store.close()
    b.store.close()
    shutil.rmtree(tmp, ignore_errors=True)  # the consoles' files (about 1.4 GB at a million events)


def raw_sqlite_insert(url: str, tmp: Path) -> float:
    """The raw baseline of a pull: the same pages fetched from the centre and inserted as they come into the events
    table of a fresh local store (the same statement the store uses), one transaction a page, nothing else."""
    from agent_console.store.local import LocalStore

    store = LocalStore(tmp / "raw.db")
    central = pg.PostgresCentral(pg.with_login(url, "bench_b"))
    t0 = time.perf_counter()
    cursor: object = "0"
    while (page := central.pull_page(cursor, 5000)).count:
        with store._replayable_transaction() as conn:  # as a pulled page is committed (synchronous=NORMAL)
            conn.execute("INSERT OR IGNORE INTO events (id, case_id, kind, actor, device, at, hlc, payload, flags,"
                         " origin) SELECT value->>1, value->>2, value->>3, value->>4, value->>5, value->>6,"
                         " value->>7, value->8, value->9, 'remote' FROM json_each(?)", (page.text,))
        cursor = page.last_seq
        if page.count < 5000:
            break
    took = time.perf_counter() - t0
    central.close()
    store.close()
    return took


if __name__ == "__main__":
    main()
