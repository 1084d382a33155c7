"""When to try a Kenar call again, and how long to wait first.

Exponential back-off with full jitter (a uniform wait in [0, min(cap, base * 2**n)]) spreads
the retries of many consoles apart; a `Retry-After` header (seconds or an HTTP date) overrides
it, capped so a hostile or confused server cannot park us for hours.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from kenar_core.backoff import retry_delay


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`retries` extra attempts after the first; waits in seconds."""

    retries: int = 3
    base: float = 0.5
    cap: float = 8.0
    retry_after_cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError("retries must be 0 or more")
        if self.base < 0 or self.cap < 0 or self.retry_after_cap < 0:
            raise ValueError("back-off times must not be negative")

    @property
    def attempts(self) -> int:
        return self.retries + 1

    def backoff(self, attempt: int) -> float:
        """Full-jitter wait after failed attempt number `attempt` (1-based)."""
        return retry_delay(
            attempt - 1, base=self.base, cap=self.cap, jitter="full", rand=self.rng.random
        )

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """The wait before the next attempt: the server's Retry-After if it gave one."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_cap)
        return self.backoff(attempt)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        # Not RFC 9110, but some servers send fractions; a negative or NaN one means nothing.
        return seconds if seconds >= 0 else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    moment = now or datetime.now(UTC)
    return max((when - moment).total_seconds(), 0.0)
