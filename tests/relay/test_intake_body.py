"""Reading a webhook's body (relay.limits.receive_body) with and without waiting.

Issue 20: a body that is already whole is read without a timer; a read that has to wait is
finished under the time limit. Both must give the same answers: the body, 413 past the cap,
408 when it does not arrive, 400 when the sender goes away, and a cancelled request leaves
no waiter behind. `receive` here stands in for uvicorn's (the ASGI edge); the real server's
paths are in test_hostile_input.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from relay.errors import BadRequest, BodyTooLarge, RequestTimeout
from relay.limits import receive_body

LIMIT = 64


class Receive:
    """ASGI `receive` over a list of messages; `hold` makes the next call wait for `release`."""

    def __init__(self, *messages: dict[str, Any], hold: bool = False) -> None:
        self.messages = list(messages)
        self.hold = hold
        self.release = asyncio.Event()
        self.waiting = asyncio.Event()
        self.cancelled = False

    async def __call__(self) -> dict[str, Any]:
        if self.hold:
            self.hold = False
            self.waiting.set()
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
        return self.messages.pop(0)


def part(body: bytes, more: bool = False) -> dict[str, Any]:
    return {"type": "http.request", "body": body, "more_body": more}


async def read(receive: Receive, *, limit_s: float = 5.0) -> bytes:
    return await receive_body(receive, None, limit=LIMIT, read_timeout=limit_s)


async def test_a_whole_body_is_read_at_once() -> None:
    assert await read(Receive(part(b'{"a":1}'))) == b'{"a":1}'


async def test_a_body_in_parts_is_joined() -> None:
    assert await read(Receive(part(b'{"a"', True), part(b":1}"))) == b'{"a":1}'


async def test_a_body_that_has_to_wait_is_read_when_it_arrives() -> None:
    receive = Receive(part(b'{"a"', True), part(b":1}"), hold=True)
    task = asyncio.create_task(read(receive))
    await receive.waiting.wait()
    assert not task.done()
    receive.release.set()
    assert await task == b'{"a":1}'


async def test_a_body_that_never_arrives_is_408() -> None:
    receive = Receive(part(b"{}"), hold=True)
    with pytest.raises(RequestTimeout):
        await read(receive, limit_s=0.05)
    assert receive.cancelled  # the wait inside `receive` was ended, not left behind


async def test_a_cancelled_read_ends_the_wait_inside_receive() -> None:
    receive = Receive(part(b"{}"), hold=True)
    task = asyncio.create_task(read(receive))
    await receive.waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert receive.cancelled


async def test_too_large_is_413_whether_whole_or_in_parts() -> None:
    with pytest.raises(BodyTooLarge):
        await read(Receive(part(b"x" * (LIMIT + 1))))
    with pytest.raises(BodyTooLarge):
        await read(Receive(part(b"x" * LIMIT, True), part(b"x")))
    receive = Receive(part(b"x" * (LIMIT + 1)), hold=True)
    task = asyncio.create_task(read(receive))
    await receive.waiting.wait()
    receive.release.set()
    with pytest.raises(BodyTooLarge):
        await task


async def test_a_sender_that_goes_away_is_400() -> None:
    with pytest.raises(BadRequest):
        await read(Receive({"type": "http.disconnect"}))
    with pytest.raises(BadRequest):
        await read(Receive(part(b"{", True), {"type": "http.disconnect"}))
