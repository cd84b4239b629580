"""The phrasebook at work: search for a context, fill from the case, count use, check typed text. No Textual."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent_console.phrases import Entry, Phrasebook, fill, load_phrasebook
from agent_console.phrases.fill import values_from
from agent_console.store import phrase_usage

if TYPE_CHECKING:  # the workspace imports the services: typed here, imported only by the checker
    from agent_console.services.workspace import Workspace


def book(ws: Workspace) -> Phrasebook:
    return load_phrasebook(ws.settings.phrasebook_dirs)


def search(ws: Workspace, query: str, context: dict[str, Any] | None = None, limit: int = 20) -> list[Entry]:
    context = context or {}
    usage = phrase_usage.counts(ws.store.conn, ws.actor)
    return book(ws).search(query, context.get("category"), context.get("stage"), usage, limit)


@dataclass
class Filled:
    text: str
    missing: list[str]  # placeholders the console could not fill: ask before copying


def fill_entry(ws: Workspace, entry: Entry, context: dict[str, Any] | None = None,
               extra: dict[str, str] | None = None) -> Filled:
    context = context or {}
    values = values_from(ws, context.get("case_id"), context.get("fields"))
    values.update({k: v for k, v in (extra or {}).items() if v and v.strip()})
    source = entry.text_en if ws.settings.lang == "en" and entry.text_en else entry.text
    text, missing = fill(source, values)
    return Filled(text, missing)


def record_use(ws: Workspace, entry: Entry, context: dict[str, Any] | None = None) -> None:
    category = (context or {}).get("category") or ""
    phrase_usage.record(ws.store.conn, entry.id, category, ws.actor, ws.now())


def forbidden_in(ws: Workspace, text: str) -> list[Any]:
    return book(ws).check_text(text)
