"""Settings: command-line options over environment variables (AGENT_CONSOLE_*) over the TOML config file.

The config file is `$XDG_CONFIG_HOME/agent-console/config.toml` unless `--config` or AGENT_CONSOLE_CONFIG names
another. Nested keys come from the environment with a double underscore: AGENT_CONSOLE_KEYMAP__NEW_INTAKE=f2.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from agent_console.core.errors import toml_error_line
from agent_console.support.paths import config_dir, default_config_file, default_db_path


class ConfigError(ValueError):
    """A config file or setting that cannot be used; the message names the file and line where it can."""


class CtiSettings(BaseModel):
    """The phone system link (`[cti]` in the config): off unless `listen` is set."""

    model_config = ConfigDict(extra="forbid")

    listen: str = ""  # "127.0.0.1:8765", or the path of a Unix socket
    token: str = ""  # the secret in the endpoint's path: /api/v1/cti/<token>
    names: list[str] = Field(default_factory=list)  # more user[]/answeringNumber values meaning this agent
    rate: float = 10.0  # events per second, sustained
    burst: int = 30  # events at once before the rate applies
    missed_callback_minutes: int = 30  # a missed call on an open case: callback due this soon
    dial_command: str = ""  # e.g. "linphonec -c 'call {number}'": argv split like a shell, never run by one
    dial_url: str = ""  # e.g. "http://pbx.local/originate?from={extension}&to={number}"
    # numbers whose calls are turned away (a lead edits the file: one number a line, # comments; read again when
    # it changes): the phone system is answered {"action": "reject", "reason": "busy"}, nothing pops
    block_file: Path | None = None

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith("/"):
            host, _, port = value.rpartition(":")
            if not host or not port.isdigit() or not 0 <= int(port) < 65536:
                raise ValueError("use host:port (e.g. 127.0.0.1:8765) or the absolute path of a Unix socket")
            if host.strip("[]") not in ("127.0.0.1", "::1", "localhost"):
                # the listener is for this desk's phone system only: the network reaches it through the PBX
                raise ValueError(f"listen on 127.0.0.1, [::1] or localhost (or a Unix socket), not {host}")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENT_CONSOLE_", env_nested_delimiter="__", extra="forbid")

    db: Path = Field(default_factory=default_db_path)
    agent: str = Field(default_factory=lambda: os.environ.get("USER") or "agent")
    agent_name: str = ""
    agent_number: str = ""  # 工号, read out to callers
    role: Literal["agent", "lead"] = "agent"
    team: str = "team-1"
    lead_teams: list[str] = Field(default_factory=list)  # teams a lead sees besides their own
    profile: str = "insurance"
    profile_dirs: list[Path] = Field(default_factory=lambda: [config_dir() / "profiles"])
    profile_overrides: dict[str, Any] = Field(default_factory=dict)
    calendar_file: Path | None = None  # local closures and extra working days
    lang: Literal["zh", "en"] = "zh"
    central: str = ""  # sqlite:///path/central.db or postgresql://…
    sync_interval: float = 15.0
    keymap: dict[str, str] = Field(default_factory=dict)
    phrasebook_dirs: list[Path] = Field(default_factory=list)
    demo_on_first_run: bool = True
    cti: CtiSettings = Field(default_factory=CtiSettings)

    @field_validator("agent")
    @classmethod
    def _agent(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the agent id must not be empty")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"

    @property
    def visible_teams(self) -> list[str]:
        return [self.team, *[t for t in self.lead_teams if t != self.team]]


class _TomlSource(PydanticBaseSettingsSource):
    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = config_file()
        if not path.is_file():
            return {}
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}:{toml_error_line(exc)}: {exc}") from exc


def config_file() -> Path:
    """The config file in use (it may not exist)."""
    return Path(os.environ.get("AGENT_CONSOLE_CONFIG") or default_config_file())


def load_settings(**overrides: Any) -> Settings:
    """Settings from every source, with command-line values (not None) on top."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid settings: {problems}") from exc
