"""Rebuild and recompute write only what differs (issue 18): the columns that changed, the search rows only when
their terms or the case's openness did; damage to any column or search row is repaired."""

from __future__ import annotations

import re

from agent_console.services.demo_data import generate


def _writes(ws):
    seen: list[str] = []
    ws.store.conn.set_trace_callback(seen.append)
    return seen


def test_a_changed_document_is_rewritten_alone(ws) -> None:
    generate(ws, cases=20, seed=6)
    conn = ws.store.conn
    docs = conn.execute("SELECT rowid, doc FROM cases ORDER BY rowid").fetchall()
    conn.execute("UPDATE cases SET doc = doc || ' '")
    seen = _writes(ws)
    assert ws.store.rebuild(ws.lifecycle) == []
    conn.set_trace_callback(None)
    assert conn.execute("SELECT rowid, doc FROM cases ORDER BY rowid").fetchall() == docs
    assert not [q for q in seen if q.startswith(("INSERT INTO cases_search", "DELETE FROM cases_search",
                                                  "INSERT INTO open_search", "DELETE FROM open_search"))]
    updates = [q for q in seen if q.startswith("UPDATE cases ")]
    assert len(updates) == 20 and all(re.fullmatch(r"UPDATE cases SET doc='[^']*' WHERE rowid=\d+", q) for q in updates)


def test_columns_damaged_behind_the_state_are_repaired(ws) -> None:
    generate(ws, cases=20, seed=6)
    conn = ws.store.conn
    before = conn.execute("SELECT * FROM cases ORDER BY rowid").fetchall()
    rowid = conn.execute("SELECT rowid FROM cases WHERE is_open = 1 LIMIT 1").fetchone()[0]
    conn.execute("UPDATE cases SET status = 'closed', is_open = 0, next_due = NULL, owner = 'x' WHERE rowid = ?",
                 (rowid,))
    conn.execute("DELETE FROM open_search WHERE rowid = ?", (rowid,))
    conn.execute("UPDATE cases_search SET body1 = 'x' WHERE rowid = ?", (rowid + 1,))
    assert ws.store.rebuild(ws.lifecycle) == []  # the states were right: nothing to report, the rows repaired
    assert conn.execute("SELECT * FROM cases ORDER BY rowid").fetchall() == before
    assert conn.execute("SELECT count(*) FROM open_search WHERE rowid = ?", (rowid,)).fetchone()[0] == 1
    fresh = _search_of(ws)
    generate(ws, cases=0)  # nothing
    assert ws.store.rebuild(ws.lifecycle) == [] and _search_of(ws) == fresh
    assert conn.execute("SELECT body1 FROM cases_search WHERE rowid = ?", (rowid + 1,)).fetchone()[0] != "x"


def _search_of(ws):
    return ws.store.conn.execute("SELECT rowid, * FROM cases_search ORDER BY rowid").fetchall()


def test_a_case_no_longer_open_leaves_the_open_index(ws) -> None:
    generate(ws, cases=20, seed=6)
    conn = ws.store.conn
    rowid, state = conn.execute("SELECT rowid, state FROM cases WHERE is_open = 0 LIMIT 1").fetchone()
    conn.execute("INSERT INTO open_search (rowid, who1, who2, body1, body2, tel, scope)"
                 " SELECT rowid, who1, who2, body1, body2, tel, scope FROM cases_search WHERE rowid = ?", (rowid,))
    assert ws.store.rebuild(ws.lifecycle) == []
    assert conn.execute("SELECT count(*) FROM open_search WHERE rowid = ?", (rowid,)).fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM open_search").fetchone()[0] == ws.store.count_cases(open_only=True)
