"""Errors the domain core raises about data files (profiles, the vocabulary): one home, so no core module has to
import another only for its exception."""

from __future__ import annotations

import re


class ProfileError(ValueError):
    """A profile that cannot be used; `problems` holds one "file:line: message" string per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def toml_error_line(exc: Exception) -> int:
    """The line a TOML syntax error is on. Python 3.11's tomllib puts it only in the message ("... (at line 8,
    column 3)"); `lineno` exists from 3.14. 1 when neither says."""
    line = getattr(exc, "lineno", None)
    if isinstance(line, int):
        return line
    found = re.search(r"at line (\d+)", str(exc))
    return int(found.group(1)) if found else 1
