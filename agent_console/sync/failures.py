"""Why the centre could not be used, told by key (`error.centre.*`): a connection refused, a wrong password, a host
that does not resolve, a database or a login the centre does not have, a centre never installed, a connection
dropped mid-round. psycopg and libpq say it in English and carry no SQLSTATE for a failed connection, so their
message is read here, once, and the sentence the agent sees comes from the locale; the driver's own text goes with
it as `detail` (shown in English, and in Chinese only when nothing better is known: an operator needs it then)."""

from __future__ import annotations

import re
import sqlite3

from agent_console.core.errors import Said

_WHERE = re.compile(r'connection to server (?:at "(?P<host>[^"]+)"(?: \([^)]*\))?, port (?P<port>\d+)|'
                    r'on socket "(?P<socket>[^"]+)")')

# (pattern searched in the driver's message, key under error.centre); named groups become parameters
_MESSAGES: list[tuple[re.Pattern[str], str]] = [(re.compile(p, re.I), k) for p, k in [
    (r'password authentication failed for user "(?P<login>[^"]+)"', "password"),
    (r"no password supplied|password is required|authentication failed", "password"),
    (r'role "(?P<login>[^"]+)" does not exist', "no_login"),
    (r'database "(?P<database>[^"]+)" does not exist', "no_database"),
    (r'no pg_hba\.conf entry for host "(?P<client>[^"]+)", user "(?P<login>[^"]+)"', "not_allowed"),
    (r"failed to resolve host '(?P<host>[^']+)'|could not translate host name \"(?P<host2>[^\"]+)\"", "no_host"),
    (r"Connection refused|No such file or directory", "refused"),
    (r"timeout expired|timed out", "timeout"),
    (r"No route to host|Network is unreachable", "no_route"),
    (r"SSL|certificate", "ssl"),
    (r"too many connections|remaining connection slots", "too_many"),
    (r"the database system is (?:starting up|shutting down|in recovery mode)", "starting"),
    (r"server closed the connection|terminating connection|connection (?:lost|reset)|the connection is lost|"
     r"consuming input failed|sending query failed|Broken pipe|an earlier batch was not recorded", "lost"),
    (r"centre busy|lock timeout|canceling statement due to lock timeout", "busy"),
]]

# PostgreSQL errors the centre's functions raise when the schema is missing or older than this console
_NOT_INSTALLED = {"InvalidSchemaName", "UndefinedFunction", "UndefinedTable"}


def centre_failure(exc: BaseException) -> Said:
    """What went wrong with the centre, by key, from the exception and the ones it was raised from."""
    chain = _chain(exc)
    for error in chain:
        if isinstance(error, Said):
            return error
    detail = _detail(chain)
    for error in chain:
        names = {cls.__name__ for cls in type(error).__mro__}
        if names & _NOT_INSTALLED:
            return Said("centre.not_installed", detail=detail)
        if "InsufficientPrivilege" in names:
            return Said("centre.no_role", detail=detail)
        if isinstance(error, sqlite3.Error):
            return Said("centre.file", path=_sqlite_path(chain), detail=detail)
        if isinstance(error, OSError) and error.filename:  # the embedded centre's folder
            return Said("centre.file", path=str(error.filename), detail=detail)
    text = " ".join(str(e) for e in chain)
    where = _where(text)
    for pattern, key in _MESSAGES:
        found = pattern.search(text)
        if found:
            params = {k.rstrip("2"): v for k, v in found.groupdict().items() if v is not None}
            params.setdefault("login", "")
            params.setdefault("host", where)
            return Said(f"centre.{key}", where=where, detail=detail, **params)
    return Said("centre.other", detail=detail)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen and len(seen) < 10:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return seen


def _detail(chain: list[BaseException]) -> str:
    """The driver's own words, first line, for an operator (the deepest exception says it best)."""
    for error in reversed(chain):
        text = str(error).strip()
        if text:
            return text.splitlines()[0]
    return type(chain[0]).__name__


def _where(text: str) -> str:
    found = _WHERE.search(text)
    if not found:
        return "?"
    if found["socket"]:
        return found["socket"]
    return f"{found['host']}:{found['port']}"


def _sqlite_path(chain: list[BaseException]) -> str:
    """The embedded centre's file: its errors read "PATH: what SQLite said"."""
    for outer, inner in zip(chain, chain[1:]):
        text, said = str(outer), f": {inner}"
        if isinstance(inner, sqlite3.Error) and text.endswith(said) and len(text) > len(said):
            return text[: -len(said)]
    return "?"
