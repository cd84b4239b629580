"""What the open-cases list shows, computed outside the screen: its rows and filters.

No Textual here and no SQL: it asks the workspace and shapes the answer for the list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from agent_console.core.text import digits
from agent_console.core.case_query import CaseQuery

FILTERS = ("all", "overdue", "today", "week")


@dataclass
class ListFilter:
    """The list's current filter: a horizon plus optional status, category and channel, and a search text."""

    horizon: str = "all"
    status: str | None = None
    category: str | None = None
    channel: str | None = None
    text: str = ""
    team: bool = False  # a lead's whole-team view

    def query(self, ws: Any, now: datetime, limit: int = 300) -> CaseQuery:
        due_before = None
        local = now.astimezone(ws.tz)
        if self.horizon == "overdue":
            due_before = now
        elif self.horizon == "today":
            due_before = datetime.combine(local.date() + timedelta(days=1), time(0), ws.tz)
        elif self.horizon == "week":
            due_before = datetime.combine(local.date() + timedelta(days=7 - local.weekday()), time(0), ws.tz)
        text = self.text.strip()
        phone = None
        if text and len(digits(text)) >= 4 and digits(text) == text.replace(" ", "").replace("-", ""):
            phone, text = text, ""
        return CaseQuery(
            open_only=True,
            owner=None if self.team else ws.actor,
            teams=ws.settings.visible_teams if self.team else None,
            status=self.status,
            category=self.category,
            channel=self.channel,
            due_before=due_before,
            text=text or None,
            phone=phone,
            limit=limit if not self.text.strip() else min(limit, 50),  # a search shows its best 50 at once
        )


@dataclass
class CaseRow:
    id: str
    number: str
    status: str
    paused: bool
    category: str
    caller: str
    clocks: dict[str, Any] = field(default_factory=dict)


def load_rows(ws: Any, flt: ListFilter, now: datetime, narrow: bool = False) -> list[CaseRow]:
    """The list's rows; `narrow` (an 80-column terminal) shows the caller's masked name without the phone."""
    rows = ws.list_summaries(flt.query(ws, now))
    out = []
    for r in rows:
        doc = json.loads(r["doc"]) if r["doc"] else {"complainant": {}}
        person = doc.get("complainant", {})
        caller = f"{person.get('name', '')}{person.get('title', '')}"
        if not narrow:
            caller = f"{caller} {person.get('phone', '')}".strip()
        out.append(CaseRow(r["id"], r["number"], r["status"], bool(r["paused"]), r["category"], caller,
                           json.loads(r["clocks"] or "{}")))
    return out


