"""The user's config and data under XDG directories (shipped data: `agent_console.core.shipped`)."""

from __future__ import annotations

import os
from pathlib import Path


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "agent-console"


def data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "agent-console"


def default_db_path() -> Path:
    return data_dir() / "agent-console.db"


def default_config_file() -> Path:
    return config_dir() / "config.toml"
