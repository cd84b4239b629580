"""Placeholders: `{caller}`, `{number}`, `{due}`… filled from the case and the agent; the rest asked for."""

from __future__ import annotations

import re
from typing import Any

from agent_console.core.labels import label
from agent_console.support.i18n import translator

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# What the console can know by itself; every other placeholder must be declared by the entry and is asked for.
KNOWN_PLACEHOLDERS = {
    "caller": "how to address the caller: 王女士",
    "name": "the caller's name",
    "title": "先生 / 女士",
    "number": "the case number",
    "due": "the real due date of the case's resolution clock",
    "agent_number": "the agent's number (工号)",
    "agent_name": "the agent's name",
    "category": "the case's category",
    "department": "the handling department",
    "hotline": "the hotline's name",
}


def placeholder_label(t: Any, name: str) -> str:
    """A placeholder's name for people (`t` a Translator): {agent_number} is asked for as 工号."""
    key = f"phrase.ph_{name}"
    return t(key) if t.has(key) else name


def show_placeholders(t: Any, text: str) -> str:
    """A reply's text with the placeholders still open named in the console's language: {工号}."""
    return PLACEHOLDER.sub(lambda m: "{" + placeholder_label(t, m.group(1)) + "}", text)


def placeholders_of(text: str) -> list[str]:
    seen: list[str] = []
    for name in PLACEHOLDER.findall(text):
        if name not in seen:
            seen.append(name)
    return seen


def fill(text: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """(text with every known value put in, names still missing). A missing or empty value stays as {name}."""
    missing: list[str] = []

    def put(match: re.Match[str]) -> str:
        value = (values.get(match.group(1)) or "").strip()
        if not value:
            if match.group(1) not in missing:
                missing.append(match.group(1))
            return match.group(0)
        return value

    return PLACEHOLDER.sub(put, text), missing


def values_from(ws: Any, case_id: str | None, fields: dict[str, str] | None = None) -> dict[str, str]:
    """Placeholder values from the agent, the case (when given) and whatever the form already holds."""
    values: dict[str, str] = {
        "agent_number": ws.settings.agent_number or "",
        "agent_name": ws.settings.agent_name or "",
        "hotline": ws.profile.name if ws.settings.lang == "zh" else ws.profile.name_en,
    }
    state = ws.store.state(case_id) if case_id else None
    if state is not None:
        lang = ws.settings.lang
        cat = ws.profile.category(state.category)
        dept = ws.profile.department(state.department)
        values.update(
            name=state.complainant.name, title=state.complainant.title, number=state.number,
            category=label(cat, lang, state.category),
            department=label(dept, lang, state.department),
        )
        resolve = next((v for v in ws.views(state) if v.role == "resolve"), None)
        if resolve is not None and resolve.due is not None:
            from datetime import timedelta

            last = (resolve.due - timedelta(microseconds=1)).astimezone(ws.tz)
            values["due"] = translator(lang).day(last)
    for key, value in (fields or {}).items():
        if value and not values.get(key):
            values[key] = str(value)
    if values.get("name") and not values.get("caller"):
        values["caller"] = values["name"][:1] + (values.get("title") or "") if values.get("title") else values["name"]
    return values
