"""What the relay replicas of one team tell each other: a small publish/subscribe seam.

Presence frames and OAuth codes are not timeline entries (nothing stored, nothing resumed),
yet with the Redis store a console may be connected to any replica. The bus carries them:

    async with open_bus(config, logger=log) as bus:
        bus.subscribe(handler)                 # handler(message: dict), on every replica
        await bus.publish({"t": "presence", ...})
        await bus.claim("oauth:<hash>", 600, owner)  # True for the first owner (SET NX PX)
        await bus.take("oauth:<hash>")         # True once, for whoever takes it (GETDEL)

`LocalBus` serves one process (the SQLite store: one replica); `RedisBus` uses Redis pub/sub
on `{prefix}:bus` and plain keys `{prefix}:claim:<name>` for claims. A live claim belongs to
its first owner: another owner's claim is refused until it is taken, released or expires.
Every message reaches every replica, the publisher included, so each one applies it through
the same path.
Messages carry no chat content; a claim's name is a hash, never the secret it stands for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol, Self

import redis.asyncio as redis
from redis.exceptions import RedisError

from kenar_core.lifecycle import AsyncResource, stop_task
from relay.config import RelayConfig
from relay.stores import is_redis

Handler = Callable[[dict[str, Any]], None]


class Bus(Protocol):
    """The seam presence and OAuth hand-over use; both implementations close idempotently."""

    replica: str

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def subscribe(self, handler: Handler) -> None: ...

    async def publish(self, message: dict[str, Any]) -> None: ...

    async def claim(self, name: str, ttl: float, owner: str = "") -> bool: ...

    async def take(self, name: str) -> bool: ...

    async def release(self, name: str) -> None: ...

    async def aclose(self) -> None: ...


def bus_channel(prefix: str) -> str:
    """The replicas' pub/sub channel under `prefix` (its hash tag, like the store's keys)."""
    return "{" + prefix + "}:bus"


class _Handlers:
    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger
        self._handlers: list[Handler] = []
        self.replica = uuid.uuid4().hex[:12]

    def subscribe(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def _dispatch(self, message: dict[str, Any]) -> None:
        for handler in list(self._handlers):
            try:
                handler(message)
            except Exception as exc:  # one bad handler must not silence the others
                self._log.error("bus handler failed error=%s", type(exc).__name__, exc_info=exc)


class LocalBus(AsyncResource, _Handlers):
    """One relay process: messages go to its own handlers, claims live in memory."""

    def __init__(
        self,
        *,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(logger or logging.getLogger("kenar_relay.bus"))
        self._claims: dict[str, tuple[float, str]] = {}
        self._clock = clock

    async def publish(self, message: dict[str, Any]) -> None:
        # Through the loop, like a network bus: a handler never runs inside its publisher.
        asyncio.get_running_loop().call_soon(self._dispatch, message)

    async def claim(self, name: str, ttl: float, owner: str = "") -> bool:
        now = self._clock()
        held = self._claims.get(name)
        if held is not None and held[0] > now and held[1] != owner:
            return False
        self._claims[name] = (now + ttl, owner)
        return True

    async def take(self, name: str) -> bool:
        held = self._claims.pop(name, None)
        return held is not None and held[0] > self._clock()

    async def release(self, name: str) -> None:
        self._claims.pop(name, None)

    async def aclose(self) -> None:
        self._claims.clear()


class RedisBus(AsyncResource, _Handlers):
    """Replicas sharing one Redis: pub/sub on `{prefix}:bus`, claims as keys with SET EX."""

    def __init__(self, url: str, *, prefix: str, logger: logging.Logger) -> None:
        super().__init__(logger)
        self.channel = bus_channel(prefix)
        self._claim_prefix = "{" + prefix + "}:claim:"
        self._url = url
        self._client: redis.Redis | None = None
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._closed = False

    def __repr__(self) -> str:
        return f"RedisBus(channel={self.channel!r})"

    async def __aenter__(self) -> Self:
        # Bounded waits: a hung Redis must not hold a console's goodbye (its presence clearing).
        self._client = redis.Redis.from_url(self._url, socket_connect_timeout=5, socket_timeout=5)
        try:
            await self._client.ping()
        except (RedisError, OSError) as exc:
            await self._client.aclose()
            self._client = None
            raise ConnectionError(
                f"the relay bus cannot reach Redis: {type(exc).__name__}"
            ) from None
        self._listener = asyncio.create_task(self._listen(), name="relay-bus")
        try:
            async with asyncio.timeout(10):
                await self._ready.wait()
        except TimeoutError:
            await self.aclose()
            raise ConnectionError("the relay bus could not subscribe on Redis in 10 s") from None
        return self

    async def _listen(self) -> None:
        """Subscribe, and keep subscribing after Redis comes back; dispatch every message."""
        assert self._client is not None
        while not self._closed:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._ready.set()
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None or message.get("type") != "message":
                        continue
                    try:
                        value = json.loads(message["data"])
                    except ValueError:
                        continue
                    if isinstance(value, dict):
                        self._dispatch(value)
            except (RedisError, OSError) as exc:
                self._log.warning("bus lost redis, resubscribing error=%s", _reason(exc))
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()

    async def publish(self, message: dict[str, Any]) -> None:
        if self._client is None:
            return
        text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        try:
            await self._client.publish(self.channel, text)
        except (RedisError, OSError) as exc:  # presence is best effort; say so, go on
            self._log.warning("bus publish failed error=%s", _reason(exc))

    async def claim(self, name: str, ttl: float, owner: str = "") -> bool:
        """SET NX: the first owner's claim stands; the same owner may renew it."""
        if self._client is None:
            return True
        key, ms = self._claim_prefix + name, int(ttl * 1000)
        try:
            if await self._client.set(key, owner, px=ms, nx=True):
                return True
            held = await self._client.get(key)
            if held is None or _text(held) == owner:
                await self._client.set(key, owner, px=ms)
                return True
            return False
        except (RedisError, OSError) as exc:
            # Redis down: this replica's own waiter still refuses a second local announcer.
            self._log.warning("bus claim failed error=%s", _reason(exc))
            return True

    async def take(self, name: str) -> bool:
        if self._client is None:
            return False
        try:
            return await self._client.getdel(self._claim_prefix + name) is not None
        except (RedisError, OSError) as exc:
            self._log.warning("bus take failed error=%s", _reason(exc))
            return False

    async def release(self, name: str) -> None:
        if self._client is None:
            return
        with contextlib.suppress(RedisError, OSError):
            await self._client.delete(self._claim_prefix + name)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._listener is not None:
            await stop_task(self._listener)
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def open_bus(config: RelayConfig, *, logger: logging.Logger) -> Bus:
    """The bus for this relay: Redis when the store is Redis (replicas), else in-process."""
    if is_redis(config.store):
        return RedisBus(config.store, prefix=config.redis_key_prefix, logger=logger)
    return LocalBus(logger=logger)


def _reason(exc: BaseException) -> str:
    """An expected Redis failure for a log line: its type and text (no password, no payload)."""
    text = str(exc).strip()[:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
