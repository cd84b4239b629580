"""The centre's shape rules as SQL, generated from the pydantic models the consoles use (core/events.py).

`central init` installs `ac.payload_problem(kind, payload)`: for every event kind, the payload's fields, their JSON
types, required fields, allowed values (Literal), bounds (Gt/Ge/Le), non-blank reasons and unknown fields (the models
forbid extras) -- one CASE expression without sub-selects, in PL/pgSQL: compiled once per session and evaluated as
one simple expression per row (as SQL it was either inlined, and the push's statements spent ~20 ms planning the
expression on every call, or not, and set up at ~200 µs a row). It is called only from the pinned search_path of
ac.push_staged (EXECUTE is not granted to anyone), so it sets none of its own (that would cost every call). It answers
NULL when the payload is fine, else a short reason. The lead-only kinds come from core/lifecycle.py the same way.
Generating the SQL from the models means a new field or kind cannot be forgotten at the centre.
"""

from __future__ import annotations

import types
import typing
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from agent_console.core.events import EVENT_KINDS
from agent_console.core.lifecycle import LEAD_ONLY
from agent_console.core.text import MAX_FIELD_CHARS

# An ISO-8601 time with an offset, as the consoles write them (Python's isoformat); a naive time cannot be compared
# with the aware ones the lifecycle folds, so it is refused even though pydantic would read it.
ISO_TIME = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
            r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$")
NUMBER_TEXT = r"^-?[0-9]+(\.[0-9]+)?$"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join(_lit(v) for v in values) + "]::text[]"


def _field_checks(obj: str, name: str, annotation: Any, required: bool, metadata: list[Any],
                  needed: bool) -> list[tuple[str, str]]:
    """(condition, reason) pairs for one field of the JSON object `obj` (SQL jsonb expression), in the order they
    must be evaluated: each condition may assume the ones before it were false."""
    v = f"({obj} -> {_lit(name)})"
    t = f"jsonb_typeof{v}"
    out: list[tuple[str, str]] = []
    if required:
        out.append((f"NOT ({obj} ? {_lit(name)})", f"{name}: required"))
    optional = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        annotation = args[0] if len(args) == 1 else Any
        origin = typing.get_origin(annotation)
    absent = f"NOT ({obj} ? {_lit(name)})" + (f" OR {t} = 'null'" if optional else "")
    # each check below holds only when the field is there (and not an allowed null)
    def when(cond: str, reason: str) -> None:
        out.append((f"NOT ({absent}) AND ({cond})", f"{name}: {reason}"))

    if annotation is Any:
        return out
    if annotation is str:
        when(f"{t} <> 'string'", "not text")
        when(f"length({obj} ->> {_lit(name)}) > {MAX_FIELD_CHARS}", "too long")
        for m in metadata:  # Field(min_length=…, max_length=…)
            if getattr(m, "min_length", None) is not None:
                when(f"length({obj} ->> {_lit(name)}) < {int(m.min_length)}", f"shorter than {int(m.min_length)}")
            if getattr(m, "max_length", None) is not None:
                when(f"length({obj} ->> {_lit(name)}) > {int(m.max_length)}", f"longer than {int(m.max_length)}")
        metadata = [m for m in metadata if not hasattr(m, "min_length") and not hasattr(m, "max_length")]
        if needed:
            when(f"btrim({obj} ->> {_lit(name)}) = ''", "must not be blank")
    elif origin is typing.Literal:
        when(f"{t} <> 'string' OR NOT (({obj} ->> {_lit(name)}) = ANY ({_array(list(typing.get_args(annotation)))}))",
             "not one of " + "/".join(typing.get_args(annotation)))
    elif annotation is bool:
        when(f"{t} <> 'boolean'", "not true or false")
    elif annotation is int:
        when(f"{t} <> 'number' OR ({obj} ->> {_lit(name)}) !~ '^-?[0-9]{{1,15}}$'", "not a whole number")
    elif annotation is Decimal:
        when(f"NOT ({t} = 'number' OR ({t} = 'string' AND ({obj} ->> {_lit(name)}) ~ {_lit(NUMBER_TEXT)}))",
             "not an amount")
    elif annotation is datetime:
        when(f"{t} <> 'string' OR ({obj} ->> {_lit(name)}) !~ {_lit(ISO_TIME)}", "not a time with an offset")
    elif origin is list:
        when(f"{t} <> 'array'", "not a list")
        (item,) = typing.get_args(annotation) or (Any,)
        if item is str:  # a JSON path, not a sub-select: a sub-select would keep the function from being inlined
            when(f"jsonb_path_exists({v}, '$[*] ? (@.type() != \"string\")')", "not a list of texts")
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        when(f"{t} <> 'object'", "not an object")
        for cond, reason in _model_checks(v, annotation):
            out.append((f"NOT ({absent}) AND ({cond})", f"{name}.{reason}"))
        return out
    for m in metadata:  # annotated_types bounds, checked once the type is known to be a number
        for attr, op in (("gt", "<="), ("ge", "<"), ("lt", ">="), ("le", ">")):
            bound = getattr(m, attr, None)
            if bound is not None:
                when(f"({obj} ->> {_lit(name)})::numeric {op} {bound}", f"out of range ({attr} {bound})")
    return out


def _model_checks(obj: str, model: type[BaseModel]) -> list[tuple[str, str]]:
    needed = {f for d in model.__pydantic_decorators__.field_validators.values() if d.func.__name__ == "_needed"
              for f in d.info.fields}
    out: list[tuple[str, str]] = [(f"jsonb_typeof({obj}) <> 'object'", "not an object")]
    if model.model_config.get("extra") == "forbid":
        out.append((f"({obj} - {_array(list(model.model_fields))}) <> '{{}}'::jsonb", "unknown field"))
    for name, f in model.model_fields.items():
        out.extend(_field_checks(obj, name, f.annotation, f.is_required(), list(f.metadata), name in needed))
    return out


def payload_problem_sql() -> str:
    """CREATE FUNCTION ac.payload_problem(kind text, p jsonb) RETURNS text: NULL, or why the payload is refused."""
    branches = []
    for kind, model in EVENT_KINDS.items():
        inner = "\n".join(f"            WHEN {cond} THEN {_lit(reason)}" for cond, reason in _model_checks("p", model))
        branches.append(f"        WHEN {_lit(kind)} THEN CASE\n{inner}\n            END")
    body = "\n".join(branches)
    return f"""
CREATE OR REPLACE FUNCTION ac.payload_problem(kind text, p jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN CASE
        WHEN p IS NULL OR jsonb_typeof(p) <> 'object' THEN 'payload is not an object'
        ELSE CASE kind
{body}
        ELSE 'unknown event kind'
        END END;
END
$$;
CREATE OR REPLACE FUNCTION ac.iso_time_pattern() RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT {_lit(ISO_TIME)}::text $$;
CREATE OR REPLACE FUNCTION ac.lead_only_kinds() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT {_array(sorted(LEAD_ONLY))} $$;
"""


__all__ = ["ISO_TIME", "payload_problem_sql"]
