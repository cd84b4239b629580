"""The console's global keys (F2 intake, F3 phrases, …), apart from the app so `check` can name every binding id
without importing the app (commands and app are side by side in the layers)."""

from __future__ import annotations

from textual.binding import Binding

GLOBAL_BINDINGS = [
    Binding("f2", "new_intake", "keys.intake", id="new_intake", priority=True),
    Binding("ctrl+n", "new_intake", "keys.intake", show=False, id="new_intake_alt", priority=True),
    Binding("f3", "phrase_panel", "keys.phrase", id="phrase_panel"),
    Binding("f4", "phrasebook", "keys.phrasebook", id="phrasebook"),
    Binding("f6", "callbacks", "keys.callbacks", id="callbacks"),
    Binding("f7", "lead", "keys.lead", id="lead"),
    Binding("f8", "calls", "keys.calls", show=False, id="calls"),
    Binding("f9", "take_call", "keys.take_call", show=False, id="take_call", priority=True),
    Binding("f1", "help", "keys.help", id="help"),
    Binding("ctrl+q", "quit", "keys.quit", id="quit", priority=True),
    # declared here so that Textual does not add its own, labelled "palette" in English
    Binding("ctrl+p", "command_palette", "textual.palette", show=False, priority=True, id="command_palette",
            tooltip="textual.palette_open"),
]
