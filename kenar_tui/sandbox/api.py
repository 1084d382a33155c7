"""Kenar's open API as the sandbox serves it: the same paths, checks and refusals as Divar.

Each call checks, in order: the API key (either header style) and its permission, the user's
token (either header style) and its expiry, the body, the conversation, the token's scopes.
A send to a conversation id Divar has not seen creates it (OpenAPI,
ChatAPI_ConversationSendMessage: "If the conversation doesn't exist, it is created
automatically"). Answers alternate between the docs' printed form and protobuf JSON's terse
one (kenar_tui.sandbox.protojson): every other conversation read leaves out each message's
`conversation` and its zero values, and writes `sent_at` as a string.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kenar_api import scopes as scope_rules
from kenar_api.bodies import SubscriptionEventType
from kenar_api.headers import read_access_token, read_api_key
from kenar_api.messages import ConversationType, MessageType
from kenar_tui.sandbox import validation
from kenar_tui.sandbox.core import SandboxCore
from kenar_tui.sandbox.protojson import protobuf_json
from kenar_tui.sandbox.registration import (
    BOT_PERMISSION,
    READ_PERMISSION,
    SEND_PERMISSION,
    SUBSCRIBE_PERMISSION,
    USER_PERMISSION,
)
from kenar_tui.sandbox.rejection import denied, invalid, not_found, restricted, unauthenticated
from kenar_tui.sandbox.tokens import TokenPair, TokenProblem
from kenar_tui.sandbox.world import ConversationState

BREADTH = {0: "conversation scope", 1: "post scope", 2: "all-conversations scope"}


def core_of(request: Request) -> SandboxCore:
    core: SandboxCore = request.app.state.core
    return core


def check_api_key(request: Request, permission: str) -> None:
    core = core_of(request)
    key = read_api_key(request.headers)
    if key is None:
        raise unauthenticated("the request has no API key; send it in the X-API-Key header")
    if key != core.registration.api_key:
        raise unauthenticated("the API key is not valid")
    if permission not in core.registration.api_permissions:
        raise denied(f"the API key lacks the permission {permission}; enable it in the panel")


def check_token(request: Request) -> TokenPair:
    token = read_access_token(request.headers)
    if token is None:
        raise unauthenticated(
            "the request has no access token; send Authorization: Bearer <access token>"
        )
    try:
        return core_of(request).tokens.check_access(token)
    except TokenProblem as exc:
        raise unauthenticated(str(exc)) from None


def find_conversation(request: Request) -> ConversationState:
    conversation_id = request.path_params["conversation_id"]
    conversation = core_of(request).world.conversations.get(conversation_id)
    if conversation is None:
        raise not_found(f"there is no conversation {conversation_id}")
    return conversation


async def send_message(request: Request) -> JSONResponse:
    """`POST /v2/open-platform/conversations/{conversation_id}/messages`."""
    core = core_of(request)
    check_api_key(request, SEND_PERMISSION)
    pair = check_token(request)
    raw = validation.json_object(await request.body())
    body = validation.send_message_body(raw)
    conversation_id = request.path_params["conversation_id"]
    known = core.world.conversations.get(conversation_id)
    if known is None:
        # Not seen yet: Divar creates it. Only a scope naming this conversation (or all of
        # the seller's) can cover it, since no post is known for it.
        if scope_rules.send_breadth(pair.scopes, conversation_id, None) is None:
            raise denied(
                "the access token lacks a scope to send in this conversation; it needs "
                f"{scope_rules.SEND_ONE}.{conversation_id} or {scope_rules.SEND_ALL}"
            )
        known = core.world.open_conversation(post_token=None, conversation_id=conversation_id)
        core.log.info("sandbox send: created a conversation on first send")
    conversation = known
    if conversation.type == ConversationType.BOT:
        raise invalid(
            "this is a chatbot conversation; answer it with "
            f"/v1/open-platform/chat/bot/conversations/{conversation.id}/messages"
        )
    breadth = scope_rules.send_breadth(pair.scopes, conversation.id, conversation.post_token)
    if breadth is None:
        raise denied(
            "the access token lacks a scope to send in this conversation; it needs "
            f"{scope_rules.SEND_ONE}.{conversation.id}, "
            f"{scope_rules.SEND_POST}.{conversation.post_token} or {scope_rules.SEND_ALL}"
        )
    media = None
    if body.media_token:
        # docs/chat/upload_media.md step 3: only a token the upload host handed out counts.
        media = core.media.get(body.media_token)
        if media is None or not media.uploaded_by_app:
            raise invalid("media_token is not one the upload answered; upload the file first")
    if conversation.restricted or core.faults.is_restricted(conversation.id):
        raise restricted()
    core.seller_sent(
        conversation,
        raw,
        kind="v2",
        text=body.message or None,
        server_links=validation.server_link_data(body.receiver_buttons),
        via=BREADTH[breadth],
        media=media,
    )
    return JSONResponse({"status": 200, "message": "the message was sent"})


async def send_chatbot_message(request: Request) -> JSONResponse:
    """`POST /v1/open-platform/chat/bot/conversations/{conversation_id}/messages`."""
    core = core_of(request)
    check_api_key(request, BOT_PERMISSION)
    if read_access_token(request.headers) is not None:
        check_token(request)  # optional here, but a token that is sent must be good
    raw = validation.json_object(await request.body())
    body = validation.chatbot_body(raw, request.path_params["conversation_id"])
    conversation = find_conversation(request)
    if conversation.type != ConversationType.BOT:
        raise invalid(
            "this is a post conversation, not a chatbot one; send into it with "
            f"/v2/open-platform/conversations/{conversation.id}/messages"
        )
    if conversation.restricted or core.faults.is_restricted(conversation.id):
        raise restricted()
    core.seller_sent(
        conversation,
        raw,
        kind="chatbot",
        text=body.text_message or None,
        server_links=validation.server_link_data(body.buttons),
        via="api key",
    )
    return JSONResponse({"conversation_id": conversation.id})


async def get_conversation(request: Request) -> JSONResponse:
    """`GET /v1/open-platform/chat/conversations/{conversation_id}`: text messages, oldest first."""
    check_api_key(request, READ_PERMISSION)
    pair = check_token(request)
    conversation = find_conversation(request)
    if not scope_rules.can_read(pair.scopes, conversation.id, conversation.post_token):
        raise denied(
            "the access token lacks the scope to read this conversation; it needs "
            f"{scope_rules.READ_ONE}.{conversation.id}"
        )
    core = core_of(request)
    core.reads += 1
    terse = core.reads % 2 == 0
    messages = []
    for message in conversation.messages:
        if message.type == MessageType.TEXT:
            data = message.model_dump(mode="json", exclude_none=True)
            data["sent_at"] = message.sent_at.isoformat().replace("+00:00", "Z")
            if terse:
                data.pop("conversation", None)  # it is the answer's conversation
            messages.append(data)
    head = {"id": conversation.id, "type": conversation.type}
    if conversation.post_token:
        head["post_token"] = conversation.post_token
    answer = {"conversation": head, "messages": messages}
    return JSONResponse(protobuf_json(answer) if terse else answer)


async def get_user(request: Request) -> JSONResponse:
    """`GET /v1/open-platform/users` (docs/oauth/get_user.md): `user_id` with the scope
    USER_ID, `phone_number` with USER_PHONE; a token with neither is refused."""
    core = core_of(request)
    check_api_key(request, USER_PERMISSION)
    pair = check_token(request)
    names = {s.name for s in scope_rules.parse_scopes(pair.scopes)}
    if not names & {"USER_ID", "USER_PHONE"}:
        raise denied("reading the user needs the scope USER_ID or USER_PHONE")
    answer: dict[str, str] = {}
    if "USER_PHONE" in names:
        answer["phone_number"] = core.seller_phone
    if "USER_ID" in names:
        answer["user_id"] = pair.user_id
    return JSONResponse(answer)


async def subscribe(request: Request) -> JSONResponse:
    """`POST /v1/open-platform/events/subscriptions`."""
    core = core_of(request)
    check_api_key(request, SUBSCRIBE_PERMISSION)
    pair = check_token(request)
    body = validation.subscription_body(validation.json_object(await request.body()))
    resource = body.event_resource_id
    if resource and resource not in core.world.posts:
        raise not_found(f"there is no post {resource} of this user")
    if body.event_type == SubscriptionEventType.NEW_MESSAGE_ON_POST:
        everything, posts = scope_rules.subscribable_posts(pair.scopes)
        if not resource and not everything:
            raise denied("new messages of every post need the scope " + scope_rules.READ_ALL)
        if resource and not everything and resource not in posts:
            raise denied(
                f"new messages of post {resource} need the scope "
                f"{scope_rules.READ_POST}.{resource} or {scope_rules.READ_ALL}"
            )
    else:
        names = {s.name for s in scope_rules.parse_scopes(pair.scopes)}
        if scope_rules.POSTS_GET not in names:
            raise denied(f"post updates need the scope {scope_rules.POSTS_GET}")
    core.world.subscribe(body.event_type.value, resource, body.metadata, pair.access_token)
    core.log.info("sandbox subscription %s added", body.event_type.value.lower())
    return JSONResponse({})


ROUTES = [
    Route(
        "/v2/open-platform/conversations/{conversation_id}/messages",
        send_message,
        methods=["POST"],
    ),
    Route(
        "/v1/open-platform/chat/bot/conversations/{conversation_id}/messages",
        send_chatbot_message,
        methods=["POST"],
    ),
    Route(
        "/v1/open-platform/chat/conversations/{conversation_id}",
        get_conversation,
        methods=["GET"],
    ),
    Route("/v1/open-platform/events/subscriptions", subscribe, methods=["POST"]),
    Route("/v1/open-platform/users", get_user, methods=["GET"]),
]
