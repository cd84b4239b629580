"""Copying text: the system clipboard through pyperclip, or, where there is none (SSH, no display), the terminal's
own clipboard through OSC 52. The caller is told which one was used."""

from __future__ import annotations

from collections.abc import Callable

import pyperclip

from agent_console.core.errors import Said


class CopyFailed(Said, RuntimeError):
    """Nothing could copy the text (`error.clipboard.none`)."""


def copy(text: str, terminal: Callable[[str], None] | None = None) -> str:
    """Copy `text`; return "system" or "terminal"."""
    try:
        pyperclip.copy(text)
        return "system"
    except pyperclip.PyperclipException:
        if terminal is None:
            raise CopyFailed("clipboard.none") from None
        terminal(text)
        return "terminal"
