"""The one back-off: how long to wait before trying again (reconnecting, re-sending, re-delivering).

Exponential in the attempt number and capped. Jitter keeps many consoles (or many queued
replies) from retrying in step:

- "equal": half the ceiling fixed, half random, so a reconnect never comes back at once
  (the relay link and the outbox);
- "full": a uniform wait in [0, ceiling] (AWS's "full jitter"; the Kenar API retry policy);
- "none": the ceiling itself, for waits that must be reproducible (the sandbox's seeded
  delivery, whose retries tests count).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Literal

Jitter = Literal["equal", "full", "none"]

# 2**32 * base already exceeds any cap we use; stopping there keeps the float finite.
_MAX_DOUBLINGS = 32


def backoff_ceiling(attempt: int, *, base: float, cap: float = math.inf) -> float:
    """The longest wait before retry number `attempt` (0-based): base * 2**attempt, capped."""
    if attempt < 0:
        raise ValueError("attempt is 0 or more")
    if base < 0 or cap < 0:
        raise ValueError("back-off times must not be negative")
    return min(cap, base * (2 ** min(attempt, _MAX_DOUBLINGS)))


def retry_delay(
    attempt: int,
    *,
    base: float = 0.5,
    cap: float = 30.0,
    jitter: Jitter = "equal",
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number `attempt` (0-based); see the module for `jitter`.

    `rand` returns a float in [0, 1) (`random.random` or a seeded `Random().random`).
    """
    ceiling = backoff_ceiling(attempt, base=base, cap=cap)
    if jitter == "none":
        return ceiling
    if jitter == "full":
        return ceiling * rand()
    return ceiling / 2 + ceiling / 2 * rand()
