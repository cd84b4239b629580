"""Layering: the domain core, store, sync and phrasebook import no Textual; screens hold no SQL."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import importlib, pkgutil, sys
import agent_console
names = ["agent_console.services.workspace", "agent_console.cli", "agent_console.services.demo_data", "agent_console.services.transfer"]
for sub in ("core", "support", "store", "sync", "phrases", "services", "commands"):
    try:
        pkg = importlib.import_module("agent_console." + sub)
    except ModuleNotFoundError:
        continue
    names.append(pkg.__name__)
    names += [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")]
for name in names:
    importlib.import_module(name)
bad = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
print(len(names), "modules imported;", "textual loaded by: " + ",".join(bad[:3]) if bad else "no textual")
sys.exit(1 if bad else 0)
"""


def test_core_store_sync_phrases_and_cli_never_import_textual() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no textual" in result.stdout


def test_import_linter_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), str(ROOT / "pyproject.toml")], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


UI_DIRS = [ROOT / "agent_console" / "screens", ROOT / "agent_console" / "widgets", ROOT / "agent_console" / "app.py"]


def _ui_files() -> list[Path]:
    out: list[Path] = []
    for place in UI_DIRS:
        out += sorted(place.rglob("*.py")) if place.is_dir() else [place]
    return out


def test_screens_and_widgets_never_reach_the_store() -> None:
    """One route to the store: a screen asks the workspace or a service, never `ws.store` (nor `.store` of anything)."""
    import ast

    found = []
    for path in _ui_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("store", "db", "conn", "execute"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.attr}")
    assert not found, "screens reach the store directly:\n" + "\n".join(found)


def test_the_store_check_catches_a_planted_violation(tmp_path: Path) -> None:
    """The check above is not blind: a planted `self.ws.store.state(...)` is found."""
    import ast

    planted = "class S:\n    def f(self):\n        return self.ws.store.state('x')\n"
    hits = [n for n in ast.walk(ast.parse(planted)) if isinstance(n, ast.Attribute) and n.attr == "store"]
    assert hits


def _lint_with_planted(tmp_path: Path, module: str, plant: str, at_top: bool) -> subprocess.CompletedProcess[str]:
    """Run import-linter on a copy of the package with one line planted in `module` (a path under agent_console/)."""
    import shutil

    copy = tmp_path / "tree"
    shutil.copytree(ROOT / "agent_console", copy / "agent_console",
                    ignore=shutil.ignore_patterns("__pycache__", "_shipped"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    target = copy / "agent_console" / module
    text = target.read_text(encoding="utf-8")
    target.write_text(plant + "\n" + text if at_top else text + "\n" + plant + "\n", encoding="utf-8")
    lint = Path(sys.executable).with_name("lint-imports")
    env = {"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(lint), "--config", str(copy / "pyproject.toml"), "--no-cache"],
                          capture_output=True, text=True, cwd=copy, env=env)


def test_layers_contract_fails_on_a_textual_import_in_a_service(tmp_path: Path) -> None:
    """Planting `import textual` in a service module breaks the build (the contracts are not decoration)."""
    result = _lint_with_planted(tmp_path, "services/kpi.py", "import textual  # planted", at_top=True)
    assert result.returncode != 0, result.stdout[-2000:]
    assert "agent_console.services" in result.stdout and "textual" in result.stdout


def test_layers_contract_fails_on_an_upward_import(tmp_path: Path) -> None:
    """A store module that imports a service breaks the layers contract."""
    result = _lint_with_planted(tmp_path, "store/phrase_usage.py", "from agent_console.services import kpi  # planted",
                                at_top=False)
    assert result.returncode != 0, result.stdout[-2000:]
    assert "BROKEN" in result.stdout


SQL = re.compile(r"\b(SELECT\s|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|CREATE\s+TABLE\b)"
                 r"|\b\w+\.\w+\s*(=|<|>|IN)\s*\?", re.IGNORECASE)


def sql_in(path: Path) -> list[str]:
    """SQL written in a module: string constants that read as SQL, and calls of `.execute(`."""
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            found.append(f"{path.name}:{node.lineno}: {node.value[:60]!r}")
        elif isinstance(node, ast.Attribute) and node.attr in ("execute", "executemany", "executescript"):
            found.append(f"{path.name}:{node.lineno}: .{node.attr}(")
    return found


def test_services_hold_no_sql() -> None:
    """The services ask the store; every statement lives in agent_console/store (and the centres in sync/)."""
    found = [hit for path in sorted((ROOT / "agent_console" / "services").glob("*.py")) for hit in sql_in(path)]
    assert not found, "SQL in a service module:\n" + "\n".join(found)


def test_the_sql_check_is_not_blind(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text('def f(ws):\n    return ws.store.conn.execute("SELECT id FROM cases WHERE c.owner = ?")\n')
    assert len(sql_in(planted)) == 2
