from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for loopback only."""
    async with httpx.AsyncClient(timeout=10.0, trust_env=False) as client:
        yield client
