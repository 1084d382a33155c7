"""Choosing the timeline store from the `store` setting: SQLite (default) or Redis Streams.

    store = "sqlite"                        the SQLite file in the data directory
    store = "/var/lib/kenar/timeline.db"    a SQLite file elsewhere (or "sqlite:///path")
    store = "redis://HOST:PORT/DB"          Redis Streams, shared by every replica
            "rediss://..."  (TLS), "unix:///run/redis.sock?db=0"

The store returned is not open yet: the caller enters it (`async with`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from kenar_core.sealing import Sealer
from relay.config import RelayConfig
from relay.redis_store import RedisStore
from relay.sqlite_store import SqliteStore
from relay.store import Store

REDIS_SCHEMES = ("redis", "rediss", "unix")


def _now() -> datetime:
    return datetime.now(UTC)


def is_redis(store: str) -> bool:
    return "://" in store and store.split("://", 1)[0].lower() in REDIS_SCHEMES


def sqlite_path(config: RelayConfig) -> Path:
    """The SQLite file the `store` setting names (the data directory's by default)."""
    value = config.store
    if value.lower() == "sqlite":
        return config.database_path
    if value.lower().startswith("sqlite://"):
        value = value[len("sqlite://") :]
    return Path(value).expanduser()


def redacted(store: str) -> str:
    """The `store` setting fit for a log line: a Redis URL without its password."""
    if not is_redis(store):
        return store
    parts = urlsplit(store)
    if parts.password is None:
        return store
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def open_store(
    config: RelayConfig,
    *,
    logger: logging.Logger,
    sealer: Sealer | None = None,
    clock: Callable[[], datetime] = _now,
) -> Store:
    """The store `config.store` names, with its settings; not yet open."""
    if is_redis(config.store):
        return RedisStore(
            config.store,
            logger=logger,
            sealer=sealer,
            clock=clock,
            prefix=config.redis_key_prefix,
            max_entries=config.redis_max_entries,
            dedupe_hours=config.redis_dedupe_hours,
        )
    return SqliteStore(
        sqlite_path(config),
        logger=logger,
        sealer=sealer,
        clock=clock,
        max_db_mb=config.max_db_mb,
        # Healthy means the largest acceptable webhook (raw + normalised) fits now.
        probe_bytes=2 * config.max_body_bytes + 4096,
    )
