"""Stopping background tasks (kenar_core/lifecycle.py): their cancellation is swallowed, the
caller's own is not."""

from __future__ import annotations

import asyncio

import pytest

from kenar_core.lifecycle import stop_task, stop_tasks, wait_stopped


async def _forever() -> None:
    await asyncio.Event().wait()


async def test_stop_task_cancels_and_waits() -> None:
    task = asyncio.create_task(_forever())
    await stop_task(task)
    assert task.cancelled()
    await stop_task(None)  # nothing to stop
    await stop_task(task)  # already stopped


async def test_stop_tasks_stops_all() -> None:
    tasks = [asyncio.create_task(_forever()) for _ in range(3)]
    await stop_tasks([*tasks, None])
    assert all(task.cancelled() for task in tasks)


async def test_the_tasks_own_error_propagates() -> None:
    async def broken() -> None:
        raise RuntimeError("boom")

    task = asyncio.create_task(broken())
    await asyncio.wait([task])
    with pytest.raises(RuntimeError, match="boom"):
        await stop_task(task)


async def test_the_callers_cancellation_is_re_raised() -> None:
    """A caller cancelled while it waits for a slow shutdown is cancelled, not resumed."""
    release = asyncio.Event()
    started = asyncio.Event()
    stopping = asyncio.Event()

    async def slow_to_stop() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            stopping.set()
            await release.wait()  # a clean-up that takes time
            raise

    background = asyncio.create_task(slow_to_stop())
    await started.wait()  # cancelled before it runs, it would have nothing to clean up
    after_stop: list[str] = []

    async def closer() -> None:
        await stop_task(background)
        after_stop.append("went on")  # must not run: the closer itself was cancelled

    closing = asyncio.create_task(closer())
    await stopping.wait()
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    assert closing.cancelled() and after_stop == []
    release.set()
    await asyncio.wait([background])


async def test_shielded_wait_leaves_the_task_running_when_the_caller_is_cancelled() -> None:
    done = asyncio.Event()
    task = asyncio.create_task(done.wait())
    waiting = asyncio.Event()

    async def waiter_body() -> None:
        waiting.set()
        await wait_stopped(task, shield=True)

    waiter = asyncio.create_task(waiter_body())
    await waiting.wait()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert not task.done()
    done.set()
    await wait_stopped(task)
    assert task.done() and not task.cancelled()
