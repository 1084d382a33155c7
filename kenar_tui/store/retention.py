"""The console's retention: `cache_retention_days` for everything, `body_retention_days` for
message bodies (never longer), enforced in the background by privacy/retention.py's Purger.

    purger = await start_retention(cache, settings, logger=log)   # purges now, then every minute
    ...
    await purger.aclose()
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from kenar_tui.privacy.retention import Purger, RetentionPolicy
from kenar_tui.store.cache import Cache


def retention_policy(settings: Any) -> RetentionPolicy:
    """The policy `settings` asks for; bodies kept as long as entries unless set shorter."""
    entries = timedelta(days=int(settings.cache_retention_days))
    bodies = timedelta(days=int(settings.body_retention_days))
    return RetentionPolicy(entries, bodies if bodies < entries else None)


async def start_retention(
    cache: Cache,
    settings: Any,
    *,
    logger: logging.Logger | None = None,
    now: Callable[[], datetime] | None = None,
    wait: Callable[[float], Awaitable[None]] | None = None,
) -> Purger:
    """A running Purger for `cache` (the first round starts at once); `aclose()` stops it."""
    options: dict[str, Any] = {}
    if now is not None:
        options["now"] = now
    if wait is not None:
        options["wait"] = wait
    purger = Purger(
        cache,
        retention_policy(settings),
        logger=logger or logging.getLogger("kenar_tui.store.retention"),
        **options,
    )
    return await purger.__aenter__()
