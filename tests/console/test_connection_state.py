"""How the console shows its relay connection: in the status bar, a toast only when the user
must act (a refused token), never "lost" for a relay it never reached."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kenar_tui.commands.demo import demo_environment
from tests.console.test_app_live import relay_live, running, until

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Any]:
    async with demo_environment(
        seed=3, rate=0.0, data_dir=tmp_path, logger=logging.getLogger("tests.console")
    ) as env:
        yield env


def toasts(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_a_relay_never_reached_is_in_the_status_bar_only(
    world: Any, unused_tcp_port: int
) -> None:
    settings = world.settings.model_copy(update={"relay_url": f"ws://127.0.0.1:{unused_tcp_port}"})
    async with running(settings, world.credentials, size=(80, 24)) as (app, pilot):
        await until(
            pilot, lambda: "retrying in" in app.main_screen.status.relay, "the offline state"
        )
        status = app.main_screen.status.relay
        shown = toasts(app)
    assert status.startswith(f"relay: relay unreachable at ws://127.0.0.1:{unused_tcp_port}/ws")
    assert "connection refused" in status
    assert "lost" not in status.lower()
    assert shown == [], "reconnecting by itself needs nothing from the user: no toast"


async def test_a_wrong_relay_token_stops_and_asks_for_a_check(world: Any) -> None:
    world.credentials.relay_token = "kr_not_the_token_" + "x" * 16
    async with running(world.settings, world.credentials, size=(80, 24)) as (app, pilot):
        await until(pilot, lambda: "refused" in app.main_screen.status.relay, "the refusal")
        async with asyncio.timeout(15):
            await app.link.stopped()  # not retried
        status = app.main_screen.status.relay
        shown = toasts(app)
    assert status == "relay: the relay refused the token (HTTP 401): check the relay token"
    assert len(shown) == 1 and "check the relay token" in shown[0]
    assert "Ctrl+P" in shown[0]


async def test_the_first_connection_is_not_called_lost(world: Any) -> None:
    """Reaching the relay shows "live"; no toast says anything about the connection."""
    async with running(world.settings, world.credentials, size=(80, 24)) as (app, pilot):
        await until(pilot, lambda: relay_live(app), "the relay link")
        shown = toasts(app)
    assert not [t for t in shown if "relay" in t.lower()]
