"""Waits before trying again (reconnecting, re-sending): exponential, capped, jittered, so that
many consoles (or many queued replies) do not retry in step."""

from __future__ import annotations

import random
from collections.abc import Callable


def retry_delay(
    attempt: int,
    *,
    base: float = 0.5,
    cap: float = 30.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before attempt `attempt` (0-based): half fixed, half random."""
    ceiling = min(cap, base * (2 ** min(attempt, 32)))
    return ceiling / 2 + ceiling / 2 * rand()
