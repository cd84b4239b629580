"""The team's roster: the people a case can be given to (a lead's reassign, an agent's transfer).

From the centre when there is one (meta `central_roster`, written at each sync round: sync/engine.py), else the
people this database has seen in the team's cases. One rule for every door: a name not on the roster is refused
with the same message on the screen and from `case act`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from agent_console.core.reasons import Reason
from agent_console.store import kpi_queries as q

if TYPE_CHECKING:  # the workspace imports the services: typed here, imported only by the checker
    from agent_console.services.workspace import Workspace


def people(ws: Workspace) -> list[str]:
    """The logins of the console's teams: the centre's members when it has told us, else the people seen here."""
    teams = ws.settings.visible_teams
    raw = ws.store.meta("central_roster")
    if raw:
        try:
            members = json.loads(raw)
        except ValueError:  # a damaged meta row: fall back to what this database knows
            members = None
        if isinstance(members, list):
            return sorted({str(m["login"]) for m in members if isinstance(m, dict) and m.get("login")
                           and (not teams or set(m.get("teams") or []) & set(teams))})
    return sorted(set(q.people_seen(ws.store.conn, teams)) | {ws.actor})


def problem(ws: Workspace, who: str) -> Reason | None:
    """Why `who` cannot be given a case (not on the roster), or None."""
    who = who.strip()
    if who and who not in people(ws):
        return Reason("unknown_person", who=who)
    return None
