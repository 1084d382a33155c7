"""GET /oauth/callback: the code goes only to the console that announced the state, once."""

from __future__ import annotations

import asyncio

import httpx

from tests.fixtures.relay import RunningRelay
from tests.relay.helpers import console, post_json, text_event


async def test_the_code_reaches_only_the_console_that_announced_the_state(
    relay: RunningRelay, http: httpx.AsyncClient
) -> None:
    """The announcing console gets {"type":"oauth",state,code}; another console gets nothing."""
    state = "state-0123456789abcdef"
    async with (
        console(relay.ws_url, relay.token) as waiting,
        console(relay.ws_url, relay.token) as other,
    ):
        await waiting.until("live")
        await other.until("live")
        await waiting.send(type="oauth_state", state=state)
        page = await _callback_when_ready(http, relay, state, "the-code")
        frame = await waiting.until("oauth")
        assert frame == {"type": "oauth", "state": state, "code": "the-code"}
        replay = await http.get(relay.url + "/oauth/callback", params={"state": state, "code": "x"})
        # A marker entry after the redirect: the other console's next frame must be that entry.
        marker = await post_json(
            http, relay.url + "/events", text_event(), key=relay.identification_key
        )
        following = await other.frame()
    assert page.status_code == 200 and "ترمینال" in page.text and "the-code" not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert replay.status_code == 400
    assert following["type"] == "entry" and following["seq"] == marker.json()["seq"]


async def _callback_when_ready(
    http: httpx.AsyncClient, relay: RunningRelay, state: str, code: str
) -> httpx.Response:
    async with asyncio.timeout(10):
        while True:
            page = await http.get(
                relay.url + "/oauth/callback", params={"state": state, "code": code}
            )
            if page.status_code == 200:
                return page
            await asyncio.sleep(0.02)


async def test_a_refusal_is_handed_over_as_an_error(
    relay: RunningRelay, http: httpx.AsyncClient
) -> None:
    """Divar's `error` (no code) reaches the console as `error`; the page says so."""
    state = "state-refused-000000"
    async with console(relay.ws_url, relay.token) as waiting:
        await waiting.send(type="oauth_state", state=state)
        async with asyncio.timeout(10):
            while True:
                page = await http.get(
                    relay.url + "/oauth/callback", params={"state": state, "error": "access_denied"}
                )
                if page.status_code == 200:
                    break
                await asyncio.sleep(0.02)
        frame = await waiting.until("oauth")
    assert frame == {"type": "oauth", "state": state, "error": "access_denied"}


async def test_an_unknown_state_gets_a_400_page(
    relay: RunningRelay, http: httpx.AsyncClient
) -> None:
    """A redirect nobody waits for, or one missing its code, gets a 400 page (Persian, English)."""
    unknown = await http.get(
        relay.url + "/oauth/callback", params={"state": "nobody-waits", "code": "c"}
    )
    incomplete = await http.get(relay.url + "/oauth/callback", params={"state": "s"})
    assert unknown.status_code == 400 and "terminal" in unknown.text
    assert incomplete.status_code == 400
