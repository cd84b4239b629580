"""Layering: the domain core, store, sync and phrasebook import no Textual; screens hold no SQL."""

from __future__ import annotations

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
