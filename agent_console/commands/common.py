"""What every subcommand shares: the common options, opening the workspace, JSON printing, clear errors."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_console.core.errors import Said
from agent_console.support.config import ConfigError, load_settings
from agent_console.core.profiles import ProfileError
from agent_console.store.local import StoreError

if TYPE_CHECKING:
    from agent_console.core.models import CaseState
    from agent_console.services.workspace import Workspace


class CliError(Said):
    """A command that cannot go on: a key of the locale's `[error]` words with its parameters (or an error that
    already says it: a Said, a profile problem), told in the console's language by cli._run; `code` is the exit."""

    def __init__(self, key: str | BaseException, code: int = 2, **params: Any) -> None:
        if isinstance(key, BaseException):
            key, params = "as_is", {"what": key}
        super().__init__(key, **params)
        self.code = code


def common_options() -> argparse.ArgumentParser:
    """Options accepted before or after the subcommand name (SUPPRESS keeps a later default from erasing them)."""
    p = argparse.ArgumentParser(add_help=False)
    s = argparse.SUPPRESS
    p.add_argument("--db", type=Path, default=s, help="local database file")
    p.add_argument("--agent", default=s, help="the agent id working here")
    p.add_argument("--role", choices=["agent", "lead"], default=s)
    p.add_argument("--team", default=s)
    p.add_argument("--profile", default=s, help="policy profile id or file")
    p.add_argument("--lang", choices=["zh", "en"], default=s)
    p.add_argument("--central", default=s, help="central store URL (sqlite:///… or postgresql://…)")
    p.add_argument("--config", type=Path, default=s, help="config file (default: XDG config dir)")
    return p


SETTING_NAMES = ("db", "agent", "role", "team", "profile", "lang", "central")


def settings_from(args: argparse.Namespace) -> Any:
    import os

    if getattr(args, "config", None):
        os.environ["AGENT_CONSOLE_CONFIG"] = str(args.config)
    try:
        settings = load_settings(**{k: getattr(args, k, None) for k in SETTING_NAMES})
    except ConfigError as exc:
        raise CliError(exc) from exc
    args._lang = settings.lang  # the language errors are told in (cli._run), from the options or the config
    return settings


def open_workspace(args: argparse.Namespace, recompute: bool = True, **kw: Any) -> Any:
    """The workspace; with `recompute`, stale deadlines (a new calendar or profile version) are recomputed first and
    the move is reported on stderr, so no command answers from stale deadlines (the console does it in the
    background instead)."""
    from agent_console.services.workspace import Workspace

    settings = settings_from(args)
    try:
        ws = Workspace(settings, **kw)
    except (StoreError, ProfileError) as exc:
        raise CliError(exc) from exc
    if ws.calendar_problem and not getattr(args, "_calendar_told", False):
        args._calendar_told = True  # once per command, however many times it opens the workspace
        from agent_console.support.i18n import Translator

        t = Translator(ws.settings.lang)
        print("agent-console: " + t("cli.calendar_file_broken", problem=t.error(ws.calendar_problem)), file=sys.stderr)
    if recompute and ws.stale_reasons:
        try:
            report = ws.recompute_deadlines()
        except StoreError as exc:
            ws.close()
            raise CliError(exc) from exc
        print(f"agent-console: {recompute_line(ws, report)}", file=sys.stderr)
    return ws


def recompute_line(ws: Any, report: Any) -> str:
    from agent_console.services.deadlines import recompute_line as line

    return line(ws.settings.lang, report)


class CleanOutput:
    """A text stream that passes on only what is safe for a terminal (core.text.display_text): every line a command
    prints goes through it, so text from the centre or a file never reaches the terminal raw."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        from agent_console.core.text import display_text

        self._stream.write(display_text(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    @property
    def raw(self) -> Any:
        """The stream underneath, for what this program draws itself (a progress bar's carriage returns)."""
        return self._stream

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, encoding, buffer…
        return getattr(self._stream, name)


@contextmanager
def cleaned_output() -> Iterator[None]:
    """sys.stdout and sys.stderr cleaned for the terminal while a command runs (see CleanOutput)."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = CleanOutput(out), CleanOutput(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def read_stdin(what: str) -> str:
    """Standard input as UTF-8 text; a byte that is not UTF-8 is a message naming its line, never a traceback."""
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:  # a text stream put in place by a caller (tests): already decoded
        return sys.stdin.read()
    data = raw.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CliError("cli.stdin_not_utf8", what=_what(what), byte=f"0x{data[exc.start]:02x}", line=line,
                       offset=exc.start + 1) from exc


def load_json(text: str, what: str) -> Any:
    """JSON text, with a message for bad syntax (line, column) and for nesting too deep to read."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError("cli.bad_json", what=_what(what), line=exc.lineno, column=exc.colno, detail=exc.msg) from exc
    except RecursionError as exc:
        raise CliError("cli.json_too_deep", what=_what(what)) from exc


def _what(command: str) -> object:
    """A command's name as a message begins with it ("case new" -> 登记案件 in Chinese)."""
    from agent_console.core.errors import has_words

    key = "what." + command.replace(" ", "_")
    return Said(key) if has_words(f"error.{key}") else command


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=None, default=str)
    sys.stdout.write("\n")


def parse_duration(text: str) -> timedelta:
    """'3d', '12h', '90m', '2w', or a bare number of hours."""
    t = text.strip().lower()
    units = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
    try:
        if t and t[-1] in units:
            return timedelta(seconds=float(t[:-1]) * units[t[-1]])
        return timedelta(hours=float(t))
    except ValueError as exc:
        raise CliError("cli.bad_duration", value=text) from exc


class ProgressBar:
    """A progress bar on stderr for long commands (stdout stays the result); silent when stderr is no terminal.
    Call it with (done, total); use it as a context manager so the line ends when the work does. Beside the count
    it says the speed (items a second since the bar began) and the time left at that speed, then the time taken."""

    def __init__(self, lang: str = "zh", width: int = 30, clock: Callable[[], float] = time.monotonic) -> None:
        self.width = width
        self.shown = False
        self._lang = lang
        self._clock = clock
        self._began = clock()
        self._last = -1.0
        self._drawn = 0  # the length of the line drawn last: a shorter one is padded over it

    def __call__(self, done: int, total: int) -> None:
        if not sys.stderr.isatty() or total <= 0:
            return
        now = self._clock()
        if now - self._last < 0.1 and done < total:
            return  # a redraw ten times a second is enough
        self._last = now
        filled = self.width * min(done, total) // total
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total}"
        pace = self.pace(done, total, now)
        if pace:
            line += "  " + pace
        err = getattr(sys.stderr, "raw", sys.stderr)  # our own drawing: its carriage return is not cleaned away
        err.write("\r" + line + " " * max(0, self._drawn - len(line)))
        err.flush()
        self._drawn = len(line)
        self.shown = True

    def pace(self, done: int, total: int, now: float) -> str:
        """"2358/s, 6:57 left" (the time left at the speed so far), "2358/s, took 7:04" at the end; "" before
        anything is done."""
        from agent_console.support.i18n import Translator

        spent = now - self._began
        if done <= 0 or spent <= 0:
            return ""
        rate = done / spent
        speed = f"{rate:.0f}" if rate >= 10 else f"{rate:.1g}" if rate < 1 else f"{rate:.1f}"
        t = Translator(self._lang)
        if done >= total:
            return t("cli.progress_took", rate=speed, took=_clock_time(spent))
        return t("cli.progress_left", rate=speed, left=_clock_time((total - done) / rate))

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.shown:
            sys.stderr.write("\n")


def _clock_time(seconds: float) -> str:
    """7:04, 1:02:09: minutes and seconds, hours in front when there are any."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def require_case(ws: Workspace, number: str) -> CaseState:
    """The case with this number (or id); otherwise the command ends with "no such case" (exit 1)."""
    state = ws.find(number)
    if state is None:
        raise CliError("cli.no_case", code=1, number=number)
    return state
