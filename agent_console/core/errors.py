"""Errors the domain core raises about data files (profiles, the vocabulary): one home, so no core module has to
import another only for its exception."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from typing import Any

from agent_console.core.reasons import Reason
from agent_console.core.shipped import shipped_locale_dir


class Said(Exception):
    """An error told to a person in their language: `key` names its words under `[error]` in the locale files
    (data/locale/*/errors.toml), `params` fill them in. A parameter may itself be a Said, a refusal (Reason) or a
    list of them: the edge (CLI, screens) renders it all with `Translator.error`. str() is the English, for logs
    and the scripts' JSON."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def __str__(self) -> str:
        return render(self, _english_words(), "; ")

    def __reduce__(self) -> tuple[Any, ...]:  # pickles with its key and parameters (worker threads, copies)
        return (_rebuild_said, (type(self), self.key, self.params))


def _rebuild_said(cls: type, key: str, params: dict[str, Any]) -> Said:
    obj = cls.__new__(cls)
    Said.__init__(obj, key, **params)
    return obj


def said_as_data(value: Any) -> Any:
    """A Said (or a Reason, or a list of them) as JSON-ready data, so a message kept in the database is told later
    in the reader's language (`said_from_data` gives it back); any other value as its text."""
    if isinstance(value, Said):
        return {"said": value.key, "params": {k: said_as_data(v) for k, v in value.params.items()}}
    if isinstance(value, Reason):
        return {"reason": value.key, "params": {k: said_as_data(v) for k, v in value.params.items()}}
    if isinstance(value, list | tuple):
        return [said_as_data(v) for v in value]
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def said_from_data(data: Any) -> Any:
    """What `said_as_data` kept, as a Said (or Reason) again."""
    if isinstance(data, dict) and "said" in data:
        return Said(data["said"], **{k: said_from_data(v) for k, v in data.get("params", {}).items()})
    if isinstance(data, dict) and "reason" in data:
        return Reason(data["reason"], **{k: said_from_data(v) for k, v in data.get("params", {}).items()})
    if isinstance(data, list):
        return [said_from_data(v) for v in data]
    return data


def render(said: Said, words: Any, joiner: str, part: Any = None) -> str:
    """`said` in the language of `words` (a mapping of "error.KEY" to text); each parameter through `part` (the
    caller's renderer for nested messages), lists joined with `joiner`."""
    part = part or (lambda value: render(value, words, joiner) if isinstance(value, Said) else str(value))

    def one(value: Any) -> Any:
        if isinstance(value, Said | BaseException) or type(value) is not str and isinstance(value, str):
            return part(value)  # a Said, an exception, a Reason (a str subclass carrying a key)
        if isinstance(value, list | tuple):
            return joiner.join(str(one(v)) for v in value)
        return value

    text = words.get(f"error.{said.key}") or said.key
    if not said.params:
        return text
    try:
        return text.format(**{name: one(value) for name, value in said.params.items()})
    except (KeyError, IndexError, ValueError):  # words naming a parameter the code does not give: still say it
        return text


def validation_problem(error: dict[str, Any]) -> object:
    """What one pydantic validation error says, by key: the refusal (a Reason) our own validator raised, else
    the error's type (`error.pydantic.<type>`, "invalid" for a type without words) with pydantic's English."""
    cause = (error.get("ctx") or {}).get("error")
    if cause is not None and cause.args and getattr(cause.args[0], "key", None):
        return cause.args[0]
    kind = error.get("type", "")
    return Said(f"pydantic.{kind if has_words(f'error.pydantic.{kind}') else 'invalid'}",
                detail=str(error.get("msg", "")).removeprefix("Value error, "))


def field_label(name: str) -> object:
    """A new case's field ("complainant.phone") as the locale names it (`error.field.*`), else as it was written."""
    return Said(f"field.{name}") if has_words(f"error.field.{name}") else name


def has_words(key: str) -> bool:
    """Whether the shipped English words have `key` ("error.field.facts"): every key has English words."""
    return key in _english_words()


@lru_cache(maxsize=1)
def _english_words() -> dict[str, str]:
    path = shipped_locale_dir() / "en" / "errors.toml"
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("error", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    flat: dict[str, str] = {}

    def walk(prefix: str, node: dict) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(f"{prefix}{key}.", value)
            else:
                flat[f"{prefix}{key}"] = str(value)

    walk("error.", table)
    return flat


class ProfileError(ValueError):
    """A profile that cannot be used; `problems` holds one problem each: a "file:line: message" string, or a Said
    (key and parameters, its `where` the file:line) that the edge tells in the console's language."""

    def __init__(self, problems: list[Any]) -> None:  # "file:line: message" strings, or Said told at the edge
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


def toml_error_line(exc: Exception) -> int:
    """The line a TOML syntax error is on. Python 3.11's tomllib puts it only in the message ("... (at line 8,
    column 3)"); `lineno` exists from 3.14. 1 when neither says."""
    line = getattr(exc, "lineno", None)
    if isinstance(line, int):
        return line
    found = re.search(r"at line (\d+)", str(exc))
    return int(found.group(1)) if found else 1
