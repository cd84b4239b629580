"""`agent-console import FILE` and `agent-console export --format jsonl|csv`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent_console.support.i18n import Translator
from agent_console.commands.common import CliError, open_workspace, print_json
from agent_console.core.case_query import CaseQuery


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    imp = sub.add_parser("import", help="register cases from a JSONL or CSV file", parents=[common])
    imp.add_argument("file", type=Path)
    imp.add_argument("--json", action="store_true")
    imp.add_argument("--encoding", help="the file's encoding when it is not UTF-8 (e.g. gb18030); never guessed")
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="export cases as JSONL or CSV", parents=[common])
    exp.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    exp.add_argument("--open", action="store_true", help="only open cases")
    exp.add_argument("--output", type=Path, help="file to write (default stdout)")
    exp.add_argument("--unmask", action="store_true", help="full phone and ID numbers (team leads only)")
    exp.set_defaults(func=cmd_export)


def cmd_import(args: argparse.Namespace) -> int:
    from agent_console.services.transfer import import_file

    if not args.file.is_file():
        raise CliError("cli.no_such_file", path=str(args.file))
    if args.file.suffix.lower() not in (".jsonl", ".csv", ".json", ".ndjson"):
        raise CliError("cli.import_kind", path=str(args.file))
    ws = open_workspace(args)
    lang = ws.settings.lang
    try:
        result = import_file(ws, args.file, args.encoding)
    except ValueError as exc:
        raise CliError(exc) from exc
    finally:
        ws.close()
    if args.json:
        print_json({"imported": result.imported, "errors": result.errors})
    else:
        t = Translator(lang)
        for problem in result.problems:
            print(t.error(problem), file=sys.stderr)
        print(Translator(lang)("cli.imported", count=len(result.imported), refused=len(result.errors)))
    return 1 if result.errors else 0


def cmd_export(args: argparse.Namespace) -> int:
    from agent_console.services.transfer import export_cases

    ws = open_workspace(args)
    try:
        if args.unmask and not ws.is_lead:
            raise CliError("cli.unmask_export_lead_only", code=3)
        text = export_cases(ws, args.format, CaseQuery(open_only=args.open), mask=not args.unmask)
    finally:
        ws.close()
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
