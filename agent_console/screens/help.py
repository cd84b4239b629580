"""Every key of the console, the current screen's first."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from rich.text import Text

from agent_console.widgets.plain import Static, safe


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
                    desc = t(b.description) if "." in b.description else b.description
                    if (key, b.action) in seen or not desc:
                        continue
                    seen.add((key, b.action))
                    lines.append(Text.assemble("  ", (f"{self.app.get_key_display(b):<10}", "bold"), f" {desc}   ",
                                               (b.id or "", "dim")))
        lines += ["", "  Ctrl+P   " + ("命令面板：全部操作、跳转案件编号" if self.app.ws.settings.lang == "zh"
                                       else "command palette: every action, go to case NUMBER"),
                  "", Text('keymap: config.toml [keymap] binding_id = "key"', style="dim")]
        with VerticalScroll(id="help-box"):
            yield Static(Text("\n").join(safe(line) for line in lines))

    def action_close(self) -> None:
        self.dismiss(None)
