"""`agent-console case new|show|list`: register a case from JSON on stdin, show one, list many."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pydantic import ValidationError

from agent_console.commands.common import (CliError, load_json, open_workspace, parse_duration, print_json,
                                            read_stdin)
from agent_console.core.new_case import IntakeError
from agent_console.core.case_query import CaseQuery


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    case = sub.add_parser("case", help="register, show and list cases", parents=[common])
    case_sub = case.add_subparsers(dest="case_command", metavar="ACTION", required=True)

    new = case_sub.add_parser("new", help="register one case read as JSON from stdin", parents=[common])
    new.set_defaults(func=cmd_new)

    show = case_sub.add_parser("show", help="show one case", parents=[common])
    show.add_argument("number", help="case number (or id)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.add_argument("--events", action="store_true", help="include the event history")
    show.set_defaults(func=cmd_show)

    ls = case_sub.add_parser("list", help="list cases", parents=[common])
    ls.add_argument("--mine", action="store_true", help="only cases I own")
    ls.add_argument("--open", action="store_true", help="only open cases")
    ls.add_argument("--overdue", action="store_true", help="only cases with a clock past due")
    ls.add_argument("--due-within", metavar="DURATION", help="nearest clock due within e.g. 2d, 12h (overdue included)")
    ls.add_argument("--status")
    ls.add_argument("--category")
    ls.add_argument("--search", metavar="TEXT", help="full-text search (number, name, phone, facts)")
    ls.add_argument("--limit", type=int)
    ls.add_argument("--unmask", action="store_true", help="show full phone and ID numbers (team leads only)")
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    ls.set_defaults(func=cmd_list)


def read_new_case(text: str) -> dict[str, Any]:
    if not text.strip():
        raise CliError("case new: expected one JSON object on stdin, got nothing")
    data = load_json(text, "case new")
    if not isinstance(data, dict):
        raise CliError("case new: expected one JSON object")
    return data


def validation_message(exc: ValidationError | IntakeError) -> str:
    if isinstance(exc, IntakeError):
        return "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'case'}: {e['msg']}" for e in exc.errors())


def cmd_new(args: argparse.Namespace) -> int:
    data = read_new_case(read_stdin("case new"))
    ws = open_workspace(args)
    try:
        state = ws.register(data)
    except (ValidationError, IntakeError) as exc:
        raise CliError(f"case new: {validation_message(exc)}") from exc
    finally:
        ws.close()
    ws2 = open_workspace(args)
    print_json(ws2.case_dict(state))
    ws2.close()
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    try:
        state = ws.store.find(args.number)
        if state is None:
            raise CliError(f"no case {args.number!r}", code=1)
        data = ws.case_dict(state)
        if args.events:
            data["events"] = [e.model_dump(mode="json") for e in ws.store.events(state.id)]
        if args.json:
            print_json(data)
        else:
            print(_human_case(ws, data))
    finally:
        ws.close()
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    try:
        if args.unmask and not ws.is_lead:
            raise CliError("--unmask: only a team lead may list unmasked phone and ID numbers", code=3)
        now = ws.now()
        due_before = None
        if args.overdue:
            due_before = now
        if args.due_within:
            due_before = now + parse_duration(args.due_within)
        query = CaseQuery(
            open_only=args.open or args.overdue or bool(args.due_within),
            owner=ws.actor if args.mine else None,
            status=args.status,
            category=args.category,
            due_before=due_before,
            text=args.search,
            limit=args.limit,
        )
        if args.json and not args.unmask:
            out = sys.stdout
            for piece in ws.iter_cases_json(query, now=now):  # streamed: flat memory at any length
                out.write(piece)
            out.write("\n")
            return 0
        cases = ws.list_cases(query, now=now, mask=not args.unmask)
        if args.json:
            print_json(cases)
        else:
            for c in cases:
                print(_human_row(ws, c))
            print(f"({len(cases)} cases)", file=sys.stderr)
    finally:
        ws.close()
    return 0


def _nearest(case: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    live = [(k, d) for k, d in case["deadlines"].items() if d["state"] in ("running", "breached")]
    return min(live, key=lambda kd: kd[1]["remaining_seconds"]) if live else None


def _human_row(ws: Any, c: dict[str, Any]) -> str:
    from agent_console.support.i18n import Translator

    t = Translator(ws.settings.lang)
    near = _nearest(c)
    clock = ""
    if near:
        cid, d = near
        due = d["due"][:16].replace("T", " ") if d["due"] else ""
        clock = f"{d['label']} {t.duration(d['remaining_seconds'], d['unit'], d['state'] == 'breached')} ({due})"
    person = f"{c['complainant']['name']}{c['complainant']['title']} {c['complainant']['phone']}"
    return f"{c['number']}  {t('status.' + c['status']):<6} {ws.profile.category(c['category']).label if ws.profile.category(c['category']) else c['category']:<8} {person:<24} {clock}"


def _human_case(ws: Any, c: dict[str, Any]) -> str:
    from agent_console.support.i18n import Translator

    t = Translator(ws.settings.lang)
    lines = [
        f"{c['number']}  {t('status.' + c['status'])}",
        f"  {c['complainant']['name']}{c['complainant']['title']}  {c['complainant']['phone']}",
        f"  {c['category']} / {c['complexity']} / {c['channel']}  received {c['received_at']}",
        f"  facts: {c['facts']}",
        f"  request: {c['request']}",
    ]
    for cid, d in c["deadlines"].items():
        lines.append(f"  ⏱ {d['label']}: {t('state.' + d['state'])}  {t.duration(d['remaining_seconds'], d['unit'])}"
                     f"  due {d['due'] or '-'}")
    return "\n".join(lines)
