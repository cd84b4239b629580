"""Errors the domain core raises about data files (profiles, the vocabulary): one home, so no core module has to
import another only for its exception."""

from __future__ import annotations


class ProfileError(ValueError):
    """A profile that cannot be used; `problems` holds one "file:line: message" string per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
