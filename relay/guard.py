"""Limits for serving directly on the internet (`--ssl-certfile`, or a non-loopback address).

Behind nginx the proxy bounds headers, slow clients and connections (deploy/). Served
directly, the relay does it itself with uvicorn's h11 protocol plus this guard:

- headers: at most `max_header_bytes` (h11 refuses a larger head with 400), and they must
  arrive within `header_timeout` seconds of the connection (or of the previous answer on a
  kept-alive connection); a client dripping them is disconnected;
- connections: past `max_connections` open at once a new one gets `503` with `Retry-After`
  and is closed, before anything of it is parsed;
- these expected refusals are logged at INFO, once, then at most once a minute with a count
  (`RefusalLog`), never with a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

REFUSAL_EVERY_S = 60.0
_BUSY_BODY = b'{"error": "the relay is at its connection limit; try again shortly"}'
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
    b"retry-after: 5\r\nconnection: close\r\n"
    + b"content-length: %d\r\n\r\n" % len(_BUSY_BODY)
    + _BUSY_BODY
)


class RefusalLog:
    """Logs an expected refusal at INFO once, then once a minute with how many happened."""

    def __init__(self, logger: logging.Logger, *, clock: Any = time.monotonic) -> None:
        self._log = logger
        self._clock = clock
        self._last: dict[str, float] = {}
        self._count: dict[str, int] = {}

    def refused(self, reason: str) -> None:
        self._count[reason] = self._count.get(reason, 0) + 1
        now = self._clock()
        last = self._last.get(reason)
        if last is None or now - last >= REFUSAL_EVERY_S:
            self._last[reason] = now
            count, self._count[reason] = self._count[reason], 0
            self._log.info("connection refused reason=%s count=%d", reason, count)


def guarded_h11(
    *, max_connections: int, header_timeout: float, refusals: RefusalLog
) -> type[H11Protocol]:
    """An h11 protocol class with a connection cap and a header deadline (for uvicorn's `http`)."""

    class GuardedH11(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                refusals.refused("connection_limit")
                transport.write(_BUSY)
                transport.close()
                return
            self._arm()

        def _arm(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(header_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                refusals.refused("header_timeout")
                self.transport.close()

        def handle_events(self) -> None:
            before = self.cycle
            super().handle_events()
            if self.cycle is not before:
                self._disarm()  # a request's head arrived in time

        def handle_websocket_upgrade(self, event: Any) -> None:
            self._disarm()
            super().handle_websocket_upgrade(event)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()  # the next request's head has the same deadline

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return GuardedH11


class QuietRefusals(logging.Filter):
    """uvicorn's lines about a websocket the relay refused, which the relay logs itself.

    The relay logs one INFO line per refused console ("console refused status=401"). uvicorn's
    sans-I/O websocket adds "connection rejected (401 ...)", an access line, and an ERROR
    "ASGI callable returned without completing handshake." although a denial response *is*
    the completed handshake: those are dropped, so a refusal is one INFO line, no traceback.
    """

    _DENIALS = (" 401", " 403", " 429", " 503")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(("ASGI callable returned without completing handshake",)):
            return False
        if message.startswith("connection rejected ("):
            return False
        return not ('"WebSocket ' in message and message.endswith(self._DENIALS))
