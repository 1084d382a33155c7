"""`Settings`: the console's configuration, one pydantic-settings model.

Sources, strongest first: keyword overrides (the CLI), environment variables prefixed
`KENAR_TUI_`, the TOML file (`config.toml` in the platformdirs config directory, or the path
given to `Settings.load`), then the defaults below. Key bindings are overridden under a
`[keymap]` table: `binding-id = "keys"`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    SettingsConfigDict,
)

from kenar_core.errors import ConfigError
from kenar_core.settings import TomlFileSettings, first_problem
from kenar_core.urls import check_http_base, check_relay_url

APP_NAME = "kenar-tui"
CONFIG_FILE_ENV = "KENAR_TUI_CONFIG_FILE"

# Which TOML file `load` is reading; a context variable because pydantic-settings builds
# its sources in a classmethod that cannot be handed a per-call path.


def default_config_dir() -> Path:
    return platformdirs.user_config_path(APP_NAME)


def default_data_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME)


def default_config_file() -> Path:
    """The config file: $KENAR_TUI_CONFIG_FILE, else config.toml in the config directory."""
    chosen = os.environ.get(CONFIG_FILE_ENV)
    return Path(chosen).expanduser() if chosen else default_config_dir() / "config.toml"


class Settings(TomlFileSettings):
    """Everything the console can be told; `Settings.load()` is the way to build one."""

    model_config = SettingsConfigDict(
        env_prefix="KENAR_TUI_", extra="ignore", validate_default=True
    )

    relay_url: str | None = None
    operator: str | None = None
    # Team mode: a buyer writing in a conversation assigned to someone notifies only them;
    # the others hear of it after this many seconds if nobody has answered by then.
    assigned_quiet_seconds: float = Field(default=120.0, ge=0)
    api_base: str = "https://open-api.divar.ir"
    oauth_base: str = "https://oauth.divar.ir"
    upload_base: str = "https://chat.divar.ir"  # chat photo/file uploads (upload_media.md)
    client_id: str | None = None
    redirect_uri: str | None = None
    data_dir: Path = Field(default_factory=default_data_dir)
    config_dir: Path = Field(default_factory=default_config_dir)
    config_file: Path = Field(default_factory=default_config_file)
    bidi: bool = True
    timezone: str = "Asia/Tehran"
    calendar: Literal["gregorian", "jalali"] = "gregorian"
    digits: Literal["latin", "persian"] = "latin"
    notify_bell: bool = True
    notify_toast: bool = True
    notify_desktop: bool = False
    keymap: dict[str, str] = Field(default_factory=dict)
    cache_retention_days: int = Field(default=30, ge=1)
    body_retention_days: int = Field(default=30, ge=1)
    mask_phones: bool = True

    @classmethod
    def load(cls, path: Path | str | None = None, **overrides: Any) -> Settings:
        """Read the config file (if it exists), the environment and `overrides`.

        Raises ConfigError naming the file (and line, for TOML syntax) when something is invalid.
        """
        file = Path(path).expanduser() if path is not None else default_config_file()
        if file.is_file():
            try:
                with file.open("rb") as handle:
                    tomllib.load(handle)
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{file}: {exc}") from None
            except OSError as exc:
                raise ConfigError(f"{file}: cannot be read ({exc.strerror})") from None
        try:
            return cls.from_toml_file(file, **{"config_file": file, **overrides})
        except ValidationError as exc:
            where, message = first_problem(exc)
            raise ConfigError(f"{file}: {where or 'settings'}: {message}") from None

    @field_validator("relay_url")
    @classmethod
    def _relay_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        # The bare address (wss://relay.example.com) is fine: the link adds the relay's /ws.
        return check_relay_url(value)

    @field_validator("api_base", "oauth_base", "upload_base")
    @classmethod
    def _http_url(cls, value: str, info: ValidationInfo) -> str:
        return check_http_base(value, info.field_name or "base URL")

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use a name like Asia/Tehran") from None
        return value

    @field_validator("operator")
    @classmethod
    def _operator(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @property
    def cache_file(self) -> Path:
        """The console's SQLite cache."""
        return self.data_dir / "cache.sqlite3"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
