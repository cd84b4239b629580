"""Whole shifts as tests: each data file under tests/shifts/ is driven through the real screens (see
tests/shift_runner.py) and every step's records are checked. The time a shift takes is printed (pytest -s)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.shift_runner import run_shift

SHIFTS = sorted((Path(__file__).parent / "shifts").glob("*.toml"))


@pytest.mark.parametrize("path", SHIFTS, ids=[p.stem for p in SHIFTS])
async def test_a_whole_shift_leaves_no_wrong_record(path: Path, tmp_path: Path) -> None:
    began = time.perf_counter()
    timings = await run_shift(path, tmp_path)
    took = time.perf_counter() - began
    calls = sum(1 for kind, _ in timings if kind in ("call", "restore"))
    print(f"\nshift {path.stem}: {len(timings)} steps, {calls} calls, {took:.1f} s")


def test_the_docs_count_the_shipped_shift_as_it_is() -> None:
    """README and the shift file's own header say how many calls and steps the day has: the numbers they give
    are the file's (a call restored after the crash counts as a call, as the shift's timing line counts it)."""
    import re
    import tomllib

    path = Path(__file__).parent / "shifts" / "day_shift.toml"
    text = path.read_text(encoding="utf-8")
    steps = tomllib.loads(text)["step"]
    calls = sum(1 for s in steps if s["do"] in ("call", "restore"))
    assert calls >= 30
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    said = re.search(r"day_shift\.toml` describes a (\d+)-call day \((\d+) steps\)", readme)
    assert said, "README no longer says how many calls and steps the shipped shift has"
    assert (int(said[1]), int(said[2])) == (calls, len(steps))
    header = re.search(r"(\d+) calls in (\d+) steps", text.splitlines()[0])
    assert header and (int(header[1]), int(header[2])) == (calls, len(steps))
