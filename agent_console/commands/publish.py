"""`agent-console publish KIND FILE`: a lead publishes the team's calendar year, profile overrides or phrasebook file
to the centre (checked first: file:line, nothing sent on any problem); `agent-console reference`: the versions this
console uses."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from agent_console.core import cells
from agent_console.support.i18n import Translator
from agent_console.commands.common import CliError, open_workspace, print_json
from agent_console.commands.sync import CENTRAL_URLS
from agent_console.sync.failures import centre_failure


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("publish", help="publish the team's calendar year, profile overrides or phrasebook file to the "
                       "centre (leads)", parents=[common])
    p.add_argument("kind", choices=["calendar", "overrides", "phrasebook"])
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_publish)
    r = sub.add_parser("reference", help="the team's reference data this console uses (from the centre)",
                       parents=[common])
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_reference)


def cmd_publish(args: argparse.Namespace) -> int:
    from agent_console.services.reference_data import ReferenceError, publish
    from agent_console.sync import open_central
    from agent_console.sync.central import CentralUnavailable
    from agent_console.sync.reference import NotALead, RefusedReference

    ws = open_workspace(args)
    try:
        if not ws.settings.central:
            raise CliError("cli.no_central")
        if not ws.is_lead:
            raise CliError("cli.publish_lead_only")
        try:
            central = open_central(ws.settings.central, ws.settings)
        except ValueError as exc:
            raise CliError("centre.bad_url", url=ws.settings.central, examples=CENTRAL_URLS) from exc
        except CentralUnavailable as exc:
            raise CliError("cli.centre_unreachable_publish", detail=centre_failure(exc)) from exc
        try:
            published = publish(central, ws.settings, args.kind, args.file, ws.profile.country)
        except (ReferenceError, RefusedReference) as exc:  # the console's check, or the centre's
            raise CliError("cli.nothing_published", problem=exc) from exc
        except NotALead as exc:
            raise CliError(exc, code=3) from exc
        except CentralUnavailable as exc:
            raise CliError("cli.centre_unreachable_publish", detail=centre_failure(exc)) from exc
        finally:
            central.close()
    finally:
        ws.close()
    if args.json:
        print_json({k: v for k, v in published.as_dict().items() if k != "body"})
    else:
        t = Translator(ws.settings.lang)
        print(t("cli.published", kind=t(f"sync.reference_{published.kind}"), name=published.name,
                version=published.version, team=published.team, by=published.published_by))
    return 0


def cmd_reference(args: argparse.Namespace) -> int:

    from agent_console.services.reference_data import in_use, refused_versions

    ws = open_workspace(args)
    try:
        rows, refused = in_use(ws.store), refused_versions(ws)
    finally:
        ws.close()
    if args.json:
        print_json({"in_use": rows, "refused": [{k: v for k, v in r.items() if k != "error"} for r in refused]})
        return 0
    t = Translator(ws.settings.lang)
    if not rows:
        print(t("cli.reference_none"))
    kinds = [t(f"sync.reference_{r['kind']}") for r in rows]
    w_kind, w_name = (max((cells.width(x) for x in col), default=0) for col in (kinds, [r["name"] for r in rows]))
    for r, kind in zip(rows, kinds):
        print(t("cli.reference_row", kind=cells.ljust(kind, w_kind), name=cells.ljust(r["name"], w_name),
                version=r["version"], by=r["published_by"], at=r["published_at"]))
    for r in refused:
        print(t("cli.reference_refused", file=t.reference_file(r["kind"], r["name"], r["version"]),
                why=t.error(r["error"])))
    return 0
