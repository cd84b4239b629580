"""A non-editable install (a built wheel) carries every shipped data file and finds it from anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_data_files_and_works_outside_the_checkout(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        capture_output=True, text=True,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(out.glob("agent_console-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for profile in ("insurance", "insurance-pc", "power-hotline", "legal-aid", "ecommerce", "foreign-investment",
                    "_vocabulary"):
        assert f"agent_console/data/profiles/{profile}.toml" in names
    assert "agent_console/store/migrations/0001_base.sql" in names
    assert "agent_console/data/locale/zh/base.toml" in names
    shipped_phrases = [n for n in names if n.startswith("agent_console/_shipped/phrasebook/")]
    if any((ROOT / "phrasebook").iterdir()):
        assert shipped_phrases, "the phrasebook is missing from the wheel"

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = dict(os.environ, PYTHONPATH=str(site), XDG_DATA_HOME=str(tmp_path / "d"), XDG_CONFIG_HOME=str(tmp_path / "c"))
    probe = (
        "import agent_console, sys; from agent_console.core.shipped import shipped_phrasebook_dir;"
        "assert agent_console.__file__.startswith(sys.argv[1]), agent_console.__file__;"
        "assert shipped_phrasebook_dir().is_dir() and str(shipped_phrasebook_dir()).startswith(sys.argv[1]);"
        "from agent_console.cli import main; sys.exit(main(['check']) or main(['demo', '--cases', '5']))"
    )
    run = subprocess.run([sys.executable, "-c", probe, str(site)], capture_output=True, text=True, cwd=elsewhere,
                         env=env)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "全部文件有效" in run.stdout  # check speaks the console's language (Chinese by default)
