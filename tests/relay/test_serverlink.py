"""POST /server-link: both shapes answered with the template's URL, and the press recorded."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.fixtures.relay import RelayFactory, RunningRelay
from tests.relay.helpers import SAMPLES, console, post_json


def _sample(name: str) -> dict[str, object]:
    value: dict[str, object] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return value


async def test_the_current_shape_gets_a_url_and_a_button_pressed_entry(
    relay: RunningRelay, http: httpx.AsyncClient
) -> None:
    """With API_VERSION: 2 the answer is {"url"} from the template, and consoles see the press."""
    body = _sample("server-link-v2.json")
    async with console(relay.ws_url, relay.token) as client:
        await client.until("live")
        answer = await post_json(
            http,
            relay.url + "/server-link",
            body,
            key=relay.identification_key,
            headers={"API_VERSION": "2"},
        )
        (frame,) = await client.entries(1)
    assert answer.status_code == 200
    assert set(answer.json()) == {"url"}
    query = parse_qs(urlsplit(answer.json()["url"]).query)
    assert query == {
        "post": ["gZd7omnS"],
        "conv": ["edbb9499-cccc-4d35-b21f-621fa95f2b3e"],
        "slot": ["2026-11-26T10:00"],
    }
    entry = frame["entry"]
    assert entry["kind"] == "button_pressed" and entry["raw"] == body
    assert entry["conversation_id"] == "edbb9499-cccc-4d35-b21f-621fa95f2b3e"
    assert entry["data"]["api_version"] == 2 and entry["data"]["url"] == answer.json()["url"]
    assert entry["data"]["extra_data"] == {"action": "book-inspection", "slot": "2026-11-26T10:00"}


async def test_the_legacy_shape_gets_the_legacy_answer(
    relay: RunningRelay, http: httpx.AsyncClient
) -> None:
    """Without API_VERSION the older body is understood; the answer carries status and message."""
    answer = await post_json(
        http,
        relay.url + "/server-link",
        _sample("server-link-legacy.json"),
        key=relay.identification_key,
    )
    assert answer.status_code == 200
    payload = answer.json()
    assert payload["status"] == "200" and payload["message"] == "success"
    assert payload["url"].startswith("https://seller.example/book?post=gZd7omnS&conv=edbb9499")
    async with console(relay.ws_url, relay.token) as client:
        (frame,) = await client.entries(1)
    assert frame["entry"]["data"]["api_version"] == 1
    assert frame["entry"]["data"]["user_side"] == "Demand"


async def test_every_template_value_is_url_encoded(
    relay_factory: RelayFactory, http: httpx.AsyncClient
) -> None:
    """Values with &, spaces, Persian text or numbers cannot break out of their query parameter."""
    relay = await relay_factory(
        server_link_url="https://x.example/{action}?n={count}&side={user_side}&p={post_token}"
    )
    body = {
        "source": "CHAT_MESSAGE_ACTION",
        "post_token": "a&b=c",
        "extra_data": {"action": "رزرو بازدید/../x", "count": 3},
    }
    answer = await post_json(
        http,
        relay.url + "/server-link",
        body,
        key=relay.identification_key,
        headers={"API_VERSION": "2"},
    )
    url = answer.json()["url"]
    assert url.startswith("https://x.example/%D8%B1")
    assert "/../" not in url and "a%26b%3Dc" in url and "n=3&side=&p=" in url


async def test_bad_start_url_requests_are_refused(
    relay: RunningRelay, http: httpx.AsyncClient
) -> None:
    """A wrong key gets 401, a body of the wrong shape 400, and nothing is recorded."""
    url = relay.url + "/server-link"
    wrong = await post_json(http, url, _sample("server-link-v2.json"), key="wrong")
    shape = await post_json(
        http,
        url,
        {"extra_data": "not an object"},
        key=relay.identification_key,
        headers={"API_VERSION": "2"},
    )
    assert (wrong.status_code, shape.status_code) == (401, 400)
    assert "extra_data" in shape.json()["error"]
    assert await relay.server.store.head() == 0


async def test_without_a_template_the_feature_is_off(
    relay_factory: RelayFactory, http: httpx.AsyncClient
) -> None:
    """No KENAR_RELAY_SERVER_LINK_URL: 404 with a sentence naming the setting, nothing recorded."""
    relay = await relay_factory(server_link_url="")
    answer = await post_json(
        http,
        relay.url + "/server-link",
        _sample("server-link-v2.json"),
        key=relay.identification_key,
    )
    assert answer.status_code == 404 and "KENAR_RELAY_SERVER_LINK_URL" in answer.json()["error"]
    assert await relay.server.store.head() == 0
