"""What the figures count, for one case: the rules written once (DOMAIN.md §7). No SQL, no Textual.

The store applies these when it builds a case's KPI facts (store/kpi_facts.derive), the lead's service when it
reads them (services/kpi.py) and the monthly audit when it draws its sample (services/callbacks.py); none of them
says again what "late" or "on time" means.

- late: a resolution clock is late from its due on, when it stopped after its due or is still running (not paused)
  with its due behind; a clock stopped by its due, a paused one or one without a due is not;
- on time: a case closed or archived whose resolution clock stopped by its due;
- 9-day rule: closed before the end of the 9th calendar day after the local day of receipt (the start of the 10th);
- coordinator in time: a routed case whose coordinator clock never missed a cycle and stopped by its due (or has
  none), or is still running with its due ahead;
- response time: from the first routing to the first progress note after it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from agent_console.core.models import FINISHED_STATUSES, ROUTED_STATUSES


def late_from(due: datetime | None, stopped: datetime | None, paused: bool) -> datetime | None:
    """The instant after which the clock counts as late (late at `now` when now > it), or None when it never does
    as things stand: stopped by its due, paused, or without a due."""
    if due is None:
        return None
    if stopped is not None:
        return due if stopped > due else None
    return None if paused else due


def is_late(due: datetime | None, stopped: datetime | None, paused: bool, now: datetime) -> bool:
    """Whether the clock counts as late at `now` (see `late_from`)."""
    since = late_from(due, stopped, paused)
    return since is not None and now > since


def late_span(due: datetime, stopped: datetime | None, now: datetime) -> tuple[datetime, datetime | None] | None:
    """(from, until) the case was past its due up to `now` (until None: still), or None when it never was."""
    if (stopped is not None and stopped <= due) or due > now:
        return None
    return due, stopped


def on_time(status: str, due: datetime | None, stopped: datetime | None) -> bool:
    """Closed (or archived after closing) with its resolution clock stopped by its due."""
    return status in FINISHED_STATUSES and due is not None and stopped is not None and stopped <= due


def is_routed(status: str, coordinator_due: datetime | None) -> bool:
    """With a department: it has a coordinator clock, or its status says so."""
    return coordinator_due is not None or status in ROUTED_STATUSES


def coordinator_in_time_until(due: datetime | None, stopped: datetime | None,
                              missed_cycles: int) -> tuple[bool, datetime | None]:
    """(in time for good, or in time while now <= the instant given) for a routed case's coordinator clock."""
    if missed_cycles:
        return False, None
    if stopped is not None:
        return due is None or stopped <= due, None
    if due is None:
        return True, None
    return False, due


def response_seconds(assigned: datetime | None, progress: datetime | None) -> float | None:
    """From the first routing to the first progress note after it (None until there is one)."""
    if assigned is None or progress is None:
        return None
    return (progress - assigned).total_seconds()


def nine_day_end(day_received: date) -> date:
    """The local day at whose start the 9-day rule ends: the 10th calendar day after the day of receipt."""
    return day_received + timedelta(days=10)
