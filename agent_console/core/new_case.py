"""A new case as it arrives (from the console's intake form, `case new` JSON, or an import row), and its checks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent_console.core import plausibility
from agent_console.core.reasons import Reason
from agent_console.core.events import Complainant
from agent_console.core.profiles import Profile
from agent_console.core.text import MAX_FIELD_CHARS, clean_text
from agent_console.core.vocabulary import Vocabulary


class IntakeError(ValueError):
    """Input that cannot become a case; `fields` maps each bad field to what is wrong with it."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


class NewCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    received_at: datetime | None = None
    channel: str = "phone"
    category: str = ""
    complexity: str = "general"
    complainant: Complainant = Complainant()
    anonymous: bool = False
    respondent: str = ""
    facts: str = ""
    request: str = ""
    amount: Decimal | None = None
    flags: list[str] = Field(default_factory=list)
    owner: str = ""
    team: str = ""
    linked: list[str] = Field(default_factory=list)
    escalated_from: str | None = None
    lead_case: str | None = None  # set on the copies of a split intake: the main case, whose department leads

    @field_validator("respondent", "facts", "request", "channel", "category", "complexity", "owner", "team",
                     mode="before")
    @classmethod
    def _clean(cls, value: Any) -> Any:
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            # refuse rather than cut: the agent decides what to keep, nothing is lost silently
            raise ValueError(Reason("too_long_chars", count=f"{len(value):,}", limit=f"{MAX_FIELD_CHARS:,}"))
        return clean_text(value) if isinstance(value, str) else value

    @field_validator("received_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError(Reason("needs_offset"))
        return value

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.replace(",", "").replace("，", "").replace("元", "").replace("¥", "").strip()
            if not text:
                return None
            try:
                return Decimal(text)
            except InvalidOperation as exc:
                raise ValueError(Reason("not_amount", value=value)) from exc
        return value


def normalise(case: NewCase, profile: Profile, vocab: Vocabulary, now: datetime | None = None) -> NewCase:
    """Resolve labels to ids and check the profile's rules and plausibility (core/plausibility.py: the receipt time
    against `now`, phone, amount, name and ID lengths); raise IntakeError naming every bad field."""
    problems: dict[str, Reason] = plausibility.check_case(
        case.received_at, case.complainant.phone, case.complainant.name, case.complainant.id_number, case.amount,
        now, profile.intake)
    channel = vocab.resolve("channels", case.channel) if case.channel else None
    if channel is None:
        problems["channel"] = Reason("unknown_channel", value=case.channel)
    tier = vocab.resolve("tiers", case.complexity or "general")
    if tier is None:
        problems["complexity"] = Reason("unknown_tier", value=case.complexity)
    category = _resolve_category(profile, case.category)
    if category is None:
        problems["category"] = (Reason("unknown_category", value=case.category) if case.category
                               else Reason("need_category"))
    flags = []
    for flag in case.flags:
        fid = vocab.resolve("flags", flag)
        if fid is None:
            problems["flags"] = Reason("unknown_flag", value=flag)
        else:
            flags.append(fid)
    phone = case.complainant.phone.strip()
    anonymous = case.anonymous or not (case.complainant.name.strip() or phone)
    if anonymous and profile.anonymous == "refuse":
        problems["complainant"] = Reason("no_anonymous")
    for field in profile.required:
        if field == "phone" and anonymous and profile.anonymous != "refuse":
            continue
        value = {"phone": phone, "name": case.complainant.name, "category": case.category, "facts": case.facts,
                 "request": case.request, "respondent": case.respondent}.get(field, "x")
        if not str(value or "").strip():
            key = "complainant.phone" if field == "phone" else ("complainant.name" if field == "name" else field)
            problems.setdefault(key, Reason("required"))
    title = case.complainant.title
    if title:
        tid = vocab.resolve("titles", title)
        title = vocab.label("titles", tid) if tid else title
    if problems:
        raise IntakeError(problems)
    return case.model_copy(
        update={
            "channel": channel,
            "complexity": tier,
            "category": category,
            "flags": flags,
            "anonymous": anonymous,
            "complainant": case.complainant.model_copy(update={"title": title}),
        }
    )


def _resolve_category(profile: Profile, value: str) -> str | None:
    wanted = value.strip()
    low = wanted.lower()
    for cat in profile.categories:
        if wanted in (cat.id, cat.label) or low in (cat.label_en.lower(), cat.id.lower()):
            return cat.id
    return None
