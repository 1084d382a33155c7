"""`Settings`: the console's configuration, one pydantic-settings model.

Sources, strongest first: keyword overrides (the CLI), environment variables prefixed
`KENAR_TUI_`, the TOML file (`config.toml` in the platformdirs config directory, or the path
given to `Settings.load`), then the defaults below. Key bindings are overridden under a
`[keymap]` table: `binding-id = "keys"`.
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from kenar_core.errors import ConfigError

APP_NAME = "kenar-tui"
CONFIG_FILE_ENV = "KENAR_TUI_CONFIG_FILE"

# Which TOML file `load` is reading; a context variable because pydantic-settings builds
# its sources in a classmethod that cannot be handed a per-call path.
_toml_path: ContextVar[Path | None] = ContextVar("kenar_tui_config_toml", default=None)


def default_config_dir() -> Path:
    return platformdirs.user_config_path(APP_NAME)


def default_data_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME)


def default_config_file() -> Path:
    """The config file: $KENAR_TUI_CONFIG_FILE, else config.toml in the config directory."""
    chosen = os.environ.get(CONFIG_FILE_ENV)
    return Path(chosen).expanduser() if chosen else default_config_dir() / "config.toml"


class Settings(BaseSettings):
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
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _toml_path.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path is not None and path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

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
        token = _toml_path.set(file)
        try:
            return cls(**{"config_file": file, **overrides})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "settings"
            raise ConfigError(f"{file}: {where}: {first['msg']}") from None
        finally:
            _toml_path.reset(token)

    @field_validator("relay_url")
    @classmethod
    def _relay_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        # The bare address (wss://relay.example.com) is fine: the link adds the relay's /ws.
        if parts.scheme not in ("ws", "wss", "http", "https") or not parts.hostname:
            raise ValueError(
                "the relay URL must look like wss://relay.example.com (ws:// on loopback)"
            )
        return value.strip()

    @field_validator("api_base", "oauth_base", "upload_base")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL like https://open-api.divar.ir")
        return value.rstrip("/")

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
