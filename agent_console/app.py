"""The Textual application: screens, global keys and the workspace they share. (Grows with the console issue.)"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header

from agent_console.store.local import CaseQuery
from agent_console.workspace import Workspace


class AgentConsoleApp(App):
    TITLE = "Agent Console"

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.ws = workspace

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="cases")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("编号", "状态", "类别", "到期")
        for case in self.ws.list_cases(CaseQuery(open_only=True, limit=200)):
            table.add_row(case["number"], case["status"], case["category"], case["next_due"] or "")
