"""Finding English on a Chinese screen: runs of Latin letters that are not on a short allowlist (issue 15).

Allowed: case numbers (2611-W1C-005), event ids (UUIDs, in the sync's refusals), agent and team ids (a-chen, team-1, lead-1), key names in the footer and help
(esc, tab, ^s, f2, shift+tab), binding ids in the help (what config.toml's [keymap] names), pinyin examples in search
prompts (lipei, lp, lpsx), and units (OSC 52, ID). A single letter is a key (a 全部) and never a word.
"""

from __future__ import annotations

import re

# whole, or cut at its right by a dialog drawn over the list ("2611-TT█")
CASE_NUMBER = re.compile(r"(?<![A-Za-z0-9])\d{4}-[A-Z0-9]{1,3}(?:-\d*)?(?![A-Za-z0-9])")
UUID = re.compile(r"(?<![A-Za-z0-9])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![A-Za-z0-9])")  # event ids
IDS = re.compile(r"(?<![A-Za-z0-9])(?:a|lead|team|agent)-[a-z0-9]+(?![A-Za-z0-9])")
KEYS = re.compile(r"(?<![A-Za-z])(?:(?:ctrl|shift|super|alt)\+)*(?:esc|tab|enter|space|home|end|pageup|pagedown|up|down|"
                  r"left|right|delete|backspace|insert|f\d{1,2}|[a-z])(?![A-Za-z])", re.IGNORECASE)
WORDS = {"OSC", "ID", "keymap", "lipei", "lp", "lpsx", "SQLite", "PostgreSQL"}
RUN = re.compile(r"[A-Za-z]{2,}")


def latin_runs(text: str, also_allowed: set[str] = frozenset()) -> list[str]:
    """The Latin words in `text` that no Chinese screen should show; `also_allowed`: identifiers (binding ids,
    split at "_") and what the test itself typed."""
    also_allowed = {part for word in also_allowed for part in re.split(r"[^A-Za-z]+", word) if part}
    text = UUID.sub(" ", text)
    text = CASE_NUMBER.sub(" ", text)
    text = IDS.sub(" ", text)
    text = KEYS.sub(" ", text)
    return [w for w in RUN.findall(text) if w not in WORDS and w not in also_allowed]


def offending_lines(text: str, also_allowed: set[str] = frozenset()) -> list[str]:
    return [line.strip() for line in text.splitlines() if latin_runs(line, also_allowed)]
