"""Phrasebook benchmark (issues 4 and 15). Prints figures; asserts nothing.

Generates 10,000 entries (the shipped ones, varied), then measures one search keystroke at p50 / p95 for a set of
typed prefixes (Chinese, pinyin, initials, initials with gaps and from the text, a typo), against a bare SQLite FTS5
trigram query over the same entries in the same run, and the load time of the phrasebook cold (pinyin computed) and
warm (cached index). Each keystroke is timed on the wall clock and in CPU time of the thread: on a machine shared
with other work the wall clock also counts the time the process waited for a core; the CPU time is what the search
itself costs.

`--against TREE` measures the same keystrokes on the code of another work tree (e.g. the code before issue 15:
`git worktree add /tmp/old-phrases <sha>`) in the same run: both sides search the same 10,000 entries, each in a
process of its own importing its own tree, in alternating passes (so a change in the machine's load falls on both),
and the ratio of their p95s is printed. The load average is printed before and after: wall-clock figures mean
something only on a quiet machine.

Usage: .venv/bin/python scripts/bench_phrases.py [--entries 10000] [--rounds 20] [--against TREE] [--passes 4]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if "--worker-root" in sys.argv:  # a side of a comparison: the code of that tree, not of this one
    sys.path.insert(0, sys.argv[sys.argv.index("--worker-root") + 1])
else:
    sys.path.insert(0, str(ROOT))

from agent_console.core.shipped import shipped_phrasebook_dir  # noqa: E402
from agent_console.phrases import Phrasebook  # noqa: E402

QUERIES = ["理", "理赔", "理赔时", "理赔时效", "l", "lp", "lps", "lpsx", "dings", "dingsun", "定损偏", "tuihuo",
           "物流", "wuliu", "kuaidi", "dingsunpiandi", "lpcx", "wbcyx"]


def make_book(n: int, folder: Path) -> None:
    base = Phrasebook([shipped_phrasebook_dir()]).entries
    rng = random.Random(5)
    lines = []
    for i in range(n):
        e = base[i % len(base)]
        lines += ["[[entry]]", f"id = {json.dumps(e.id + f'.{i}')}", f"situation = {json.dumps(e.situation)}",
                  f"title = {json.dumps(e.title + str(i))}", f"tags = {json.dumps(e.tags)}",
                  f"categories = {json.dumps(e.categories)}", f"stage = {json.dumps(e.stage)}",
                  f"placeholders = {json.dumps(e.placeholders)}",
                  f"text = {json.dumps(e.text + rng.choice(['', '，谢谢。', '，请您放心。']))}", ""]
    (folder / "big.toml").write_text("\n".join(lines), encoding="utf-8")


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def keystrokes(book: Phrasebook, rounds: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each keystroke's search, `rounds` times over QUERIES."""
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for q in QUERIES:
            c0, t0 = time.thread_time(), time.perf_counter()
            book.search(q, category="claims", stage="case")
            wall.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
    return wall, cpu


def worker(folder: Path, rounds: int) -> None:
    """One side of a comparison: load the book in `folder` (warm), time the keystrokes, print them as JSON."""
    book = Phrasebook([folder])
    keystrokes(book, 2)  # warm up (caches, the first one-letter table)
    wall, cpu = keystrokes(book, rounds)
    print(json.dumps({"entries": len(book.entries), "wall": wall, "cpu": cpu}))


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def compare(folder: Path, against: Path, rounds: int, passes: int) -> None:
    """This tree and `against` side by side on the same book, in alternating passes of `rounds` rounds."""
    sides = {"this tree": ROOT, "against": against.resolve()}
    got: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in sides}
    entries = {}
    before = load()
    for name, tree in sides.items():  # build each side's cached index once, outside the timed passes
        env = dict(os.environ, XDG_CACHE_HOME=str(folder / f"cache-{name.replace(' ', '-')}"))
        subprocess.run([sys.executable, __file__, "--worker", str(folder), "--rounds", "1", "--worker-root",
                        str(tree)], check=True, capture_output=True, env=env)
    for _ in range(passes):
        for name, tree in sides.items():
            env = dict(os.environ, XDG_CACHE_HOME=str(folder / f"cache-{name.replace(' ', '-')}"))
            out = subprocess.run([sys.executable, __file__, "--worker", str(folder), "--rounds", str(rounds),
                                  "--worker-root", str(tree)], check=True, capture_output=True, text=True, env=env)
            data = json.loads(out.stdout.strip().splitlines()[-1])
            entries[name] = data["entries"]
            got[name]["wall"] += data["wall"]
            got[name]["cpu"] += data["cpu"]
    after = load()
    print(f"side by side on {entries['this tree']:,} entries ({len(got['this tree']['wall'])} keystrokes a side, "
          f"{passes} alternating passes); load average before {before}, after {after} (1, 5, 15 min; 2 cores)")
    for name, tree in sides.items():
        w, c = got[name]["wall"], got[name]["cpu"]
        print(f"  {name:9} ({tree}): wall p50 {statistics.median(w) * 1e3:.2f} ms, p95 {percentile(w, 95) * 1e3:.2f}"
              f" ms; CPU p50 {statistics.median(c) * 1e3:.2f} ms, p95 {percentile(c, 95) * 1e3:.2f} ms")
    ours, old = got["this tree"], got["against"]
    print(f"  ratio this tree / against at p95: wall {percentile(ours['wall'], 95) / percentile(old['wall'], 95):.2f}x"
          f", CPU {percentile(ours['cpu'], 95) / percentile(old['cpu'], 95):.2f}x "
          f"(target: wall p95 under 5 ms on 10,000 entries)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--against", type=Path, help="another work tree to measure side by side (older code)")
    ap.add_argument("--passes", type=int, default=4, help="alternating passes of --rounds rounds, with --against")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--worker-root", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.rounds)
        return
    print(f"load average {load()} (1, 5, 15 min; {os.cpu_count()} cores)")
    tmp = Path(tempfile.mkdtemp())
    cache = tmp / "cache"
    os.environ["XDG_CACHE_HOME"] = str(cache)
    make_book(args.entries, tmp)

    t0 = time.perf_counter()
    book = Phrasebook([tmp])
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    book = Phrasebook([tmp])
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    Phrasebook([shipped_phrasebook_dir()])
    shipped = time.perf_counter() - t0

    ours, cpu = keystrokes(book, args.rounds)
    one_letter = [c for i, c in enumerate(cpu) if len(QUERIES[i % len(QUERIES)]) == 1]

    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(title, tags, text, tokenize='trigram')")
    db.executemany("INSERT INTO f VALUES (?,?,?)", [(e.title, " ".join(e.tags), e.text) for e in book.entries])
    bare: list[float] = []
    for _ in range(args.rounds):
        for q in QUERIES:
            t0 = time.perf_counter()
            if len(q) >= 3:
                db.execute("SELECT rowid FROM f WHERE f MATCH ? LIMIT 20", (f'"{q}"',)).fetchall()
            else:
                db.execute("SELECT rowid FROM f WHERE title LIKE ? OR text LIKE ? LIMIT 20",
                           (f"%{q}%", f"%{q}%")).fetchall()
            bare.append(time.perf_counter() - t0)
    print(f"{len(book.entries):,} entries; load cold {cold * 1e3:.0f} ms (pinyin computed), warm {warm * 1e3:.0f} ms "
          f"(cached index); the shipped {len(Phrasebook([shipped_phrasebook_dir()]).entries)} entries load in "
          f"{shipped * 1e3:.0f} ms")
    print(f"keystroke search ({len(ours)} keystrokes): wall p50 {statistics.median(ours) * 1e3:.2f} ms, p95 "
          f"{percentile(ours, 95) * 1e3:.2f} ms; CPU p50 {statistics.median(cpu) * 1e3:.2f} ms, p95 "
          f"{percentile(cpu, 95) * 1e3:.2f} ms (Chinese, pinyin, initials, typos; category and stage ranking)")
    print(f"one-character queries alone: CPU p50 {statistics.median(one_letter) * 1e3:.2f} ms, max "
          f"{max(one_letter) * 1e3:.2f} ms")
    print(f"bare FTS5 trigram query: p50 {statistics.median(bare) * 1e3:.2f} ms, p95 {percentile(bare, 95) * 1e3:.2f} ms"
          f" -> ratio at p95 {percentile(ours, 95) / percentile(bare, 95):.1f}x (FTS5 finds no pinyin or typos)")
    if args.against:
        compare(tmp, args.against, args.rounds, args.passes)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
