"""Hybrid logical clocks: an ordering stamp per device that respects causality across devices.

A stamp is `<13-digit wall ms>-<4-digit counter>-<device>`, so stamps sort as strings. `receive` folds in a remote
stamp (the HLC receive rule): our next stamp is later than every stamp we have seen, so an action taken after seeing
another is ordered after it, even when the other device's clock runs fast. It answers how far ahead of our wall clock
the remote stamp was (more than `max_drift` is skew: the centre flags such events). Only an absurd stamp (more than a
day ahead) is refused: it would drag every later stamp of ours along.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

ABSURD_AHEAD_MS = 24 * 3600_000  # a stamp further ahead than this is refused everywhere (centre, console, clock)
EARLIEST_MS = 1_577_836_800_000  # 2020-01-01: no stamp of this system is older


@dataclass(frozen=True)
class Stamp:
    wall_ms: int
    counter: int
    device: str

    def __str__(self) -> str:
        return f"{self.wall_ms:013d}-{self.counter:04d}-{self.device}"

    @classmethod
    def parse(cls, text: str) -> "Stamp":
        wall, counter, device = text.split("-", 2)
        return cls(int(wall), int(counter), device)


class ClockSkew(ValueError):
    """A remote stamp is absurdly far ahead of our wall clock: it is not folded in."""

    def __init__(self, drift_ms: int, bound_ms: int) -> None:
        super().__init__(f"clock drift {drift_ms / 1000:.1f}s exceeds the bound of {bound_ms / 1000:.0f}s")
        self.drift_ms = drift_ms
        self.bound_ms = bound_ms


class HybridClock:
    def __init__(
        self,
        device: str,
        last: str = "",
        max_drift_ms: int = 5 * 60_000,
        wall: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self.device = device
        self.max_drift_ms = max_drift_ms
        self._wall = wall
        if last:
            s = Stamp.parse(last)
            self._ms, self._counter = s.wall_ms, s.counter
        else:
            self._ms, self._counter = 0, 0

    def now(self) -> str:
        """A new stamp for a local event, later than every stamp seen so far."""
        wall = self._wall()
        if wall > self._ms:
            self._ms, self._counter = wall, 0
        else:
            self._counter += 1
        return f"{self._ms:013d}-{self._counter:04d}-{self.device}"  # str(Stamp(...)), without the object

    def receive(self, remote: str) -> int:
        """Fold a remote stamp in, so that our next stamp is later; return how many ms it runs ahead of our wall
        clock (0 if not ahead). Raise ClockSkew, folding nothing, when it is absurd (over ABSURD_AHEAD_MS ahead)."""
        r = Stamp.parse(remote)
        wall = self._wall()
        ahead = max(r.wall_ms - wall, 0)
        if ahead > ABSURD_AHEAD_MS:
            raise ClockSkew(ahead, ABSURD_AHEAD_MS)
        if r.wall_ms > self._ms or (r.wall_ms == self._ms and r.counter > self._counter):
            self._ms, self._counter = r.wall_ms, r.counter
        return ahead

    @property
    def last(self) -> str:
        return str(Stamp(self._ms, self._counter, self.device))
