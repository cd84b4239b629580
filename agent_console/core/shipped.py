"""Where the data shipped with the package lives: policy profiles, the vocabulary, the console's words, the phrasebook.

A lead finds the shipped files under `agent_console/data/` (profiles/, locale/) and the repo's `phrasebook/`; their own
files go in the folders the config names (`profile_dirs`, `phrasebook_dirs`). Plain paths: nothing here reads a file.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
DATA_DIR = PACKAGE_DIR / "data"


def shipped_profiles_dir() -> Path:
    return DATA_DIR / "profiles"


def shipped_locale_dir() -> Path:
    return DATA_DIR / "locale"


def shipped_phrasebook_dir() -> Path:
    """The phrasebook shipped with the package: in a wheel under _shipped/, in a checkout the repo's phrasebook/."""
    packaged = PACKAGE_DIR / "_shipped" / "phrasebook"
    if packaged.is_dir():
        return packaged
    return PACKAGE_DIR.parent / "phrasebook"
