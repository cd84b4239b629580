"""Cleaning text that arrives from a paste, a file or the shell before it is shown or stored."""

from __future__ import annotations

import re

# CSI, OSC, DCS/PM/APC strings and lone two-character escapes: what a terminal would interpret.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|\x1b[@-Z\\-_]"  # two-character escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
# every character display_text removes or changes (escapes begin with ESC or 8-bit CSI, both controls; tab; CR)
_UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

MAX_FIELD_CHARS = 20_000


def clean_text(value: str, *, multiline: bool = True, limit: int = MAX_FIELD_CHARS) -> str:
    """Strip escapes and control characters, normalise newlines, and cut to `limit` characters.

    Tabs become spaces; in single-line mode newlines become spaces too. Cutting keeps the text's start, which is
    what an agent reads back; callers that must not lose the rest check `len` first and say so.
    """
    if not value:
        return value
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = _ESCAPES.sub("", text)
    text = text.replace("\t", " ")
    text = _CONTROLS.sub("", text)
    if not multiline:
        text = " ".join(text.split("\n"))
    if len(text) > limit:
        text = text[:limit]
    return text


def display_text(value: str) -> str:
    """Text made safe to print on a terminal, whatever its origin (the centre, a file, another console): escape
    sequences (clipboard writes, screen clears, title changes), control characters, bidirectional overrides and
    carriage returns are removed; newlines stay. Nothing is cut."""
    if not value or _UNSAFE.search(value) is None:  # nearly all text: one scan instead of five passes
        return value
    text = value.replace("\r\n", "\n").replace("\r", "")
    text = _ESCAPES.sub("", text)
    text = text.replace("\t", " ")
    return _CONTROLS.sub("", text)


def digits(value: str) -> str:
    """Only the digits of a phone or ID number, for matching."""
    return "".join(ch for ch in value if ch.isdigit() or ch in "Xx")


def mask_phone(value: str) -> str:
    """138****5678: keep the first three and last four digits."""
    d = "".join(ch for ch in value if ch.isdigit())
    if len(d) <= 4:
        return "*" * len(d)
    if len(d) <= 7:
        return d[:1] + "*" * (len(d) - 3) + d[-2:]
    return d[:3] + "*" * (len(d) - 7) + d[-4:]


def mask_id(value: str) -> str:
    """Keep the first four and last two characters of an ID or policy number."""
    v = value.strip()
    if len(v) <= 6:
        return "*" * len(v)
    return v[:4] + "*" * (len(v) - 6) + v[-2:]


def mask_name(value: str) -> str:
    """张** / Z***: keep the family name only."""
    v = value.strip()
    if not v:
        return v
    return v[0] + "*" * min(len(v) - 1, 3) if len(v) > 1 else v
