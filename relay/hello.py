"""A console's frames read with the protocol's models; `hello` checked against the token.

Every frame a console sends is parsed with `kenar_core.protocol.CONSOLE_FRAME`; a frame type
the protocol does not have, or one that breaks a rule, closes the connection with 1008 and a
sentence naming the rule (docs/protocol.md). The token says who the console is
(relay/tokens.py); `hello.operator`, when sent, must be that name: a console claiming another
name is refused with 1008 and a sentence, never believed (docs/security.md). `hello.instance`
names the console's local cache, so acknowledgements are kept per console, not per token
(relay/acks.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from kenar_core.protocol import CONSOLE_FRAME, CONSOLE_FRAMES, ConsoleFrame, HelloFrame, problem
from relay.acks import DEFAULT_INSTANCE
from relay.errors import SessionClosed

CLOSE_GOING_AWAY = 1001
CLOSE_UNSUPPORTED = 1003
CLOSE_INVALID_DATA = 1007
CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN = 1013


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
