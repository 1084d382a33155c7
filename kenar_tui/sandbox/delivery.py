"""Divar's webhook sender: events go to the app's "new events URL" from a background queue.

The API call that caused an event never waits for its delivery. A delivery the app does not
answer with a 2xx is retried with exponential back-off (as webhook senders do), and the
fault plan can send a delivery twice or hold one back behind the next (out of order).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from kenar_core.backoff import backoff_ceiling
from kenar_core.lifecycle import stop_tasks
from kenar_tui.sandbox.clock import Clock
from kenar_tui.sandbox.faults import FaultPlan

MAX_KEPT = 10_000


@dataclass(frozen=True, slots=True)
class Target:
    """Where events go and the key they carry; `url` None means not configured."""

    url: str | None
    identification_key: str = field(repr=False)


@dataclass
class Delivery:
    id: int
    event_type: str
    body: dict[str, Any]
    state: str = "pending"  # pending, delivered, failed, skipped
    attempts: list[dict[str, Any]] = field(default_factory=list)
    duplicate: bool = False
    held_back: bool = False

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event_type": self.event_type,
            "state": self.state,
            "attempts": self.attempts,
            "duplicate": self.duplicate,
            "held_back": self.held_back,
            "body": self.body,
        }


class DeliveryQueue:
    """An async context manager running the delivery worker."""

    def __init__(
        self,
        target: Callable[[], Target],
        plan: FaultPlan,
        clock: Clock,
        logger: logging.Logger,
        *,
        timeout: float = 10.0,
    ) -> None:
        self._target = target
        self._plan = plan
        self._clock = clock
        self._log = logger
        self._timeout = timeout
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue()
        self._retries: set[asyncio.Task[None]] = set()
        self._worker: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._next_id = 1
        self.kept: deque[Delivery] = deque(maxlen=MAX_KEPT)

    async def start(self) -> None:
        if self._worker is not None:
            return
        self._http = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        self._worker = asyncio.create_task(self._work(), name="sandbox-deliveries")

    async def aclose(self) -> None:
        tasks = [t for t in (self._worker, *self._retries) if t is not None]
        self._worker = None
        self._retries.clear()
        await stop_tasks(tasks)
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    def enqueue(self, event_type: str, body: dict[str, Any]) -> Delivery:
        delivery = Delivery(self._next_id, event_type, body)
        self._next_id += 1
        self.kept.append(delivery)
        self._pending += 1
        self._idle.clear()
        self._queue.put_nowait(delivery)
        return delivery

    @property
    def pending(self) -> int:
        return self._pending

    async def flush(self, within: float = 10.0) -> bool:
        """Wait until every delivery is delivered, failed or skipped; False after `within` s."""
        try:
            async with asyncio.timeout(within):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    def counts(self) -> dict[str, int]:
        counts = {"pending": 0, "delivered": 0, "failed": 0, "skipped": 0}
        for d in self.kept:
            counts[d.state] = counts.get(d.state, 0) + 1
        return counts

    # --- the worker ----------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            delivery = await self._queue.get()
            if self._plan.roll(self._plan.faults.reorder_rate):
                delivery.held_back = True
                try:
                    async with asyncio.timeout(self._plan.faults.reorder_hold):
                        overtaking = await self._queue.get()
                except TimeoutError:
                    overtaking = None
                if overtaking is not None:
                    await self._attempt(overtaking)
            await self._attempt(delivery)

    async def _attempt(self, delivery: Delivery) -> None:
        target = self._target()
        if not target.url:
            delivery.attempts.append({"at": self._clock.now().isoformat(), "error": "no url"})
            self._finish(delivery, "skipped")
            return
        outcome = await self._post(target, delivery)
        if outcome is not None and 200 <= outcome < 300:
            if self._plan.roll(self._plan.faults.duplicate_rate):
                delivery.duplicate = True
                await self._post(target, delivery)
            self._finish(delivery, "delivered")
            return
        failures = len(delivery.attempts)
        if failures > self._plan.faults.delivery_retries:
            self._log.warning(
                "sandbox delivery %d (%s) failed after %d attempts",
                delivery.id,
                delivery.event_type.lower(),
                failures,
            )
            self._finish(delivery, "failed")
            return
        # No jitter: a seeded plan must retry at the same moments every run.
        wait = backoff_ceiling(failures - 1, base=self._plan.faults.delivery_backoff)
        task = asyncio.create_task(self._retry_later(delivery, wait))
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    async def _retry_later(self, delivery: Delivery, wait: float) -> None:
        await asyncio.sleep(wait)
        await self._attempt(delivery)

    async def _post(self, target: Target, delivery: Delivery) -> int | None:
        assert self._http is not None and target.url is not None
        content = json.dumps(delivery.body, ensure_ascii=False).encode()
        headers = {
            "Authorization": target.identification_key,
            "Content-Type": "application/json",
        }
        attempt: dict[str, Any] = {"at": self._clock.now().isoformat()}
        try:
            response = await self._http.post(target.url, content=content, headers=headers)
        except httpx.HTTPError as exc:
            attempt["error"] = type(exc).__name__
            delivery.attempts.append(attempt)
            self._log.info("sandbox delivery %d: %s", delivery.id, type(exc).__name__.lower())
            return None
        attempt["status"] = response.status_code
        delivery.attempts.append(attempt)
        self._log.debug("sandbox delivery %d: %d", delivery.id, response.status_code)
        return response.status_code

    def _finish(self, delivery: Delivery, state: str) -> None:
        delivery.state = state
        self._pending -= 1
        if self._pending == 0:
            self._idle.set()
