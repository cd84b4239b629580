"""`agent-console calendar`: preview the working days a profile's clocks will count."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from typing import Any

from agent_console.commands.common import CliError, open_workspace, print_json
from agent_console.support.i18n import Translator


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
            raise CliError(Translator(ws.settings.lang)("cli.calendar_bad_from", value=args.start)) from exc
        if not 1 <= args.days <= 366:
            raise CliError(Translator(ws.settings.lang)("cli.calendar_bad_days"))
        days = cal.next_working_days(start, args.days)
        lang = ws.settings.lang
        rows = []
        skipped: list[dict[str, Any]] = []
        d = start + timedelta(days=1)
        for n, wd in enumerate(days, start=1):
            while d < wd:
                skipped.append({"date": d.isoformat(), "weekday": d.strftime("%a"),
                                "why": cal.holiday_name(d, "en") or "weekend", "shown": cal.holiday_name(d, lang),
                                "day": d})
                d += timedelta(days=1)
            rows.append({"n": n, "date": wd.isoformat(), "weekday": wd.strftime("%a"),
                         "makeup_workday": wd.weekday() >= 5, "ends": cal.start_of(wd + timedelta(days=1)).isoformat(),
                         "day": wd})
            d = wd + timedelta(days=1)
        if args.json:
            print_json({"from": start.isoformat(), "profile": ws.profile.id,
                        "working_days": [{k: v for k, v in r.items() if k != "day"} for r in rows],
                        "closed_days": [{k: v for k, v in r.items() if k not in ("day", "shown")} for r in skipped]})
        else:
            t = Translator(lang)
            print(t("cli.calendar_received", day=t.full_date(start), weekday=t.weekday(start)))
            for r in rows:
                note = "  " + t("cli.calendar_makeup") if r["makeup_workday"] else ""
                print("  " + t("cli.calendar_working", n=f"{r['n']:>3}", day=t.list_day(r["day"])) + note)
            for s in skipped:
                print("  " + t("cli.calendar_closed", day=t.list_day(s["day"]),
                               why=s["shown"] or t("cli.calendar_weekend")))
    finally:
        ws.close()
    return 0
