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


def test_the_shipped_shift_has_thirty_calls() -> None:
    import tomllib

    data = tomllib.loads((Path(__file__).parent / "shifts" / "day_shift.toml").read_text(encoding="utf-8"))
    calls = [s for s in data["step"] if s["do"] == "call"]
    assert len(calls) >= 30 or len(calls) + sum(1 for s in data["step"] if s["do"] == "restore") >= 30
