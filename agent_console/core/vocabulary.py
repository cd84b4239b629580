"""The shared vocabulary: channels, tiers, outcomes, causes, stages, sensitive flags, contact outcomes.

Each term has a stable English id and a Chinese label; input accepts either (`resolve`). The terms live in
`profiles/_vocabulary.toml` so a team lead can relabel them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from agent_console.core.errors import ProfileError, toml_error_line
from agent_console.core.shipped import shipped_profiles_dir


@dataclass(frozen=True)
class Term:
    id: str
    label: str
    label_en: str

    def text(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label


@dataclass(frozen=True)
class Vocabulary:
    groups: dict[str, tuple[Term, ...]]

    def terms(self, group: str) -> tuple[Term, ...]:
        return self.groups.get(group, ())

    def ids(self, group: str) -> list[str]:
        return [t.id for t in self.terms(group)]

    def resolve(self, group: str, value: str) -> str | None:
        """Accept an id, a Chinese label or an English label (any case); return the id or None."""
        wanted = value.strip()
        low = wanted.lower()
        for term in self.terms(group):
            if wanted == term.id or wanted == term.label or low == term.label_en.lower() or low == term.id.lower():
                return term.id
        return None

    def label(self, group: str, term_id: str, lang: str = "zh") -> str:
        for term in self.terms(group):
            if term.id == term_id:
                return term.text(lang)
        return term_id


@lru_cache(maxsize=4)
def load_vocabulary(path: Path | None = None) -> Vocabulary:
    path = path or shipped_profiles_dir() / "_vocabulary.toml"
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError([f"{path}:{toml_error_line(exc)}: {exc}"]) from exc
    groups: dict[str, tuple[Term, ...]] = {}
    for group, entries in data.items():
        terms = []
        for i, entry in enumerate(entries):
            missing = [k for k in ("id", "label", "label_en") if k not in entry]
            if missing:
                raise ProfileError([f"{path}: [[{group}]] entry {i + 1} lacks {', '.join(missing)}"])
            terms.append(Term(entry["id"], entry["label"], entry["label_en"]))
        groups[group] = tuple(terms)
    return Vocabulary(groups)
