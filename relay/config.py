"""`RelayConfig`: every setting of the relay, in one pydantic-settings model.

Precedence, highest first: command-line flags (passed as keyword overrides), environment
variables `KENAR_RELAY_<FIELD>`, an optional TOML file (`--config`, `KENAR_RELAY_CONFIG`, or
`relay.toml` in the platform's config directory when it exists), then the defaults below.
Lists (`allow_ip`, `trusted_proxies`) are comma-separated in the environment.
"""

from __future__ import annotations

import ipaddress
import os
import re
import string
from pathlib import Path
from typing import Annotated, Any

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    NoDecode,
    SettingsConfigDict,
)

from kenar_core.errors import ConfigError
from kenar_core.keyfile import KEY_FILE_NAME
from kenar_core.settings import TomlFileSettings, first_problem

APP_NAME = "kenar-relay"

# Divar's documented egress addresses for events and start-URL requests.
IP_PRESETS: dict[str, tuple[str, ...]] = {
    "divar": ("78.111.6.41/32", "78.111.6.42/32", "78.111.6.43/32", "31.214.250.128/27"),
}

# The names a start-URL template may use besides the button's data keys (`provider_data` or
# `extra_data`); relay.entries.render_start_url fills them.
TEMPLATE_FIELDS = ("post_token", "conversation_id", "user_side", "source", "completion_url")


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def default_config_file() -> Path:
    return platformdirs.user_config_path(APP_NAME) / "relay.toml"


def _split_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class RelayConfig(TomlFileSettings):
    model_config = SettingsConfigDict(env_prefix="KENAR_RELAY_", extra="forbid")

    identification_key: SecretStr | None = None
    client_token: SecretStr | None = None
    client_token_name: str = "console"
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)
    data_dir: Path = Field(default_factory=lambda: platformdirs.user_data_path(APP_NAME))
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    allow_ip: Annotated[list[str], NoDecode] = Field(default_factory=list)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    server_link_url: str | None = None
    max_body_bytes: int = Field(256 * 1024, ge=1024)
    body_timeout: float = Field(10.0, gt=0)
    max_json_depth: int = Field(64, ge=4, le=500)
    retention_hours: float = Field(72.0, gt=0)
    purge_interval: float = Field(60.0, gt=0)
    # Also delete entries every registered console has acknowledged (docs/protocol.md, `ack`).
    purge_acknowledged: bool = False
    # AES-256-GCM at rest (docs/privacy.md); off only for benchmarks: --no-encryption or
    # KENAR_RELAY_ENCRYPTION=off.
    encryption: bool = True
    max_db_mb: int = Field(0, ge=0)
    # The timeline store: "sqlite" (default, in data_dir), a SQLite file path, or
    # redis://HOST:PORT/DB for replicas sharing Redis Streams (relay/stores.py). Kept out of
    # reprs: a Redis URL may carry a password.
    store: str = Field("sqlite", repr=False)
    redis_key_prefix: str = Field("kenar-relay", pattern=r"^[A-Za-z0-9._:-]{1,100}$")
    redis_max_entries: int = Field(0, ge=0)
    redis_dedupe_hours: float = Field(48.0, gt=0)
    console_queue: int = Field(4096, ge=8)
    # Per console connection: control frames (presence, posted) waiting to be written; past
    # it the console is closed with 1013. Connections per token past the cap get HTTP 429.
    control_queue: int = Field(512, ge=16)
    max_consoles_per_token: int = Field(8, ge=1)
    # Console websockets open at once on this relay (HTTP 503 past it): uvicorn's
    # limit_concurrency (max_connections) counts HTTP requests, not open websockets.
    max_consoles: int = Field(256, ge=1)
    # Every connection at once (HTTP 503 past it); served directly, also header limits.
    max_connections: int = Field(1000, ge=16)
    header_timeout: float = Field(10.0, gt=0)
    max_header_bytes: int = Field(16 * 1024, ge=4096)
    # permessage-deflate on console websockets. Off by default: entry frames are small JSON,
    # and deflating each frame once per console cost more CPU than it saved (docs/performance.md);
    # without it the relay encodes an entry's frame once and writes the same bytes to every console.
    ws_compression: bool = False
    ping_interval: float = Field(20.0, gt=0)
    ping_timeout: float = Field(20.0, gt=0)
    hello_timeout: float = Field(10.0, gt=0)
    drain_timeout: float = Field(8.0, gt=0, le=9.5)
    log_level: str = "info"
    # Who may read GET /metrics: a bearer token, and/or addresses (CIDRs). With neither set,
    # /metrics answers loopback only when the relay serves TLS itself (it faces the internet),
    # and everyone otherwise (behind nginx, which limits it; deploy/nginx-kenar-relay.conf).
    metrics_token: SecretStr | None = None
    metrics_allow_ip: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("allow_ip", "trusted_proxies", "metrics_allow_ip", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("allow_ip", "trusted_proxies", "metrics_allow_ip")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        expanded: list[str] = []
        for item in value:
            if item.lower() in IP_PRESETS:
                expanded.extend(IP_PRESETS[item.lower()])
                continue
            try:
                expanded.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                presets = ", ".join(IP_PRESETS)
                raise ValueError(
                    f"{item!r} is neither an address, a CIDR nor a preset ({presets})"
                ) from None
        return expanded

    @field_validator("server_link_url")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        scheme, sep, rest = value.partition("://")
        origin = scheme + sep + re.split(r"[/?#]", rest, maxsplit=1)[0]
        if "{" in origin or "}" in origin:
            # A button's data must never choose where the buyer is sent (issue #21).
            raise ValueError(
                "Start-URL templates may use placeholders only in the path, query and "
                f"fragment; {origin!r} has one in the scheme or host"
            )
        if not value.startswith(("https://", "http://")):
            raise ValueError("the start-URL template must begin with https:// (or http://)")
        try:
            parsed = list(string.Formatter().parse(value))
        except ValueError as exc:
            raise ValueError(f"the start-URL template is malformed: {exc}") from None
        for _, name, spec, conversion in parsed:
            if name is None:
                continue
            if not name.isidentifier() or spec or conversion:
                raise ValueError(
                    f"the start-URL template field {{{name}}} must be a plain name such as "
                    "{post_token} or a key of the button's data"
                )
        return value

    @field_validator("store")
    @classmethod
    def _store(cls, value: str) -> str:
        value = value.strip()
        scheme = value.partition("://")[0].lower() if "://" in value else ""
        if not value or scheme not in ("", "sqlite", "redis", "rediss", "unix"):
            raise ValueError(
                "store is sqlite, a SQLite file path, or redis://HOST:PORT/DB "
                "(rediss:// for TLS, unix:///path/to/redis.sock)"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.lower()
        if value not in ("debug", "info", "warning", "error"):
            raise ValueError("log_level is one of debug, info, warning, error")
        return value

    @property
    def allowed_networks(self) -> list[Network]:
        return [ipaddress.ip_network(item) for item in self.allow_ip]

    @property
    def proxy_networks(self) -> list[Network]:
        return [ipaddress.ip_network(item) for item in self.trusted_proxies]

    @property
    def metrics_networks(self) -> list[Network]:
        return [ipaddress.ip_network(item) for item in self.metrics_allow_ip]

    @property
    def tls(self) -> bool:
        return self.ssl_certfile is not None

    @property
    def database_path(self) -> Path:
        return self.data_dir / "timeline.sqlite3"

    @property
    def tokens_path(self) -> Path:
        return self.data_dir / "tokens.json"

    @property
    def key_file_path(self) -> Path:
        return self.data_dir / KEY_FILE_NAME

    def require_serving(self) -> None:
        """Raise ConfigError with one line when something needed to serve is missing."""
        if self.identification_key is None or not self.identification_key.get_secret_value():
            raise ConfigError(
                "no identification key: set KENAR_RELAY_IDENTIFICATION_KEY to the value "
                "entered in the Kenar panel (or identification_key in the TOML file)"
            )
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ConfigError("--ssl-certfile and --ssl-keyfile go together; give both or neither")
        for path in (self.ssl_certfile, self.ssl_keyfile):
            if path is not None and not path.is_file():
                raise ConfigError(f"the TLS file {path} does not exist")

    @classmethod
    def load(cls, config_file: Path | None = None, **overrides: Any) -> RelayConfig:
        """Build the config; ConfigError names the file or the setting that is wrong."""
        path = config_file
        if path is None and os.environ.get("KENAR_RELAY_CONFIG"):
            path = Path(os.environ["KENAR_RELAY_CONFIG"])
        if path is not None and not path.is_file():
            raise ConfigError(f"the config file {path} does not exist")
        if path is None and default_config_file().is_file():
            path = default_config_file()
        flags = {key: value for key, value in overrides.items() if value is not None}
        try:
            return cls.from_toml_file(path, **flags)
        except ValidationError as exc:
            where, message = first_problem(exc)
            origin = f" (from {path})" if path is not None else ""
            message = message.removeprefix("Value error, ")
            raise ConfigError(f"setting {where or 'config'}{origin}: {message}") from None
        except ValueError as exc:  # a TOML syntax error names its line
            raise ConfigError(f"the config file {path} is not valid TOML: {exc}") from None
