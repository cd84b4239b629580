"""`agent-console report kpi|overdue|weekly|monthly [--period …] [--format …] [--unmask]` (team leads only)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agent_console.commands.common import CliError, open_workspace


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("report", help="KPIs, overdue queue, weekly notice, monthly report (leads)", parents=[common])
    p.add_argument("kind", choices=["kpi", "overdue", "weekly", "monthly"])
    p.add_argument("--period", help="YYYY-MM, or FROM..TO dates (kpi); YYYY-MM (monthly, default last month)")
    p.add_argument("--format", choices=["table", "csv", "json", "markdown", "html"], default="table")
    p.add_argument("--unmask", action="store_true", help="show names and phone numbers (recorded)")
    p.add_argument("--team-filter", dest="team_filter")
    p.add_argument("--agent-filter", dest="agent_filter")
    p.add_argument("--department")
    p.add_argument("--category")
    p.add_argument("--output", help="write to this file")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from agent_console.services import reports

    ws = open_workspace(args)
    try:
        try:
            text = reports.build(ws, args.kind, args.period, args.format, args.unmask, team=args.team_filter,
                                 owner=args.agent_filter, department=args.department, category=args.category)
        except PermissionError as exc:  # lead.LeadOnly: a Said, told in the console's language
            raise CliError(exc, code=3) from exc
        except reports.PeriodError as exc:
            raise CliError(exc) from exc
    finally:
        ws.close()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0
