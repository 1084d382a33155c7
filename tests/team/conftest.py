"""Fixtures for the team-mode tests: an HTTP client and relay replicas on one Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from tests.console.conftest import console_inbox
from tests.relay.test_replicas import Cluster, ClusterFactory, cluster_factory, shared_relay_keys

__all__ = ["Cluster", "ClusterFactory", "cluster_factory", "console_inbox", "shared_relay_keys"]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for loopback only."""
    async with httpx.AsyncClient(timeout=10.0, trust_env=False) as client:
        yield client


async def eventually(condition: Callable[[], bool], what: str, within: float = 10.0) -> None:
    """Wait until `condition()` holds (polling, not a timing assertion); fail naming `what`."""
    try:
        async with asyncio.timeout(within):
            while True:
                if condition():
                    return
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None
