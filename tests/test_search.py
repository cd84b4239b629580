"""Search at any length from the index: one- and two-character terms, phrases of pairs, phone tails, ranking,
the screen's limit, and never the stored JSON."""

from __future__ import annotations

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from agent_console.core import search_terms
from agent_console.core.case_query import CaseQuery
from agent_console.store.local import LocalStore
from tests.conftest import make_workspace, sample_case


def _numbers(rows):
    return [r["number"] for r in rows]


def test_short_and_long_terms_are_found_by_what_a_person_sees(ws) -> None:
    a = ws.register(sample_case(facts="车险定损金额偏低", complainant={"name": "赵敏", "phone": "17055556666"}))
    b = ws.register(sample_case(facts="保单到期未收到提醒", category="notifications",
                                complainant={"name": "王芳", "phone": "17012345678"}))
    find = lambda **kw: sorted(_numbers(ws.store.case_rows(CaseQuery(**kw))))  # noqa: E731
    assert find(text="王芳") == [b.number]
    assert find(text="王") == [b.number]
    assert find(text="定损") == [a.number] == find(text="定损金额") == find(text="赵敏 定损")
    assert find(text="损定") == []  # the pairs in order, not just present
    assert find(text="5555") == [a.number] and find(phone="5666") == [a.number]
    assert find(phone="12345") == [b.number] and find(phone="17055556666") == [a.number]
    assert find(text=a.number[-6:]) == [a.number]
    assert find(text="ＴＳ".lower()) == find(text="ts")  # full-width folds to ASCII


def test_short_terms_never_match_the_stored_json(ws) -> None:
    ws.register(sample_case())
    # keys and codes of the stored documents: "phone", "status", "accepted", "claims" are in every row's JSON
    for term in ("ph", "st", "accepted", "claims", "id", "{", '"'):
        assert ws.store.case_rows(CaseQuery(text=term)) == [], term
        assert ws.store.case_rows(CaseQuery(text=term, limit=50)) == [], term


def test_a_screen_search_is_ranked_and_stops_at_its_limit(ws) -> None:
    by_name = ws.register(sample_case(facts="无", complainant={"name": "王芳", "phone": "17099997777"}))
    in_text = [ws.register(sample_case(facts=f"客户王芳的家属来电 {i}", complainant={"name": "李四", "phone": "17099998888"}))
               for i in range(3)]  # newer, but the name match ranks first
    rows = ws.store.case_rows(CaseQuery(text="王芳", open_only=True, owner=ws.actor, limit=3))
    assert _numbers(rows) == [by_name.number, in_text[2].number, in_text[1].number]
    assert "_hit" not in rows[0]
    assert _numbers(ws.store.case_rows(CaseQuery(text="王芳", owner="someone-else", limit=3))) == []


def test_every_search_of_a_screen_is_served_by_the_index(ws, monkeypatch) -> None:
    for i in range(30):
        ws.register(sample_case(complainant={"name": f"王{i}", "phone": f"170{i:08d}"}))
    seen: list[tuple[str, list]] = []
    original = ws.store._rows
    monkeypatch.setattr(ws.store, "_rows", lambda sql, params: seen.append((sql, params)) or original(sql, params))
    for kw in ({"text": "王"}, {"text": "王1"}, {"text": "理赔材料"}, {"phone": "0012"}, {"text": "王 理赔"}):
        ws.store.case_rows(CaseQuery(open_only=True, owner=ws.actor, limit=50, **kw))
    assert seen
    for sql, params in seen:
        plan = " | ".join(r[3] for r in ws.store.conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "VIRTUAL TABLE" in plan and "SCAN c" not in plan, plan


def test_an_older_database_gets_its_index_filled_when_opened(tmp_path, clock) -> None:
    w = make_workspace(tmp_path, clock)
    s = w.register(sample_case())
    w.store.conn.execute("DELETE FROM cases_search")
    w.store.set_meta("search_index", "fill")
    w.close()
    store = LocalStore(tmp_path / "local.db")
    assert [r["id"] for r in store.case_rows(CaseQuery(text="王芳"))] == [s.id]
    assert store.meta("search_index") is None
    store.close()


ALPHABET = "王芳理赔材料ab1２ ，-"


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.text(ALPHABET, max_size=12), min_size=1, max_size=4), query=st.text(ALPHABET, max_size=5))
def test_the_index_finds_exactly_the_substrings(texts, query) -> None:
    """Pairs in phrases, characters alone: a term's every run is found iff it is inside a run of the text."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5 (one, two, tokenize = 'ascii')")
    conn.execute("INSERT INTO t (rowid, one, two) VALUES (1, ?, ?)",
                 (search_terms.unigrams(texts), search_terms.bigrams(texts)))
    expr = search_terms.term_query(query, "one", "two")
    text_runs = [r for t in texts for r in search_terms.runs(t)]
    expected = all(any(q in r for r in text_runs) for q in search_terms.runs(query))
    if expr is None:
        assert search_terms.runs(query) == []
        return
    found = conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (expr,)).fetchall() == [(1,)]
    assert found == expected


def test_open_cases_have_their_own_index_and_leave_it_when_closed(ws) -> None:
    from tests.test_lifecycle import CLOSE

    a = ws.register(sample_case(complainant={"name": "王芳", "phone": "17012345678"}))
    b = ws.register(sample_case(complainant={"name": "王芳", "phone": "17012345679"}))
    ws.act(b.id, "closed", CLOSE)
    open_rows = {r[0] for r in ws.store.conn.execute("SELECT c.id FROM open_search s JOIN cases c ON c.rowid = s.rowid")}
    assert open_rows == {a.id}
    mine = CaseQuery(text="王芳", open_only=True, owner=ws.actor, limit=50)
    assert [r["id"] for r in ws.store.case_rows(mine)] == [a.id]
    assert sorted(r["id"] for r in ws.store.case_rows(CaseQuery(text="王芳", limit=50))) == sorted([a.id, b.id])
    ws.act(b.id, "reopened", {"reason": "客户不满意"})
    assert sorted(r["id"] for r in ws.store.case_rows(mine)) == sorted([a.id, b.id])
