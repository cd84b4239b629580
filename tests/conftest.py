"""Shared fixtures: a workspace on a fresh database with a movable clock, and the test PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent_console.support.config import load_settings
from agent_console.services.workspace import Workspace

SHANGHAI = ZoneInfo("Asia/Shanghai")


class FakeClock:
    """A clock tests move by hand: `clock.advance(hours=2)`."""

    def __init__(self, start: datetime) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kw: Any) -> datetime:
        self.t += timedelta(**kw)
        return self.t

    def set(self, when: datetime) -> None:
        self.t = when


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real user's config or data."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for key in list(os.environ):
        if key.startswith("AGENT_CONSOLE_") and key != "AGENT_CONSOLE_TEST_PG":
            monkeypatch.delenv(key)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI))


def make_workspace(tmp_path: Path, clock: FakeClock, name: str = "local.db", **settings: Any) -> Workspace:
    values = {"db": tmp_path / name, "agent": "a-test", "team": "team-1", "demo_on_first_run": False} | settings
    return Workspace(load_settings(**values), now=clock)


@pytest.fixture
def ws(tmp_path: Path, clock: FakeClock) -> Workspace:
    workspace = make_workspace(tmp_path, clock)
    yield workspace
    workspace.close()


@pytest.fixture
def lead_ws(tmp_path: Path, clock: FakeClock) -> Workspace:
    workspace = make_workspace(tmp_path, clock, name="lead.db", agent="lead-1", role="lead")
    yield workspace
    workspace.close()


MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)  # the start of a working week without holidays


@pytest.fixture
def monday_lead(tmp_path: Path, clock: FakeClock) -> Iterator[Workspace]:
    """A lead's workspace on a fresh database, the clock at 09:00 on a Monday (MONDAY): the KPI tests' start."""
    clock.set(MONDAY)
    workspace = make_workspace(tmp_path, clock, agent="lead-1", role="lead")
    yield workspace
    workspace.close()


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The superuser URL of the throwaway test cluster started by scripts/test.sh.

    Without it the test is skipped on a developer's machine, but fails under CI: PostgreSQL tests never vanish
    silently from a CI run.
    """
    url = os.environ.get("AGENT_CONSOLE_TEST_PG")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("AGENT_CONSOLE_TEST_PG is not set under CI: the test PostgreSQL did not start")
        pytest.skip("no test PostgreSQL (run through scripts/test.sh)")
    return url


def sample_case(**over: Any) -> dict[str, Any]:
    base = {
        "channel": "phone",
        "category": "claims",
        "complexity": "general",
        "complainant": {"name": "王芳", "title": "女士", "phone": "17012345678", "id_number": "P123456789012"},
        "respondent": "理赔部",
        "facts": "理赔材料交齐三周仍无进度",
        "request": "尽快赔付",
    }
    base.update(over)
    return base


# -- driving the console ----------------------------------------------------------------------------------------------
SIZE = (140, 45)


async def settle(pilot: Any, times: int = 3) -> None:
    """Let the console finish what a key started: a few refreshes, then every worker."""
    for _ in range(times):
        await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


class Team:
    """One team's shared database (team.db): each person opens it with a workspace of their own, as on a shared
    drive; every workspace opened here is closed when the test ends."""

    def __init__(self, tmp_path: Path, clock: FakeClock) -> None:
        self.tmp_path, self.clock = tmp_path, clock
        self.opened: list[Workspace] = []

    def agent(self, agent: str = "a-1", **settings: Any) -> Workspace:
        ws = make_workspace(self.tmp_path, self.clock, name="team.db", agent=agent, **settings)
        self.opened.append(ws)
        return ws

    def lead(self, agent: str = "lead-1") -> Workspace:
        return self.agent(agent, role="lead")

    def close(self) -> None:
        for ws in self.opened:
            ws.close()


@pytest.fixture
def team(tmp_path: Path, clock: FakeClock) -> Iterator[Team]:
    shared = Team(tmp_path, clock)
    yield shared
    shared.close()


@asynccontextmanager
async def lead_console(ws: Workspace) -> AsyncIterator[Any]:
    """The console on a lead's workspace with the lead screen open (F7), settled, as (app, pilot)."""
    async with console(ws) as (app, pilot):
        await pilot.press("f7")
        await settle(pilot)
        yield app, pilot


@asynccontextmanager
async def console(ws: Workspace, case_id: str | None = None, size: tuple[int, int] = SIZE) -> AsyncIterator[Any]:
    """The console on `ws`, settled, as (app, pilot); opened on a case's screen when `case_id` is given."""
    from agent_console.app import AgentConsoleApp  # Textual only for the tests that drive the console

    app = AgentConsoleApp(ws)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        if case_id is not None:
            app.open_case(case_id)
            await settle(pilot)
        yield app, pilot
