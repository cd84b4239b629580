"""Phrasebook benchmark (issues 4 and 15). Prints figures; asserts nothing.

Generates 10,000 entries (the shipped ones, varied), then measures one search keystroke at p50 / p95 for a set of
typed prefixes (Chinese, pinyin, initials, initials with gaps and from the text, a typo), against a bare SQLite FTS5
trigram query over the same entries in the same run, and the load time of the phrasebook cold (pinyin computed) and
warm (cached index). Each keystroke is timed on the wall clock and in CPU time of the thread: on a machine shared
with other work the wall clock also counts the time the process waited for a core; the CPU time is what the search
itself costs. To compare with older code, copy this script into a work tree of that code and run it there.

Usage: .venv/bin/python scripts/bench_phrases.py [--entries 10000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
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

    ours: list[float] = []
    cpu: list[float] = []
    one_letter: list[float] = []
    for _ in range(args.rounds):
        for q in QUERIES:
            c0, t0 = time.thread_time(), time.perf_counter()
            book.search(q, category="claims", stage="case")
            ours.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
            if len(q) == 1:
                one_letter.append(cpu[-1])

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
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
