"""Store failures answer 503 (never 2xx), /healthz unready until recovery; metrics; retention."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from relay.errors import StoreError
from relay.sqlite_store import SqliteStore
from relay.store import Appended
from tests.fixtures.relay import RelayFactory
from tests.relay.helpers import SAMPLES, console, post_json, text_event


class FaultyStore(SqliteStore):
    """A real SQLite store whose writes fail while `failing` is set (a full or broken disk)."""

    failing = False

    async def append(self, entry: dict[str, Any], *, dedupe: str | None = None) -> Appended:
        if self.failing:
            self._healthy = False
            raise StoreError("the timeline store cannot write (database or disk is full)")
        return await super().append(entry, dedupe=dedupe)

    async def check(self) -> bool:
        if self.failing:
            self._healthy = False
            return False
        return await super().check()

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await super().__aexit__(exc_type, exc, tb)


async def ready_again(http: httpx.AsyncClient, url: str, within: float = 10.0) -> httpx.Response:
    """/healthz once the store's own probe found it writable (a GET never writes), or the last."""
    async with asyncio.timeout(within):
        while True:
            answer = await http.get(url + "/healthz")
            if answer.status_code == 200:
                return answer
            await asyncio.sleep(0.05)  # polling for a state, not timing an assertion


async def test_a_failing_store_answers_503_and_healthz_tracks_it(
    relay_factory: RelayFactory, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """While writes fail: webhooks and presses get 503, /healthz is unready; after, all is well."""
    store = FaultyStore(
        tmp_path / "faulty.sqlite3", logger=logging.getLogger("kenar_relay.test.faulty")
    )
    relay = await relay_factory(server_kwargs={"store": store})
    assert (await http.get(relay.url + "/healthz")).status_code == 200
    store.failing = True
    answer = await post_json(
        http, relay.url + "/events", text_event(), key=relay.identification_key
    )
    press = await post_json(
        http,
        relay.url + "/server-link",
        {"extra_data": {}},
        key=relay.identification_key,
        headers={"API_VERSION": "2"},
    )
    health = await http.get(relay.url + "/healthz")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert press.status_code == 503
    assert health.status_code == 503 and health.json()["ready"] is False
    store.failing = False
    recovered = await ready_again(http, relay.url)
    assert recovered.status_code == 200 and recovered.json()["ready"] is True
    again = await post_json(http, relay.url + "/events", text_event(), key=relay.identification_key)
    assert again.status_code == 200 and again.json()["seq"] == 1


async def test_a_full_disk_answers_503_then_recovers_after_retention(
    relay_factory: RelayFactory, http: httpx.AsyncClient
) -> None:
    """With the database at its size cap webhooks get 503; once old entries age out, 200 again."""
    now = [datetime(2026, 11, 25, 9, 0, tzinfo=UTC)]
    relay = await relay_factory(max_db_mb=1, server_kwargs={"clock": lambda: now[0]})
    statuses = []
    for index in range(80):
        answer = await post_json(
            http,
            relay.url + "/events",
            text_event(f"{index} " + "ج" * 20_000),
            key=relay.identification_key,
        )
        statuses.append(answer.status_code)
        if answer.status_code != 200:
            break
    assert statuses[-1] == 503 and set(statuses[:-1]) == {200}
    assert (await http.get(relay.url + "/healthz")).status_code == 503
    now[0] += timedelta(hours=73)
    await relay.server.purge_now()
    assert (await ready_again(http, relay.url)).status_code == 200
    answer = await post_json(
        http, relay.url + "/events", text_event("دوباره"), key=relay.identification_key
    )
    assert answer.status_code == 200


async def test_resuming_from_before_the_retention_horizon_gets_a_gap(
    relay_factory: RelayFactory, http: httpx.AsyncClient
) -> None:
    """A console asking for purged entries is told with `gap`, then gets what is kept."""
    now = [datetime(2026, 11, 25, 9, 0, tzinfo=UTC)]
    relay = await relay_factory(retention_hours=72, server_kwargs={"clock": lambda: now[0]})
    for index in range(3):
        await post_json(
            http, relay.url + "/events", text_event(f"کهنه {index}"), key=relay.identification_key
        )
    now[0] += timedelta(hours=100)
    kept = await post_json(
        http, relay.url + "/events", text_event("تازه"), key=relay.identification_key
    )
    assert await relay.server.purge_now() == 3
    async with console(relay.ws_url, relay.token, since=1) as client:
        gap = await client.frame()
        (entry,) = await client.entries(1)
    assert client.welcome["oldest"] == 4 and client.welcome["head"] == 4
    assert gap == {"type": "gap", "since": 1, "oldest": 4}
    assert entry["seq"] == kept.json()["seq"] == 4


async def test_metrics_count_what_happened(
    relay_factory: RelayFactory, http: httpx.AsyncClient
) -> None:
    """/metrics shows events by type, rejections by reason, stored entries, connected consoles."""
    relay = await relay_factory()
    key = relay.identification_key
    await post_json(http, relay.url + "/events", text_event(), key=key)
    update = (SAMPLES / "event-post-update.json").read_bytes()
    await post_json(http, relay.url + "/events", update, key=key)
    await post_json(http, relay.url + "/events", update, key=key)
    await post_json(http, relay.url + "/events", text_event(), key="wrong")
    await post_json(http, relay.url + "/events", {"type": "SOMETHING_NEW"}, key=key)
    async with console(relay.ws_url, relay.token) as client:
        await client.entries(3)
        text = (await http.get(relay.url + "/metrics")).text
    assert 'kenar_relay_events_received_total{type="NEW_MESSAGE"} 1' in text
    assert 'kenar_relay_events_received_total{type="POST_UPDATE"} 2' in text
    assert 'kenar_relay_events_received_total{type="other"} 1' in text
    assert 'kenar_relay_requests_rejected_total{reason="unauthorized"} 1' in text
    assert "kenar_relay_entries_stored_total 3" in text
    assert "kenar_relay_duplicates_total 1" in text
    assert "kenar_relay_consoles_connected 1" in text
    assert "kenar_relay_delivery_lag_seconds_count" in text
    assert relay.identification_key not in text and relay.token not in text
