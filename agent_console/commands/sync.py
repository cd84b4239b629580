"""`agent-console sync [--once]` and `agent-console central init|add-user`: sync from the shell, set up a centre."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from agent_console.core.errors import Said
from agent_console.core.sync_reasons import told_reason
from agent_console.support.i18n import Translator
from agent_console.commands.common import CliError, ProgressBar, open_workspace, print_json, settings_from
from agent_console.sync.failures import centre_failure

CENTRAL_URLS = "sqlite:///…/central.db, postgresql://LOGIN:PASSWORD@HOST/DB"  # what --central accepts


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("sync", help="sync with the central store (push, then pull)", parents=[common])
    p.add_argument("--once", action="store_true", help="one round, then exit (default: keep syncing)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--retry-refused", action="store_true",
                   help="queue the events the centre refused to be sent again (once the reason is fixed)")
    p.add_argument("--quarantine", action="store_true",
                   help="list the pulled events kept aside (they did not parse or fold), with the reason")
    p.add_argument("--conflicts", action="store_true",
                   help="list the sync conflicts of the lead's teams (actions that could not both stand, a fast"
                        " clock's action ordered after a later one)")
    p.set_defaults(func=cmd_sync)

    central = sub.add_parser("central", help="set up a central PostgreSQL store", parents=[common])
    csub = central.add_subparsers(dest="central_command", metavar="ACTION", required=True)
    init = csub.add_parser("init", help="install schema, functions, roles and row-level security", parents=[common])
    init.add_argument("url", help="postgresql://owner@host/db (or sqlite:///file for the embedded centre)")
    init.add_argument("--owner", default="ac_owner",
                      help="the role that owns schema ac and runs its functions (created if missing; never a"
                           " superuser)")
    init.add_argument("--reown", action="store_true",
                      help="hand an existing schema ac that belongs to another role (an older install made as a"
                           " superuser) to the owner role")
    init.set_defaults(func=cmd_init)
    add = csub.add_parser("add-user", help="a login for one agent or lead", parents=[common])
    add.add_argument("url")
    add.add_argument("login")
    add.add_argument("--as", dest="as_role", choices=["agent", "lead"], default="agent")
    add.add_argument("--teams", required=True, help="comma-separated teams this login sees")
    add.add_argument("--password")
    add.set_defaults(func=cmd_add_user)


def cmd_sync(args: argparse.Namespace) -> int:
    from agent_console.sync import open_central, sync_once

    ws = open_workspace(args)
    try:
        if args.conflicts:
            return _show_conflicts(ws, args.json)
        url = ws.settings.central
        if not url:
            raise CliError("cli.no_central")
        if args.quarantine:
            return _show_quarantine(ws, args.json)
        from agent_console.sync.central import CentralUnavailable

        try:
            central = open_central(url, ws.settings)
        except ValueError as exc:
            raise CliError("centre.bad_url", url=url, examples=CENTRAL_URLS) from exc
        except CentralUnavailable as exc:  # offline: what this console holds (events, reference data) stays
            raise CliError("cli.offline", code=1, detail=centre_failure(exc)) from exc
        if args.retry_refused:
            print(Translator(ws.settings.lang)("cli.sync_requeued", count=ws.store.requeue_refused()))
        while True:
            try:
                # a fresh console pulls a whole team's history: a bar on a terminal (stderr; silent otherwise)
                with ProgressBar(ws.settings.lang) as bar:
                    report = sync_once(ws.store, central, ws.lifecycle,
                                       progress=lambda done, left: bar(done, done + left) if left is not None
                                       else None)
            except PermissionError as exc:  # the centre does not know this login as an agent or lead of a team
                raise CliError(exc, code=3) from exc
            notes = _reference(ws, central) if report.online else []
            if args.json:
                print_json(report.__dict__ | {"quarantine_total": ws.store.quarantine_count()})
            else:
                t = Translator(ws.settings.lang)
                state = t("cli.sync_online") if report.online else t.error(report.error)
                skew = t("cli.sync_skew", seconds=f"{report.skew_ms / 1000:.0f}") if report.skew_ms else ""
                kept = t("cli.sync_kept", count=report.quarantined) if report.quarantined else ""
                conflicted = ws.store.conflicted_count() if ws.is_lead else 0
                flagged = t("cli.sync_conflicts", count=conflicted) if conflicted else ""
                print(t("cli.sync_line", state=state, pushed=report.pushed, pulled=report.pulled,
                        waiting=report.waiting, refused=len(report.refused)) + kept + skew + flagged)
                for event_id, reason in report.refused:
                    print("  " + t("cli.sync_refused", id=event_id, reason=t.error(told_reason(reason))))
                if report.quarantined:
                    for q in ws.store.quarantined(report.quarantined):
                        print("  " + t("cli.sync_kept_row", id=q["event_id"] or t("cli.sync_no_id"), seq=q["seq"],
                                       reason=t.error(told_reason(q["reason"]))))
                if report.refused:
                    print("  " + t("cli.sync_retry_hint"))
                for note in notes:
                    print(f"  {note}")
            if args.once:
                return 0 if report.online else 1
            time.sleep(ws.settings.sync_interval)
    finally:
        ws.close()


def _show_quarantine(ws: Any, as_json: bool) -> int:
    """The pulled events kept aside, for the lead: what arrived, from where, and why it was not applied."""
    rows = ws.store.quarantined(200)
    if as_json:
        print_json(rows)
        return 0
    t = Translator(ws.settings.lang)
    for q in rows:
        print(q["at"][:19] + "  " + t("cli.sync_kept_row", id=q["event_id"] or t("cli.sync_no_id"), seq=q["seq"],
                                       reason=t.error(told_reason(q["reason"]))))
    print(t("cli.sync_kept_total", count=ws.store.quarantine_count()), file=sys.stderr)
    return 0


def _show_conflicts(ws: Any, as_json: bool) -> int:
    """The sync conflicts of the lead's teams (services.lead.conflicts), one line each."""
    from agent_console.services import lead

    try:
        rows = lead.conflicts(ws)
    except lead.LeadOnly as exc:
        raise CliError(exc, code=3) from exc
    if as_json:
        print_json(rows)
        return 0
    t = Translator(ws.settings.lang)
    for r in rows:
        print(t("cli.sync_conflict_row", number=r["number"], owner=r["owner"] or "-", reason=r["reason"]))
    print(t("cli.sync_conflicts_total", count=len(rows)), file=sys.stderr)
    return 0


def _reference(ws: Any, central: Any) -> list[str]:
    """Pull the team's reference data; when it changed, switch to it and recompute the open cases' deadlines."""
    from agent_console.services.deadlines import recompute_line
    from agent_console.services.reference_data import pull
    from agent_console.sync.central import CentralUnavailable

    t = Translator(ws.settings.lang)
    try:
        changed = pull(ws.store, central, ws.settings, ws.profile.country)
    except CentralUnavailable as exc:
        return [t.error(Said("sync.reference_not_pulled", why=centre_failure(exc)))]
    if not changed:
        return []
    notes = [t("cli.sync_reference_in_use", files=t.reference_files(changed))]
    if ws.reload_reference():
        notes.append(recompute_line(ws.settings.lang, ws.recompute_deadlines()))
    return notes


def cmd_init(args: argparse.Namespace) -> int:
    if args.url.startswith("sqlite:///"):
        from agent_console.sync.central import CentralUnavailable, Identity
        from agent_console.sync.sqlite_central import SqliteCentral

        t = Translator(settings_from(args).lang)
        try:
            SqliteCentral(args.url, Identity("setup")).close()
        except CentralUnavailable as exc:
            raise CliError("centre.install_failed", why=centre_failure(exc)) from exc
        print(t("cli.central_ready_embedded", url=args.url))
        return 0
    from agent_console.sync import pg

    t = Translator(settings_from(args).lang)
    try:
        pg.install(args.url, owner=args.owner, reown=args.reown)
    except pg.InstallRefused as exc:
        raise CliError("centre.install_refused", code=3, why=exc) from exc
    except Exception as exc:  # noqa: BLE001 - any driver error: told by what it is, the driver's words for English
        raise CliError("centre.install_failed", why=centre_failure(exc)) from exc
    print(t("cli.central_ready", owner=args.owner))
    return 0


def cmd_add_user(args: argparse.Namespace) -> int:
    from agent_console.sync import pg

    t = Translator(settings_from(args).lang)
    teams = [team.strip() for team in args.teams.split(",") if team.strip()]
    try:
        pg.add_user(args.url, args.login, args.as_role, teams, args.password)
    except pg.UserRefused as exc:
        raise CliError("centre.add_user_failed", why=exc) from exc
    except Exception as exc:  # noqa: BLE001 - any driver error: told by what it is, the driver's words for English
        raise CliError("centre.add_user_failed", why=centre_failure(exc)) from exc
    print(t("cli.central_user_added", login=args.login, role=t(f"cli.central_role_{args.as_role}"),
            teams="、".join(teams) if t.lang == "zh" else ", ".join(teams)))
    return 0
