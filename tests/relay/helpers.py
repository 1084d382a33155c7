"""Talking to a relay in tests: Divar's side (httpx) and a console's side (websockets)."""

from __future__ import annotations

import asyncio
import json
import ssl
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from kenar_core.protocol import RELAY_FRAME, HelloFrame, WelcomeFrame
from tests.fixtures.paths import KENAR_SAMPLES

SAMPLES = KENAR_SAMPLES  # Divar's sample bodies, copied into the repository
WAIT = 10.0


def text_event(
    text: str = "سلام، هنوز موجود است؟", *, message_id: str | None = None
) -> dict[str, Any]:
    """A NEW_MESSAGE webhook body with a fresh message id."""
    return {
        "type": "NEW_MESSAGE",
        "new_message": {
            "id": message_id or str(uuid.uuid4()),
            "conversation": {"id": "conv-1", "type": "POST", "post_token": "gZd7omnS"},
            "sender": {"side": "BUYER", "type": "HUMAN"},
            "type": "TEXT",
            "sent_at": 1729429926140000,
            "text": text,
        },
    }


class Console:
    """A console's websocket: `hello` sent; frames read with a timeout, never by sleeping."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.welcome: dict[str, Any] = {}

    async def frame(self, within: float = WAIT) -> dict[str, Any]:
        async with asyncio.timeout(within):
            raw = await self.ws.recv()
        value: dict[str, Any] = json.loads(raw)
        return value

    async def entries(self, count: int, within: float = WAIT) -> list[dict[str, Any]]:
        """The next `count` entry frames, skipping other frame types."""
        found: list[dict[str, Any]] = []
        async with asyncio.timeout(within):
            while len(found) < count:
                frame = await self.frame(within)
                if frame["type"] == "entry":
                    found.append(frame)
        return found

    async def until(self, kind: str, within: float = WAIT) -> dict[str, Any]:
        """Frames up to and including the first of type `kind`."""
        async with asyncio.timeout(within):
            while True:
                frame = await self.frame(within)
                if frame["type"] == kind:
                    return frame

    async def send(self, **frame: Any) -> None:
        await self.ws.send(json.dumps(frame, ensure_ascii=False))


@asynccontextmanager
async def console(
    ws_url: str,
    token: str,
    *,
    since: int = 0,
    operator: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    **kwargs: Any,
) -> AsyncIterator[Console]:
    """A connected console that has sent `hello` and read `welcome`."""
    async with connect(
        ws_url,
        additional_headers={"Authorization": f"Bearer {token}"},
        ssl=ssl_context,
        open_timeout=WAIT,
        **kwargs,
    ) as ws:
        client = Console(ws)
        await ws.send(HelloFrame(since=since, operator=operator).json_text())
        client.welcome = await client.frame()
        # The welcome must be one the protocol's model takes, not just a dict with a type.
        assert isinstance(RELAY_FRAME.validate_python(client.welcome), WelcomeFrame), client.welcome
        yield client


async def post_json(
    http: httpx.AsyncClient, url: str, body: Any, *, key: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    sent = {"Authorization": key, "Content-Type": "application/json", **(headers or {})}
    return await http.post(url, content=content, headers=sent)


_NAMED: dict[tuple[str, tuple[Path, ...]], str] = {}


def named_token(name: str, *data_dirs: Path) -> str:
    """A relay token bound to `name` (as `kenar-relay token create NAME` makes), valid on
    every relay whose data directory is given (replicas each read their own token file).
    Asked again for the same name and relays, the same token."""
    from relay.tokens import TokenBook

    key = (name, data_dirs)
    if key in _NAMED:
        return _NAMED[key]
    first, *others = data_dirs
    token = TokenBook(first / "tokens.json").create(name)
    for folder in others:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "tokens.json").write_bytes((first / "tokens.json").read_bytes())
    _NAMED[key] = token
    return token


_SHARED: dict[tuple[str, str], str] = {}


async def shared_named_token(name: str, redis_url: str, prefix: str, *servers: Any) -> str:
    """A token bound to `name` in the Redis book replicas on `prefix` share (as `kenar-relay
    token create NAME` with the Redis store makes), known to each running server given.
    Asked again for the same name and prefix, the same token."""
    import logging

    from relay.tokens_redis import RedisTokenBook

    key = (name, prefix)
    if key not in _SHARED:
        log = logging.getLogger("kenar_relay.test.tokens")
        async with RedisTokenBook(redis_url, prefix=prefix, logger=log) as book:
            _SHARED[key] = await book.create(name)
    for server in servers:
        await server.ctx.tokens.refresh()  # now, rather than on its next periodic re-read
    return _SHARED[key]
