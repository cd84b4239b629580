"""The text of `case list --json`, written as the rows come from the database (flat memory at any length).

Each row's stored list document is written out with its deadlines beside it. A million-case list is mostly closed
cases, whose clocks all stopped long ago: what such a clock says (met or missed, by how much) does not depend on
the moment of asking, so it is told straight from the stored track and written without building a dict for
`json.dumps`. Clocks still running go through `Workspace.deadlines`, the path the detail view uses, with a memo per
list (day clocks end at midnight: many open cases share a due). `ClockMath.evaluate` decides the state either way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from agent_console.core.case_query import CaseQuery
from agent_console.core.clocks import LIVE_BANDS, parse_instant
from agent_console.core.labels import label

if TYPE_CHECKING:
    from agent_console.services.workspace import Workspace

_MEMO_LIMIT = 10_000  # the memos are per list and instant and small; bound them anyway


def _loads(text: str) -> dict[str, Any]:
    """A row's stored clocks: orjson reads them in half the time json does (a fifth of a million-case list)."""
    try:
        return orjson.loads(text)  # type: ignore[no-any-return]
    except orjson.JSONDecodeError:  # what orjson refuses and json reads (NaN, huge integers): as before
        return json.loads(text)  # type: ignore[no-any-return]


def iter_cases_json(ws: Workspace, query: CaseQuery, now: datetime) -> Iterator[str]:
    """`ws.list_cases_json`'s text in pieces: "[", one piece per case, "]"."""
    lang = ws.settings.lang
    tz = ws.tz
    evaluate = ws.clocks.evaluate
    # per clock kind: its spec and the fixed start of its text (key, label), written once per list
    heads = {spec.id: (spec, f'{json.dumps(spec.id)}: {{"label": {json.dumps(label(spec, lang), ensure_ascii=False)}, '
                             f'"due": "', spec.unit.value)
             for spec in ws.profile.clocks}
    memo: dict[tuple[Any, ...], dict[str, Any]] = {}
    dumped: dict[int, str] = {}  # a running deadline shared through the memo is written out once
    dues: dict[str, tuple[datetime, str]] = {}  # a stored due -> (the instant, its text in the console's zone)
    rows = ws.store.iter_case_rows(query, columns="c.id, c.doc, c.clocks")
    yield "["
    sep = ""
    for case_id, doc, clocks in rows:
        if doc is None:  # a row written before list documents existed
            state = ws.store.state(case_id)
            yield sep + json.dumps(ws.case_dict(state, now, mask=True), ensure_ascii=False, default=str)
            sep = ","
            continue
        items: list[str] = []
        running: list[str] = []
        for cid, raw in _loads(clocks).items():
            head = heads.get(cid)
            if head is None:  # a clock this profile no longer has (as Workspace.deadlines skips it)
                continue
            stopped = raw.get("stopped_at")
            if stopped:
                due_text = raw.get("due")
                seen = dues.get(due_text) if due_text else None
                if seen is None and due_text:
                    at = parse_instant(due_text)
                    seen = dues[due_text] = (at, at.astimezone(tz).isoformat())
                state, band, due, remaining = evaluate(head[0], None, seen[0] if seen else None, None,  # type: ignore[arg-type]
                                                       parse_instant(stopped), None, None, now,
                                                       raw.get("remaining_at_stop"))
                # the same text json.dumps gives the dict Workspace.deadlines makes for this clock
                items.append(f'{head[1]}{seen[1] if seen else due.astimezone(tz).isoformat()}", '  # type: ignore[union-attr]
                             f'"state": "{state}", "band": "{band}", "remaining_seconds": {round(remaining)}, '
                             f'"unit": "{head[2]}"}}')
                continue
            d = ws.deadlines({cid: raw}, now, memo)[cid]
            text = dumped.get(id(d))
            if text is None:
                text = dumped[id(d)] = f"{json.dumps(cid)}: {json.dumps(d, ensure_ascii=False)}"
            items.append(text)
            if d["due"] and d["band"] in LIVE_BANDS:
                running.append(d["due"])
        # the same text json.dumps({"deadlines": …, "next_due": …}) gives (an ISO instant needs no escaping)
        nxt = f'"{min(running)}"' if running else "null"
        yield f'{sep}{doc[:-1]}, "deadlines": {{{", ".join(items)}}}, "next_due": {nxt}}}'
        sep = ","
        if len(dumped) > _MEMO_LIMIT or len(dues) > _MEMO_LIMIT:
            memo.clear()
            dumped.clear()
            dues.clear()
    yield "]"
