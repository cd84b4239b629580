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
        print(f"agent-console: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `agent-console case list | head`: the reader left; not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def open_console(args: argparse.Namespace) -> int:
    ws = open_workspace(args, recompute=False)  # the console recomputes stale deadlines in the background
    from agent_console.commands.common import seed_first_run

    seed_first_run(ws)
    from agent_console.app import AgentConsoleApp  # Textual is imported only when the console opens

    AgentConsoleApp(ws).run()
    ws.close()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
