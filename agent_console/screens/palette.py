"""The command palette (Ctrl+P): every action of the current case, every screen, and "go to case NUMBER"."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from agent_console.core.numbering import looks_like_number


class ConsoleCommands(Provider):
    def _commands(self) -> list[tuple[str, object, str]]:
        app = self.app
        t = app.t
        out: list[tuple[str, object, str]] = [
            (t("keys.intake"), app.action_new_intake, "F2"),
            (t("keys.callbacks"), app.action_callbacks, "F6"),
            (t("keys.phrasebook"), app.action_phrasebook, "F4"),
            (t("keys.help"), app.action_help, "F1"),
        ]
        if app.ws.is_lead:
            out.append((t("keys.lead"), app.action_lead, "F7"))
        screen = self.screen  # the screen the palette was opened over (app.screen is the palette itself)
        state = getattr(screen, "state", None)
        available = getattr(screen, "available", {})
        if state is not None:
            for kind, reason in available.items():
                if reason is None:
                    out.append((f"{state.number}: {t('action.' + kind)}", partial(screen.start_action, kind), kind))
        return out

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        q = query.strip().upper()
        if looks_like_number(q):
            state = self.app.ws.find(q)
            if state is not None:
                yield Hit(100, f"→ {state.number}", partial(self.app.open_case, state.id),
                          help=self.app.t("app.go_to_case"))
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
