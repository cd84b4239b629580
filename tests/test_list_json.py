"""`case list --json`'s streamed text: the same cases the detail path tells, and the clock that matters."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from agent_console.core.case_query import CaseQuery
from agent_console.core.clocks import nearest_deadline
from agent_console.services.demo_data import generate
from tests.conftest import make_workspace, sample_case


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_streamed_list_says_what_the_detail_path_says_of_every_case(tmp_path, clock, lang) -> None:
    ws = make_workspace(tmp_path, clock, lang=lang)
    try:
        generate(ws, cases=400, seed=7, history_days=200)  # mostly closed, their clocks met; some still open
        late = [ws.register(sample_case(channel="email")) for _ in range(3)]
        clock.advance(days=4)
        for s in late:  # accepted late: a confirm clock missed
            ws.act(s.id, "accepted", {})
        clock.advance(days=3)
        listed = json.loads(ws.list_cases_json(CaseQuery()))
        told = ws.list_cases(CaseQuery())
        assert len(listed) == len(told) == 403
        assert listed == told
        bands = {d["band"] for c in listed for d in c["deadlines"].values()}
        assert {"met", "missed", "in_time"} <= bands  # the list covered settled and live clocks alike
    finally:
        ws.close()


def test_a_clock_stopped_late_is_history_not_the_next_due(ws, clock) -> None:
    s = ws.register(sample_case(channel="email", complexity="complex"))  # a written complaint: acceptance is due within a working day
    clock.advance(days=4)
    s = ws.act(s.id, "accepted", {})  # accepted late: the confirm clock stopped after its due
    case = json.loads(ws.list_cases_json(CaseQuery()))[0]
    confirm, resolve = case["deadlines"]["confirm"], case["deadlines"]["resolve"]
    assert confirm["band"] == "missed" and resolve["band"] in ("in_time", "warning")
    assert confirm["due"] < resolve["due"]
    live = {k: d["due"] for k, d in case["deadlines"].items() if d["band"] not in ("met", "missed")}
    assert "confirm" not in live and "resolve" in live
    # the list is ordered by the stored next due, which counts running clocks only: the text says the same
    assert case["next_due"] == min(live.values()) == ws.case_dict(s)["next_due"]
    near = nearest_deadline(case["deadlines"])  # what the open-cases row and the CLI row show
    assert near is not None and near[0] in live
    stored = ws.store.case_rows(CaseQuery(), columns="c.next_due")[0]["next_due"]
    assert datetime.fromisoformat(stored) == datetime.fromisoformat(case["next_due"])


def test_the_whole_list_walks_an_index_in_due_order(ws) -> None:
    # `case list --limit 20` without --open sorted every case first (15 s at a million): an index now gives the order
    seen: list[str] = []
    original = ws.store._rows
    ws.store._rows = lambda sql, params: seen.append(sql) or original(sql, params)  # type: ignore[method-assign]
    for _ in range(3):
        ws.register(sample_case())
    ws.store.case_rows(CaseQuery(limit=20))
    due = next(sql for sql in seen if "next_due IS NOT NULL" in sql)
    plan = " | ".join(r[3] for r in ws.store.conn.execute("EXPLAIN QUERY PLAN " + due, [20]))
    assert "cases_due" in plan and "TEMP B-TREE" not in plan, plan
