"""Copying text: the system clipboard through pyperclip, or, where there is none (SSH, no display), the terminal's
own clipboard through OSC 52. The caller is told which one was used."""

from __future__ import annotations

from collections.abc import Callable

import pyperclip


class CopyFailed(RuntimeError):
    pass


def copy(text: str, terminal: Callable[[str], None] | None = None) -> str:
    """Copy `text`; return "system" or "terminal"."""
    try:
        pyperclip.copy(text)
        return "system"
    except pyperclip.PyperclipException:
        if terminal is None:
            raise CopyFailed("no system clipboard here (no display?) and no terminal to copy through") from None
        terminal(text)
        return "terminal"
