"""`agent-console callback list|new` and `agent-console sample --month YYYY-MM`: callbacks from the shell."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from agent_console.support.i18n import Translator
from agent_console.commands.common import CliError, open_workspace, print_json, require_case


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
        t, tz = Translator(ws.settings.lang), ws.tz
    finally:
        ws.close()
    if args.json:
        print_json(rows)
    else:
        from agent_console.core import cells

        words = [(t(f"callbacks.group_{r['group']}") if t.has(f"callbacks.group_{r['group']}") else r["group"],
                  t(f"callbacks.kind_{r['kind']}") if t.has(f"callbacks.kind_{r['kind']}") else r["kind"]) for r in rows]
        w_group = max((cells.width(g) for g, _ in words), default=0)
        w_kind = max((cells.width(k) for _, k in words), default=0)
        for r, (group, kind) in zip(rows, words):
            due = datetime.fromisoformat(r["due"]).astimezone(tz)
            print("  ".join([cells.ljust(group, w_group), f"{due:%m-%d %H:%M}", r["number"], cells.ljust(kind, w_kind),
                             r["note"]]).rstrip())
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from agent_console.services import callbacks
    from agent_console.core.due_phrases import DuePhraseError

    ws = open_workspace(args)
    try:
        state = require_case(ws, args.number)
        t = Translator(ws.settings.lang)
        try:
            callback_id, due = callbacks.schedule_from_phrase(ws, state.id, args.when, args.kind, args.note)
        except DuePhraseError as exc:
            raise CliError(t.reason(exc)) from exc
        result = {"id": callback_id, "case": state.number, "due": due.isoformat(), "kind": args.kind}
        shown_due = t.moment(due.astimezone(ws.tz))
    finally:
        ws.close()
    if args.json:
        print_json(result)
    else:
        print(t("cli.callback_scheduled", number=result["case"], due=shown_due))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from agent_console.services import callbacks

    ws = open_workspace(args)
    try:
        try:
            result = callbacks.audit_sample(ws, args.month, args.seed, args.owner)
        except callbacks.MonthError as exc:
            raise CliError(exc) from exc
        t = Translator(ws.settings.lang)
    finally:
        ws.close()
    if args.json:
        print_json(result)
    else:
        print(t("cli.audit_sample", month=args.month, population=result["population"], count=len(result["sampled"]),
                numbers="、".join(result["sampled"]) if t.lang == "zh" else ", ".join(result["sampled"]),
                paused=len(result["left_out_paused"])))
    return 0
