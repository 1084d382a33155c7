"""Every request and answer example of Divar's docs, through our parsers, the relay and the sandbox.

The examples are copied under tests/data/kenar/docs (its README names each one's page);
tests/kenar/doc_examples.py reads them. Where a page's example cannot be sent as printed (a
placeholder standing for a link or an icon), the substitution is made here, in the open.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kenar_api import (
    NewChatbotMessageEvent,
    NewMessageEvent,
    PaymentTransactionEvent,
    parse_event,
)
from kenar_api.bodies import (
    ChatbotMessageBody,
    SendMessageBody,
    SubscriptionRequest,
    TokenResponse,
    UserResponse,
)
from kenar_api.buttons import Action
from kenar_api.oauth import read_redirect
from kenar_api.serverlink import is_v2, parse_server_link
from kenar_core.errors import ButtonGridError, RecipientRestricted, api_error
from kenar_tui.sandbox import Sandbox
from tests.fixtures.relay import RunningRelay
from tests.kenar.doc_examples import DOCS, all_files, http_example, json_example, listed_examples
from tests.relay.helpers import console, post_json

MESSAGES = ["text", "image", "file", "voice", "location", "video", "contact"]
EVENTS = [
    *(f"chat-message-{kind}.json" for kind in MESSAGES),
    "events-new-message-event.http",
    "chatbot-new-message-event.http",
    "payment-transaction-event.json",
]
START_URL_REQUESTS = ["touchpoints-session-init-body.json", "open-server-link-request.http"]
# The Persian placeholders of docs/chat/users_conversations.md and chatbot_conversations.md.
LINK_PLACEHOLDER = "آدرس مورد نظر برای باز شدن بعد از کلیک"
ICON_PLACEHOLDER = "نام آیکون"
USED = {
    *EVENTS,
    *START_URL_REQUESTS,
    "events-subscription-request.http",
    "chatbot-send-message-request.http",
    "chatbot-user-send-message-request.http",
    "send-message-request.http",
    "send-message-error-412.http",
    "touchpoints-session-init-headers.http",
    "touchpoints-session-init-answer.json",
    "open-server-link-action.json",
    "open-server-link-answer.json",
    "oauth-authorize-url.url",
    "oauth-redirect-with-code.url",
    "oauth-token-answer.json",
    "oauth-refresh-answer.json",
    "get-user-request.http",
    "get-user-answer.json5",
    # Read by tests/kenar/test_posts_media.py (finder, uploads, post-page actions).
    "finder-get-post-answer.json",
    "finder-user-posts-answer.json5",
    "chat-upload-token-answer.json",
    "chat-upload-answer.json",
    "chat-upload-media-token.json",
    "open-post-page-action.json",
    "open-post-manage-page-action.json",
}


def event_body(name: str) -> dict[str, Any]:
    """The example as the event Divar POSTs (a bare chat message is a NEW_MESSAGE's payload)."""
    if name.startswith("chat-message-"):
        return {"type": "NEW_MESSAGE", "new_message": json_example(name)}
    if name.endswith(".http"):
        body: dict[str, Any] = http_example(name).body
        return body
    loaded: dict[str, Any] = json_example(name)
    return loaded


def start_url_request(name: str) -> tuple[dict[str, str], dict[str, Any]]:
    """The documented headers (version header as printed) and body of a start-URL request."""
    if name.endswith(".http"):
        example = http_example(name)
        return {"API_VERSION": example.headers["API_VERSION"]}, example.body
    headers = http_example("touchpoints-session-init-headers.http").headers
    return {"API-Version": headers["API-Version"]}, json_example(name)


def sendable(body: dict[str, Any], *, icons: bool = True) -> dict[str, Any]:
    """The example with the page's placeholders for a link (and, with `icons`, an icon) real."""
    text = repr(body)
    assert LINK_PLACEHOLDER in text or ICON_PLACEHOLDER in text or "REAL_STATE" in text
    fixed = copy.deepcopy(body)
    for grid in (v for k, v in fixed.items() if k.endswith("buttons")):
        for row in grid["rows"]:
            for button in row["buttons"]:
                if button["action"].get("open_direct_link") == LINK_PLACEHOLDER:
                    button["action"]["open_direct_link"] = "https://seller.example/item/1"
                for key in ("icon", "icon_name") if icons else ():
                    if button.get(key) == ICON_PLACEHOLDER:
                        button[key] = "INFO"
                    if button.get(key) == "REAL_STATE":
                        button[key] = "REAL_ESTATE"
    return fixed


def test_every_copied_example_is_listed_and_used() -> None:
    """The README lists every file, and this module feeds each one somewhere."""
    names = [p.name for p in all_files()]
    assert sorted(listed_examples()) == sorted(names)
    assert set(names) == USED


# --- our parsers -------------------------------------------------------------------------


@pytest.mark.parametrize("name", EVENTS)
def test_every_documented_event_is_recognised(name: str) -> None:
    """No documented event degrades to `unknown`; each message type is known and previewed."""
    event = parse_event(event_body(name))
    assert isinstance(event, NewMessageEvent | NewChatbotMessageEvent | PaymentTransactionEvent)
    if isinstance(event, PaymentTransactionEvent):
        assert event.transaction["id"] == "550e8400-e29b-41d4-a716-446655440000"
        assert event.transaction["state"] == "TRANSACTION_STATE_COMPLETED"
        return
    message = event.message
    assert message.known_type is not None and not message.preview().startswith("[unsupported")
    assert message.conversation_id
    sender = message.sender
    # Only buyers count as buyers: the seller's side and bots never do.
    expected_buyer = sender.side == "BUYER" or (sender.side is None and sender.type != "BOT")
    assert sender.is_buyer is expected_buyer


def test_the_apps_own_message_in_the_events_page_is_not_a_buyers() -> None:
    """docs/events/ReadMe.md's event is the app's echo: SELLER, BOT; metadata kept."""
    event = parse_event(event_body("events-new-message-event.http"))
    assert isinstance(event, NewMessageEvent) and event.metadata == {"key": "value"}
    assert (event.message.sender.side, event.message.sender.type) == ("SELLER", "BOT")
    assert not event.message.sender.is_buyer


def test_request_bodies_parse_as_our_models() -> None:
    """Subscriptions and both send bodies, with the pages' placeholders made real."""
    subscription = http_example("events-subscription-request.http").body
    assert SubscriptionRequest.model_validate(subscription).wire() == subscription
    for name in ("chatbot-send-message-request.http", "chatbot-user-send-message-request.http"):
        body = ChatbotMessageBody.model_validate(sendable(http_example(name).body))
        grid = body.buttons
        assert grid is not None and [b.icon for b in grid.rows[0].buttons] == [
            "REAL_ESTATE",
            "HOME",
        ]
    v2 = SendMessageBody.model_validate(sendable(http_example("send-message-request.http").body))
    assert v2.receiver_buttons is not None and v2.sender_buttons is not None
    action = json_example("open-server-link-action.json")["action"]
    assert Action.model_validate(action).open_server_link is not None


def test_an_icon_the_page_prints_but_the_spec_lacks_is_refused_by_name() -> None:
    """The chat pages print icon REAL_STATE; Divar's icon list has REAL_ESTATE. We refuse it
    before sending, naming the icon, rather than have Divar answer the seller with a 400."""
    with pytest.raises(ButtonGridError, match="REAL_STATE"):
        printed = http_example("chatbot-send-message-request.http").body
        ChatbotMessageBody.model_validate(sendable(printed, icons=False))


def test_answers_parse_as_our_models() -> None:
    """Token answers, the user answer, the 412, the redirect with a code."""
    for name in ("oauth-token-answer.json", "oauth-refresh-answer.json"):
        token = TokenResponse.model_validate(json_example(name))
        assert token.access_token.startswith("ory_at_") and token.expires_in == 3600
    refresh = TokenResponse.model_validate(json_example("oauth-refresh-answer.json"))
    assert refresh.refresh_token is not None
    user = UserResponse.model_validate(json_example("get-user-answer.json5"))
    assert user.user_id == "awoDdf1ecd2wac"
    refusal = http_example("send-message-error-412.http")
    assert isinstance(api_error(refusal.status or 0, refusal.body), RecipientRestricted)
    url = (DOCS / "oauth-redirect-with-code.url").read_text().replace("\n  ", "")
    redirect = read_redirect(url)
    assert (redirect.state, redirect.error) == ("my-random-string", None)
    assert redirect.code and redirect.code.startswith("c87sDtaq")
    authorize = (DOCS / "oauth-authorize-url.url").read_text()
    assert "response_type=code" in authorize and "state=my-random-string" in authorize


@pytest.mark.parametrize("name", START_URL_REQUESTS)
def test_start_url_requests_parse_in_every_form(name: str) -> None:
    headers, body = start_url_request(name)
    assert is_v2(headers, body)
    request = parse_server_link(body, v2=True)
    assert request.extra_data  # the button's data, from extra_data or provider_data
    assert request.is_seller is (str(body["user_side"]).upper() == "SUPPLY")


# --- the relay ---------------------------------------------------------------------------


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for loopback only."""
    async with httpx.AsyncClient(timeout=10.0, trust_env=False) as client:
        yield client


async def test_the_relay_takes_every_documented_event(
    relay: RunningRelay, http: httpx.AsyncClient
) -> None:
    """Each event answered 200 and stored as a message or payment entry, never `unknown`."""
    async with console(relay.ws_url, relay.token) as client:
        await client.until("live")
        for name in EVENTS:
            answer = await post_json(
                http, relay.url + "/events", event_body(name), key=relay.identification_key
            )
            assert answer.status_code == 200, (name, answer.text)
        # The events page's example and chat.md's text message share one message id: Divar
        # does not send a message twice, so the relay keeps the first and drops the repeat.
        frames = await client.entries(len(EVENTS) - 1)
    kinds = [f["entry"]["kind"] for f in frames]
    assert kinds.count("message") == len(EVENTS) - 2 and kinds.count("payment") == 1
    assert await relay.server.store.head() == len(EVENTS) - 1


@pytest.mark.parametrize("name", START_URL_REQUESTS)
async def test_the_relay_answers_every_documented_start_url_request(
    relay: RunningRelay, http: httpx.AsyncClient, name: str
) -> None:
    """200 with a URL, in the shape of the page's expected answer."""
    headers, body = start_url_request(name)
    answer = await post_json(
        http, relay.url + "/server-link", body, key=relay.identification_key, headers=headers
    )
    assert answer.status_code == 200, answer.text
    for expected in ("touchpoints-session-init-answer.json", "open-server-link-answer.json"):
        assert set(answer.json()) == set(json_example(expected))
    assert answer.json()["url"].startswith("https://seller.example/book?post=")


# --- the sandbox -------------------------------------------------------------------------


async def test_the_sandbox_serves_the_documented_requests(sandbox: Sandbox) -> None:
    """The pages' requests, with their own header spellings, are served as Divar serves them."""
    car = await sandbox.control.open_conversation("gZd7omnS")
    bot = await sandbox.control.open_conversation(chatbot=True)
    token = await sandbox.control.issue_token(
        [
            "CHAT_POST_CONVERSATIONS_MESSAGE_SEND.gZd7omnS",
            "CHAT_POST_CONVERSATIONS_READ.gZd7omnS",
            "USER_ID",
            "USER_PHONE",
        ]
    )
    values = {"apikey": sandbox.api_key, "access_token": token["access_token"]}

    def sent_headers(printed: dict[str, str]) -> dict[str, str]:
        headers = {}
        for key, value in printed.items():
            for name, real in (*values.items(), ("your-api-key", sandbox.api_key)):
                value = value.replace("{{" + name + "}}", real).replace("{" + name + "}", real)
            headers[key] = value
        return headers

    async with httpx.AsyncClient(base_url=sandbox.base_url, trust_env=False) as http:
        calls = [
            ("send-message-request.http", f"/v2/open-platform/conversations/{car['id']}/messages"),
            (
                "chatbot-send-message-request.http",
                f"/v1/open-platform/chat/bot/conversations/{bot['id']}/messages",
            ),
            ("events-subscription-request.http", "/v1/open-platform/events/subscriptions"),
            ("get-user-request.http", "/v1/open-platform/users"),
        ]
        answers = {}
        for name, path in calls:
            example = http_example(name)
            method = example.start.split()[0]
            body = example.body
            if body is not None and "buttons" in repr(body):
                body = sendable(body)
            answer = await http.request(
                method, path, json=body, headers=sent_headers(example.headers)
            )
            assert answer.status_code == 200, (name, answer.text)
            answers[name] = answer.json()
    assert set(answers["get-user-request.http"]) == set(json_example("get-user-answer.json5"))
    assert len(await sandbox.control.sent()) == 2
