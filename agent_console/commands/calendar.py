"""`agent-console calendar`: preview the working days a profile's clocks will count."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from typing import Any

from agent_console.commands.common import CliError, open_workspace, print_json


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("calendar", help="the next working days from a date (holidays and makeup days shown)",
                       parents=[common])
    p.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="day of receipt (default today)")
    p.add_argument("--days", type=int, default=10, help="how many working days to list (default 10)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_calendar)


def cmd_calendar(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    try:
        cal = ws.calendar
        try:
            start = date.fromisoformat(args.start) if args.start else ws.now().astimezone(ws.tz).date()
        except ValueError as exc:
            raise CliError(f"--from: {args.start!r} is not a date (YYYY-MM-DD)") from exc
        if not 1 <= args.days <= 366:
            raise CliError("--days must be between 1 and 366")
        days = cal.next_working_days(start, args.days)
        rows = []
        skipped: list[dict[str, Any]] = []
        d = start + timedelta(days=1)
        for n, wd in enumerate(days, start=1):
            while d < wd:
                skipped.append({"date": d.isoformat(), "weekday": d.strftime("%a"),
                                "why": cal.holiday_name(d) or "weekend"})
                d += timedelta(days=1)
            rows.append({"n": n, "date": wd.isoformat(), "weekday": wd.strftime("%a"),
                         "makeup_workday": wd.weekday() >= 5, "ends": cal.start_of(wd + timedelta(days=1)).isoformat()})
            d = wd + timedelta(days=1)
        if args.json:
            print_json({"from": start.isoformat(), "profile": ws.profile.id, "working_days": rows,
                        "closed_days": skipped})
        else:
            print(f"Received {start.isoformat()} ({start:%a}); the day of receipt does not count.")
            for r in rows:
                note = "  makeup workday (调休上班)" if r["makeup_workday"] else ""
                print(f"  working day {r['n']:>3}: {r['date']} {r['weekday']}{note}")
            for s in skipped:
                print(f"  closed: {s['date']} {s['weekday']}  {s['why']}")
    finally:
        ws.close()
    return 0
