"""Case text by sound (issue 15): what the sound index costs to fill and to keep, and how fast it answers.

On a database of demo cases (give it a scratch copy: opening it brings it up to date, which writes the sound rows
of every case once), prints: the migration's fill (wall and CPU, per case), the sound column's making alone per
case (the texts of every case, no cache, beside the exact index's columns made the same way), the size of every
search table (dbstat), and homophone queries of the search box and of `case list --search`, each beside the raw
FTS5 query. Prints figures; asserts nothing.

Usage: .venv/bin/python scripts/bench_search_sound.py PATH-TO-A-COPY.db
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent_console.core import search_terms  # noqa: E402
from agent_console.core.case_query import CaseQuery  # noqa: E402
from agent_console.services.workspace import Workspace  # noqa: E402
from agent_console.store import local  # noqa: E402
from agent_console.support.config import load_settings  # noqa: E402


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.95) - 1)]


def main() -> None:
    db = Path(sys.argv[1])
    t0, c0 = time.perf_counter(), time.process_time()
    ws = Workspace(load_settings(db=db, agent="bench", demo_on_first_run=False))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    conn = ws.store.conn
    n = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    print(f"{n} cases; open (migrations and fills included): {wall:.1f} s wall, {cpu:.1f} s CPU"
          f" = {cpu / n * 1e6:.0f} us CPU per case")

    # the columns made alone, every case's texts, caches emptied (demo texts repeat: a real hotline's repeat less)
    texts = [(r[0] or "", [x or "" for x in r[1:]]) for r in conn.execute(
        "SELECT name, state ->> '$.facts', state ->> '$.request', state ->> '$.respondent', state ->> '$.report'"
        " FROM cases ORDER BY rowid LIMIT 20000")]
    search_terms._sounds()
    for label, fn in (("sound column", lambda name, body: local._sound_of(name, *body[:2])),
                      ("exact columns (body1, body2)", lambda name, body: search_terms.terms_of(body))):
        search_terms._text_sound.cache_clear()
        search_terms._text_terms.cache_clear()
        c0 = time.process_time()
        for name, body in texts:
            fn(name, body)
        print(f"  making the {label}: {(time.process_time() - c0) / len(texts) * 1e6:.1f} us CPU per case"
              f" (cold caches, {len(texts)} cases)")
    tokens = sum(len(local._sound_of(name, *body[:2]).split()) for name, body in texts) / len(texts)
    print(f"  {tokens:.0f} sound tokens per case on average")

    sizes = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
    total = sum(sizes.values())
    for table in ("cases_search", "open_search", "cases_sound", "open_sound"):
        size = sum(v for k, v in sizes.items() if k == table or k.startswith(table + "_"))
        print(f"  {table:<14} {size / 2**20:8.1f} MiB  ({size / n:.0f} bytes per case)")
    print(f"  whole database {total / 2**20:8.1f} MiB")

    queries = ["理陪", "理陪材", "理陪材料", "lipei", "li赔", "退饱", "申核", "王方"]
    for q in queries:
        box = CaseQuery(text=q, open_only=True, limit=50)
        ours = [(time.perf_counter(), ws.list_summaries(box), time.perf_counter()) for _ in range(5)]
        found = len(ours[-1][1])
        sound = search_terms.sound_query(q)
        raw = []
        for _ in range(5):
            t = time.perf_counter()
            if sound:
                conn.execute("SELECT rowid FROM open_sound WHERE open_sound MATCH ? ORDER BY rowid DESC LIMIT 50",
                             (sound,)).fetchall()
            raw.append(time.perf_counter() - t)
        listed_t = time.perf_counter()
        listed = len(ws.store.case_rows(CaseQuery(text=q), "c.id"))
        listed_t = time.perf_counter() - listed_t
        print(f"  {q:<8} search box p95 {p95([b - a for a, _, b in ours]) * 1e3:6.1f} ms ({found} rows),"
              f" raw sound query {p95(raw) * 1e3:5.1f} ms; case list --search {listed_t * 1e3:7.1f} ms ({listed})")
    ws.close()


if __name__ == "__main__":
    main()
