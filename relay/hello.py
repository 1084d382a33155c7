"""A console's first frame, `hello`, checked against the token it connected with.

The token says who the console is (relay/tokens.py); `hello.operator`, when sent, must be that
name: a console claiming another name is refused with 1008 and a sentence, never believed
(docs/security.md). `hello.instance` names the console's local cache, so acknowledgements are
kept per console, not per token (relay/acks.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from relay.acks import DEFAULT_INSTANCE, MAX_INSTANCE_ID
from relay.errors import SessionClosed

CLOSE_GOING_AWAY = 1001
CLOSE_UNSUPPORTED = 1003
CLOSE_INVALID_DATA = 1007
CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN = 1013
MAX_OPERATOR = 64
_INSTANCE = re.compile(rf"[A-Za-z0-9_\-]{{1,{MAX_INSTANCE_ID}}}")


@dataclass(frozen=True, slots=True)
class Hello:
    since: int
    instance: str


def read_hello(frame: dict[str, Any], *, token_name: str) -> Hello:
    """The cursor and instance of a `hello`; SessionClosed (1008) with a sentence otherwise."""
    if frame["type"] != "hello":
        raise SessionClosed(CLOSE_POLICY, "no hello", "the first frame must be hello")
    since = frame.get("since")
    if not isinstance(since, int) or isinstance(since, bool) or since < 0:
        raise SessionClosed(CLOSE_POLICY, "bad hello", "hello.since must be an integer >= 0")
    operator = frame.get("operator")
    if operator is not None:
        if not isinstance(operator, str) or not operator.strip() or len(operator) > MAX_OPERATOR:
            raise SessionClosed(CLOSE_POLICY, "bad hello", "hello.operator must be a short name")
        if operator.strip() != token_name:
            raise SessionClosed(
                CLOSE_POLICY,
                "operator is not this token's name",
                f"this relay token belongs to {token_name}; hello.operator must be "
                f"{token_name} or absent (each teammate connects with a token of their own)",
            )
    instance = frame.get("instance", DEFAULT_INSTANCE)
    if not isinstance(instance, str) or not _INSTANCE.fullmatch(instance):
        raise SessionClosed(
            CLOSE_POLICY,
            "bad hello",
            f"hello.instance must be 1 to {MAX_INSTANCE_ID} letters, digits, '-' or '_'",
        )
    return Hello(since, instance)
