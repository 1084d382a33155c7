"""`async with` for the long-lived objects (stores, hubs, servers, clients, links), and the one
way to stop their background tasks.

Each of them closes idempotently with `aclose()`; entering returns the object itself, or
starts it where a subclass overrides `__aenter__`. `stop_task`/`stop_tasks`/`wait_stopped`
end a background task without swallowing the caller's own cancellation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Self


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


async def wait_stopped(task: asyncio.Future[Any], *, shield: bool = False) -> None:
    """Wait for `task` to end, swallowing ITS cancellation but never the caller's own.

    `contextlib.suppress(asyncio.CancelledError)` around `await task` cannot tell the two
    apart: when the caller is cancelled while it waits (Ctrl+C during shutdown, a TaskGroup
    or timeout tearing down), that swallows the caller's CancelledError and the caller goes
    on as if nothing happened. `Task.cancelling()` says whether the caller has a cancellation
    pending; if so, it is re-raised. Any other exception of `task` propagates. With `shield`,
    the caller's cancellation does not cancel `task` itself (several waiters for one task).
    """
    try:
        await (asyncio.shield(task) if shield else task)
    except asyncio.CancelledError:
        caller = asyncio.current_task()
        if caller is not None and caller.cancelling():
            raise


async def stop_task(task: asyncio.Future[Any] | None) -> None:
    """Cancel `task` (None: nothing to do) and wait until it has ended; see `wait_stopped`."""
    if task is None:
        return
    task.cancel()
    await wait_stopped(task)


async def stop_tasks(tasks: Iterable[asyncio.Future[Any] | None]) -> None:
    """Cancel all of `tasks` at once, then wait for each; see `wait_stopped`."""
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    for task in running:
        await wait_stopped(task)
