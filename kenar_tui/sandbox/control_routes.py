"""`/_sandbox/`: the control surface tests, benchmarks and the demo drive the sandbox with.

Not part of Divar's API, so it answers in the same `{code, message, details}` style but
needs no key: the sandbox listens on loopback only.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kenar_api.scopes import parse_scopes
from kenar_tui.sandbox.buyers import MAX_RATE, BuyerSimulator
from kenar_tui.sandbox.core import POST_UPDATE_TYPES, SandboxCore
from kenar_tui.sandbox.registration import RegistrationChange
from kenar_tui.sandbox.rejection import invalid, not_found
from kenar_tui.sandbox.script import message_data
from kenar_tui.sandbox.serverlink import press_button
from kenar_tui.sandbox.validation import describe, json_object

_Model = TypeVar("_Model", bound=BaseModel)

# The payload field each known message type carries (unknown types pass as given).
PAYLOAD_FIELDS = {
    "TEXT": "text",
    "IMAGE": "image_data",
    "FILE": "file_data",
    "VOICE": "voice_data",
    "LOCATION": "location_data",
    "VIDEO": "video_data",
    "CONTACT": "contact_data",
}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenOrder(_Body):
    scopes: list[str] = Field(min_length=1)
    expires_in: int = Field(default=3600, gt=0, le=30 * 24 * 3600)
    # A control-issued token stands for a finished login that asked for offline access.
    refreshable: bool = True


class ConversationOrder(_Body):
    post_token: str | None = None
    conversation_id: str | None = None
    chatbot: bool = False
    restricted: bool = False


class InjectMessage(_Body):
    conversation_id: str | None = None
    post_token: str | None = None
    chatbot: bool = False
    type: str = "TEXT"
    text: str | None = None
    data: dict[str, Any] | None = None


class PressOrder(_Body):
    conversation_id: str
    data: dict[str, Any] = Field(default_factory=dict)
    side: str = "Demand"
    legacy: bool | None = None


class PostUpdateOrder(_Body):
    post_token: str
    type: str = "PUBLISH"


class RevocationOrder(_Body):
    user_id: str | None = None


class PaymentOrder(_Body):
    cost_rials: int = Field(default=1_000_000, ge=0)
    extra_details: str = ""
    state: str = "TRANSACTION_STATE_COMPLETED"
    type: str = "TRANSACTION_TYPE_SUBMIT"


class BuyersOrder(_Body):
    rate: float = Field(gt=0, le=MAX_RATE)


class ClockOrder(_Body):
    advance: float = Field(ge=0)


class FlushOrder(_Body):
    timeout: float = Field(default=10.0, gt=0, le=120)


async def _read(request: Request, model: type[_Model]) -> _Model:
    raw = await request.body()
    body = json_object(raw) if raw.strip() else {}
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        sentence, where = describe(exc)
        raise invalid(sentence, field=where) from None


def _core(request: Request) -> SandboxCore:
    core: SandboxCore = request.app.state.core
    return core


def _buyers(request: Request) -> BuyerSimulator:
    buyers: BuyerSimulator = request.app.state.buyers
    return buyers


async def state(request: Request) -> JSONResponse:
    data = _core(request).state()
    buyers = _buyers(request)
    data["buyers"] = {"running": buyers.running, "rate": buyers.rate, "steps": buyers.steps_played}
    return JSONResponse(data)


async def sent(request: Request) -> JSONResponse:
    return JSONResponse(_core(request).world.sent)


async def requests(request: Request) -> JSONResponse:
    return JSONResponse(_core(request).requests.as_list())


async def deliveries(request: Request) -> JSONResponse:
    return JSONResponse([d.summary() for d in _core(request).delivery.kept])


async def clear(request: Request) -> JSONResponse:
    """Forget the recorded sends, requests and finished deliveries (the chats stay)."""
    core = _core(request)
    core.world.sent.clear()
    core.requests.clear()
    for delivery in [d for d in core.delivery.kept if d.state != "pending"]:
        core.delivery.kept.remove(delivery)
    return JSONResponse({})


async def tokens(request: Request) -> JSONResponse:
    """A token without the browser dance, as if the seller had approved `scopes`."""
    core = _core(request)
    order = await _read(request, TokenOrder)
    if any(not s.name or any(c.isspace() for c in str(s)) for s in parse_scopes(order.scopes)):
        raise invalid("each scope is one word like CHAT_CONVERSATION_READ.<id>", field="scopes")
    pair = core.tokens.issue(
        tuple(dict.fromkeys(order.scopes)),
        client_id=core.registration.client_id,
        user_id=core.seller_id,
        expires_in=order.expires_in,
        refreshable=order.refreshable,
    )
    return JSONResponse({**pair.answer(), "user_id": pair.user_id})


def _check_post(core: SandboxCore, post_token: str | None) -> None:
    if post_token is not None and post_token not in core.world.posts:
        raise not_found(f"there is no post {post_token}; see /_sandbox/state for the posts")


async def conversations(request: Request) -> JSONResponse:
    core = _core(request)
    order = await _read(request, ConversationOrder)
    _check_post(core, order.post_token)
    if order.post_token is None and not order.chatbot:
        raise invalid("a post conversation needs a post_token", field="post_token")
    conversation = core.world.open_conversation(
        post_token=order.post_token, conversation_id=order.conversation_id, chatbot=order.chatbot
    )
    conversation.restricted = order.restricted
    return JSONResponse(conversation.summary())


async def messages(request: Request) -> JSONResponse:
    """A buyer's message of any type, delivered to the app as Divar would."""
    core = _core(request)
    order = await _read(request, InjectMessage)
    _check_post(core, order.post_token)
    known = order.conversation_id in core.world.conversations if order.conversation_id else False
    if not known and order.post_token is None and not order.chatbot:
        raise invalid("give the conversation_id of a conversation, or a post_token to open one")
    conversation = core.world.open_conversation(
        post_token=order.post_token, conversation_id=order.conversation_id, chatbot=order.chatbot
    )
    kind = order.type
    if order.data is not None:
        payload = dict(order.data)
        if order.text is not None:
            payload["text"] = order.text
        needed = PAYLOAD_FIELDS.get(kind)
        if needed and needed not in payload:
            raise invalid(f"a {kind} message needs {needed} in data", field=f"data.{needed}")
    elif kind == "TEXT":
        if not order.text:
            raise invalid("a TEXT message needs text", field="text")
        payload = {"text": order.text}
    else:
        post = core.world.posts.get(conversation.post_token or "")
        payload = message_data(kind, core.world.rng, post)
    try:
        message, delivery = core.buyer_writes(conversation, kind, payload)
    except ValidationError as exc:
        sentence, where = describe(exc)
        raise invalid(sentence, field=where) from None
    return JSONResponse(
        {
            "conversation_id": conversation.id,
            "message": message.wire(),
            "delivery": delivery.id if delivery else None,
        }
    )


async def press(request: Request) -> JSONResponse:
    order = await _read(request, PressOrder)
    result = await press_button(
        _core(request), order.conversation_id, order.data, side=order.side, legacy=order.legacy
    )
    return JSONResponse(result)


async def post_updates(request: Request) -> JSONResponse:
    core = _core(request)
    order = await _read(request, PostUpdateOrder)
    _check_post(core, order.post_token)
    if order.type not in POST_UPDATE_TYPES:
        raise invalid(f"type must be one of {', '.join(POST_UPDATE_TYPES)}", field="type")
    delivery = core.post_update(order.post_token, order.type)
    return JSONResponse({"delivery": delivery.id if delivery else None})


async def revocations(request: Request) -> JSONResponse:
    core = _core(request)
    order = await _read(request, RevocationOrder)
    delivery = core.revoke_access(order.user_id or core.seller_id)
    return JSONResponse({"delivery": delivery.id if delivery is not None else None})


async def payments(request: Request) -> JSONResponse:
    core = _core(request)
    order = await _read(request, PaymentOrder)
    delivery = core.payment(order.cost_rials, order.extra_details, order.state, order.type)
    body = delivery.body
    transaction = body.get("transaction") or body.get("payment_transaction")
    return JSONResponse({"delivery": delivery.id, "transaction": transaction})


async def faults(request: Request) -> JSONResponse:
    core = _core(request)
    if request.method == "DELETE":
        return JSONResponse(core.faults.reset().model_dump())
    if request.method == "POST":
        changes = json_object(await request.body())
        try:
            core.faults.update(changes)
        except ValidationError as exc:
            sentence, where = describe(exc)
            raise invalid(sentence, field=where) from None
    return JSONResponse(core.faults.faults.model_dump())


async def config(request: Request) -> JSONResponse:
    core = _core(request)
    if request.method == "POST":
        change = await _read(request, RegistrationChange)
        change.apply(core.registration)
    return JSONResponse(core.registration.public())


async def buyers(request: Request) -> JSONResponse:
    simulator = _buyers(request)
    if request.method == "DELETE":
        await simulator.stop()
    else:
        simulator.start((await _read(request, BuyersOrder)).rate)
    return JSONResponse({"running": simulator.running, "rate": simulator.rate})


async def clock(request: Request) -> JSONResponse:
    core = _core(request)
    order = await _read(request, ClockOrder)
    return JSONResponse({"now": core.clock.advance(order.advance).isoformat()})


async def flush(request: Request) -> JSONResponse:
    core = _core(request)
    order = await _read(request, FlushOrder)
    idle = await core.delivery.flush(order.timeout)
    return JSONResponse({"idle": idle, "deliveries": core.delivery.counts()})


ROUTES = [
    Route("/_sandbox/state", state, methods=["GET"]),
    Route("/_sandbox/sent", sent, methods=["GET"]),
    Route("/_sandbox/requests", requests, methods=["GET"]),
    Route("/_sandbox/deliveries", deliveries, methods=["GET"]),
    Route("/_sandbox/clear", clear, methods=["POST"]),
    Route("/_sandbox/tokens", tokens, methods=["POST"]),
    Route("/_sandbox/conversations", conversations, methods=["POST"]),
    Route("/_sandbox/messages", messages, methods=["POST"]),
    Route("/_sandbox/press", press, methods=["POST"]),
    Route("/_sandbox/post-updates", post_updates, methods=["POST"]),
    Route("/_sandbox/revocations", revocations, methods=["POST"]),
    Route("/_sandbox/payments", payments, methods=["POST"]),
    Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/_sandbox/config", config, methods=["GET", "POST"]),
    Route("/_sandbox/buyers", buyers, methods=["POST", "DELETE"]),
    Route("/_sandbox/clock", clock, methods=["POST"]),
    Route("/_sandbox/flush", flush, methods=["POST"]),
]
