"""Every invalid body and missing permission gets Divar's status and a precise sentence."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kenar_api import ButtonGrid, ButtonRow, SendMessageBody, SubscriptionRequest
from kenar_api.client import KenarClient
from kenar_api.scopes import SEND_POST
from kenar_core.errors import AuthError, KenarAPIError, RecipientRestricted
from kenar_tui.sandbox import Sandbox
from tests.sandbox.conftest import ALL_SEND, CAR, FLAT

BUTTON = {
    "action": {"open_direct_link": "https://example.com/a"},
    "icon": "INFO",
    "caption": "جزئیات",
}


def _rows(*counts: int) -> dict[str, Any]:
    return {"rows": [{"buttons": [BUTTON] * n} for n in counts]}


async def _send(sandbox: Sandbox, conversation_id: str, body: Any, token: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(
            f"{sandbox.base_url}/v2/open-platform/conversations/{conversation_id}/messages",
            content=body if isinstance(body, bytes) else None,
            json=None if isinstance(body, bytes) else body,
            headers={"X-API-Key": sandbox.api_key, "Authorization": f"Bearer {token}"},
        )


BAD_BODIES = [
    (
        {"message": "سلام", "receiver_buttons": _rows(1, 4)},
        "receiver_buttons: row 2 has 4 buttons; at most 3",
    ),
    (
        {"message": "سلام", "sender_buttons": _rows(1, 1, 1, 1)},
        "sender_buttons: a grid has 4 rows; at most 3",
    ),
    (
        {"message": "سلام", "receiver_buttons": _rows(2, 0)},
        "receiver_buttons: row 2 has no buttons",
    ),
    (
        {
            "message": "سلام",
            "receiver_buttons": {"rows": [{"buttons": [{**BUTTON, "icon": "UNICORN"}]}]},
        },
        "receiver_buttons row 1 button 1: unknown icon 'UNICORN'",
    ),
    (
        {
            "message": "سلام",
            "receiver_buttons": {"rows": [{"buttons": [BUTTON, {**BUTTON, "caption": "  "}]}]},
        },
        "receiver_buttons row 1 button 2: a button's caption may not be empty",
    ),
    (
        {
            "message": "سلام",
            "receiver_buttons": {
                "rows": [
                    {
                        "buttons": [
                            {
                                **BUTTON,
                                "action": {
                                    "open_direct_link": "https://e.com",
                                    "open_server_link": {"data": {}},
                                },
                            }
                        ]
                    }
                ]
            },
        },
        "receiver_buttons row 1 button 1: a button needs exactly one action: "
        "open_direct_link, open_server_link, open_post_page or open_post_manage_page",
    ),
    (
        {
            "message": "سلام",
            "receiver_buttons": {
                "rows": [{"buttons": [{**BUTTON, "action": {"open_direct_link": "ftp://x"}}]}]
            },
        },
        "receiver_buttons row 1 button 1: a link must start with http:// or https://",
    ),
    (
        {
            "message": "سلام",
            "receiver_buttons": {"rows": [{"buttons": [{**BUTTON, "colour": "red"}]}]},
        },
        "receiver_buttons row 1 button 1: unknown field 'colour'",
    ),
    (
        {"message": "سلام", "priority": "high"},
        "unknown field 'priority'; a send-message body takes type, message, media_token, "
        "sender_buttons, receiver_buttons",
    ),
    ({"type": "IMAGE", "message": "سلام"}, "type: input should be 'TEXT'"),
    ({"message": "   "}, "a message needs some text"),
    ({"message": "سلام", "media_token": "m-1"}, "send either message or media_token, not both"),
    ({"message": "ا" * 4097}, "a message has at most 4096 characters; this has 4097"),
    ({"message": 12}, "message: input should be a valid string"),
    (
        b"{not json",
        "the body is not valid JSON "
        "(Expecting property name enclosed in double quotes at character 1)",
    ),
    (b"[1, 2]", "the body must be a JSON object"),
]


@pytest.mark.parametrize(("body", "sentence"), BAD_BODIES)
async def test_invalid_send_body_gets_400_with_a_precise_sentence(
    sandbox: Sandbox, chat: dict[str, Any], body: Any, sentence: str
) -> None:
    """Each kind of bad send body is refused with 400, code 3 and a sentence naming the problem."""
    token = await sandbox.control.issue_token([ALL_SEND])
    response = await _send(sandbox, chat["conversation_id"], body, token["access_token"])
    assert response.status_code == 400
    assert response.json()["code"] == 3
    assert response.json()["message"] == sentence
    assert await sandbox.control.sent() == []


async def test_grid_over_the_limit_sent_through_the_client_is_refused(
    sandbox: Sandbox, kenar: KenarClient, chat: dict[str, Any]
) -> None:
    """A grid that skipped local validation still meets the sandbox's limit, as a typed error."""
    row = ButtonRow.model_construct(
        buttons=tuple([ButtonGrid.model_validate(_rows(1)).rows[0].buttons[0]] * 4)
    )
    grid = ButtonGrid.model_construct(rows=(row,))
    body = SendMessageBody.model_construct(type="TEXT", message="سلام", receiver_buttons=grid)
    token = await sandbox.control.issue_token([ALL_SEND])
    with pytest.raises(KenarAPIError) as caught:
        await kenar.send_message(chat["conversation_id"], body, access_token=token["access_token"])
    assert caught.value.status == 400
    assert caught.value.message == "receiver_buttons: row 1 has 4 buttons; at most 3"


async def test_missing_send_scope_is_403_naming_the_scopes(
    sandbox: Sandbox, kenar: KenarClient, chat: dict[str, Any]
) -> None:
    """A token for another post cannot send here: 403 code 7 names the three scopes that would."""
    cid = chat["conversation_id"]
    token = await sandbox.control.issue_token([f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{FLAT}"])
    with pytest.raises(AuthError) as caught:
        await kenar.send_message(
            cid, SendMessageBody(message="سلام"), access_token=token["access_token"]
        )
    assert caught.value.status == 403
    assert caught.value.code == 7
    assert caught.value.message == (
        "the access token lacks a scope to send in this conversation; it needs "
        f"CONVERSATION_SEND_MESSAGE.{cid}, CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR} "
        "or CHAT_SUPPLIER_ALL_CONVERSATIONS_MESSAGE_SEND"
    )


async def test_missing_read_scope_is_403(
    sandbox: Sandbox, kenar: KenarClient, chat: dict[str, Any]
) -> None:
    """Reading a conversation with only a send scope is refused with 403."""
    token = await sandbox.control.issue_token([ALL_SEND])
    with pytest.raises(AuthError) as caught:
        await kenar.get_conversation(chat["conversation_id"], access_token=token["access_token"])
    assert caught.value.status == 403
    assert "CHAT_CONVERSATION_READ." in caught.value.message


@pytest.mark.parametrize(
    ("request_body", "scopes", "status", "sentence"),
    [
        (
            {"event_type": "NEW_MESSAGE_ON_POST", "event_resource_id": ""},
            [f"CHAT_POST_CONVERSATIONS_READ.{CAR}"],
            403,
            "new messages of every post need the scope CHAT_SUPPLIER_ALL_CONVERSATIONS_READ",
        ),
        (
            {"event_type": "NEW_MESSAGE_ON_POST", "event_resource_id": FLAT},
            [f"CHAT_POST_CONVERSATIONS_READ.{CAR}"],
            403,
            f"new messages of post {FLAT} need the scope CHAT_POST_CONVERSATIONS_READ.{FLAT} "
            "or CHAT_SUPPLIER_ALL_CONVERSATIONS_READ",
        ),
        (
            {"event_type": "POST_UPDATE"},
            [ALL_SEND],
            403,
            "post updates need the scope USER_POSTS_GET",
        ),
        (
            {"event_type": "NEW_MESSAGE_ON_POST", "event_resource_id": "nOsUcHpOsT"},
            ["CHAT_SUPPLIER_ALL_CONVERSATIONS_READ"],
            404,
            "there is no post nOsUcHpOsT of this user",
        ),
        (
            {"event_type": "NEW_POSTS"},
            ["USER_POSTS_GET"],
            400,
            "event_type: input should be 'NEW_MESSAGE_ON_POST' or 'POST_UPDATE'",
        ),
        (
            {"event_type": "POST_UPDATE", "filter": "x"},
            ["USER_POSTS_GET"],
            400,
            "unknown field 'filter'; a subscription takes event_type, event_resource_id, metadata",
        ),
    ],
)
async def test_bad_subscriptions_are_refused(
    sandbox: Sandbox, request_body: dict[str, Any], scopes: list[str], status: int, sentence: str
) -> None:
    """Subscriptions need the event's scope, a known post and a valid body."""
    token = await sandbox.control.issue_token(scopes)
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{sandbox.base_url}/v1/open-platform/events/subscriptions",
            json=request_body,
            headers={
                "X-API-Key": sandbox.api_key,
                "Authorization": f"Bearer {token['access_token']}",
            },
        )
    assert (response.status_code, response.json()["message"]) == (status, sentence)


async def test_keys_and_tokens_are_checked(sandbox: Sandbox, chat: dict[str, Any]) -> None:
    """No key, a wrong key, no token and an unknown token: 401 code 16, each its own sentence."""
    url = f"{sandbox.base_url}/v2/open-platform/conversations/{chat['conversation_id']}/messages"
    token = (await sandbox.control.issue_token([ALL_SEND]))["access_token"]
    cases = [
        ({}, "the request has no API key; send it in the X-API-Key header"),
        ({"X-API-Key": "sbx_wrong"}, "the API key is not valid"),
        (
            {"X-API-Key": sandbox.api_key},
            "the request has no access token; send Authorization: Bearer <access token>",
        ),
        (
            {"X-API-Key": sandbox.api_key, "Authorization": "Bearer at_unknown"},
            "the access token is not valid",
        ),
    ]
    async with httpx.AsyncClient() as http:
        for headers, sentence in cases:
            response = await http.post(url, json={"message": "سلام"}, headers=headers)
            assert response.status_code == 401
            assert response.json() == {"code": 16, "message": sentence, "details": []}
            assert token not in response.text


async def test_expired_token_is_refused(
    sandbox: Sandbox, kenar: KenarClient, chat: dict[str, Any]
) -> None:
    """Once its hour is over (sandbox clock advanced), a token gets 401 saying it expired."""
    token = await sandbox.control.issue_token([ALL_SEND])
    await sandbox.control.advance_clock(3601)
    with pytest.raises(AuthError) as caught:
        await kenar.send_message(
            chat["conversation_id"],
            SendMessageBody(message="سلام"),
            access_token=token["access_token"],
        )
    assert caught.value.status == 401
    assert caught.value.message == "the access token has expired; refresh it or log in again"


async def test_api_key_without_the_permission_is_403(
    sandbox: Sandbox, kenar: KenarClient, chat: dict[str, Any]
) -> None:
    """An API key lacking CHAT_SEND_MESSAGE_OAUTH in the panel cannot send."""
    await sandbox.control.configure(api_permissions=["CHAT_READ_CONVERSATION"])
    token = await sandbox.control.issue_token([ALL_SEND])
    with pytest.raises(AuthError) as caught:
        await kenar.send_message(
            chat["conversation_id"],
            SendMessageBody(message="سلام"),
            access_token=token["access_token"],
        )
    assert caught.value.status == 403
    assert "CHAT_SEND_MESSAGE_OAUTH" in caught.value.message


async def test_restricted_recipient_is_412_code_9(sandbox: Sandbox, kenar: KenarClient) -> None:
    """A conversation whose buyer restricts messages answers 412 code 9 as Divar documents."""
    chat = await sandbox.control.open_conversation(CAR, restricted=True)
    token = await sandbox.control.issue_token([ALL_SEND])
    with pytest.raises(RecipientRestricted) as caught:
        await kenar.send_message(
            chat["id"], SendMessageBody(message="سلام"), access_token=token["access_token"]
        )
    assert (caught.value.status, caught.value.code) == (412, 9)
    assert caught.value.message == "message delivery failed due to recipient's restriction"


async def test_a_send_to_an_unseen_conversation_creates_it(
    sandbox: Sandbox, kenar: KenarClient
) -> None:
    """OpenAPI ChatAPI_ConversationSendMessage: "If the conversation doesn't exist, it is
    created automatically" — with a scope that covers it; a post scope cannot (no post known)."""
    post_only = (await sandbox.control.issue_token([f"{SEND_POST}.{CAR}"]))["access_token"]
    with pytest.raises(KenarAPIError) as refused:
        await kenar.send_message(
            "new-chat-1", SendMessageBody(message="سلام"), access_token=post_only
        )
    assert refused.value.status == 403
    one = await sandbox.control.issue_token(["CONVERSATION_SEND_MESSAGE.new-chat-1"])
    await kenar.send_message(
        "new-chat-1", SendMessageBody(message="سلام"), access_token=one["access_token"]
    )
    state = await sandbox.control.state()
    assert [c["id"] for c in state["conversations"]] == ["new-chat-1"]
    assert [s["conversation_id"] for s in await sandbox.control.sent()] == ["new-chat-1"]


async def test_a_chatbot_conversation_is_refused_on_the_v2_path(
    sandbox: Sandbox, kenar: KenarClient
) -> None:
    """A chatbot chat sent to with v2 is 400 naming the right path."""
    token = (await sandbox.control.issue_token([ALL_SEND]))["access_token"]
    bot = await sandbox.control.inject_message(chatbot=True, text="/start")
    with pytest.raises(KenarAPIError) as wrong:
        await kenar.send_message(
            bot["conversation_id"], SendMessageBody(message="سلام"), access_token=token
        )
    assert wrong.value.status == 400
    assert "/v1/open-platform/chat/bot/conversations/" in wrong.value.message


async def test_subscription_with_the_right_scope_is_accepted(
    sandbox: Sandbox, kenar: KenarClient
) -> None:
    """A per-post subscription with the post's read scope is accepted and listed as active."""
    token = await sandbox.control.issue_token([f"CHAT_POST_CONVERSATIONS_READ.{CAR}"])
    request = SubscriptionRequest.model_validate(
        {
            "event_type": "NEW_MESSAGE_ON_POST",
            "event_resource_id": CAR,
            "meta_data": {"subscription": "car"},
        }
    )
    await kenar.subscribe(request, access_token=token["access_token"])
    state = await sandbox.control.state()
    assert [
        (s["event_resource_id"], s["active"], s["metadata"]) for s in state["subscriptions"]
    ] == [(CAR, True, {"subscription": "car"})]
