"""The app's side for sandbox tests: a real receiver on loopback, and a Kenar client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from kenar_api.client import KenarClient
from kenar_tui.sandbox import Sandbox
from tests.fixtures.http_server import LoopbackServer

ALL_SEND = "CHAT_SUPPLIER_ALL_CONVERSATIONS_MESSAGE_SEND"
ALL_READ = "CHAT_SUPPLIER_ALL_CONVERSATIONS_READ"
CAR = "gZd7omnS"
FLAT = "wYk3pQ9r"
WAIT = 10.0


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: Any


class Receiver:
    """The app's events URL (`/events`) and start URL (`/start`), recording what arrives.

    `event_statuses` scripts the answers to events (200 once it runs out); the start URL
    answers `{"url": <base>/landing?...}`, and `/landing` answers 200.
    """

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.event_statuses: list[int] = []
        self._changed = asyncio.Condition()
        self.base = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        raw = await request.body()
        body = json.loads(raw) if raw else None
        response: Response
        if request.url.path == "/landing":
            response = Response("خوش آمدید", media_type="text/plain")
        else:
            async with self._changed:
                self.received.append(
                    Received(
                        request.url.path, {k.lower(): v for k, v in request.headers.items()}, body
                    )
                )
                self._changed.notify_all()
            if request.url.path == "/start":
                response = JSONResponse({"url": f"{self.base}/landing?booked=1"})
            else:
                status = self.event_statuses.pop(0) if self.event_statuses else 200
                response = JSONResponse({}, status_code=status)
        await response(scope, receive, send)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def wait_for(
        self, predicate: Callable[[list[Received]], bool], within: float = WAIT
    ) -> list[Received]:
        """Wait until `predicate(received)` holds; fail the test after `within` seconds."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: predicate(self.received))
        return self.received

    async def events(self, count: int, within: float = WAIT) -> list[Any]:
        """The bodies of the first `count` events, once that many arrived."""
        await self.wait_for(lambda r: len([x for x in r if x.path == "/events"]) >= count, within)
        return [r.body for r in self.at("/events")][:count]


@pytest.fixture
async def receiver(sandbox: Sandbox) -> AsyncIterator[Receiver]:
    """A receiver on loopback, set as the sandbox app's events URL and start URL."""
    app = Receiver()
    async with LoopbackServer(app) as server:
        app.base = server.url
        await sandbox.control.configure(
            events_url=f"{server.url}/events", start_url=f"{server.url}/start"
        )
        yield app


async def _no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


@pytest.fixture
async def kenar(sandbox: Sandbox) -> AsyncIterator[KenarClient]:
    """The foundation's KenarClient pointed at the sandbox; retries do not wait."""
    async with KenarClient(
        sandbox.api_key,
        api_base=sandbox.base_url,
        oauth_base=sandbox.base_url,
        retries=2,
        sleep=_no_wait,
    ) as client:
        yield client


@pytest.fixture
async def chat(sandbox: Sandbox) -> dict[str, Any]:
    """A buyer's first message on the car post; its `conversation_id` is ready to answer."""
    return await sandbox.control.inject_message(post_token=CAR, text="سلام، هنوز موجوده؟")
