"""The relay holds at most `max_consoles` console websockets at once (docs/deploy.md).

uvicorn's `limit_concurrency` (`max_connections`) counts HTTP requests, not open websockets,
and `max_consoles_per_token` caps one token only; many tokens (or many instances of one)
could otherwise hold any number of websockets. Past the cap an upgrade is refused before it
happens with HTTP 503, `Retry-After` and a sentence, counted in /metrics; a place freed is
taken again.
"""

from __future__ import annotations

import contextlib
import json

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.fixtures.relay import RelayFactory, RunningRelay
from tests.relay.helpers import console, named_token
from tests.team.conftest import eventually

CAP = 3


async def refused_full(http: httpx.AsyncClient, relay: RunningRelay) -> float:
    page = await http.get(relay.url + "/metrics")
    for line in page.text.splitlines():
        if line.startswith('kenar_relay_requests_rejected_total{reason="consoles_full"}'):
            return float(line.split()[1])
    return 0.0


async def test_console_websockets_past_max_consoles_get_503_with_a_sentence(
    relay_factory: RelayFactory, http: httpx.AsyncClient
) -> None:
    relay = await relay_factory(max_consoles=CAP)
    assert relay.server.ctx is not None
    hub = relay.server.ctx.hub
    # One per token: the per-token cap (8) is nowhere near; only the relay's total is.
    tokens = [named_token(f"teammate-{n}", relay.data_dir) for n in range(CAP + 1)]
    async with contextlib.AsyncExitStack() as held:
        first, *_ = [await held.enter_async_context(console(relay.ws_url, t)) for t in tokens[:CAP]]
        with pytest.raises(InvalidStatus) as refused:
            async with console(relay.ws_url, tokens[CAP]):
                pass
        answer = refused.value.response
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "30"
        sentence = json.loads(answer.body or b"{}")["error"]
        assert f"{CAP} consoles connected" in sentence and "try again later" in sentence
        assert await refused_full(http, relay) == 1
        # The consoles already connected are untouched by the refusal.
        await first.until("live")
        await first.ws.close()
        await eventually(lambda: hub.console_count < CAP, "the relay to forget the closed console")
        async with console(relay.ws_url, tokens[CAP]) as late:
            assert (await late.until("live"))["type"] == "live"
    assert await refused_full(http, relay) == 1
