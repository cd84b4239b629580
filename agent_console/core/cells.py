"""Text measured in terminal cells: a Chinese character takes two columns, a Latin letter one.

Used wherever the console lines text up by itself (CLI tables, KPI bars, plain-text reports, cut notes) so that
columns start at the same place whatever the script of the words before them; and Chinese line-breaking: a line never
starts with closing punctuation (，。、；：？！）》」% …), which moves to the end of the line before.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

ELLIPSIS = "…"
# What must not open a line (Chinese "kinsoku" rules, with the ASCII counterparts an agent types)
NO_LINE_START = set("，。、；：？！）》」』】〉’”…%％,.;:?!)]}·")
# What must not close a line: it belongs to the word after it
NO_LINE_END = set("（《「『【〈‘“([{")


@lru_cache(maxsize=4096)
def char_width(ch: str) -> int:
    """Columns one character takes: 2 for wide and full-width (CJK), 0 for combining marks and controls, else 1."""
    if ch < "\u0300":  # ASCII and Latin-1: the common case, without a table look-up
        return 1 if ch >= " " and not "\x7f" <= ch < "\xa0" else 0
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf", "Cc"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width(text: str) -> int:
    """Columns `text` takes in a terminal."""
    if text.isascii():
        return len(text)
    return sum(char_width(ch) for ch in text)


def truncate(text: str, columns: int, ellipsis: str = ELLIPSIS) -> str:
    """`text` cut to at most `columns` cells, ending with "…" when cut; never splits a wide character."""
    if width(text) <= columns:
        return text
    if columns <= 0:
        return ""
    room = columns - width(ellipsis)
    out, used = [], 0
    for ch in text:
        w = char_width(ch)
        if used + w > room:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip() + ellipsis


def ljust(text: str, columns: int) -> str:
    """`text` padded with spaces on the right to `columns` cells (as str.ljust, counting cells)."""
    return text + " " * max(0, columns - width(text))


def rjust(text: str, columns: int) -> str:
    return " " * max(0, columns - width(text)) + text


def fit(text: str, columns: int) -> str:
    """`text` in exactly `columns` cells: cut with "…" or padded."""
    return ljust(truncate(text, columns), columns)


def wrap(text: str, columns: int) -> list[str]:
    """Lines of at most `columns` cells (a single over-wide character excepted), broken between characters for
    Chinese and at spaces for Latin words, never starting a line with closing punctuation nor ending one with
    opening punctuation: the character moves to the line before (or the opener to the line after)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(_wrap_paragraph(paragraph, max(2, columns)))
    return lines


def _wrap_paragraph(text: str, columns: int) -> list[str]:
    if width(text) <= columns:
        return [text]
    # units: a run of Latin letters, digits and inner hyphens/dots/colons stays whole (a word, a case number
    # 2610-9MB-003, a date 2026-12-01, a time 14:00, an amount 1,200.50); every other character is its own unit
    units: list[str] = []
    for ch in text:
        last = units[-1] if units else ""
        if last and _word_char(ch) and _word_char(last[-1]):
            units[-1] += ch
        else:
            units.append(ch)
    # a word wider than the line is broken anyway, character by character
    units = [piece for unit in _split_trailing_joiners(units)
             for piece in (unit if len(unit) > 1 and width(unit) > columns else [unit])]
    # a space typed before closing punctuation ("好 ，") would let the punctuation open the next line
    units = [u for i, u in enumerate(units) if not (u == " " and i + 1 < len(units) and units[i + 1] in NO_LINE_START)]
    lines: list[str] = []
    line: list[str] = []
    used = 0
    for unit in units:
        w = width(unit)
        if used + w > columns and line:
            carry: list[str] = []
            if unit in NO_LINE_START:
                # closing punctuation may not open the line: the character before it goes down with it (with
                # any punctuation already attached to it); when nothing would be left, it hangs past the edge
                k = len(line) - 1
                while k > 0 and line[k] in NO_LINE_START:
                    k -= 1
                if k <= 0:
                    line.append(unit)
                    used += w
                    continue
                carry, line = line[k:], line[:k]
            while line and line[-1] == " ":
                line.pop()
            while len(line) > 1 and line[-1] in NO_LINE_END:  # an opener goes down with the word it opens
                carry.insert(0, line.pop())
            lines.append("".join(line).rstrip())
            line = carry
            used = sum(width(u) for u in line)
            if unit == " ":
                continue
        line.append(unit)
        used += w
    if line:
        lines.append("".join(line).rstrip())
    return [ln for ln in lines if ln] or [""]


def _word_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in "-.:,/_@")


def _split_trailing_joiners(units: list[str]) -> list[str]:
    """A word keeps its inner joiners (2610-9MB-003) but not trailing ones: "14:00," is "14:00" and ","."""
    out: list[str] = []
    for unit in units:
        if len(unit) > 1 and _word_char(unit[0]):
            core = unit.rstrip("-.:,/_@")
            if core and core != unit:
                out.append(core)
                out.extend(unit[len(core):])
                continue
            if not core:
                out.extend(unit)
                continue
        out.append(unit)
    return out
