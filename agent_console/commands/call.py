"""`agent-console call ring --from NUMBER [--call-id ID]`: for softphones that run a command on a call, post the event
to the running console's phone listener (the same door a PBX uses). `--event answer|hangup` sends the others."""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from agent_console.core.errors import Said
from agent_console.commands.common import CliError, print_json, settings_from


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    call = sub.add_parser("call", help="tell the running console about a call", parents=[common])
    call_sub = call.add_subparsers(dest="call_command", metavar="ACTION", required=True)
    ring = call_sub.add_parser("ring", help="a call for this agent: call ring --from 13800000000", parents=[common])
    ring.add_argument("--from", dest="number", required=True, help="the caller's number (or anonymous)")
    ring.add_argument("--call-id", default="", help="the phone system's call id (default: a new one)")
    ring.add_argument("--to", default="", help="the number called")
    ring.add_argument("--event", choices=["newCall", "answer", "hangup"], default="newCall")
    ring.add_argument("--direction", choices=["in", "out"], default="in")
    ring.add_argument("--cause", default="", help="for hangup: normalClearing, cancel, noAnswer, busy, ...")
    ring.add_argument("--json", action="store_true")
    ring.set_defaults(func=cmd_ring)


def ring(settings: Any, number: str, call_id: str = "", event: str = "newCall", to: str = "",
         direction: str = "in", cause: str = "") -> tuple[int, Any]:
    from agent_console.services import telephony

    fields: dict[str, Any] = {"event": event, "from": number, "to": to, "direction": direction,
                              "callId": call_id or str(uuid.uuid4()), "user[]": [settings.agent]}
    if cause:
        fields["cause"] = cause
    try:
        return telephony.post_event(settings.cti, fields)
    except telephony.DialError as exc:
        raise CliError(exc) from exc


def cmd_ring(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    status, body = ring(settings, args.number, args.call_id, args.event, args.to, args.direction, args.cause)
    if args.json:
        print_json({"status": status, "answer": body})
    elif status != 200:  # the listener answers a PBX in English; the person at the shell is told by key
        detail = body.get("error", body) if isinstance(body, dict) else body
        raise CliError(refusal(status, str(detail)), code=1)
    return 0 if status == 200 else 1


def refusal(status: int, detail: str) -> Said:
    """What a refusing console's HTTP status means (widgets/cti_listener.py answers with these)."""
    if status in (401, 403, 404):
        return Said("call.refused_token", status=status, settings="[cti] token", detail=detail)
    if status == 429:
        return Said("call.refused_busy", status=status, detail=detail)
    if status in (400, 413, 415, 422):
        return Said("call.refused_bad", status=status, detail=detail)
    if status == 503:
        return Said("call.refused_not_recorded", status=status, detail=detail)
    return Said("call.refused", status=status, detail=detail)
