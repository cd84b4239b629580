"""The `agent-console` command: opens the console, or runs a subcommand from `agent_console/commands/`.

Every module in `commands/` exposes `register(subparsers, common)`; the subcommand's function receives the parsed
arguments and returns an exit code. JSON output is the stable interface for scripts and tests.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from typing import Any

from agent_console import __version__, commands
from agent_console.commands.common import CliError, cleaned_output, common_options, open_workspace
from agent_console.store.local import StoreError


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(
        prog="agent-console",
        description="Complaint-hotline agent console. Without a subcommand it opens the console.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"agent-console {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "common":
            continue
        module = importlib.import_module(f"agent_console.commands.{info.name}")
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # `case act NUMBER ACTION --field value …`: the action's own fields are not options of the parser
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "wants_fields", False):
        parser.error("unrecognized arguments: " + " ".join(extra))
    args.fields = extra
    if getattr(args, "func", None) is None:
        return _run(open_console, args)
    with cleaned_output():  # whatever a command prints (text from the centre included) is safe for a terminal
        return _run(args.func, args)


def _run(func: Any, args: argparse.Namespace) -> int:
    try:
        return int(func(args) or 0)
    except CliError as exc:
        store_problem = _store_error(exc.__cause__)
        print(f"agent-console: {_told(exc, args)}", file=sys.stderr)
        return STORE_EXIT.get(store_problem.kind, exc.code) if store_problem else exc.code
    except StoreError as exc:  # a bad day of the database, met in the middle of a command
        print(f"agent-console: {_told(exc, args)}", file=sys.stderr)
        return STORE_EXIT.get(exc.kind, 2)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `agent-console case list | head`: the reader left; not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a message and a private log, no traceback
        return crashed(exc, args)


# the database on a bad day (README, "Exit codes"): busy is worth retrying; read-only and full need a change
# on the machine; damaged needs a fresh file or a backup
STORE_EXIT = {"busy": 75, "read_only": 4, "full": 4, "damaged": 5}


def _told(exc: BaseException, args: argparse.Namespace) -> str:
    """The error in the language of the command's options or config (zh unless told otherwise)."""
    from agent_console.support.i18n import Translator

    return Translator(getattr(args, "_lang", None) or getattr(args, "lang", None) or "zh").error(exc)


def _store_error(exc: BaseException | None) -> StoreError | None:
    return exc if isinstance(exc, StoreError) else None


EXIT_CRASH = 70  # EX_SOFTWARE: an error the command did not expect; the log file says where


def crashed(exc: BaseException, args: argparse.Namespace) -> int:
    """An unexpected error: the masked traceback to a private log file, one line to stderr in the user's language."""
    from agent_console.support.crash import write_crash_log
    from agent_console.support.i18n import Translator

    path = write_crash_log(exc, context=f"agent-console {getattr(args, 'command', None) or 'console'}")
    print(f"agent-console: {Translator(getattr(args, 'lang', None) or 'zh')('app.cli_crashed', path=str(path))}",
          file=sys.stderr)
    return EXIT_CRASH


def open_console(args: argparse.Namespace) -> int:
    from agent_console.services.demo_data import mark_seeded, seed_first_run

    try:
        ws = open_workspace(args, recompute=False)  # the console recomputes stale deadlines in the background
    except CliError as exc:
        if not _fresh_file_at_start(exc, args):
            raise
        ws = open_workspace(args, recompute=False)
        mark_seeded(ws)  # a working agent's fresh file after a damaged one: never demo cases among real ones
    seed_first_run(ws)
    from agent_console.app import AgentConsoleApp  # Textual is imported only when the console opens

    app = AgentConsoleApp(ws)
    app.run()
    ws.close()
    return EXIT_CRASH if app.return_code == 1 and getattr(app, "crash_message", None) else (app.return_code or 0)


def _fresh_file_at_start(exc: CliError, args: argparse.Namespace) -> bool:
    """A damaged database met as the console opens, at a terminal: the agent is asked (DamagedAtStartApp) whether
    to move it aside and start on a fresh file; True once that is done."""
    from datetime import datetime
    from pathlib import Path

    from agent_console.store.local import StoreDamaged, move_aside

    damaged = exc.__cause__
    if not isinstance(damaged, StoreDamaged) or not (sys.stdin.isatty() and sys.stdout.isatty()):
        return False
    from agent_console.app import DamagedAtStartApp

    if not DamagedAtStartApp(damaged, getattr(args, "_lang", None) or "zh").run():
        return False
    aside = move_aside(Path(damaged.params["path"]), datetime.now())
    from agent_console.support.i18n import Translator

    t = Translator(getattr(args, "_lang", None) or "zh")
    print("agent-console: " + t("fresh_file.started_at_start", aside=str(aside), path=damaged.params["path"]),
          file=sys.stderr)
    return True


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
