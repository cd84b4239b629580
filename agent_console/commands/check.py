"""`agent-console check`: validate profiles, the vocabulary, the calendar file, config overrides and the phrasebook.

Every problem is printed as `file:line: what is wrong`; the exit code is 1 when anything is wrong.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from agent_console.support.config import config_file
from agent_console.support.i18n import Translator
from agent_console.commands.common import print_json, settings_from
from agent_console.core.calendar import CalendarFileError, LocalDays
from agent_console.core.errors import Said
from agent_console.core.profiles import ProfileError, check_profiles, load_profile


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("check", help="validate profiles, calendar and phrasebook files", parents=[common])
    p.add_argument("--json", action="store_true")
    p.add_argument("--today", metavar="YYYY-MM-DD", help="look ahead from this day instead of today")
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    problems: list[Any] = list(check_profiles(settings.profile_dirs))  # text, or a Said told in the language
    try:  # the configured profile with this organisation's overrides
        load_profile(settings.profile, settings.profile_overrides or None, settings.profile_dirs,
                     overrides_file=config_file())
    except ProfileError as exc:
        problems.extend(Said("check.config_overrides", problem=p) for p in exc.problems)
    if settings.calendar_file:
        try:
            LocalDays.load(settings.calendar_file)
        except CalendarFileError as exc:
            problems.append(exc)
        except OSError:  # missing, unreadable, not UTF-8: said as the console and every command say it
            from agent_console.services.deadlines import local_days

            problems.append(local_days(settings)[1] or "")
    problems.extend(_phrasebook_problems(settings))
    problems.extend(keymap_problems(settings.keymap or {}))
    problems.extend(_schedule_problems())
    # JSON is the scripts' English; people read the warning in the console's language
    warnings = _calendar_warnings(settings, args.today, "en" if args.json else settings.lang)
    if args.json:
        print_json({"ok": not problems, "problems": [str(p) for p in problems], "warnings": warnings})
    else:
        t = Translator(settings.lang)
        for line in [*(t.error(p) for p in problems), *warnings]:
            print(line)
        print(t("cli.check_ok") if not problems else t("cli.check_problems", count=len(problems)))
    return 1 if problems else 0


def binding_ids() -> set[str]:
    """Every key-binding id the console has (the app's and every screen's and widget's), for checking a keymap."""
    import inspect
    import pkgutil

    import agent_console.screens as screens
    import agent_console.widgets as widgets
    from agent_console.screens.global_keys import GLOBAL_BINDINGS

    ids: set[str] = {b.id for b in GLOBAL_BINDINGS if b.id}
    classes: list[Any] = []
    for package in (screens, widgets):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            classes += [c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == module.__name__]
    for cls in classes:
        for binding in getattr(cls, "BINDINGS", []) or []:
            binding_id = getattr(binding, "id", None)
            if binding_id:
                ids.add(binding_id)
    return ids


def keymap_problems(keymap: dict[str, str]) -> list[Said]:
    """A keymap entry naming no binding would silently do nothing: refuse it, saying which ids exist."""
    if not keymap:
        return []
    known = binding_ids()
    from difflib import get_close_matches

    out = []
    for binding_id in sorted(keymap):
        if binding_id not in known:
            near = get_close_matches(binding_id, sorted(known), n=3)
            out.append(Said("check.keymap_near" if near else "check.keymap", id=binding_id, near=", ".join(near)))
    return out


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


def _calendar_warnings(settings: Any, today: str | None, lang: str = "en") -> list[str]:
    """A warning (not a problem: exit code 0) when the next 60 working days reach a provisional year."""
    from datetime import date, datetime

    from agent_console.commands.calendar import WARN_DAYS, provisional_warning
    from agent_console.core.calendar import WorkingCalendar
    from agent_console.core.calendar_years import shipped_schedules
    from agent_console.services.deadlines import schedules_for
    from agent_console.store.local import LocalStore, StoreError

    try:
        profile = load_profile(settings.profile, settings.profile_overrides or None, settings.profile_dirs,
                     overrides_file=config_file())
        local = LocalDays.load(settings.calendar_file) if settings.calendar_file else None
    except (ProfileError, CalendarFileError, OSError):
        return []  # reported above as a problem
    schedules = shipped_schedules(profile.country)
    if settings.db.exists():  # the years a lead loaded here
        try:
            store = LocalStore(settings.db)
            try:
                schedules = schedules_for(store, profile.country)
            finally:
                store.close()
        except StoreError:
            pass
    cal = WorkingCalendar(profile.country, profile.timezone, local, schedules=schedules)
    try:
        start = date.fromisoformat(today) if today else datetime.now(cal.tz).date()
    except ValueError:
        return [f"--today: {today!r} is not a date (YYYY-MM-DD)"]
    years = cal.provisional_years(start, cal.nth_working_day_after(start, WARN_DAYS))
    return [provisional_warning(lang, years)] if years else []


def _schedule_problems() -> list[str]:
    """The shipped official years (data/calendar/*.toml) must read as they were written."""
    from agent_console.core.calendar_years import ScheduleError, load_schedule, shipped_calendar_dir

    problems = []
    for path in sorted(shipped_calendar_dir().glob("*.toml")):
        try:
            load_schedule(path)
        except ScheduleError as exc:
            problems.append(str(exc))
    return problems
