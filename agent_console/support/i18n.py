"""The console's words in Chinese (default) and English, and duration formatting.

Words live in `agent_console/data/locale/<lang>/*.toml`, one file per part of the console (base, intake, cases, phrasebook, sync,
callbacks, lead); all files of a language are merged, and a key missing in one language falls back to English.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Iterable

from agent_console.core.errors import ProfileError, Said, render
from agent_console.core.labels import Labelled, label
from agent_console.core.reasons import ENGLISH
from agent_console.core.shipped import shipped_locale_dir

LOCALE_DIR = shipped_locale_dir()


@lru_cache(maxsize=4)
def _table(lang: str) -> dict[str, str]:
    flat: dict[str, str] = {}

    def walk(prefix: str, node: dict) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(name + ".", value)
            else:
                flat[name] = str(value)

    for path in sorted((LOCALE_DIR / lang).glob("*.toml")):
        walk("", tomllib.loads(path.read_text(encoding="utf-8")))
    return flat


class Translator:
    def __init__(self, lang: str = "zh") -> None:
        self.lang = lang if lang in ("zh", "en") else "zh"

    def __call__(self, key: str, **values: object) -> str:
        text = _table(self.lang).get(key) or _table("en").get(key) or key
        return text.format(**values) if values else text

    def day(self, when: date) -> str:
        """A calendar day as people say it: 12月3日 / 3 December."""
        return self("format.day", month=when.month, day=when.day, month_name=when.strftime("%B"))

    def label(self, thing: Labelled | None, fallback: str = "") -> str:
        """A profile or vocabulary entry's label in this language (`fallback`, usually its id, when it is unknown)."""
        return label(thing, self.lang, fallback)

    def has(self, key: str) -> bool:
        """Whether `key` has words in this language or in English."""
        return key in _table(self.lang) or key in _table("en")

    def word(self, group: str, value: object) -> str:
        """A value from data (a phrasebook situation, an outcome, a tag) in the console's language: the locale's
        `[group] value = "..."`, else the value as it is."""
        key = f"{group}.{value}"
        return _table(self.lang).get(key) or _table("en").get(key) or str(value)

    def weekday(self, day: date) -> str:
        """周四 / Thu."""
        return self("dates.weekdays").split()[day.weekday()]

    def full_date(self, day: date) -> str:
        """2026年10月1日 / 2026-10-01 (never the US month/day order)."""
        return self("dates.date", y=day.year, m=day.month, d=day.day)

    def list_day(self, day: date) -> str:
        """10-01 周四 / 10-01 Thu: a day in this year's lists."""
        return f"{day:%m-%d} {self.weekday(day)}"

    def moment(self, when: datetime) -> str:
        """2026年12月2日 05:47 周三 / 2026-12-02 05:47 Wed."""
        return f"{self.full_date(when)} {when:%H:%M} {self.weekday(when)}"

    def reference_file(self, kind: str, name: str, version: int) -> str:
        """One version of a team's reference file: 日历“CN-2027.toml”第 2 版 / calendar CN-2027.toml v2."""
        kind_words = self(f"sync.reference_{kind}") if self.has(f"sync.reference_{kind}") else kind
        return self("sync.reference_version", kind=kind_words, name=name, version=version)

    def reference_files(self, files: Iterable[Any]) -> str:
        """Versions as `services.reference_data.pull` gives them (each with kind, name and version), in a list."""
        return ("、" if self.lang == "zh" else ", ").join(
            self.reference_file(f.kind, f.name, f.version) for f in files)

    def reason(self, why: object) -> str:
        """A refusal (a `core.reasons.Reason`, or an exception carrying one) in this language; other text as is."""
        if isinstance(why, BaseException):
            why = getattr(why, "reason", None) or (why.args[0] if why.args else str(why))
        key = getattr(why, "key", None)
        if key is None:
            return str(why)
        params = {name: self._reason_param(name, value) for name, value in why.params.items()}  # type: ignore[attr-defined]
        text = _table(self.lang).get(f"refusal.{key}") if self.lang != "en" else None
        return (text or ENGLISH[key]).format(**params)

    def error(self, what: object) -> str:
        """An error in this language: a Said (key and parameters, nested ones rendered too), a refusal (Reason, or
        an exception carrying one), an exception whose cause is one of those; any other text as it is."""
        if isinstance(what, Said):
            words = _ErrorWords(self.lang)
            return render(what, words, "；" if self.lang == "zh" else "; ", self.error)
        if isinstance(what, ProfileError):  # one line per problem, each told in this language
            return "\n".join(self.error(p) for p in what.problems)
        if isinstance(what, BaseException):
            if getattr(what, "reason", None) is not None or (what.args and getattr(what.args[0], "key", None)):
                return self.reason(what)
            if isinstance(what.__cause__, Said) and not str(what):
                return self.error(what.__cause__)
            return str(what)
        if getattr(what, "key", None) is not None and isinstance(what, str):
            return self.reason(what)
        return str(what)

    def _reason_param(self, name: str, value: object) -> object:
        if name in ("status", "unit", "what"):  # words from the lifecycle, shown in the console's language
            key = f"{'refusal_' + name if name != 'status' else 'status'}.{value}"
            found = _table(self.lang).get(key) or _table("en").get(key)
            return found or value
        return value

    def duration(self, seconds: float, unit: str = "working_days", late: bool | None = None,
                 compact: bool = False) -> str:
        """'2天3小时' / '2d 3h'; working-day clocks count working days, others wall time.

        `late` marks a breached clock even when no working time has passed since (a weekend after the due).
        """
        late = seconds < 0 if late is None else late
        if compact:  # an 80-column list: "超3日4时" / "-3d4h"
            s = int(abs(seconds))
            d, h, m = s // 86400, s % 86400 // 3600, s % 3600 // 60
            zh = self.lang == "zh"
            body = (f"{d}日{h}时" if zh else f"{d}d{h}h") if d else (f"{h}时{m}分" if zh else f"{h}h{m}m")
            return (("超" if zh else "-") + body) if late else body
        s = int(abs(seconds))
        days, rem = divmod(s, 86400)
        hours, rem = divmod(rem, 3600)
        minutes = rem // 60
        zh = self.lang == "zh"
        wd = unit == "working_days"
        parts = []
        if days:
            parts.append(f"{days}{'个工作日' if wd else '天'}" if zh else f"{days}{'wd' if wd else 'd'}")
        if hours or (days and not minutes):
            parts.append(f"{hours}小时" if zh else f"{hours}h")
        if minutes and not days:
            parts.append(f"{minutes}分" if zh else f"{minutes}m")
        if not parts:
            parts.append("0分" if zh else "0m")
        text = ("" if zh else " ").join(parts)
        if late:
            return f"超时{text}" if zh else f"{text} late"
        return text


class _ErrorWords:
    """The `error.*` words of one language, falling back to English, as `core.errors.render` looks them up."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def get(self, key: str) -> str | None:
        return _table(self.lang).get(key) or _table("en").get(key)


def translator(lang: str) -> Translator:
    return Translator(lang)
