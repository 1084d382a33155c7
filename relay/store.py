"""The timeline store: what every backend (SQLite now, Redis later) provides.

A store keeps timeline entries under strictly increasing integer `seq` values. `append`
returns only after the entry is durable; entries with the same dedupe key are stored once.
Committed entries are handed to the store's listeners in `seq` order, from one place, so
the hub can fan them out without ever reordering them. Every payload passes through a
`Sealer` on its way to disk (`PlainSealer` by default; the privacy issue adds encryption).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self


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
    def healthy(self) -> bool:
        """False after a failed write, until a write or `check` succeeds."""
        ...

    def add_listener(self, listener: Listener) -> None:
        """Call `listener` with each committed batch of new entries, in `seq` order."""
        ...
