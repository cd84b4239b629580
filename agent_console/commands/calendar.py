"""`agent-console calendar`: preview the working days a profile's clocks will count, say where each year's days come
from, load an official year (`calendar load FILE`) and list the deadlines the last recompute moved (`calendar
changes`)."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from agent_console.commands.common import CliError, open_workspace, print_json, recompute_line
from agent_console.core.calendar_years import ScheduleError

WARN_DAYS = 60  # working days ahead that `calendar` and `check` look through for a provisional year


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("calendar", help="the next working days from a date (holidays and makeup days shown); "
                       "`calendar load FILE` loads an official year, `calendar changes` lists moved deadlines",
                       parents=[common])
    p.add_argument("action", nargs="?", choices=["show", "load", "changes"], default="show")
    p.add_argument("file", nargs="?", type=Path, help="with load: the year's schedule (TOML, see docs/CALENDAR.md)")
    p.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="day of receipt (default today)")
    p.add_argument("--days", type=int, default=10, help="how many working days to list (default 10)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_calendar)


def cmd_calendar(args: argparse.Namespace) -> int:
    if args.action == "load":
        return _load(args)
    ws = open_workspace(args)
    try:
        if args.action == "changes":
            return _changes(ws, args)
        return _show(ws, args)
    finally:
        ws.close()


def provisional_warning(ws: Any, years: list[int]) -> str:
    return (f"warning: the next {WARN_DAYS} working days reach {', '.join(map(str, years))}, a provisional year "
            "(no official State Council schedule loaded): deadlines there are projected and may move. Load the "
            "notice with `agent-console calendar load FILE` when it is published.")


def _show(ws: Any, args: argparse.Namespace) -> int:
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
                            "why": cal.holiday_name(d) or "weekend", "provisional": cal.is_provisional(d.year)})
            d += timedelta(days=1)
        rows.append({"n": n, "date": wd.isoformat(), "weekday": wd.strftime("%a"),
                     "makeup_workday": wd.weekday() >= 5, "ends": cal.start_of(wd + timedelta(days=1)).isoformat(),
                     "provisional": cal.is_provisional(wd.year)})
        d = wd + timedelta(days=1)
    years = sorted({start.year, days[-1].year, ws.now().astimezone(ws.tz).year})
    ahead = ws.upcoming_provisional(WARN_DAYS)
    warnings = [provisional_warning(ws, ahead)] if ahead else []
    if args.json:
        print_json({"from": start.isoformat(), "profile": ws.profile.id, "working_days": rows,
                    "closed_days": skipped, "years": ws.year_sources(list(range(years[0], years[-1] + 1))),
                    "provisional_ahead": ahead, "warnings": warnings})
        return 0
    for w in warnings:
        print(w)
    for y in ws.year_sources(list(range(years[0], years[-1] + 1))):
        when = f", published {y['published']}" if y["published"] else ""
        print(f"{y['year']}: {y['status']} ({y['source']}{when})")
    print(f"Received {start.isoformat()} ({start:%a}); the day of receipt does not count.")
    for r in rows:
        note = "  makeup workday (调休上班)" if r["makeup_workday"] else ""
        mark = "  ≈ provisional" if r["provisional"] else ""
        print(f"  working day {r['n']:>3}: {r['date']} {r['weekday']}{note}{mark}")
    for s in skipped:
        mark = "  ≈ provisional" if s["provisional"] else ""
        print(f"  closed: {s['date']} {s['weekday']}  {s['why']}{mark}")
    return 0


def _load(args: argparse.Namespace) -> int:
    if args.file is None:
        raise CliError("calendar load needs the schedule file: agent-console calendar load CN-2027.toml")
    ws = open_workspace(args)
    try:
        if not ws.is_lead:
            raise CliError("only a team lead loads an official year (--role lead)")
        try:
            schedule, report = ws.load_calendar_year(args.file)
        except ScheduleError as exc:
            raise CliError(f"{exc}\nnothing was loaded") from exc
        loaded = schedule.year
        if args.json:
            print_json({"loaded": loaded, "recompute": report.to_json()})
        else:
            print(f"loaded the official {loaded} schedule from {args.file.name}: {schedule.source}"
                  f" ({schedule.published})")
            print(recompute_line(ws, report))
    finally:
        ws.close()
    return 0


def _changes(ws: Any, args: argparse.Namespace) -> int:
    report = ws.last_recompute()
    if args.json:
        print_json(report or {"moved": []})
        return 0
    if not report:
        print("no recompute has moved a deadline here yet")
        return 0
    print(f"recomputed {report['cases']} open cases at {report['at']} ({', '.join(report['reasons'])}); "
          f"{report['cases_moved']} moved")
    for m in report["moved"]:
        print(f"  {m['number']}  next due {(m['old'] or '—')[:16]} -> {(m['new'] or '—')[:16]}"
              f"  ({m['shift_days']:+g} days)")
    return 0
