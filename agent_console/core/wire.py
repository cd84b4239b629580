"""The wire and row codecs of an event: the tuple the local store and the outbox keep, and the row of a page pulled
from a centre. Both the store and the sync layer read and write events so; the codecs live here, once."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from agent_console.core.events import Event

_FIELDS_SET = frozenset(Event.model_fields)
_new_object = object.__new__
_set_attribute = object.__setattr__
_from_iso = datetime.fromisoformat


def event_from_page_row(r: list[Any]) -> Event:
    """An event from a row of a pulled page, without validation: it was validated where it was made and checked by
    the centre. This is what Event.model_construct does, minus its per-field bookkeeping (a pulled page builds
    thousands; tests hold it equal to model_construct)."""
    event = _new_object(Event)
    _set_attribute(event, "__dict__", {"id": r[1], "case_id": r[2], "kind": r[3], "actor": r[4], "device": r[5],
                                       "at": _from_iso(r[6]), "hlc": r[7], "payload": r[8], "flags": r[9]})
    _set_attribute(event, "__pydantic_fields_set__", set(_FIELDS_SET))
    _set_attribute(event, "__pydantic_extra__", None)
    _set_attribute(event, "__pydantic_private__", None)
    return event


def built_event(id: str, case_id: str | None, kind: str, actor: str, device: str, at: datetime, hlc: str,
                payload: dict[str, Any], flags: list[str]) -> Event:
    """An event from fields already checked (a payload validated by make_event), built as event_from_page_row
    builds one: what Event.model_construct makes, without its per-field bookkeeping (demo data builds millions)."""
    event = _new_object(Event)
    _set_attribute(event, "__dict__", {"id": id, "case_id": case_id, "kind": kind, "actor": actor, "device": device,
                                       "at": at, "hlc": hlc, "payload": payload, "flags": flags})
    _set_attribute(event, "__pydantic_fields_set__", set(_FIELDS_SET))
    _set_attribute(event, "__pydantic_extra__", None)
    _set_attribute(event, "__pydantic_private__", None)
    return event


def event_row(e: Event) -> tuple[Any, ...]:
    """An event as a stored row (id, case_id, kind, actor, device, at, hlc, payload JSON, flags JSON)."""
    return (e.id, e.case_id, e.kind, e.actor, e.device, e.at.isoformat(), e.hlc,
            json.dumps(e.payload, ensure_ascii=False, default=str), json.dumps(e.flags))


def row_event(r: tuple[Any, ...]) -> Event:
    """An event from a stored row (id, case_id, kind, actor, device, at, hlc, payload JSON, flags JSON)."""
    return Event.model_construct(
        id=r[0], case_id=r[1], kind=r[2], actor=r[3], device=r[4], at=datetime.fromisoformat(r[5]), hlc=r[6],
        payload=json.loads(r[7]), flags=json.loads(r[8]),
    )
