"""A scripted Kenar double served on loopback, and the reference material the tests read."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from tests.fixtures.http_server import LoopbackServer


@dataclass(frozen=True)
class Reply:
    """One scripted answer: status, JSON body (or raw text), headers, and an optional stall."""

    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    stall: bool = False


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int

    def json(self) -> Any:
        return json.loads(self.body)


class ScriptedKenar:
    """An ASGI app answering each request with the next scripted Reply (200 {} when none left).

    A stalled reply holds the request until `release` is set (at teardown), so a client
    timeout is certain without the test waiting on wall time.
    """

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.received: list[Received] = []
        self.release = asyncio.Event()

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body()
        client = request.client
        self.received.append(
            Received(
                method=request.method,
                path=request.url.path,
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
                client_port=client.port if client else 0,
            )
        )
        reply = self.replies.popleft() if self.replies else Reply()
        if reply.stall:
            await self.release.wait()
        content = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
        media = "text/plain" if isinstance(reply.body, str) else "application/json"
        response = Response(
            content, status_code=reply.status, headers=reply.headers, media_type=media
        )
        await response(scope, receive, send)


@pytest.fixture
async def kenar_double() -> AsyncIterator[tuple[ScriptedKenar, LoopbackServer]]:
    """The scripted double, served on 127.0.0.1 at an ephemeral port."""
    app = ScriptedKenar()
    server = LoopbackServer(app)
    async with server:
        try:
            yield app, server
        finally:
            app.release.set()


@pytest.fixture(scope="session")
def samples(kenar_data: Path) -> Path:
    return kenar_data / "samples"


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
