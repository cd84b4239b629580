"""A case's timeline as people read it: one line per event, the same on the case screen and in `case show --events`.

A correction names the field with the value it replaced and the new one; closing shows its own amounts. No Textual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent_console.core.events import Event

if TYPE_CHECKING:  # the workspace imports the services: typed here, imported only by the checker
    from agent_console.services.workspace import Workspace

DETAIL_KEYS = ("reason", "note", "summary", "remedy", "text")


def _shown(value: Any) -> str:
    if value in (None, "", []):
        return "—"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def describe(ws: Workspace, t: Any, e: Event) -> str:
    """What happened in `e`, in the console's language (`t` is a Translator)."""
    what = t(f"action.{e.kind}")
    p = e.payload
    if e.kind == "field_edited":
        field = str(p.get("field", ""))
        name = t(f"intake.{field.removeprefix('complainant.')}")
        return f"{what} " + t("detail.correction", field=name, old=_shown(p.get("old")), new=_shown(p.get("value")))
    detail = next((str(p[k]) for k in DETAIL_KEYS if p.get(k)), "")
    outcome = p.get("outcome")
    if outcome:  # an id from the vocabulary: its label, before the note
        group = "outcomes" if e.kind == "closed" else "contact_outcomes"
        label = ws.vocab.label(group, str(outcome), ws.settings.lang) or str(outcome)
        detail = f"{label} {detail}".strip()
    if e.kind == "closed":
        amounts = [f"{t('form.' + k)} {p[k]}" for k in ("settled_amount", "paid_amount") if p.get(k) is not None]
        if p.get("amount") is not None and p.get("settled_amount") is None:
            amounts.append(f"{t('form.settled_amount')} {p['amount']}")
        detail = " · ".join([detail, *amounts]) if amounts else detail
    if not detail and p.get("department"):  # routed: the department by name
        dept = ws.profile.department(p["department"])
        detail = t.label(dept, str(p["department"]))
    return f"{what} {detail}".rstrip()


def lines(ws: Workspace, t: Any, case_id: str) -> list[tuple[str, str, str]]:
    """(when, who, what) for every event of the case, oldest first."""
    return [(e.at.astimezone(ws.tz).strftime("%Y-%m-%d %H:%M"), e.actor, describe(ws, t, e))
            for e in ws.timeline(case_id)]
