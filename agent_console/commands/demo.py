"""`agent-console demo`: add realistic demo cases (ordinary events) to the local database."""

from __future__ import annotations

import argparse
from typing import Any

from agent_console.commands.common import CliError, ProgressBar, open_workspace, print_json


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("demo", help="add realistic demo cases to the local database", parents=[common])
    p.add_argument("--cases", type=int, default=300, help="how many cases (default 300)")
    p.add_argument("--seed", type=int, default=1, help="random seed (same seed, same stories)")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    if args.cases < 1:
        raise CliError("cli.demo_cases")
    from agent_console.services.demo_data import generate, mark_seeded

    ws = open_workspace(args)
    try:
        with ProgressBar(ws.settings.lang) as bar:
            counts = generate(ws, cases=args.cases, seed=args.seed, progress=bar,
                              history_days=max(60, min(720, args.cases // 1500)))
        mark_seeded(ws)
        print_json({"added": sum(counts.values()), "by_status": counts, "db": str(ws.settings.db)})
    finally:
        ws.close()
    return 0
