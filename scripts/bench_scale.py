"""A million cases (issue 18): every figure beside the raw SQLite doing the same work, at 10k, 100k and 1M cases.

Databases are demo data (seed 42, a year and a half of work), built once and cached under the system's temp
directory (agent-console-scale/); every run works on a copy, so the cache stays as built. Prints figures; asserts
nothing. Figures from one run on a shared machine: the ratios are what count.

Usage: .venv/bin/python scripts/bench_scale.py [--sizes 10000,100000,1000000] [--build-only] [--skip rebuild,...]
       .venv/bin/python scripts/bench_scale.py --search-only --sizes 1000000   (the search box and case list
       --search only, on the cached database itself, opened for reading only: no 12.8 GB copy)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent_console.core.case_query import CaseQuery  # noqa: E402
from agent_console.services.demo_data import generate  # noqa: E402
from agent_console.services.workspace import Workspace  # noqa: E402
from agent_console.support.config import load_settings  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "agent-console-scale"
# A child's peak memory (KiB), as Python source for the probes: VmHWM, this address space's own high-water mark.
# getrusage's ru_maxrss is kept across exec, so a child started from this process reported this process's peak
# (891 MiB after building 1M cases).
PEAK_KIB = "int(next(ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM')))"
AGENT = "bench"


def workspace(db: Path) -> Workspace:
    return Workspace(load_settings(db=db, agent=AGENT, demo_on_first_run=False))


def build(cases: int) -> Path:
    """The cached database of `cases` demo cases, built on first use (a progress line on stderr)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"cases-{cases}.db"
    if path.exists():
        # brought up to date once (a migration that refills the search index would otherwise run on every copy)
        t0 = time.perf_counter()
        ws = workspace(path)
        ws.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        ws.close()
        if time.perf_counter() - t0 > 5:
            sys.stderr.write(f"brought {path.name} up to date in {time.perf_counter() - t0:.0f} s\n")
        return path
    tmp = CACHE / f"building-{cases}.db"
    for old in CACHE.glob(f"building-{cases}.db*"):
        old.unlink()
    took = make_demo(tmp, cases, history_days=540)
    (CACHE / f"cases-{cases}.built").write_text(f"{took:.1f}\n")
    tmp.rename(path)
    return path


def make_demo(db: Path, cases: int, history_days: int) -> float:
    """Demo data into `db` (seed 42), as `agent-console demo` makes it; prints the wall time, cases/s, the CPU it
    took here (storing; making too below 20k cases) and in the maker processes, per case, and the load before and after. Returns the wall time."""
    ws = workspace(db)
    load = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)

    def progress(done: int, total: int) -> None:
        rate = done / max(time.perf_counter() - t0, 1e-9)
        sys.stderr.write(f"\rbuilding {total} cases: {done} ({rate:.0f}/s)   ")
        sys.stderr.flush()

    generate(ws, cases=cases, seed=42, history_days=history_days, progress=progress)
    ws.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ws.close()
    took, here = time.perf_counter() - t0, time.process_time() - c0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    makers = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    sys.stderr.write(f"\nbuilt {cases} cases in {took:.0f} s ({cases / took:.0f} cases/s); CPU {here:.0f} s here (storing) +"
                     f" {makers:.0f} s in maker processes = {(here + makers) / cases * 1e6:.0f} us/case; load {load:.1f} ->"
                     f" {os.getloadavg()[0]:.1f}\n")
    return took


@contextmanager
def reading_only() -> Iterator[None]:
    """Every store opened meanwhile only reads (PRAGMA query_only, and it says so, as a read-only file would): the
    cached database is measured where it is, never copied and never written (build() brought it up to date)."""
    from agent_console.store.local import LocalStore, StoreReadOnly

    original = LocalStore._open

    def _open(self: LocalStore, timeout: float) -> None:
        original(self, timeout)
        self.conn.execute("PRAGMA query_only=1")
        self.read_only = StoreReadOnly("db.read_only_open", path=str(self.path), detail="benchmark")

    LocalStore._open = _open  # type: ignore[method-assign]
    try:
        yield
    finally:
        LocalStore._open = original  # type: ignore[method-assign]


def copy(src: Path, name: str) -> Path:
    """A working copy of a cached database (the cache stays as built)."""
    work = CACHE / "work"
    work.mkdir(exist_ok=True)
    dst = work / name
    for old in work.glob(name + "*"):
        old.unlink()
    shutil.copyfile(src, dst)
    return dst


CPU = {"on": False}  # --cpu: time on this thread's CPU clock (what the work costs, without waiting for a core)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds `fn` took (wall clock, or this thread's CPU with --cpu: on a machine whose two cores are shared with
    other work, the wall clock also counts the time spent waiting for a core) and its result."""
    clock = time.thread_time if CPU["on"] else time.perf_counter
    t0 = clock()
    out = fn()
    return clock() - t0, out


def best(fn: Callable[[], Any], runs: int = 3) -> tuple[float, Any]:
    results = [timed(fn) for _ in range(runs)]
    return min(r[0] for r in results), results[-1][1]


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.95) - 1)] if len(xs) > 1 else xs[0]


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, int, float, float | None, str]] = []

    def add(self, work: str, n: int, ours: float, raw: float | None, note: str = "") -> None:
        self.rows.append((work, n, ours, raw, note))
        ratio = f"{ours / raw:.2f}x" if raw else "-"
        raw_s = f"{raw * 1e3:10.1f} ms" if raw is not None else " " * 13
        print(f"  {work:<52} {n:>8}  ours {ours * 1e3:10.1f} ms  raw {raw_s}  {ratio:>7}  {note}", flush=True)


def raw_rewrite(db: Path) -> float:
    """Read every event (one JSON text per case, decoded) and write every projection row and its search rows (the
    text's, the sound's) again: the rows a rebuild writes, without the fold."""
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("PRAGMA synchronous=NORMAL")
    clock = time.thread_time if CPU["on"] else time.perf_counter
    t0 = clock()
    for (text,) in c.execute("SELECT json_group_array(json_array(0, id, case_id, kind, actor, device, at, hlc,"
                             " json(payload), json(flags))) FROM events WHERE case_id IS NOT NULL GROUP BY case_id"):
        json.loads(text)
    cols = [d[0] for d in c.execute("SELECT * FROM cases LIMIT 1").description]
    sound = c.execute("SELECT 1 FROM sqlite_master WHERE name = 'cases_sound'").fetchone() is not None
    after = 0
    while True:
        c.execute("BEGIN")
        rows = c.execute("SELECT rowid, * FROM cases WHERE rowid > ? ORDER BY rowid LIMIT 2000", (after,)).fetchall()
        if not rows:
            c.execute("COMMIT")
            break
        after = rows[-1][0]
        c.executemany(f"UPDATE cases SET {', '.join(f'{k}=?' for k in cols)} WHERE rowid=?",
                      [(*r[1:], r[0]) for r in rows])
        search = c.execute("SELECT rowid, who1, who2, body1, body2, tel, scope FROM cases_search WHERE rowid > ?"
                           " AND rowid <= ?", (rows[0][0] - 1, after)).fetchall()
        c.executemany("DELETE FROM cases_search WHERE rowid=?", [(r[0],) for r in search])
        c.executemany("INSERT INTO cases_search (rowid, who1, who2, body1, body2, tel, scope) VALUES (?,?,?,?,?,?,?)",
                      search)
        if sound:  # the sound of each case's text (a table of its own since issue 15), as rebuild writes it too
            sounds = c.execute("SELECT rowid, sound, scope FROM cases_sound WHERE rowid > ? AND rowid <= ?",
                               (rows[0][0] - 1, after)).fetchall()
            c.executemany("DELETE FROM cases_sound WHERE rowid=?", [(r[0],) for r in sounds])
            c.executemany("INSERT INTO cases_sound (rowid, sound, scope) VALUES (?,?,?)", sounds)
        c.execute("COMMIT")
    took = clock() - t0
    c.close()
    return took


def raw_json(rows: Any) -> int:
    """The least a hand-written program does for a --json list: fetch the rows, decode each case's stored clocks
    (no deadline can be told without them) and write each case's text with its clocks beside it. What "ours" adds
    to this is telling each deadline as it stands now (working-day arithmetic) and the deadline's fields."""
    size = 0
    for _id, doc, clocks in rows:
        if doc is None:
            continue
        size += len(f'{doc[:-1]}, "deadlines": {json.dumps(json.loads(clocks), ensure_ascii=False)}}}')
    return size


def cli(db: Path, *args: str, read_only: bool = False) -> tuple[float, int]:
    """Wall time and peak memory (MiB, the child's own maximum resident set) of one command-line run, its output
    thrown away. read_only: the database is opened as on a read-only file system (the store's read-only open:
    nothing migrated or written), for reading a cached database in place."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    probe = ("import runpy, sys; sys.argv = ['agent-console'] + sys.argv[1:];"
             + ("import agent_console.store.local as L; L._cannot_write = lambda conn: 'bench: read-only use';"
                "L._migrations_pending = lambda conn: False;" if read_only else "")
             +
             "code = 0\n"
             "try:\n runpy.run_module('agent_console', run_name='__main__')\n"
             "except SystemExit as exc:\n code = exc.code or 0\n"
             f"sys.stdout.flush(); hwm = {PEAK_KIB}; sys.stderr.write(f'\\nmaxrss {{hwm}}\\n');"
             "sys.exit(code)")
    t0 = time.perf_counter()
    with open(os.devnull, "w") as sink:
        run = subprocess.run([sys.executable, "-c", probe, *args, "--db", str(db), "--agent", AGENT], stdout=sink,
                             stderr=subprocess.PIPE, text=True, env=env, check=True)
    took = time.perf_counter() - t0
    peak = int(run.stderr.rsplit("maxrss ", 1)[1].split()[0])
    return took, peak // 1024


RAW_LIST = """
import sqlite3, sys
# the same rows in the same order as `case list --json` (store._listed: nearest due first, then the newest without
# one), each case's list document with its stored clocks beside it, streamed to stdout
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
out, n = sys.stdout, 0
out.write("[")
for sql in ("SELECT id, doc, clocks FROM cases c WHERE 1 AND c.next_due IS NOT NULL ORDER BY c.next_due, c.received_at DESC",
            "SELECT id, doc, clocks FROM cases c WHERE 1 AND c.next_due IS NULL ORDER BY c.received_at DESC"):
    for _id, doc, clocks in c.execute(sql):
        out.write(("," if n else "") + doc[:-1] + ', "deadlines": ' + clocks + "}")
        n += 1
out.write("]\\n")
out.flush()
hwm = PEAK_KIB
sys.stderr.write(f"rows {n} maxrss {hwm}\\n")
""".replace("PEAK_KIB", PEAK_KIB)


def raw_cli_json(db: Path) -> tuple[float, int, int]:
    """The raw engine's `case list --json`: a new Python process with only sqlite3, the same two queries, each row's
    stored text written out as it comes. Wall time, peak memory (MiB) and rows."""
    t0 = time.perf_counter()
    with open(os.devnull, "w") as sink:
        run = subprocess.run([sys.executable, "-c", RAW_LIST, str(db)], stdout=sink, stderr=subprocess.PIPE,
                             text=True, check=True)
    took = time.perf_counter() - t0
    words = run.stderr.split()
    return took, int(words[words.index("maxrss") + 1]) // 1024, int(words[words.index("rows") + 1])


def list_json_figures(table: Any, db: Path, n: int, read_only: bool = False) -> None:
    """`case list --json` of every case against the raw engine's, each run twice, turn about (raw first: neither
    gets a page cache the other warmed for it alone), the best of each."""
    load = os.getloadavg()[0]
    ours, raws = [], []
    for _ in range(2):
        raws.append(raw_cli_json(db))
        ours.append(cli(db, "case", "list", "--json", read_only=read_only))
    (took, peak), (raw, raw_peak, rows) = min(ours), min(raws)
    table.add("case list --json, every case (CLI, wall)", n, took, raw,
              f"{rows} cases; peak memory {peak} MiB, raw {raw_peak} MiB; best of 2 each; load {load:.1f}")


START = """
import time, sys, asyncio
t0 = time.perf_counter()
from agent_console.support.config import load_settings
from agent_console.services.workspace import Workspace
from agent_console.app import AgentConsoleApp
from agent_console.widgets.case_table import CaseTable
ws = Workspace(load_settings(db=sys.argv[1], agent=sys.argv[2], central=sys.argv[3], demo_on_first_run=False))
app = AgentConsoleApp(ws)
async def main():
    async with app.run_test(size=(160, 48)) as pilot:
        while True:
            await pilot.pause()
            tables = app.screen.query("#cases")
            if tables and tables.first(CaseTable).row_count:
                break
        print(time.perf_counter() - t0, flush=True)
        import os; os._exit(0)  # do not wait for a sync the centre started
asyncio.run(main())
"""


def console_start(db: Path, central: str) -> float:
    """Seconds from a new process's first line to the first case on the open-cases screen (headless), best of 3."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", START, str(db), AGENT, central], capture_output=True, text=True,
                             env=env, cwd=ROOT, timeout=600)
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return min(runs)


async def ui_search(db: Path, queries: list[str],
                    cpu: dict[int, list[float]] | None = None) -> dict[int, list[float]]:
    """Keystroke -> rows on screen in the console itself (headless): every prefix of each query typed into the
    open-cases search box, timed from the change to the end of the screen update that shows the new rows. `cpu`
    gets the process's CPU time (every thread: the query's worker too) of each keystroke, by length."""
    import asyncio

    from agent_console.app import AgentConsoleApp
    from scripts.bench_console import focused_search, mark_list_painted

    marks, restore = mark_list_painted()
    ws = workspace(db)
    ws.stale_reasons = []  # the search is measured here, not a recompute of stale deadlines in the background
    app = AgentConsoleApp(ws)
    by_len: dict[int, list[float]] = {}
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            search = await focused_search(app, pilot)
            for _ in range(2):
                for q in queries:
                    for k in [*range(1, len(q) + 1), 0]:
                        marks.clear()
                        t0, c0 = time.perf_counter(), time.process_time()
                        search.value = q[:k]
                        while "painted" not in marks and time.perf_counter() - t0 < 10:
                            await asyncio.sleep(0.001)
                        if k:
                            by_len.setdefault(k, []).append(marks.get("painted", time.perf_counter()) - t0)
                            if cpu is not None:
                                cpu.setdefault(k, []).append(time.process_time() - c0)
                        await pilot.pause()
    finally:
        restore()
        ws.close()
    return by_len


def bench(n: int, table: Table, skip: set[str], search_only: bool = False) -> None:
    src = build(n)
    print(f"\n== {n} cases ({src.stat().st_size / 2**20:.0f} MiB)", flush=True)
    if search_only:
        with reading_only():
            print(f"  uptime: {os.getloadavg()[0]:.2f} load (1 min)", flush=True)
            ws = workspace(src)
            search_figures(ws, n, table, src, skip)
            ws.close()
            print(f"  uptime: {os.getloadavg()[0]:.2f} load (1 min)", flush=True)
        return
    db = copy(src, f"bench-{n}.db")
    ws = workspace(db)
    conn = ws.store.conn
    events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    open_cases = ws.store.count_cases(open_only=True)
    print(f"  {events} events, {open_cases} open cases", flush=True)
    if ws.stale_reasons:  # the calendar or profile changed since the database was built: what a console does first
        reasons = list(ws.stale_reasons)
        took, report = timed(lambda: ws.recompute_deadlines())
        table.add("recompute stale deadlines (open cases)", n, took, None, f"{', '.join(reasons)[:60]}")

    search_figures(ws, n, table, db, skip)
    rest_of_bench(ws, n, table, db, src, skip, events, open_cases)


def search_figures(ws: Workspace, n: int, table: Table, db: Path, skip: set[str]) -> None:
    """The search box (every prefix of typical queries, homophones included: the list's own query, then the
    console itself, keystroke -> painted) and case list --search, each beside the raw index query."""
    from agent_console.core import search_terms
    from agent_console.screens.case_rows import ListFilter, load_rows

    conn = ws.store.conn
    now = ws.now()
    queries = ["王芳", "理赔材料", "退保", "张伟", "5678", "审核", "李", "理陪材料", "lipei"]
    number = conn.execute("SELECT number FROM cases ORDER BY rowid DESC LIMIT 1").fetchone()[0]
    queries.append(number[-6:])
    by_len: dict[int, list[float]] = {}
    query_only: dict[int, list[float]] = {}
    raw_only: dict[int, list[float]] = {}
    for qtext in queries:
        for k in range(1, len(qtext) + 1):
            typed = qtext[:k]
            flt = ListFilter(text=typed)
            cq = flt.query(ws, now)
            for _ in range(3):
                by_len.setdefault(k, []).append(timed(lambda: load_rows(ws, flt, now))[0])
                query_only.setdefault(k, []).append(timed(lambda: ws.list_summaries(cq))[0])
                expr, _ = ws.store._search_expressions(cq)
                sound = search_terms.sound_query(typed)
                if expr:
                    raw_only.setdefault(k, []).append(timed(lambda: (conn.execute(
                        "SELECT rowid FROM cases_search WHERE cases_search MATCH ? ORDER BY rowid DESC LIMIT 50",
                        (expr,)).fetchall(), sound and conn.execute(
                        "SELECT rowid FROM cases_sound WHERE cases_sound MATCH ? ORDER BY rowid DESC LIMIT 50",
                        (sound,)).fetchall()))[0])
    for k in sorted(by_len):
        table.add(f"search box, {k}-char term: keystroke->rows p95", n, p95(by_len[k]),
                  p95(raw_only[k]) if k in raw_only else None, f"query alone p95 {p95(query_only[k]) * 1e3:.1f} ms")

    if "ui" not in skip:
        import asyncio

        cpu: dict[int, list[float]] = {}
        for k, xs in sorted(asyncio.run(ui_search(db, queries, cpu)).items()):
            table.add(f"console search box, {k}-char: keystroke->painted p95", n, p95(xs),
                      p95(raw_only[k]) if k in raw_only else None,
                      f"{len(xs)} keystrokes, max {max(xs) * 1e3:.0f} ms, CPU p95 {p95(cpu[k]) * 1e3:.1f} ms")

    # -- case list --search, whole result as JSON (in process) vs the bare index query fetching the same rows
    for term in ("王芳", "理赔材料", "理陪材料"):
        q = CaseQuery(text=term)
        ours, text = best(lambda: ws.list_cases_json(q))
        expr, _ = ws.store._search_expressions(q)
        sound = search_terms.sound_query(term)  # raw: the cases either index finds, once each
        raw, _ = best(lambda: raw_json(conn.execute(
            "SELECT c.id, c.doc, c.clocks FROM cases c WHERE c.rowid IN"
            " (SELECT rowid FROM cases_search WHERE cases_search MATCH ?"
            + (" UNION SELECT rowid FROM cases_sound WHERE cases_sound MATCH ?)" if sound else ")"),
            (expr, sound) if sound else (expr,))))
        table.add(f"case list --search {term} --json", n, ours, raw, f"{len(json.loads(text))} cases")


def rest_of_bench(ws: Workspace, n: int, table: Table, db: Path, src: Path, skip: set[str], events: int,
                  open_cases: int) -> None:
    conn = ws.store.conn
    now = ws.now()

    # -- lists and queues
    q = CaseQuery(open_only=True)
    ours, _ = best(lambda: sum(len(x) for x in ws.iter_cases_json(q)))
    raw, _ = best(lambda: raw_json(conn.execute(
        "SELECT id, doc, clocks FROM cases WHERE is_open=1 ORDER BY next_due")))
    table.add("case list --open --json (in process)", n, ours, raw)
    took, peak = cli(db, "case", "list", "--open", "--json")
    table.add("case list --open --json (CLI, wall)", n, took, None, f"peak memory {peak} MiB")
    q = CaseQuery(limit=20)  # every case, open or not (a lead's whole list): the first screen of it
    ours, _ = best(lambda: sum(len(x) for x in ws.iter_cases_json(q)))
    raw, _ = best(lambda: raw_json(conn.execute(
        "SELECT id, doc, clocks FROM cases WHERE next_due IS NOT NULL ORDER BY next_due, received_at DESC LIMIT 20")))
    table.add("case list --json --limit 20, every case (in process)", n, ours, raw)
    if "all-json" not in skip:
        list_json_figures(table, db, n)

    from agent_console.services import reports

    lead_ws = Workspace(load_settings(db=db, agent="lead-1", role="lead", demo_on_first_run=False))
    ours, text = best(lambda: reports.build(lead_ws, "overdue", None, "json", False))
    raw, _ = best(lambda: conn.execute(
        "SELECT id, number, status, owner, team, department, category, next_due, next_clock, name, phone_digits"
        " FROM cases WHERE is_open=1 AND next_due IS NOT NULL AND next_due < ? ORDER BY next_due",
        ((now.replace(year=now.year + 1)).isoformat(),)).fetchall())
    table.add("report overdue --format json (in process)", n, ours, raw, f"{len(json.loads(text)['rows'])} rows")

    # -- the status line's outbox count, every 2 s
    ours = min(timed(lambda: ws.store.outbox_count())[0] for _ in range(5))
    raw = min(timed(lambda: conn.execute("SELECT count(*) FROM outbox").fetchone())[0] for _ in range(2))
    table.add("outbox count (status line)", n, ours, raw, "raw = count(*), what it was")

    # -- console start to the first case on screen, without and with a centre configured (a file centre: the
    # console starts a sync of everything it holds at once, on its own thread)
    if "start" not in skip:
        plain = console_start(db, "")
        central = f"sqlite:///{CACHE / 'work' / f'central-{n}.db'}"
        with_centre = console_start(db, central)
        for old in (CACHE / "work").glob(f"central-{n}.db*"):
            old.unlink()
        table.add("console start to first case on screen", n, plain, None, "headless, new process, best of 3")
        table.add("console start, centre configured", n, with_centre, plain, "raw = the same start without one")

    # -- KPI first read (builds the facts), in its own process for its memory
    if "kpi" not in skip:
        probe = ("import sys, time; sys.path.insert(0, sys.argv[1]);"
                 "from pathlib import Path;"
                 "from agent_console.support.config import load_settings;"
                 "from agent_console.services.workspace import Workspace;"
                 "from agent_console.services import kpi;"
                 "ws = Workspace(load_settings(db=Path(sys.argv[2]), agent='lead-1', role='lead',"
                 " demo_on_first_run=False));"
                 "now = ws.now(); s, e = kpi.month_bounds(ws, now.astimezone(ws.tz).strftime('%Y-%m'));"
                 "clock = time.process_time if sys.argv[3] == 'cpu' else time.perf_counter;"
                 "t = clock(); kpi.compute(ws, s, e, now);"
                 f"print(clock() - t, {PEAK_KIB} // 1024)")
        conn.execute("DELETE FROM meta WHERE key = 'kpi_facts_seq'")
        out = subprocess.run([sys.executable, "-c", probe, str(ROOT), str(db), "cpu" if CPU["on"] else "wall"],
                             capture_output=True, text=True, check=True).stdout.split()
        table.add("first KPI read (builds the facts)", n, float(out[0]), None, f"peak memory {out[1]} MiB")

    # -- recompute and rebuild
    if "recompute" not in skip:
        seen: list[int] = []
        ours, moved = timed(lambda: ws.store.recompute_open(ws.lifecycle, progress=lambda d, t: seen.append(d)))
        table.add("recompute open cases (nothing moved)", n, ours, None, f"{open_cases} open, {len(moved)} moved")
    if "rebuild" not in skip:
        lead_ws.close()
        ws.close()
        raw = raw_rewrite(copy(src, f"raw-{n}.db"))
        ws = workspace(db)
        ours, diff = timed(lambda: ws.store.rebuild(ws.lifecycle))
        table.add("rebuild (every case from its events)", n, ours, raw, f"{len(diff)} differences, rows kept")
        if "rebuild-all" not in skip:
            # every row differs (its state, clocks, document, nearest due and search row): every row rewritten,
            # as the raw baseline rewrites them (rebuild writes only what differs)
            ws.store.conn.execute("UPDATE cases SET state = state || ' ', clocks = clocks || ' ', doc = doc || ' ',"
                                  " next_due = NULL")
            ws.store.conn.execute("DELETE FROM cases_search")
            ws.store.conn.execute("DELETE FROM cases_sound")
            ours, diff = timed(lambda: ws.store.rebuild(ws.lifecycle))
            table.add("rebuild, every row rewritten", n, ours, raw, "state, clocks, doc, next_due, search row")
    ws.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--skip", default="", help="comma-separated: ui, all-json, start, kpi, recompute, rebuild, rebuild-all")
    ap.add_argument("--cpu", action="store_true", help="measure this thread's CPU time instead of the wall clock")
    ap.add_argument("--demo-only", action="store_true",
                    help="only make demo data of each size into a scratch directory (deleted after), as"
                         " `agent-console demo --cases N` does, and say its speed and CPU")
    ap.add_argument("--list-json-only", action="store_true",
                    help="only `case list --json` of every case against the raw query, on the cached databases"
                         " read in place (read-only: no copy, nothing migrated)")
    ap.add_argument("--search-only", action="store_true",
                    help="only the search figures, on the cached database itself (read only, never copied)")
    args = ap.parse_args()
    CPU["on"] = args.cpu
    sizes = [int(x) for x in args.sizes.split(",")]
    if args.demo_only:
        with tempfile.TemporaryDirectory(prefix="bench-demo-") as scratch:
            for n in sizes:
                make_demo(Path(scratch) / f"demo-{n}.db", n, history_days=max(60, min(720, n // 1500)))
                for f in Path(scratch).glob(f"demo-{n}.db*"):
                    f.unlink()
        return
    if args.list_json_only:
        table = Table()
        for n in sizes:
            src = CACHE / f"cases-{n}.db"
            if not src.exists():
                print(f"  {src.name}: not built (run without --list-json-only first)")
                continue
            list_json_figures(table, src, n, read_only=True)
        return
    for n in sizes:
        build(n)
    if args.build_only:
        return
    table = Table()
    for n in sizes:
        bench(n, table, set(filter(None, args.skip.split(","))), args.search_only)
    if len(sizes) > 1:
        print("\n== growth from the smallest to the largest database (ours; raw)")
        small, large = min(sizes), max(sizes)
        for work in dict.fromkeys(r[0] for r in table.rows):
            a = next((r for r in table.rows if r[0] == work and r[1] == small), None)
            b = next((r for r in table.rows if r[0] == work and r[1] == large), None)
            if a and b and a[2] > 0:
                raw = f"{b[3] / a[3]:.1f}x" if a[3] and b[3] else "-"
                print(f"  {work:<52} {b[2] / a[2]:7.1f}x  raw {raw}")


if __name__ == "__main__":
    main()
