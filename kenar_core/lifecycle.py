"""`async with` for the long-lived objects (stores, hubs, servers, clients, links).

Each of them closes idempotently with `aclose()`; entering returns the object itself, or
starts it where a subclass overrides `__aenter__`.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self


class AsyncResource:
    """Enter returns the object; leaving awaits `aclose()`, which subclasses make idempotent."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        raise NotImplementedError
