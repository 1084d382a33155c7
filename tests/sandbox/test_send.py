"""Sending through the sandbox with the foundation's KenarClient: what is accepted and kept."""

from __future__ import annotations

import json
from typing import Any

import httpx

from kenar_api import Action, Button, ButtonGrid, ChatbotMessageBody, SendMessageBody
from kenar_api.client import KenarClient
from kenar_tui.sandbox import Sandbox
from tests.sandbox.conftest import ALL_SEND, CAR

SAMPLE_PATH = "samples/send-message-request.json"


def _grid() -> ButtonGrid:
    return ButtonGrid.of(
        [
            [
                Button(
                    action=Action.server({"action": "book-inspection", "slot": "2026-11-26T10:00"}),
                    icon="CAR_INSPECTION",
                    caption="رزرو بازدید",
                ),
                Button(
                    action=Action.direct("https://example.com/cars/gZd7omnS"),
                    icon="INFO",
                    caption="مشخصات کامل",
                ),
            ]
        ]
    )


async def test_accepted_send_is_recorded_exactly_as_sent(
    sandbox: Sandbox, kenar: KenarClient, chat: dict[str, Any]
) -> None:
    """A v2 send with both button grids is accepted and /_sandbox/sent holds its exact JSON."""
    token = await sandbox.control.issue_token([ALL_SEND])
    body = SendMessageBody(
        message="بله موجود است. برای بازدید وقت بگیرید:",
        sender_buttons=ButtonGrid.of(
            [
                [
                    Button(
                        action=Action.direct("https://example.com/crm"),
                        icon="CHAT_DOUBLE",
                        caption="CRM",
                    )
                ]
            ]
        ),
        receiver_buttons=_grid(),
    )
    answer = await kenar.send_message(
        chat["conversation_id"], body, access_token=token["access_token"]
    )
    assert answer.status == 200
    sent = await sandbox.control.sent()
    assert len(sent) == 1
    assert sent[0]["conversation_id"] == chat["conversation_id"]
    assert sent[0]["kind"] == "v2"
    assert sent[0]["post_token"] == CAR
    assert sent[0]["body"] == body.wire()
    assert sent[0]["via"] == "all-conversations scope"


async def test_divar_sample_body_is_accepted_verbatim(
    sandbox: Sandbox, chat: dict[str, Any], kenar_data: Any
) -> None:
    """Divar's own sample request body, sent byte for byte, is accepted and recorded unchanged."""
    raw = (kenar_data / SAMPLE_PATH).read_bytes()
    token = await sandbox.control.issue_token([f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}"])
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{sandbox.base_url}/v2/open-platform/conversations/{chat['conversation_id']}/messages",
            content=raw,
            headers={
                "X-API-Key": sandbox.api_key,
                "Authorization": f"Bearer {token['access_token']}",
                "Content-Type": "application/json",
            },
        )
    assert response.status_code == 200, response.text
    sent = await sandbox.control.sent()
    assert sent[0]["body"] == json.loads(raw)
    assert sent[0]["via"] == "post scope"


async def test_legacy_header_style_is_understood(sandbox: Sandbox, chat: dict[str, Any]) -> None:
    """The migration guide's x-api-key and x-access-token headers authorise a send too."""
    token = await sandbox.control.issue_token(
        [f"CONVERSATION_SEND_MESSAGE.{chat['conversation_id']}"]
    )
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{sandbox.base_url}/v2/open-platform/conversations/{chat['conversation_id']}/messages",
            json={"type": "TEXT", "message": "سلام، بله هست"},
            headers={"x-api-key": sandbox.api_key, "x-access-token": token["access_token"]},
        )
    assert response.status_code == 200, response.text
    requests = await sandbox.control.requests()
    assert "x-access-token" in requests[-1]["header_names"]
    assert (await sandbox.control.sent())[0]["via"] == "conversation scope"


async def test_chatbot_answer_needs_only_the_api_key(sandbox: Sandbox, kenar: KenarClient) -> None:
    """A chatbot conversation is answered with the API key alone and recorded as kind chatbot."""
    bot = await sandbox.control.inject_message(chatbot=True, text="/start")
    body = ChatbotMessageBody(text_message="سلام! چطور کمکتان کنم؟", buttons=_grid())
    answer = await kenar.send_chatbot_message(bot["conversation_id"], body)
    assert answer.conversation_id == bot["conversation_id"]
    sent = await sandbox.control.sent()
    assert [s["kind"] for s in sent] == ["chatbot"]
    assert sent[0]["body"] == body.wire()


async def test_read_conversation_returns_text_messages_oldest_first(
    sandbox: Sandbox, kenar: KenarClient, chat: dict[str, Any]
) -> None:
    """Reading a chat gives its text messages in order, seller replies included, media left out."""
    cid = chat["conversation_id"]
    await sandbox.control.inject_message(cid, type="IMAGE")
    token = await sandbox.control.issue_token([ALL_SEND, f"CHAT_CONVERSATION_READ.{cid}"])
    await kenar.send_message(
        cid, SendMessageBody(message="بله، هست"), access_token=token["access_token"]
    )
    history = await kenar.get_conversation(cid, access_token=token["access_token"])
    assert history.conversation.id == cid
    assert history.conversation.post_token == CAR
    assert [m.text for m in history.messages] == ["سلام، هنوز موجوده؟", "بله، هست"]
    assert [m.sender.side for m in history.messages] == ["BUYER", "SELLER"]
    assert history.messages[0].sent_at <= history.messages[1].sent_at
