"""`agent-console callback list|new` and `agent-console sample --month YYYY-MM`: callbacks from the shell."""

from __future__ import annotations

import argparse
from typing import Any

from agent_console.commands.common import CliError, open_workspace, print_json


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    cb = sub.add_parser("callback", help="list or schedule callbacks", parents=[common])
    cb_sub = cb.add_subparsers(dest="callback_command", metavar="ACTION", required=True)
    ls = cb_sub.add_parser("list", help="the callback queue", parents=[common])
    ls.add_argument("--all", action="store_true", help="every owner's, not only mine")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)
    new = cb_sub.add_parser("new", help="schedule a callback: callback new NUMBER \"明天下午3点\"", parents=[common])
    new.add_argument("number")
    new.add_argument("when", help="e.g. 明天下午3点以后, 两小时后, tomorrow 3pm, 2026-12-01 14:00")
    new.add_argument("--kind", choices=["requested", "progress", "satisfaction", "audit"], default="requested")
    new.add_argument("--note", default="")
    new.add_argument("--json", action="store_true")
    new.set_defaults(func=cmd_new)

    sample = sub.add_parser("sample", help="the monthly audit sample (at least 20 %% of late cases)", parents=[common])
    sample.add_argument("--month", required=True, metavar="YYYY-MM")
    sample.add_argument("--seed", type=int, default=None)
    sample.add_argument("--owner", default="callback-team", help="who works the audit callbacks")
    sample.add_argument("--json", action="store_true")
    sample.set_defaults(func=cmd_sample)


def cmd_list(args: argparse.Namespace) -> int:
    from agent_console.services import callbacks

    ws = open_workspace(args)
    try:
        callbacks.ensure_automatic(ws)
        rows = [{"group": g, **{k: r[k] for k in ("id", "number", "kind", "owner", "due", "note", "attempts")}}
                for g, r in callbacks.queue(ws, None if args.all else ws.actor)]
    finally:
        ws.close()
    if args.json:
        print_json(rows)
    else:
        for r in rows:
            print(f"{r['group']:<8} {r['due'][:16]}  {r['number']}  {r['kind']:<12} {r['note']}")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from agent_console.services import callbacks
    from agent_console.core.due_phrases import DuePhraseError

    ws = open_workspace(args)
    try:
        state = ws.store.find(args.number)
        if state is None:
            raise CliError(f"no case {args.number!r}", code=1)
        try:
            callback_id, due = callbacks.schedule_from_phrase(ws, state.id, args.when, args.kind, args.note)
        except DuePhraseError as exc:
            raise CliError(str(exc)) from exc
        result = {"id": callback_id, "case": state.number, "due": due.isoformat(), "kind": args.kind}
    finally:
        ws.close()
    if args.json:
        print_json(result)
    else:
        print(f"callback for {result['case']} due {result['due']}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from agent_console.services import callbacks

    ws = open_workspace(args)
    try:
        try:
            result = callbacks.audit_sample(ws, args.month, args.seed, args.owner)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
    finally:
        ws.close()
    if args.json:
        print_json(result)
    else:
        print(f"{args.month}: {result['population']} late case(s); sampled {len(result['sampled'])}: "
              f"{', '.join(result['sampled'])}; {len(result['left_out_paused'])} paused case(s) left out")
    return 0
