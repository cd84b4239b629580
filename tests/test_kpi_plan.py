"""The KPI facts read each range of cases' timeline through the cases' own index (issue 18): through the kind index
every chunk read every timeline event of the database, and a first KPI read at 1M cases did not finish."""

from __future__ import annotations

import sqlite3

from agent_console.services.demo_data import generate
from agent_console.store import kpi_facts


def test_each_chunk_reads_its_own_cases_events_only(ws, monkeypatch) -> None:
    generate(ws, cases=30, seed=3)
    seen: list[str] = []
    real_connect = sqlite3.connect

    def connect(*args, **kwargs):  # the refresh writes through a connection of its own: watch that one
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(seen.append)
        return conn

    monkeypatch.setattr(kpi_facts.sqlite3, "connect", connect)
    assert kpi_facts.refresh(ws.store.conn, ws.store.path, "resolve", "coordinator_update") == 30
    timeline = [q for q in seen if q.startswith("SELECT e.case_id, e.kind")]
    assert timeline  # one per chunk of cases
    for q in timeline:
        plan = " ".join(str(r[-1]) for r in ws.store.conn.execute("EXPLAIN QUERY PLAN " + q))
        assert "events_case" in plan and "events_kind_at" not in plan, plan
