"""Retention: the purger deletes what is past its age, in batches, without blocking intake."""

from __future__ import annotations

import asyncio
import itertools
import logging
from datetime import UTC, datetime, timedelta

import pytest

from kenar_core.errors import ConfigError
from kenar_tui.privacy.retention import (
    Purger,
    PurgeRound,
    RetentionPolicy,
    parse_age,
    purge_older_than,
)

LOG = logging.getLogger("tests.privacy.retention")
START = datetime(2026, 3, 21, 12, 0, tzinfo=UTC)  # Nowruz, noon


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class FakeStore:
    """Entries by stored time; purge_batch deletes the oldest first, like the real stores."""

    def __init__(self, trace: list[str] | None = None) -> None:
        self.entries: dict[int, datetime] = {}
        self.bodies: set[int] = set()
        self.trace = trace if trace is not None else []
        self.fail_next = False
        self._seq = 0

    def add(self, at: datetime, count: int = 1) -> None:
        for _ in range(count):
            self._seq += 1
            self.entries[self._seq] = at
            self.bodies.add(self._seq)

    async def purge_batch(self, older_than: datetime, limit: int) -> int:
        if self.fail_next:
            self.fail_next = False
            raise OSError("disk I/O error")
        old = sorted(s for s, at in self.entries.items() if at < older_than)[:limit]
        for seq in old:
            del self.entries[seq]
            self.bodies.discard(seq)
        self.trace.append(f"purge:{len(old)}")
        return len(old)

    def purge_bodies_batch(self, older_than: datetime, limit: int) -> int:
        old = sorted(s for s in self.bodies if self.entries[s] < older_than)[:limit]
        self.bodies.difference_update(old)
        self.trace.append(f"bodies:{len(old)}")
        return len(old)


class ManualWait:
    """The purger's wait between rounds, released by the test; records each round's end."""

    def __init__(self) -> None:
        self.rounds_done: asyncio.Queue[float] = asyncio.Queue()
        self._release: asyncio.Queue[None] = asyncio.Queue()

    async def __call__(self, seconds: float) -> None:
        self.rounds_done.put_nowait(seconds)
        await self._release.get()

    async def next_round_done(self) -> float:
        return await asyncio.wait_for(self.rounds_done.get(), timeout=5)

    def release(self) -> None:
        self._release.put_nowait(None)


async def test_purger_deletes_entries_past_retention_as_the_clock_moves() -> None:
    """Entries older than 72 h disappear; newer ones stay until their own time comes."""
    clock, wait, store = Clock(), ManualWait(), FakeStore()
    store.add(START - timedelta(hours=100), 3)
    store.add(START - timedelta(hours=10), 2)
    purger = Purger(store, RetentionPolicy.relay_default(), logger=LOG, now=clock, wait=wait)
    async with purger:
        assert await wait.next_round_done() == 60
        assert len(store.entries) == 2
        assert purger.last_round == PurgeRound(entries=3, bodies=0, batches=1)
        clock.advance(timedelta(hours=63))
        wait.release()
        await wait.next_round_done()
        assert store.entries == {}
    assert purger.rounds == 2


async def test_purge_runs_in_small_batches_and_yields_to_intake_between_them() -> None:
    """A large purge is cut into batches, and intake work runs between every two batches."""
    trace: list[str] = []
    store = FakeStore(trace)
    store.add(START - timedelta(days=10), 23)
    done = asyncio.Event()

    async def intake() -> None:
        while not done.is_set():
            trace.append("intake")
            await asyncio.sleep(0)

    intake_task = asyncio.create_task(intake())
    deleted, batches = await purge_older_than(store, START, batch_size=5)
    done.set()
    await intake_task
    assert (deleted, batches) == (23, 5)
    purges = [i for i, step in enumerate(trace) if step.startswith("purge")]
    assert [trace[i] for i in purges] == ["purge:5"] * 4 + ["purge:3"]
    for before, after in itertools.pairwise(purges):
        assert "intake" in trace[before + 1 : after]


async def test_message_bodies_can_expire_before_the_entries() -> None:
    """With a shorter body retention, old bodies go first while the entries stay listed."""
    clock, wait, store = Clock(), ManualWait(), FakeStore()
    store.add(START - timedelta(days=10), 4)
    store.add(START - timedelta(days=1), 1)
    policy = RetentionPolicy(max_age=timedelta(days=30), body_max_age=timedelta(days=7))
    async with Purger(store, policy, logger=LOG, now=clock, wait=wait, batch_size=3) as purger:
        await wait.next_round_done()
        assert len(store.entries) == 5
        assert len(store.bodies) == 1
        assert purger.last_round == PurgeRound(entries=0, bodies=4, batches=3)


async def test_a_failing_round_is_logged_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    """A store error does not stop the purger: it logs the error's type and tries next round."""
    clock, wait, store = Clock(), ManualWait(), FakeStore()
    store.add(START - timedelta(days=4))
    store.fail_next = True
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        async with Purger(store, RetentionPolicy.relay_default(), logger=LOG, now=clock, wait=wait):
            await wait.next_round_done()
            assert len(store.entries) == 1
            wait.release()
            await wait.next_round_done()
            assert store.entries == {}
    assert "purge failed (OSError)" in caplog.text


async def test_purger_closes_idempotently_while_waiting() -> None:
    """Leaving the context stops the purger mid-wait; closing again does nothing."""
    wait, store = ManualWait(), FakeStore()
    purger = Purger(store, RetentionPolicy.console_default(), logger=LOG, now=Clock(), wait=wait)
    async with purger:
        await wait.next_round_done()
    await purger.aclose()
    assert purger.rounds == 1


async def test_purging_everything_now() -> None:
    """A purge command deletes every entry by purging up to a time far in the future."""
    store = FakeStore()
    store.add(START, 7)
    deleted, _ = await purge_older_than(store, datetime.max.replace(tzinfo=UTC), batch_size=2)
    assert deleted == 7 and store.entries == {}


def test_store_without_body_purge_cannot_have_a_shorter_body_retention() -> None:
    """Asking for shorter body retention from a store that cannot drop bodies is refused."""

    class EntriesOnly:
        def purge_batch(self, older_than: datetime, limit: int) -> int:
            return 0

    policy = RetentionPolicy(timedelta(days=30), body_max_age=timedelta(days=1))
    with pytest.raises(ConfigError, match="cannot keep message bodies shorter"):
        Purger(EntriesOnly(), policy, logger=LOG)


@pytest.mark.parametrize(
    ("max_age", "body_max_age"),
    [(timedelta(0), None), (timedelta(hours=1), timedelta(hours=2)), (timedelta(1), timedelta(0))],
)
def test_invalid_retention_is_refused(max_age: timedelta, body_max_age: timedelta | None) -> None:
    """Zero retention, or bodies kept longer than entries, is a clear configuration error."""
    with pytest.raises(ConfigError):
        RetentionPolicy(max_age, body_max_age)


def test_policy_defaults_and_description() -> None:
    """The relay keeps 72 h and the console 30 days by default, and says so in words."""
    assert RetentionPolicy.relay_default().max_age == timedelta(hours=72)
    assert RetentionPolicy.console_default().max_age == timedelta(days=30)
    policy = RetentionPolicy(timedelta(days=30), timedelta(days=7))
    assert policy.describe() == "entries kept 30 d, message bodies 7 d"
    assert policy.horizon(START) == START - timedelta(days=30)
    assert policy.body_horizon(START) == START - timedelta(days=7)


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("72h", timedelta(hours=72)),
        ("30d", timedelta(days=30)),
        ("90m", timedelta(minutes=90)),
        ("48", timedelta(hours=48)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_parse_age(text: str, age: timedelta) -> None:
    """Ages are written as a number and a unit; a bare number means hours."""
    assert parse_age(text) == age


@pytest.mark.parametrize("text", ["", "soon", "-3h", "0d", "nan", "inf", "1e30d"])
def test_parse_age_refuses_nonsense(text: str) -> None:
    """An age that is not a positive number with a unit is a clear configuration error."""
    with pytest.raises(ConfigError):
        parse_age(text)
