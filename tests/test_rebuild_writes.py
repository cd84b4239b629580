"""Rebuild and recompute write only what differs (issue 18): the columns that changed, the search rows only when
their terms or the case's openness did; damage to any column or search row is repaired."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from agent_console.services.demo_data import generate
from tests.hostile import hostile_text


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


def test_search_rows_are_written_in_rowid_order(ws) -> None:
    """A batch comes in case id order (random); a full-text index given a rowid below the last one flushes a
    segment per row (writing the search rows cost three times what the same rows cost in order)."""
    generate(ws, cases=60, seed=7)
    conn = ws.store.conn
    conn.execute("DELETE FROM cases_search")
    seen = _writes(ws)
    assert ws.store.rebuild(ws.lifecycle) == []
    conn.set_trace_callback(None)
    rowids = [int(m.group(1)) for q in seen if (m := re.match(r"INSERT INTO cases_search \(rowid, [^)]*\) VALUES \((\d+),", q))]
    assert len(rowids) == 60 and rowids == sorted(rowids)
    updates = [int(q.rsplit("=", 1)[1]) for q in seen if q.startswith("UPDATE cases ")]
    assert updates == sorted(updates)


_PERSON = st.builds(dict, name=hostile_text, phone=st.text("0123456789-+ ", max_size=14), id_number=hostile_text)


@settings(max_examples=60, deadline=None)
@given(person=_PERSON, facts=hostile_text, request=st.sampled_from(['"clocks":{}', ',"clocks":{"x":1}', '"complainant":{',
                                                                     ',"last_event_at":', "平常"]))
def test_list_document_cut_from_the_state_is_the_one_serialised(tmp_path_factory, person, facts, request) -> None:
    """The projection cuts the list document and the clocks out of the state's JSON instead of serialising the
    state twice more: with any text in any field (quotes, the field names themselves), the same texts."""
    from agent_console.core.events import Complainant
    from agent_console.core.models import CaseState, ClockTrack
    from agent_console.core.text import mask_id, mask_name, mask_phone
    from agent_console.store.local import _doc_and_clocks

    at = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
    s = CaseState(id="c", number="N1", received_at=at, registered_at=at, channel="phone", category="claims",
                  complainant=Complainant(**person), facts=facts, request=request, respondent=facts,
                  clocks={"resolve": ClockTrack(id="resolve", started_at=at, due=at, warn_at=None)},
                  conflicts=[{"event": "e", "kind": "x", "reason": request, "actor": facts}])
    p = s.complainant
    masked = p.model_copy(update={"phone": mask_phone(p.phone), "id_number": mask_id(p.id_number),
                                  "name": mask_name(p.name)})
    doc = s.model_copy(update={"complainant": masked}).model_dump_json(exclude={"clocks"})
    clocks = s.model_dump_json(include={"clocks"})[len('{"clocks":'):-1]
    assert _doc_and_clocks(s, s.model_dump_json()) == (doc, clocks)
