"""The team's reference data from the centre: calendar years, profile overrides and phrasebook files a lead publishes
once for every console of the team.

`publish` checks the file as the consoles will use it (file:line on any problem: nothing reaches the centre) and
sends it as the next version. `pull` (after each sync round) takes the versions after the console's cursor, checks
each again (its digest and its contents), and applies the newest good version of every file together with the cursor
in one local transaction: a console never holds half of a publication, and offline it keeps the last good versions.
What is in use shows in `agent-console reference` (kind, name, version, publisher, date).

Applied: official calendar years join the calendar (services/deadlines.schedules_for), overrides are merged over the
config's `[profile_overrides]`, phrasebook files are written to a folder beside the database that joins the
phrasebook folders. A change makes the stored deadlines stale, so the open cases are recomputed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import tempfile
import tomllib
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_console.core.calendar_years import ScheduleError, parse_schedule
from agent_console.core.errors import Said, said_as_data, said_from_data
from agent_console.core.profiles import ProfileError, load_profile
from agent_console.store.local import LocalStore
from agent_console.sync.reference import KINDS, Published, body_digest

if TYPE_CHECKING:
    from agent_console.services.workspace import Workspace
    from agent_console.support.config import Settings

APPLIED_KEY = "reference_data"
REFUSED_KEY = "reference_refused"
# changes whenever what deadlines or replies depend on changes in this database (a year loaded, a pull applied):
# one short row a running console reads on a timer to learn that another process changed it
GENERATION_KEY = "reference_generation"


class ReferenceError(Said, ValueError):
    """A reference file that cannot be used (`error.reference.*`); the message names the file and the line."""


class FileVersion(str):
    """One version of one reference file: the text is "kind:name vN" (logs, --json, tests); `kind`, `name` and
    `version` let the edge tell it in the reader's language (`Translator.reference_file`)."""

    kind: str
    name: str
    version: int

    def __new__(cls, kind: str, name: str, version: int) -> "FileVersion":
        obj = super().__new__(cls, f"{kind}:{name} v{version}")
        obj.kind, obj.name, obj.version = kind, name, version
        return obj

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (worker threads) with its parts
        return (FileVersion, (self.kind, self.name, self.version))


def cursor_key(url: str) -> str:
    return f"reference_cursor:{url}"


# -- checking -------------------------------------------------------------------------------------------------
def check(kind: str, name: str, body: str, settings: Settings, country: str = "CN") -> None:
    """Refuse a file the consoles could not use, with name:line."""
    if kind not in KINDS:
        raise ReferenceError("reference.unknown_kind", name=name, kind=kind, known=", ".join(KINDS))
    if kind == "calendar":
        try:
            schedule = parse_schedule(body, name)
        except ScheduleError as exc:
            raise ReferenceError("reference.problems", problems=exc) from exc
        if not schedule.official or schedule.country != country:
            raise ReferenceError("reference.not_official", name=name, country=country)
    elif kind == "overrides":
        data = _toml(name, body)
        try:
            load_profile(settings.profile, _merge(settings.profile_overrides, data) or None, settings.profile_dirs)
        except ProfileError as exc:
            raise ReferenceError("reference.breaks_profile", where=f"{name}:{_first_key_line(body)}",
                                 problems=list(exc.problems)) from exc
    else:
        from agent_console.phrases import validate_all

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / (name if name.endswith(".toml") else f"{name}.toml")
            path.write_text(body, encoding="utf-8")
            problems = validate_all([Path(tmp)])
        if problems:  # each told in the console's language, the temporary file named as the lead named it
            raise ReferenceError("reference.problems", problems=[_renamed(p, str(path), name) for p in problems])


def _toml(name: str, body: str) -> dict[str, Any]:
    import re

    try:
        return tomllib.loads(body)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        raise ReferenceError("reference.syntax", where=f"{name}:{found.group(1) if found else 1}",
                             detail=str(exc)) from exc


def _renamed(problem: object, temporary: str, name: str) -> object:
    """A phrasebook problem (a Said or text) with the temporary file's path replaced by the file's own name."""
    if isinstance(problem, Said):
        params = {k: _renamed(v, temporary, name) for k, v in problem.params.items()}
        return Said(problem.key, **params)
    return problem.replace(temporary, name) if isinstance(problem, str) and type(problem) is str else problem


def _first_key_line(body: str) -> int:
    for number, line in enumerate(body.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            return number
    return 1


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        out[key] = _merge(out[key], value) if isinstance(out.get(key), dict) and isinstance(value, dict) else value
    return out


# -- publishing and pulling -----------------------------------------------------------------------------------
def publish(central: Any, settings: Settings, kind: str, path: Path, country: str = "CN") -> Published:
    try:
        body = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReferenceError("reference.unreadable", path=str(path), detail=str(exc)) from exc
    check(kind, path.name, body, settings, country)
    return central.publish_reference(settings.team, kind, path.name, body)


def applied(store: LocalStore) -> dict[str, dict[str, Any]]:
    """"kind:name" -> the version in use (version, body, digest, published_by, published_at, seq)."""
    return store.meta_dict(APPLIED_KEY)


def pull(store: LocalStore, central: Any, settings: Settings, country: str = "CN") -> list[FileVersion]:
    """Apply what the lead published since the last pull; return each file version that changed."""
    if not hasattr(central, "pull_reference"):
        return []
    key = cursor_key(central.url)
    after = int(store.meta(key) or 0)
    rows = central.pull_reference(after)
    if not rows:
        return []
    current = applied(store)
    refused: list[dict[str, Any]] = []
    changed: list[FileVersion] = []
    for row in rows:
        if row.team != settings.team:  # a lead's other teams: their files are theirs
            continue
        slot = f"{row.kind}:{row.name}"
        held = current.get(slot)
        if held is not None and held["version"] >= row.version:
            continue
        try:
            if body_digest(row.body) != row.digest:
                raise ReferenceError("reference.digest", name=row.name)
            check(row.kind, row.name, row.body, _with(settings, current, row), country)
        except ReferenceError as exc:
            # kept by key, so the console tells why in its own language (`refused_versions`); `reason` for --json
            refused.append({"kind": row.kind, "name": row.name, "version": row.version, "reason": str(exc),
                            "error": said_as_data(exc)})
            continue  # the last good version stays in use
        current[slot] = {"version": row.version, "body": row.body, "digest": row.digest,
                         "published_by": row.published_by, "published_at": row.published_at, "seq": row.seq}
        changed.append(FileVersion(row.kind, row.name, row.version))
    with store.transaction():  # the files and the cursor together: all of this pull or none of it
        store.set_meta(APPLIED_KEY, json.dumps(current, ensure_ascii=False))
        store.set_meta(key, str(rows[-1].seq))
        if changed:
            store.set_meta(GENERATION_KEY, uuid.uuid4().hex)
        if refused:
            store.set_meta(REFUSED_KEY, json.dumps(refused, ensure_ascii=False))
    if changed:
        phrasebook_dir(store, settings)  # made now, on the sync's thread; the console switches to it on reload
    return changed


def _with(settings: Settings, current: dict[str, dict[str, Any]], row: Published) -> Settings:
    """Settings with the overrides in use besides this row, so a new overrides file is checked with the others."""
    if row.kind != "overrides":
        return settings
    others = {k: v for k, v in current.items() if k.startswith("overrides:") and k != f"overrides:{row.name}"}
    merged = dict(settings.profile_overrides)
    for _, entry in sorted(others.items()):
        merged = _merge(merged, tomllib.loads(entry["body"]))
    return settings.model_copy(update={"profile_overrides": merged})


# -- using what was applied -----------------------------------------------------------------------------------
def calendar_texts(store: LocalStore) -> list[tuple[str, str]]:
    return [(k.split(":", 1)[1], v["body"]) for k, v in sorted(applied(store).items()) if k.startswith("calendar:")]


def merged_overrides(store: LocalStore, settings: Settings) -> dict[str, Any]:
    """The config's overrides with the team's published ones on top (they are the lead's word for the team)."""
    merged = dict(settings.profile_overrides)
    for k, v in sorted(applied(store).items()):
        if k.startswith("overrides:"):
            try:
                merged = _merge(merged, tomllib.loads(v["body"]))
            except tomllib.TOMLDecodeError:
                continue  # checked when applied
    return merged


def reference_root(settings: Settings) -> Path:
    return Path(str(settings.db) + ".reference")


def phrasebook_dir(store: LocalStore, settings: Settings) -> Path | None:
    """The folder of the published phrasebook files in use (None: none published, or an in-memory database).

    One folder per set of versions, named by their digest and made whole before it appears (written beside it,
    then renamed): a console switches from one folder to the next in one step and never reads half of a set. A
    folder missing (deleted, or a crash after the pull's commit) is written again from the database.
    """
    files = {k.split(":", 1)[1]: v["body"] for k, v in applied(store).items() if k.startswith("phrasebook:")}
    if not files or str(settings.db) == ":memory:":
        return None
    digest = hashlib.sha256(json.dumps(sorted(files.items()), ensure_ascii=False).encode("utf-8")).hexdigest()[:16]
    root = reference_root(settings)
    folder = root / f"phrasebook-{digest}"
    if folder.is_dir():
        return folder
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".phrasebook-", dir=root))
    except OSError:
        return None  # a folder that cannot be written: the shipped and the config's phrasebooks still work
    for name, body in files.items():
        (tmp / (name if name.endswith(".toml") else f"{name}.toml")).write_text(body, encoding="utf-8")
    try:
        tmp.rename(folder)
    except OSError:  # another process of this console made it meanwhile: the same contents
        shutil.rmtree(tmp, ignore_errors=True)
    return folder if folder.is_dir() else None


def drop_other_phrasebooks(settings: Settings, keep: Path | None) -> None:
    """Remove the folders of earlier sets once the console has switched to `keep` (best effort)."""
    root = reference_root(settings)
    if not root.is_dir():
        return
    for old in root.glob("phrasebook*"):  # (and the single folder of earlier releases)
        if old != keep and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def is_reference_folder(path: Path, settings: Settings) -> bool:
    return Path(path).parent == reference_root(settings)


def refused_versions(ws: Workspace) -> list[dict[str, Any]]:
    """The published versions this console refused to apply: kind, name, version, `reason` (English) and `error`
    (a Said, for the reader's language). A row kept by an older console ("kind:name vN: English") is read into
    the same shape, its text as the detail."""
    rows = []
    for row in json.loads(ws.store.meta(REFUSED_KEY) or "[]"):
        if isinstance(row, str):
            head, _, why = row.partition(": ")
            slot, _, version = head.rpartition(" v")
            kind, _, name = slot.partition(":")
            row = {"kind": kind, "name": name, "version": int(version) if version.isdigit() else 0, "reason": why,
                   "error": said_as_data(Said("reference.problems", problems=why))}
        rows.append(row | {"error": said_from_data(row["error"])})
    return rows


def in_use(store: LocalStore) -> list[dict[str, Any]]:
    return [{"kind": k.split(":", 1)[0], "name": k.split(":", 1)[1], "version": v["version"],
             "published_by": v["published_by"], "published_at": v["published_at"]}
            for k, v in sorted(applied(store).items())]
