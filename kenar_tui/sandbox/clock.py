"""The sandbox's clock: real time plus an offset a test can advance.

Token expiry and the refresh grace period are checked against this clock, so a test can
jump an hour ahead instead of waiting for one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self.offset += timedelta(seconds=seconds)
        return self.now()
