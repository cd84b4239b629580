"""A deadline recompute on its own thread (after a calendar or profile change) runs beside a working console: it
must not hold the database's write lock while it folds a batch of cases, or the console's own writes (a call event,
an intake draft) wait that long and, past their busy timeout, fail with "database is locked". A case the console
writes meanwhile is folded with that write, never overwritten by a fold from before it."""

from __future__ import annotations

import threading
import time

from agent_console.core.repeat_callers import REPEAT_FLAG, with_repeat_flag
from agent_console.services import live_intake as svc
from tests.conftest import sample_case


def test_a_recompute_folding_slowly_never_makes_the_consoles_writes_wait(ws, monkeypatch) -> None:
    cases = [ws.register(sample_case(respondent=f"被投诉方{i}")) for i in range(3)]
    # every stored deadline looks stale: the recompute rewrites each case it folds
    ws.store.conn.execute("UPDATE cases SET clocks = '{}'")
    folding, go_on = threading.Event(), threading.Event()
    real_fold = type(ws.lifecycle).fold

    def slow_fold(self, events, **kw):  # a big batch on a busy machine: seconds of Python per batch
        if threading.current_thread() is not threading.main_thread() and not folding.is_set():
            folding.set()
            go_on.wait(5)
        return real_fold(self, events, **kw)

    monkeypatch.setattr(type(ws.lifecycle), "fold", slow_fold)
    other = ws.store.another()  # the recompute's thread has a connection of its own, as a worker's does
    moved: list = []
    worker = threading.Thread(target=lambda: moved.extend(other.recompute_open(ws.lifecycle)))
    worker.start()
    try:
        assert folding.wait(5)
        t0 = time.perf_counter()
        with ws.waiting_at_most(0.2):  # what an intake's draft save allows itself
            svc.save_draft(ws, "intake-k", {"form": {"phone": "13900001111"}, "left": False})
            edited = ws.act(cases[0].id, "field_edited", {"field": "flags", "value": with_repeat_flag([])})
        assert time.perf_counter() - t0 < 0.2
    finally:
        go_on.set()
        worker.join(10)
        other.close()
    assert REPEAT_FLAG in edited.flags
    after = ws.case(cases[0].id)
    assert after is not None and REPEAT_FLAG in after.flags  # folded with the write made meanwhile
    assert {m.case_id for m in moved} >= {c.id for c in cases[1:]}  # (the edited one was rewritten by its edit)
    assert all(ws.store.conn.execute("SELECT clocks FROM cases WHERE id=?", (c.id,)).fetchone()[0] != "{}"
               for c in cases)
