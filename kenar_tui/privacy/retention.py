"""How long stored chat content is kept, and the background purger that enforces it.

The store contract (both the relay's store and the console's cache implement it):

    purge_batch(older_than: datetime, limit: int) -> int          (or an awaitable of it)
        Delete at most `limit` entries whose stored time (the relay's `received_at`, the
        console's receive time) is strictly before `older_than` (timezone-aware UTC), oldest
        first, in one short transaction; return how many were deleted. Returning fewer than
        `limit` means nothing older is left. It must not hold the write lock for longer than one
        batch: intake runs between batches.

    purge_bodies_batch(older_than: datetime, limit: int) -> int   (only if bodies expire sooner)
        Same, but instead of deleting, drop the personal part of at most `limit` entries older
        than `older_than` (message text and every personal field) and keep what the
        conversation list needs (ids, post token, times, kind); return how many changed, and
        never count an entry whose body is already gone.

The purger calls these in a loop, yielding to the event loop between batches, until a batch
comes back short; then it waits for the next round. Its clock (`now`) and its wait (`wait`)
are injected, so tests drive rounds and time without sleeping. A failing round is logged and
tried again next round: retention must never take the store's owner down.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, Self, runtime_checkable

from kenar_core.errors import ConfigError
from kenar_core.lifecycle import AsyncResource, stop_task

RELAY_MAX_AGE = timedelta(hours=72)
CONSOLE_MAX_AGE = timedelta(days=30)
DEFAULT_INTERVAL = timedelta(minutes=1)
DEFAULT_BATCH = 500


@runtime_checkable
class PurgeableStore(Protocol):
    def purge_batch(self, older_than: datetime, limit: int) -> int | Awaitable[int]: ...


@runtime_checkable
class BodyPurgeableStore(Protocol):
    def purge_bodies_batch(self, older_than: datetime, limit: int) -> int | Awaitable[int]: ...


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Entries older than `max_age` are deleted; bodies older than `body_max_age` are dropped."""

    max_age: timedelta
    body_max_age: timedelta | None = None

    def __post_init__(self) -> None:
        if self.max_age <= timedelta(0):
            raise ConfigError(f"retention must be longer than zero (got {self.max_age})")
        if self.body_max_age is not None and not (timedelta(0) < self.body_max_age <= self.max_age):
            raise ConfigError(
                f"message bodies must be kept longer than zero and no longer than the entries "
                f"themselves ({self.max_age}); got {self.body_max_age}"
            )

    @classmethod
    def relay_default(cls) -> RetentionPolicy:
        return cls(RELAY_MAX_AGE)

    @classmethod
    def console_default(cls) -> RetentionPolicy:
        return cls(CONSOLE_MAX_AGE)

    def horizon(self, now: datetime) -> datetime:
        """Entries stored before this instant are past retention."""
        return now - self.max_age

    def body_horizon(self, now: datetime) -> datetime | None:
        """Bodies of entries stored before this instant are dropped (None: kept with the entry)."""
        return None if self.body_max_age is None else now - self.body_max_age

    def describe(self) -> str:
        text = f"entries kept {_human(self.max_age)}"
        if self.body_max_age is not None and self.body_max_age != self.max_age:
            text += f", message bodies {_human(self.body_max_age)}"
        return text


def _human(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400} d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def parse_age(text: str) -> timedelta:
    """An age such as "72h", "30d", "90m" or "45s" (a bare number means hours).

    ConfigError if it is not a positive number with one of the units s, m, h, d, w.
    """
    cleaned = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    number, unit = (cleaned[:-1], cleaned[-1]) if cleaned[-1:] in units else (cleaned, "h")
    try:
        value = float(number)
    except ValueError:
        raise ConfigError(
            f"{text!r} is not an age; write a number and a unit, such as 72h, 30d or 90m"
        ) from None
    if not value > 0:  # also refuses nan
        raise ConfigError(f"an age must be longer than zero (got {text!r})")
    try:
        return timedelta(seconds=value * units[unit])
    except OverflowError:
        raise ConfigError(f"{text!r} is too long an age") from None


@dataclass(frozen=True, slots=True)
class PurgeRound:
    """What one round removed."""

    entries: int
    bodies: int
    batches: int


async def _call(result: int | Awaitable[int]) -> int:
    return int(await result) if inspect.isawaitable(result) else int(result)


async def _yield_now() -> None:
    await asyncio.sleep(0)


async def purge_older_than(
    store: PurgeableStore,
    older_than: datetime,
    *,
    batch_size: int = DEFAULT_BATCH,
    pause: Callable[[], Awaitable[None]] = _yield_now,
) -> tuple[int, int]:
    """Delete every entry stored before `older_than`, batch by batch; (deleted, batches).

    Also what `purge` commands use to delete everything now (`older_than` far in the future).
    """
    deleted = batches = 0
    while True:
        count = await _call(store.purge_batch(older_than, batch_size))
        batches += 1
        deleted += count
        if count < batch_size:
            return deleted, batches
        await pause()


async def purge_bodies_older_than(
    store: BodyPurgeableStore,
    older_than: datetime,
    *,
    batch_size: int = DEFAULT_BATCH,
    pause: Callable[[], Awaitable[None]] = _yield_now,
) -> tuple[int, int]:
    """Drop the bodies of every entry stored before `older_than`; (changed, batches)."""
    changed = batches = 0
    while True:
        count = await _call(store.purge_bodies_batch(older_than, batch_size))
        batches += 1
        changed += count
        if count < batch_size:
            return changed, batches
        await pause()


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def _sleep_seconds(seconds: float) -> None:
    await asyncio.sleep(seconds)


class Purger(AsyncResource):
    """Runs the retention policy against a store in the background, in small batches.

    `async with Purger(store, policy, logger=log):` purges once right away, then once per
    `interval`. `now()` gives the current time (timezone-aware), `wait(seconds)` waits between
    rounds and `pause()` between batches of a round (a bare yield by default).
    """

    def __init__(
        self,
        store: PurgeableStore,
        policy: RetentionPolicy,
        *,
        logger: logging.Logger,
        now: Callable[[], datetime] = _utcnow,
        wait: Callable[[float], Awaitable[None]] = _sleep_seconds,
        pause: Callable[[], Awaitable[None]] = _yield_now,
        interval: timedelta = DEFAULT_INTERVAL,
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"the purge batch size must be at least 1 (got {batch_size})")
        if policy.body_max_age is not None and not isinstance(store, BodyPurgeableStore):
            raise ConfigError(
                f"{type(store).__name__} cannot keep message bodies shorter than entries; "
                "leave the body retention unset"
            )
        self._store = store
        self.policy = policy
        self._log = logger
        self._now = now
        self._wait = wait
        self._pause = pause
        self._interval = interval.total_seconds()
        self._batch_size = batch_size
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0
        self.last_round: PurgeRound | None = None

    async def run_once(self) -> PurgeRound:
        """One round: delete what is past retention, then drop bodies past theirs."""
        now = self._now()
        deleted, batches = await purge_older_than(
            self._store,
            self.policy.horizon(now),
            batch_size=self._batch_size,
            pause=self._pause,
        )
        bodies = 0
        body_horizon = self.policy.body_horizon(now)
        if body_horizon is not None and isinstance(self._store, BodyPurgeableStore):
            bodies, body_batches = await purge_bodies_older_than(
                self._store, body_horizon, batch_size=self._batch_size, pause=self._pause
            )
            batches += body_batches
        if deleted or bodies:
            self._log.info(
                "purged %d entries and %d bodies past retention (%s) in %d batches",
                deleted,
                bodies,
                self.policy.describe(),
                batches,
            )
        self.rounds += 1
        self.last_round = PurgeRound(deleted, bodies, batches)
        return self.last_round

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Only the type: a store's message might quote what it was given.
                self._log.warning(
                    "purge failed (%s); trying again in %.0f s", type(exc).__name__, self._interval
                )
            await self._wait(self._interval)

    async def __aenter__(self) -> Self:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="kenar-purger")
        return self

    async def aclose(self) -> None:
        """Stop purging; safe to call more than once. A batch in progress is cancelled."""
        task, self._task = self._task, None
        if task is None or task.done():
            return
        await stop_task(task)

    def __repr__(self) -> str:
        return f"Purger({self.policy.describe()}, rounds={self.rounds})"
