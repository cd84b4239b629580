"""`agent-console check`: validate profiles, the vocabulary, the calendar file, config overrides and the phrasebook.

Every problem is printed as `file:line: what is wrong`; the exit code is 1 when anything is wrong.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from agent_console.support.i18n import Translator
from agent_console.commands.common import print_json, settings_from
from agent_console.core.calendar import CalendarFileError, LocalDays
from agent_console.core.profiles import ProfileError, check_profiles, load_profile


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("check", help="validate profiles, calendar and phrasebook files", parents=[common])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    problems = check_profiles(settings.profile_dirs)
    try:  # the configured profile with this organisation's overrides
        load_profile(settings.profile, settings.profile_overrides or None, settings.profile_dirs)
    except ProfileError as exc:
        problems.extend(f"(config overrides) {p}" for p in exc.problems)
    if settings.calendar_file:
        try:
            LocalDays.load(settings.calendar_file)
        except (CalendarFileError, OSError) as exc:
            problems.append(str(exc))
    problems.extend(_phrasebook_problems(settings))
    if args.json:
        print_json({"ok": not problems, "problems": problems})
    else:
        for line in problems:
            print(line)
        t = Translator(settings.lang)
        print(t("cli.check_ok") if not problems else t("cli.check_problems", count=len(problems)))
    return 1 if problems else 0


def _phrasebook_problems(settings: Any) -> list[str]:
    try:
        phrases = importlib.import_module("agent_console.phrases")
    except ImportError:
        return []
    validate = getattr(phrases, "validate_all", None)
    if validate is None:
        return []
    from agent_console.core.shipped import shipped_phrasebook_dir

    return list(validate([shipped_phrasebook_dir(), *settings.phrasebook_dirs]))
