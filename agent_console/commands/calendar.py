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
from agent_console.support.i18n import Translator

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


def provisional_warning(lang: str, years: list[int]) -> str:
    t = Translator(lang)
    return t("cli.calendar_provisional_ahead", days=WARN_DAYS, years="、".join(map(str, years)) if t.lang == "zh"
             else ", ".join(map(str, years)))


def _show(ws: Any, args: argparse.Namespace) -> int:
    cal = ws.calendar
    t = Translator(ws.settings.lang)
    try:
        start = date.fromisoformat(args.start) if args.start else ws.now().astimezone(ws.tz).date()
    except ValueError as exc:
        raise CliError(t("cli.calendar_bad_from", value=args.start)) from exc
    if not 1 <= args.days <= 366:
        raise CliError(t("cli.calendar_bad_days"))
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
    warnings = [provisional_warning("en" if args.json else ws.settings.lang, ahead)] if ahead else []
    if args.json:
        print_json({"from": start.isoformat(), "profile": ws.profile.id, "working_days": rows,
                    "closed_days": skipped, "years": ws.year_sources(list(range(years[0], years[-1] + 1))),
                    "provisional_ahead": ahead, "warnings": warnings})
        return 0
    # for people: words and dates in the console's language (2026年9月28日, 10-01 周四; never US style)
    for w in warnings:
        print(w)
    for y in ws.year_sources(list(range(years[0], years[-1] + 1))):
        source = y["source"] if ws.calendar.schedules.get(y["year"]) else t(f"cli.calendar_source_{y['status']}")
        if y.get("number"):
            source = f"{source}（{y['number']}）" if t.lang == "zh" else f"{source} ({y['number']})"
        when = t("cli.calendar_published", day=t.full_date(date.fromisoformat(y["published"]))) \
            if y["published"] else ""
        print(t("cli.calendar_year", year=y["year"], status=t(f"cli.calendar_status_{y['status']}"), source=source,
                published=when))
    print(t("cli.calendar_received", day=t.full_date(start), weekday=t.weekday(start)))
    for r in rows:
        wd = date.fromisoformat(r["date"])
        note = "  " + t("cli.calendar_makeup") if r["makeup_workday"] else ""
        mark = "  " + t("cli.calendar_provisional") if r["provisional"] else ""
        print("  " + t("cli.calendar_working", n=f"{r['n']:>3}", day=t.list_day(wd)) + note + mark)
    for s in skipped:
        day = date.fromisoformat(s["date"])
        mark = "  " + t("cli.calendar_provisional") if s["provisional"] else ""
        why = cal.holiday_name(day, t.lang) or t("cli.calendar_weekend")
        print("  " + t("cli.calendar_closed", day=t.list_day(day), why=why) + mark)
    return 0


def _load(args: argparse.Namespace) -> int:
    if args.file is None:
        raise CliError("cli.calendar_load_needs_file")
    ws = open_workspace(args)
    try:
        if not ws.is_lead:
            raise CliError("cli.calendar_load_lead_only")
        try:
            schedule, report = ws.load_calendar_year(args.file)
        except ScheduleError as exc:
            raise CliError("cli.nothing_loaded", problem=exc) from exc
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
