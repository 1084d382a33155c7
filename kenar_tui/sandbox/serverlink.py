"""A user pressing an `open_server_link` button: Divar asks the app's start URL where to go.

The request carries `Authorization: <identification key>` and, in the current shape,
`API_VERSION: 2`; the legacy shape has no version header and a different body. The app
answers `{"url": ...}`, which the user's browser then opens; the sandbox opens it too when
it is on loopback (it never sends traffic anywhere else).
"""

from __future__ import annotations

from typing import Any

import httpx

from kenar_tui.sandbox.core import SandboxCore
from kenar_tui.sandbox.registration import is_loopback_url
from kenar_tui.sandbox.rejection import invalid, not_found
from kenar_tui.sandbox.world import ConversationState

SIDES = ("Demand", "Supply")
TIMEOUT = 10.0


def v2_body(
    conversation: ConversationState, data: dict[str, Any], side: str, user_id: str
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "CHAT_MESSAGE_ACTION",
        "conversation_id": conversation.id,
        "user_side": side,
        "extra_data": data,
        "user_id": user_id,
    }
    if conversation.post_token:
        body["post_token"] = conversation.post_token
    return body


def legacy_body(
    conversation: ConversationState, data: dict[str, Any], user_id: str, peer_id: str, seller: str
) -> dict[str, Any]:
    post = conversation.post_token or ""
    return {
        "extra_data": {"provider_data": data},
        "callback_url": f"https://divar.ir/v/{post}",
        "post_token": post,
        "user_id": user_id,
        "peer_id": peer_id,
        "supplier": {"id": seller},
        "demand": {"id": conversation.buyer_id},
        "conversation_id": conversation.id,
    }


async def press_button(
    core: SandboxCore,
    conversation_id: str,
    data: dict[str, Any],
    *,
    side: str = "Demand",
    legacy: bool | None = None,
) -> dict[str, Any]:
    """Make the start-URL request for a button press; report what the app answered."""
    conversation = core.world.conversations.get(conversation_id)
    if conversation is None:
        raise not_found(f"there is no conversation {conversation_id}")
    if side not in SIDES:
        raise invalid("side must be Demand (the buyer) or Supply (the seller)", field="side")
    start_url = core.registration.start_url
    if not start_url:
        raise invalid("no start URL is set; configure start_url first", field="start_url")
    legacy = core.registration.legacy_server_link if legacy is None else legacy
    buyer, seller = conversation.buyer_id, core.seller_id
    user_id, peer_id = (buyer, seller) if side == "Demand" else (seller, buyer)
    headers = {
        "Authorization": core.registration.identification_key,
        "Content-Type": "application/json",
    }
    if legacy:
        body = legacy_body(conversation, data, user_id, peer_id, seller)
    else:
        body = v2_body(conversation, data, side, user_id)
        headers["API_VERSION"] = "2"
    result: dict[str, Any] = {
        "legacy": legacy,
        "api_version": None if legacy else "2",
        "request": body,
        "status": None,
        "answer": None,
        "url": None,
        "followed": None,
        "error": None,
    }
    async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as http:
        try:
            response = await http.post(start_url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            result["error"] = f"the start URL did not answer ({type(exc).__name__})"
            core.log.info("sandbox button press: start url unreachable")
            return result
        result["status"] = response.status_code
        try:
            answer = response.json()
        except ValueError:
            answer = None
        result["answer"] = answer
        url = answer.get("url") if isinstance(answer, dict) else None
        if response.status_code != 200:
            result["error"] = f"the start URL answered HTTP {response.status_code}"
        elif not isinstance(url, str) or not url.startswith(("http://", "https://")):
            result["error"] = 'the start URL must answer 200 with {"url": "<http(s) URL>"}'
        else:
            result["url"] = url
            result["followed"] = await _follow(http, url)
    core.log.info("sandbox button press: %s", result["status"])
    return result


async def _follow(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    if not is_loopback_url(url):
        return {"opened": False, "reason": "only loopback URLs are opened by the sandbox"}
    try:
        # Redirects are reported, not followed: they may lead off loopback.
        response = await http.get(url)
    except httpx.HTTPError as exc:
        return {"opened": False, "reason": type(exc).__name__}
    return {
        "opened": True,
        "status": response.status_code,
        "location": response.headers.get("location"),
    }
