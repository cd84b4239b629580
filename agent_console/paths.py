"""Where things live: shipped data inside the package, and the user's config and data under XDG directories."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_profiles_dir() -> Path:
    return PACKAGE_DIR / "profiles"


def shipped_phrasebook_dir() -> Path:
    """The phrasebook shipped with the package: in a wheel under _shipped/, in a checkout the repo's phrasebook/."""
    packaged = PACKAGE_DIR / "_shipped" / "phrasebook"
    if packaged.is_dir():
        return packaged
    return PACKAGE_DIR.parent / "phrasebook"


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
