"""Hostile text for property tests: what a caller, a paste or another console's row can put in any field."""

from __future__ import annotations

from hypothesis import strategies as st

from agent_console.widgets.plain import plain

NASTY = [
    "价格[/]不对",
    "[/]",
    "[bold red]大字[/bold red]",
    "[link=file:///etc/passwd]点我[/link]",
    "[@click=app.quit]退出[/]",
    "\\[转义\\]",
    "$variable ${x}",
    "\x1b[2J\x1b]0;title\x07清屏",
    "e\u0301\u0301\u0301 ñ a\u20dd",
    "\u202eRTL override\u202c \u2067隔离\u2069",
    "表" * 10_000,
    "[" * 300,
    "]" * 300,
    "line1\nline2\r\nline3\ttab",
]

_ALPHABET = st.sampled_from(list("[]/\\=@$#{}<>\"' 价格不对ab\u0301\u202e\u202c\x1b\x07\n") + ["[/]", "[b]", "[/b]",
                                                                                      "[link=x]", "[red]"])
hostile_text = st.one_of(st.sampled_from(NASTY), st.lists(_ALPHABET, min_size=1, max_size=40).map("".join))


def visible(text: str) -> str:
    """What a screen must show of `text`: the text itself, minus what a terminal would interpret."""
    return plain(text)
