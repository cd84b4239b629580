"""`agent-console rebuild`: recompute every case projection from the event log and report any difference."""

from __future__ import annotations

import argparse
from typing import Any

from agent_console.commands.common import open_workspace, print_json


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("rebuild", help="recompute case projections from the events; report differences",
                       parents=[common])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rebuild)


def cmd_rebuild(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    try:
        differences = ws.store.rebuild(ws.lifecycle)
        cases = ws.store.count_cases()
    finally:
        ws.close()
    if args.json:
        print_json({"cases": cases, "differences": differences})
    else:
        for line in differences:
            print(line)
        print(f"rebuilt {cases} cases; {len(differences)} differed from the stored projection")
    return 0
