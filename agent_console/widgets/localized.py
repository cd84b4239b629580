"""Key labels in the console's language: bindings declare an i18n key ("keys.x", "intake.y") as their description,
translated when the screen is built."""

from __future__ import annotations

import dataclasses
from typing import Any


def describe(binding: Any, t: Any) -> str:
    """A binding's description in `t`'s language: an i18n key ("keys.x") translated; Textual's own bindings
    ("Focus Next", "Copy selected text") by their action's name under `[textual]` in the locale files."""
    desc = binding.description
    if "." in desc and " " not in desc:
        return t(desc)
    if desc:
        key = "textual." + binding.action.rsplit(".", 1)[-1]
        if t.has(key):
            return t(key)
    return desc


def localize_bindings(node: Any, t: Any) -> None:
    """Replace every binding description that is an i18n key ("keys.x"), and Textual's own English ones, by its
    text in `t`'s language (the tooltip too when it is a key)."""
    bindings_map = node._bindings
    for key, bindings in list(bindings_map.key_to_bindings.items()):
        out = []
        for b in bindings:
            desc = describe(b, t)
            tip = t(b.tooltip) if b.tooltip and "." in b.tooltip and " " not in b.tooltip else b.tooltip
            out.append(dataclasses.replace(b, description=desc, tooltip=tip)
                       if (desc, tip) != (b.description, b.tooltip) else b)
        bindings_map.key_to_bindings[key] = out


def show_keys_from(node: Any, ids: set[str], width: int, from_width: int) -> bool:
    """Show the bindings named in `ids` in the footer only when the terminal is at least `from_width` cells wide, so
    that on a narrow one the keys that matter keep their place (they stay on their keys and in F1's help).
    Says whether anything changed (the caller then refreshes its bindings)."""
    show = width >= from_width
    changed = False
    bindings_map = node._bindings
    for key, bindings in list(bindings_map.key_to_bindings.items()):
        out = []
        for b in bindings:
            if b.id in ids and b.show != show:
                b = dataclasses.replace(b, show=show)
                changed = True
            out.append(b)
        bindings_map.key_to_bindings[key] = out
    return changed
