"""`agent-console rebuild`: recompute every case projection from the event log and report any difference."""

from __future__ import annotations

import argparse
from typing import Any

from agent_console.support.i18n import Translator
from agent_console.commands.common import ProgressBar, open_workspace, print_json


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("rebuild", help="recompute case projections from the events; report differences",
                       parents=[common])
    p.add_argument("--json", action="store_true")
    p.add_argument("--open", action="store_true",
                   help="only recompute the deadlines of open cases (after a calendar or profile change)")
    p.set_defaults(func=cmd_rebuild)


def cmd_rebuild(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    try:
        if args.open:
            with ProgressBar(ws.settings.lang) as bar:
                moved = ws.recompute_open(progress=bar)
            if args.json:
                print_json({"open": ws.count_cases(open_only=True),
                            "moved": [m.__dict__ for m in moved]})
            else:
                for m in moved:
                    print(f"{m.number}: {m.next_due_before} -> {m.next_due_after}")
                print(Translator(ws.settings.lang)("cli.rebuild_moved", count=len(moved)))
            return 0
        with ProgressBar(ws.settings.lang) as bar:
            differences = ws.rebuild(progress=bar)
        cases = ws.count_cases()
        lang = ws.settings.lang
    finally:
        ws.close()
    if args.json:
        print_json({"cases": cases, "differences": differences})
    else:
        for line in differences:
            print(line)
        print(Translator(lang)("cli.rebuilt", count=cases, differed=len(differences)))
    return 0

