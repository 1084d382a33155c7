"""Admission, and a console's frames read with the protocol's models; `hello` checked against
the token.

Every frame a console sends is parsed with `kenar_core.protocol.CONSOLE_FRAME`; a frame type
the protocol does not have, or one that breaks a rule, closes the connection with 1008 and a
sentence naming the rule (docs/protocol.md). The token says who the console is
(relay/tokens.py); `hello.operator`, when sent, must be that name: a console claiming another
name is refused with 1008 and a sentence, never believed (docs/security.md). `hello.instance`
names the console's local cache, so acknowledgements are kept per console, not per token
(relay/acks.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.responses import JSONResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from kenar_core.protocol import CONSOLE_FRAME, CONSOLE_FRAMES, ConsoleFrame, HelloFrame, problem
from relay.acks import DEFAULT_INSTANCE
from relay.context import RelayContext
from relay.errors import SessionClosed
from relay.limits import depth_over

CLOSE_GOING_AWAY = 1001
CLOSE_UNSUPPORTED = 1003
CLOSE_INVALID_DATA = 1007
CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN = 1013


def refusal(ctx: RelayContext, token_name: str) -> JSONResponse | None:
    """The answer before the upgrade when a connection cap is reached, else None.

    `max_consoles` caps every console websocket of this relay (uvicorn's `limit_concurrency`
    counts HTTP requests, not open websockets); `max_consoles_per_token` those of one token.
    """
    total = ctx.config.max_consoles
    if ctx.hub.console_count >= total:
        ctx.metrics.count_rejected("consoles_full")
        ctx.logger.info("console refused status=503 open=%d", total)
        sentence = f"the relay has {total} consoles connected, its most; try again later"
        return JSONResponse({"error": sentence}, status_code=503, headers={"Retry-After": "30"})
    cap = ctx.config.max_consoles_per_token
    if ctx.hub.count_for(token_name) >= cap:
        ctx.metrics.count_rejected("console_too_many")
        ctx.logger.info("console refused status=429 name=%s", token_name)
        return JSONResponse(
            {"error": f"this token has {cap} connections open already; close one first"},
            status_code=429,
            headers={"Retry-After": "30"},
        )
    return None


@dataclass(frozen=True, slots=True)
class Hello:
    since: int
    instance: str


def read_frame(frame: dict[str, Any]) -> ConsoleFrame:
    """`frame` (a JSON object with a string `type`) as its model; SessionClosed (1008) if not."""
    kind = frame["type"]
    model = CONSOLE_FRAMES.get(kind)
    if model is None:
        raise SessionClosed(CLOSE_POLICY, "bad frame", f"unknown frame type {kind[:40]}")
    try:
        return CONSOLE_FRAME.validate_python(frame)
    except ValidationError as exc:
        reason = "bad hello" if kind == "hello" else "bad frame"
        raise SessionClosed(CLOSE_POLICY, reason, problem(exc, kind, model)) from None


def read_hello(frame: ConsoleFrame, *, token_name: str) -> Hello:
    """The cursor and instance of a `hello`; SessionClosed (1008) with a sentence otherwise."""
    if not isinstance(frame, HelloFrame):
        raise SessionClosed(CLOSE_POLICY, "no hello", "the first frame must be hello")
    operator = frame.operator
    if operator is not None and operator.strip() != token_name:
        raise SessionClosed(
            CLOSE_POLICY,
            "operator is not this token's name",
            f"this relay token belongs to {token_name}; hello.operator must be "
            f"{token_name} or absent (each teammate connects with a token of their own)",
        )
    return Hello(frame.since, frame.instance or DEFAULT_INSTANCE)


async def receive_frame(ws: WebSocket, *, max_depth: int) -> ConsoleFrame:
    """The next frame from `ws` as its model; SessionClosed (1003, 1007, 1008) with a sentence."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if text is None:
        raise SessionClosed(CLOSE_UNSUPPORTED, "frames are JSON text", "binary frames are not used")
    try:
        frame = json.loads(text)
    except ValueError:
        raise SessionClosed(
            CLOSE_INVALID_DATA, "frames are JSON text", "a frame is not JSON"
        ) from None
    except RecursionError:
        frame = None  # deeper than the parser goes: refused below like any deep frame
    if frame is None or (len(text) > max_depth and depth_over(frame, max_depth)):
        raise SessionClosed(
            CLOSE_INVALID_DATA,
            "frame nested too deeply",
            f"a frame is nested more than {max_depth} levels deep",
        )
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise SessionClosed(CLOSE_POLICY, "bad frame", "every frame is a JSON object with a type")
    return read_frame(frame)
