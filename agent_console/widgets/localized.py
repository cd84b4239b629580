"""Key labels in the console's language: bindings declare an i18n key ("keys.x", "intake.y") as their description,
translated when the screen is built."""

from __future__ import annotations

import dataclasses
from typing import Any


def localize_bindings(node: Any, t: Any) -> None:
    """Replace every binding description that is an i18n key ("keys.x") by its text in `t`'s language."""
    bindings_map = node._bindings
    for key, bindings in list(bindings_map.key_to_bindings.items()):
        bindings_map.key_to_bindings[key] = [
            dataclasses.replace(b, description=t(b.description)) if "." in b.description else b
            for b in bindings
        ]
