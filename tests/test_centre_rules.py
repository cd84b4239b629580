"""The centre's shape rules (SQL generated from the pydantic models) against the models themselves, on real
PostgreSQL: what a console makes is accepted, and whatever the centre accepts a console can read (never the other
way round: the centre may be stricter, e.g. a time needs an offset, but a row it lets through must never be poison).
"""

from __future__ import annotations

import typing
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from agent_console.core.events import CHECK_ONLY, EVENT_KINDS
from agent_console.sync import pg
from agent_console.core.event_checks import event_problem


def _example(annotation: Any) -> Any:
    """A valid value for a field of this type, as a console writes it (model_dump(mode="json"))."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType")):
        return _example([a for a in typing.get_args(annotation) if a is not type(None)][0])
    if origin is typing.Literal:
        return typing.get_args(annotation)[0]
    if origin is list:
        return ["a"]
    if annotation is bool:
        return True
    if annotation is int:
        return 3
    if annotation is Decimal:
        return "12.50"
    if annotation is datetime:
        return datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc).isoformat()
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {}
    return "文本"


def canonical(kind: str) -> dict[str, Any]:
    model = EVENT_KINDS[kind]
    raw = {name: _example(f.annotation) for name, f in model.model_fields.items()}
    return model.model_validate(raw).model_dump(mode="json")


@pytest.fixture(scope="module")
def rules(pg_url: str):
    name = "t_" + uuid.uuid4().hex[:10]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = pg_url.rsplit("/", 1)[0] + "/" + name
    pg.install(url)
    conn = psycopg.connect(url, autocommit=True)
    yield lambda kind, payload: conn.execute("SELECT ac.payload_problem(%s, %s::jsonb)",
                                             (kind, psycopg.types.json.Jsonb(payload))).fetchone()[0]
    conn.close()


def pydantic_ok(kind: str, payload: Any) -> bool:
    try:
        EVENT_KINDS[kind].model_validate(payload, context=CHECK_ONLY)
        return isinstance(payload, dict)
    except ValidationError:
        return False


@pytest.mark.parametrize("kind", list(EVENT_KINDS))
def test_what_a_console_makes_the_centre_accepts(rules, kind) -> None:
    assert rules(kind, canonical(kind)) is None


TEXT = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))  # what jsonb can hold
JSON = st.recursive(st.none() | st.booleans() | st.integers(-10, 10)
                    | st.floats(allow_nan=False, allow_infinity=False, width=32) | st.text(TEXT, max_size=5) | st.sampled_from(["2026-11-24T10:00:00+08:00", "12.5", "reached", ""]),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(TEXT, max_size=4), inner,
                                                                                  max_size=3), max_leaves=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(list(EVENT_KINDS)), data=st.data())
def test_whatever_the_centre_accepts_a_console_can_read(rules, kind, data) -> None:
    payload = canonical(kind)
    fields = list(payload) or ["x"]
    for _ in range(data.draw(st.integers(1, 3))):
        how = data.draw(st.sampled_from(["set", "drop", "extra"]))
        name = data.draw(st.sampled_from(fields))
        if how == "set":
            payload[name] = data.draw(JSON)
        elif how == "drop":
            payload.pop(name, None)
        else:
            payload[data.draw(st.text(TEXT, min_size=1, max_size=6))] = data.draw(JSON)
    if rules(kind, payload) is None:
        assert pydantic_ok(kind, payload), (kind, payload)
        assert event_problem("e1", "c1", kind, "me", "d", "2026-11-24T02:00:00+00:00",
                             f"{int(datetime.now().timestamp() * 1000):013d}-0000-d", payload, []) is None \
            or kind == "registered"
