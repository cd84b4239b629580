"""Every key of the console, the current screen's first."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from rich.text import Text

from agent_console.widgets.plain import Static, safe

from agent_console.widgets.localized import describe


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "close", "keys.back", id="help_close")]

    def compose(self) -> ComposeResult:
        t = self.app.t
        lines: list[Text | str] = [Text.assemble((t("keys.help"), "bold"), "  (Esc)"), ""]
        screens = [s for s in self.app.screen_stack if s is not self]
        seen: set[tuple[str, str]] = set()
        for node in [*(reversed(screens[-1:])), self.app]:
            for key, bindings in node._bindings.key_to_bindings.items():
                for b in bindings:
                    desc = describe(b, t)
                    if (key, b.action) in seen or not desc:
                        continue
                    seen.add((key, b.action))
                    # the binding's id is what config.toml's [keymap] names to move the key
                    lines.append(Text.assemble("  ", (f"{self.app.get_key_display(b):<10}", "bold"), f" {desc}   ",
                                               (b.id or "", "dim")))
        lines += ["", "  " + t("textual.keymap_help")]
        with VerticalScroll(id="help-box"):
            yield Static(Text("\n").join(safe(line) for line in lines))

    def action_close(self) -> None:
        self.dismiss(None)
