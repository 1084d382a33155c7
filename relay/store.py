"""The timeline store: what every backend (SQLite now, Redis later) provides.

A store keeps timeline entries under strictly increasing integer `seq` values. `append`
returns only after the entry is durable; entries with the same dedupe key are stored once.
Committed entries are handed to the store's listeners in `seq` order, from one place, so
the hub can fan them out without ever reordering them. Every payload passes through a
`Sealer` on its way to disk (`PlainSealer` by default; the privacy issue adds encryption).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

import orjson


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One timeline entry: its `seq` and its JSON text (`payload`), exactly as sent to consoles."""

    seq: int
    payload: str
    received_at_us: int

    @property
    def entry(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.payload)
        return value


@dataclass(frozen=True, slots=True)
class Appended:
    """The outcome of an append: the entry's `seq`, and whether it was already stored."""

    seq: int
    duplicate: bool


Listener = Callable[[list[StoredEntry]], None]
# Called with (since, oldest) when entries after `since` and before `oldest` were gone before
# the store could hand them to its listeners (a Redis stream trimmed ahead of a replica's
# reader), before the batch that starts at `oldest`: live consoles get a `gap`, as at hello.
GapListener = Callable[[int, int], None]

# Appends waiting for the writer, at most: past it `append` raises StoreBusy (the webhook is
# answered 503 with Retry-After, and Divar delivers again) instead of memory growing.
MAX_PENDING_APPENDS = 10_000
# While a store is unhealthy it probes itself this often (a small real write), so /healthz
# only reads `healthy` and a GET never causes a write.
RECOVERY_PROBE_SECONDS = 1.0


def encode_payload(entry: dict[str, Any]) -> tuple[str, bytes]:
    """An entry's stored JSON, as text and as UTF-8: compact, non-ASCII kept as it is.

    orjson writes what `json.dumps(ensure_ascii=False, separators=(",", ":"))` writes for
    the strings, integers and nesting of a webhook, ~8x faster (the stdlib encoder was ~10%
    of intake's event loop, docs/performance.md); floats may be spelled differently
    (`1e16` for `1e+16`) with the same value. What orjson refuses (an integer past 64 bits,
    nesting past 254, an unpaired surrogate) takes the stdlib path, where an unpaired
    surrogate raises UnicodeEncodeError in the caller, as before.
    """
    try:
        data = orjson.dumps(entry)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        payload = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        return payload, payload.encode()
    return data.decode(), data


UNREADABLE_REASON = (
    "the relay could not open this stored entry (its key is gone or the data is damaged); "
    "its content is lost"
)


def unreadable_entry(seq: int, received_at_us: int) -> StoredEntry:
    """What consoles get at `seq` when the stored payload cannot be opened: a visible `unknown`.

    One bad payload must not hide the entries around it, nor vanish without a trace.
    """
    payload = json.dumps(
        {
            "kind": "unknown",
            "conversation_id": None,
            "post_token": None,
            "event_type": None,
            "data": {"reason": UNREADABLE_REASON},
            "author": None,
        },
        separators=(",", ":"),
    )
    return StoredEntry(seq, payload, received_at_us)


async def probe_until_healthy(
    check: Callable[[], Any],
    healthy: Callable[[], bool],
    *,
    wake: asyncio.Event,
    logger: logging.Logger,
    interval: float = RECOVERY_PROBE_SECONDS,
) -> None:
    """The store's own recovery loop: while unhealthy, one probe per `interval` (or on `wake`)."""
    while True:
        # Looks at `healthy` every interval (a read), whoever marked it; probes only when false.
        if not healthy():
            try:
                await check()
            except Exception:  # a probe that raises is one more failed probe, never the end
                logger.exception("store recovery probe failed")
        wake.clear()
        # asyncio.timeout, not wait_for: on Python 3.11, wait_for returns the inner result
        # when the waiting task is cancelled just as `wake` is set (a purge sets it right
        # before the store closes), swallowing the cancellation, so stop_task waited forever.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await wake.wait()


class Store(Protocol):
    """The interface the relay's web layer and hub use; an async context manager."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def aclose(self) -> None:
        """Finish pending appends, then close; idempotent."""
        ...

    async def append(self, entry: dict[str, Any], *, dedupe: str | None = None) -> Appended:
        """Store `entry` durably; StoreError when it could not be (the caller answers 503)."""
        ...

    def read(self, since: int, *, batch: int = 500) -> AsyncGenerator[list[StoredEntry], None]:
        """Entries with `seq > since`, oldest first, in batches, up to the head at each batch."""
        ...

    async def head(self) -> int:
        """The highest `seq` ever assigned (0 when nothing was ever stored)."""
        ...

    async def oldest(self) -> int:
        """The lowest `seq` still kept (0 when the store is empty)."""
        ...

    async def purge_older_than(self, cutoff: datetime) -> int:
        """Delete entries received before `cutoff`, in small steps; returns how many."""
        ...

    async def check(self) -> bool:
        """Whether a write would succeed now (a small real write); updates `healthy`."""
        ...

    @property
    def unreadable(self) -> int:
        """How many stored payloads could not be opened and reached consoles as `unknown`."""
        ...

    @property
    def healthy(self) -> bool:
        """False after a failed write, until a write or the store's own recovery probe succeeds."""
        ...

    def add_listener(self, listener: Listener) -> None:
        """Call `listener` with each committed batch of new entries, in `seq` order."""
        ...

    def add_gap_listener(self, listener: GapListener) -> None:
        """Call `listener(since, oldest)` when entries were lost to live delivery (see above)."""
        ...
