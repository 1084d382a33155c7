"""Reconnect delays: exponential, capped, with jitter so consoles do not reconnect in step."""

from __future__ import annotations

import random
from collections.abc import Callable


def reconnect_delay(
    attempt: int,
    *,
    base: float = 0.5,
    cap: float = 30.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before attempt `attempt` (0-based): half fixed, half random."""
    ceiling = min(cap, base * (2 ** min(attempt, 32)))
    return ceiling / 2 + ceiling / 2 * rand()
