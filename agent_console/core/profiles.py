"""Policy profiles: categories, departments, tiers and clocks, loaded from TOML files a team lead can edit.

A profile file is validated with pydantic; every error names the file, the line and what is wrong. An organisation
overrides any number from its config (`[profile_overrides]`) without touching the shipped file.
"""

from __future__ import annotations

import copy
import re
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from agent_console.core.errors import ProfileError, Said, toml_error_line, validation_problem
from agent_console.core.events import EVENT_KINDS
from agent_console.core.plausibility import IntakeLimits
from agent_console.core.vocabulary import Vocabulary, load_vocabulary
from agent_console.core.shipped import shipped_profiles_dir

TIERS = ("general", "complex", "major")


class Unit(StrEnum):
    minutes = "minutes"
    hours = "hours"
    calendar_days = "calendar_days"
    working_days = "working_days"
    months = "months"


# units counted in whole days: their lengths and warnings must be whole numbers
WHOLE_UNITS = frozenset({Unit.calendar_days, Unit.working_days, Unit.months})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


TierNumbers = int | float | dict[str, int | float]
# what a clock is for: screens, services and the store ask a profile for a clock by its role, never by its id
ClockRole = Literal["resolve", "confirm", "update", "coordinator", "reply", "report", "ladder", "other"]


class ClockSpec(_Strict):
    """One deadline rule: what starts it, what stops it, how long, and what happens near it."""

    id: str
    label: str
    label_en: str
    start: str = "received"  # "received" (the complaint's received_at) or an event kind
    stop: list[str] = Field(default_factory=lambda: ["closed"])
    unit: Unit
    length: TierNumbers
    warn: TierNumbers | None = None  # in the clock's unit, counted from the start; default 80 % of the length
    restart_on: list[str] = Field(default_factory=list)  # a recurring clock starts again at each of these events
    pause_gives_time_back: bool = False
    extendable: bool = False
    tiers: list[str] | None = None  # None: every tier
    channels: list[str] | None = None  # None: every channel
    flags: list[str] | None = None  # applies only when the case carries one of these sensitive flags
    categories: list[str] | None = None  # None: every category
    role: ClockRole = "other"

    @field_validator("length", "warn")
    @classmethod
    def _tiers_known(cls, value: TierNumbers | None) -> TierNumbers | None:
        if isinstance(value, dict):
            unknown = set(value) - set(TIERS)
            if unknown:
                raise ValueError(Said("profile.unknown_tier", tier=repr(sorted(unknown)[0]), tiers=", ".join(TIERS)))
            for v in value.values():
                if v <= 0:
                    raise ValueError(Said("profile.lengths_positive"))
        elif value is not None and value <= 0:
            raise ValueError(Said("profile.lengths_positive"))
        return value

    @field_validator("length", "warn")
    @classmethod
    def _whole_days(cls, value: TierNumbers | None, info: ValidationInfo) -> TierNumbers | None:
        """Day and month clocks count whole days (DOMAIN.md §5): 2.5 working days has no end to count to (it was
        truncated to 2, and 0.5 to none, a case breached at birth)."""
        unit = info.data.get("unit")
        if value is None or unit not in WHOLE_UNITS:
            return value
        for v in (value.values() if isinstance(value, dict) else [value]):
            if isinstance(v, float) and not v.is_integer():
                raise ValueError(Said("profile.whole_days", unit=Said(f"profile.unit.{unit}"), value=f"{v:g}"))
        return value

    def applies(self, tier: str, channel: str, flags: set[str], category: str = "") -> bool:
        if self.tiers is not None and tier not in self.tiers:
            return False
        if self.categories is not None and category not in self.categories:
            return False
        if self.channels is not None and channel not in self.channels:
            return False
        if self.flags is not None and not (flags & set(self.flags)):
            return False
        return self.length_for(tier) is not None

    def length_for(self, tier: str) -> float | None:
        if isinstance(self.length, dict):
            return self.length.get(tier)
        return self.length

    def warn_for(self, tier: str) -> float | None:
        if isinstance(self.warn, dict):
            return self.warn.get(tier)
        return self.warn


class Department(_Strict):
    id: str
    label: str
    label_en: str


class Category(_Strict):
    id: str
    label: str
    label_en: str
    department: str
    needs_fault_description: bool = False


class Ladder(_Strict):
    """The dissatisfaction early-warning ladder (DOMAIN.md §5): minutes before each report is due."""

    enabled: bool = False
    agent_minutes: int = 5
    lead_minutes: int = 10
    desk_callback_minutes: int = 5


class CallbackRules(_Strict):
    satisfaction_on_close: bool = True
    satisfaction_after_hours: int = 24
    progress_before_update_hours: int = 24
    unreachable_attempts: int = 3
    unreachable_span_hours: int = 48


class Profile(_Strict):
    id: str
    name: str
    name_en: str
    country: str = "CN"
    timezone: str = "Asia/Shanghai"
    anonymous: Literal["allow", "refuse", "park"] = "park"
    required: list[str] = Field(default_factory=lambda: ["phone", "category", "facts", "request"])
    auto_accept_channels: list[str] = Field(default_factory=lambda: ["phone", "visit"])
    extension_ceiling: int = 0  # in the resolve clock's unit; 0: no extension allowed
    departments: list[Department]
    categories: list[Category]
    clocks: list[ClockSpec]
    ladder: Ladder = Ladder()
    callbacks: CallbackRules = CallbackRules()
    intake: IntakeLimits = IntakeLimits()  # what a plausible new case looks like (core/plausibility.py)
    source_file: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> "Profile":
        depts = {d.id for d in self.departments}
        for i, cat in enumerate(self.categories):
            if cat.department not in depts:
                raise ValueError(Said("profile.unknown_department", index=i, department=repr(cat.department)))
        for kind, items in (("category", self.categories), ("clock", self.clocks), ("department", self.departments)):
            seen: set[str] = set()
            for item in items:
                if item.id in seen:
                    raise ValueError(Said("profile.listed_twice", kind=Said(f"profile.kind.{kind}"), id=repr(item.id)))
                seen.add(item.id)
        cats = {c.id for c in self.categories}
        for clock in self.clocks:
            for cat in clock.categories or []:
                if cat not in cats:
                    raise ValueError(Said("profile.unknown_category", clock=repr(clock.id), category=repr(cat)))
            for kind in [clock.start, *clock.stop, *clock.restart_on]:
                if kind != "received" and kind not in EVENT_KINDS:
                    raise ValueError(Said("profile.unknown_kind", clock=repr(clock.id), kind=repr(kind)))
        return self

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def department(self, department_id: str) -> Department | None:
        return next((d for d in self.departments if d.id == department_id), None)

    def clock(self, clock_id: str) -> ClockSpec | None:
        return next((c for c in self.clocks if c.id == clock_id), None)

    def clock_for(self, role: ClockRole, start: str | None = None) -> ClockSpec | None:
        """The first clock with this role (and, when given, started by this event kind): ask by role, never by id."""
        return next((c for c in self.clocks if c.role == role and (start is None or c.start == start)), None)

    @property
    def resolve_clock(self) -> ClockSpec | None:
        return self.clock_for("resolve")

    @property
    def coordinator_clock(self) -> ClockSpec | None:
        return self.clock_for("coordinator")

    @property
    def lead_calm_clock(self) -> ClockSpec | None:
        """The ladder's clock for the lead to calm a dissatisfied caller (started by the report to the lead)."""
        return self.clock_for("ladder", start="dissatisfaction_reported")


# -- loading --------------------------------------------------------------------------------------------------
def available_profiles(extra_dirs: list[Path] | None = None) -> dict[str, Path]:
    """Profile id -> file; files in extra_dirs (a team's own) replace shipped ones of the same name."""
    found: dict[str, Path] = {}
    for folder in [shipped_profiles_dir(), *(extra_dirs or [])]:
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                if not path.name.startswith("_"):
                    found[path.stem] = path
    return found


def load_profile(
    name_or_path: str | Path,
    overrides: dict[str, Any] | None = None,
    extra_dirs: list[Path] | None = None,
    overrides_file: Path | None = None,
) -> Profile:
    """Load a profile by id (shipped or in extra_dirs) or by path, apply config overrides, validate."""
    path = Path(name_or_path)
    if not path.suffix:
        profiles = available_profiles(extra_dirs)
        if str(name_or_path) not in profiles:
            raise ProfileError([f"unknown profile {name_or_path!r}; known: {', '.join(sorted(profiles))}"])
        path = profiles[str(name_or_path)]
    if not path.is_file():
        raise ProfileError([f"{path}: no such profile file"])
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError([f"{path}:{toml_error_line(exc)}: {exc}"]) from exc
    if overrides:
        data = apply_overrides(data, overrides)
    data["source_file"] = str(path)
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError([_describe_override(overrides_file, err) if _overridden(overrides, err)
                            else _describe(path, text, err) for err in exc.errors()]) from exc


def _overridden(overrides: dict[str, Any] | None, err: Any) -> bool:
    """Whether a validation error is about a value the overrides set (so the user's file is to blame)."""
    node: Any = overrides or {}
    for part in err.get("loc", ()):
        if isinstance(part, int):  # a list item: overrides address list tables by id, not by position
            return bool(node)
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return bool(err.get("loc"))


def _describe_override(source: Path | None, err: Any) -> Said:
    """An override's error, named against the file the user wrote (the config) and its line there."""
    loc = [str(p) for p in err.get("loc", ())]
    where = ".".join(loc)
    if source is None or not source.is_file():
        return Said("profile.problem", where="(profile_overrides)", field=where, problem=_problem(err))
    lines = source.read_text(encoding="utf-8").splitlines()
    line = _override_line(lines, loc)
    return Said("profile.problem", where=f"{source}:{line}", field=f"profile_overrides.{where}",
                problem=_problem(err))


def _problem(err: Any) -> object:
    """One validation error in words of its own: a setting a profile does not have (a typo, most often), else what
    validation_problem says (our validators' refusals by key, pydantic's by its error type)."""
    if err.get("type") == "extra_forbidden":
        return Said("profile.unknown_setting")
    return validation_problem(err)


def _override_line(lines: list[str], loc: list[str]) -> int:
    """The config line that sets profile_overrides.<loc>: `[profile_overrides.a]` then `b = …`, or `a = …` under
    `[profile_overrides]` (dotted keys too); the section's header when the key cannot be found."""
    header, found = 1, 0
    section: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if line.startswith("[") and not line.startswith("[["):
            section = [p.strip().strip('"') for p in line.strip("[]").split(".")]
            if section[:1] == ["profile_overrides"]:
                header = header if found else number
            continue
        if section[:1] != ["profile_overrides"] or "=" not in line:
            continue
        key = [p.strip().strip('"') for p in line.split("=", 1)[0].split(".")]
        path = section[1:] + key
        if path == loc[: len(path)]:
            return number
    return header


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge overrides; list tables (clocks, categories, departments) are addressed by their ids."""
    merged = copy.deepcopy(data)
    for key, value in overrides.items():
        current = merged.get(key)
        if isinstance(current, list) and isinstance(value, dict):
            by_id = {item.get("id"): item for item in current if isinstance(item, dict)}
            for item_id, patch in value.items():
                if item_id in by_id and isinstance(patch, dict):
                    by_id[item_id].update(_merge_dicts(by_id[item_id], patch))
                elif isinstance(patch, dict):
                    current.append({"id": item_id, **patch})
        elif isinstance(current, dict) and isinstance(value, dict):
            merged[key] = _merge_dicts(current, value)
        else:
            merged[key] = value
    return merged


def _merge_dicts(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in patch.items():
        out[k] = _merge_dicts(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, dict) else v
    return out


def _describe(path: Path, text: str, err: Any) -> Said:
    loc = tuple(err.get("loc", ()))
    message = str(err.get("msg", "invalid"))
    match = re.search(r"(categories|clocks|departments)\[(\d+)\]", message)
    if match and not loc:
        loc = (match.group(1), int(match.group(2)))
    line = locate(text, loc)
    where = ".".join(str(p) for p in loc) or "profile"
    return Said("profile.problem", where=f"{path}:{line}", field=where, problem=_problem(err))


def locate(text: str, loc: tuple[Any, ...]) -> int:
    """Best line number for a pydantic error location in a TOML text (array-of-tables aware)."""
    lines = text.splitlines()
    start, end = 0, len(lines)
    parts = list(loc)
    if len(parts) >= 2 and isinstance(parts[0], str) and isinstance(parts[1], int):
        header = f"[[{parts[0]}]]"
        heads = [i for i, line in enumerate(lines) if line.strip() == header]
        if parts[1] < len(heads):
            start = heads[parts[1]]
            end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
            parts = parts[2:]
        else:
            return heads[-1] + 1 if heads else 1
    for part in parts:
        if not isinstance(part, str):
            continue
        for i in range(start, end):
            stripped = lines[i].strip()
            if re.match(rf"{re.escape(part)}\s*=", stripped) or stripped in (f"[{part}]", f"[[{part}]]"):
                return i + 1
            if re.match(rf"\[[\w.]*\b{re.escape(part)}\]", stripped):
                return i + 1
    return start + 1


def check_profiles(extra_dirs: list[Path] | None = None,
                   overrides: dict[str, Any] | None = None) -> list[str | Said]:
    """Validate every profile; return the problems found (empty when all are fine): text, or a Said to be told
    in the console's language."""
    problems: list[str | Said] = []
    for name, path in available_profiles(extra_dirs).items():
        try:
            load_profile(path, overrides if overrides else None)
        except ProfileError as exc:
            problems.extend(exc.problems)
    try:
        load_vocabulary()
    except ProfileError as exc:
        problems.extend(exc.problems)
    return problems


__all__ = [
    "CallbackRules",
    "Category",
    "ClockSpec",
    "Department",
    "Ladder",
    "Profile",
    "ProfileError",
    "TIERS",
    "Unit",
    "Vocabulary",
    "available_profiles",
    "check_profiles",
    "load_profile",
]
