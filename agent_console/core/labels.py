"""Labels in two languages: every profile and vocabulary entry carries `label` (Chinese) and `label_en`; this says
which one a person reading in `lang` sees, once for every screen, report and command."""

from __future__ import annotations

from typing import Protocol


class Labelled(Protocol):
    label: str
    label_en: str


def label(thing: Labelled | None, lang: str, fallback: str = "") -> str:
    """`thing`'s label in `lang` (Chinese unless "en"); `fallback` (usually the id) when there is no such entry."""
    if thing is None:
        return fallback
    return thing.label_en if lang == "en" else thing.label
