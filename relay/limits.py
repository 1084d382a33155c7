"""Reading a request body defensively: a size cap, a time limit, strict UTF-8 JSON, bounded depth.

A body over the cap is refused from its `Content-Length` before a byte of it is read, and
while streaming as soon as the count passes the cap (for chunked or lying senders). A body
that drips is cut off by the read timeout, so a slow sender holds one task, not the server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Generator
from typing import Any

import orjson
from starlette.types import Message, Receive, Scope

from relay.errors import BadRequest, BodyTooLarge, RequestTimeout


def declared_length(scope: Scope) -> str | None:
    """The first `Content-Length` header's value, as Starlette's `headers.get` reads it."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return value.decode("latin-1")
    return None


async def receive_body(
    receive: Receive, declared: str | None, *, limit: int, read_timeout: float
) -> bytes:
    """The whole body from ASGI `receive` (the raw path of POST /events, and `read_body`)."""
    if declared is not None:
        if not declared.strip().isdigit():
            raise BadRequest("the Content-Length header is not a number")
        if int(declared) > limit:
            raise BodyTooLarge(f"the body is larger than the limit of {limit} bytes")
    # A webhook is usually whole by the time it is routed, so its first `receive()` returns
    # without waiting: that step runs here, without a timer (`asyncio.timeout` per request
    # was ~7% of intake's event loop, docs/performance.md). A step that would wait is
    # finished below, under the time limit, like every later one.
    steps = receive().__await__()
    try:
        waiting_on = steps.send(None)
    except StopIteration as finished:
        message: Message = finished.value
        if message["type"] == "http.request" and not message.get("more_body", False):
            chunk: bytes = message.get("body", b"")
            if len(chunk) > limit:
                raise BodyTooLarge(f"the body is larger than the limit of {limit} bytes") from None
            return chunk
        return await _receive_rest(message, receive, limit=limit, read_timeout=read_timeout)
    return await _receive_rest(
        _Resumed(steps, waiting_on), receive, limit=limit, read_timeout=read_timeout
    )


class _Resumed:
    """An await that already yielded `pending` (a future) to us, finished as `yield from` would.

    The future goes up to the task unchanged; what the task sends or throws back goes down.
    """

    __slots__ = ("_pending", "_steps")

    def __init__(self, steps: Generator[Any, Any, Message], pending: Any) -> None:
        self._steps = steps
        self._pending = pending

    def __await__(self) -> Generator[Any, Any, Message]:
        steps, pending = self._steps, self._pending
        while True:
            try:
                try:
                    sent = yield pending
                except BaseException as exc:  # cancellation (the time limit) goes down too
                    pending = steps.throw(exc)
                else:
                    pending = steps.send(sent)
            except StopIteration as finished:
                result: Message = finished.value
                return result


async def _receive_rest(
    first: Message | _Resumed, receive: Receive, *, limit: int, read_timeout: float
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(read_timeout):
            while True:
                if isinstance(first, _Resumed):
                    message, first = await first, {}
                elif first:
                    message, first = first, {}
                else:
                    message = await receive()
                if message["type"] == "http.disconnect":
                    raise BadRequest("the connection closed before the body was complete")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(f"the body is larger than the limit of {limit} bytes")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        raise RequestTimeout(f"the body did not arrive within {read_timeout:g} s") from None
    return b"".join(chunks)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes, *, max_depth: int) -> Any:
    """Strict JSON from UTF-8 bytes: no NaN/Infinity, no unpaired surrogates, bounded nesting."""
    try:
        # orjson reads what the stdlib reads, to the same values, ~3x faster (issue 20), except
        # integers past 64 bits (floats to orjson): a run of 19 digits takes the stdlib path,
        # as does everything orjson refuses (the stdlib then gives the refusal's sentence).
        if _LONG_DIGITS in body.translate(_DIGITS_AS_ZERO):
            raise ValueError("a long number")
        value = orjson.loads(body)
    except ValueError:  # orjson.JSONDecodeError is a ValueError
        value = _stdlib_loads(body, max_depth)
    # Nesting cannot exceed the number of brackets, so most bodies skip the walk (it was the
    # costliest step of parsing a webhook in the intake profile, docs/performance.md).
    if body.count(b"{") + body.count(b"[") > max_depth and depth_over(value, max_depth):
        raise BadRequest(f"the JSON is nested more than {max_depth} levels deep")
    if b"\\u" in body and _has_lone_surrogate(value):
        raise BadRequest("the JSON contains an unpaired surrogate escape (not valid Unicode)")
    return value


# 19 digits in a row, found as nineteen zeros once every digit reads as 0 (a regex was 6 us a
# body, longer than orjson's whole reading; this is under 1 us).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * 19


def _stdlib_loads(body: bytes, max_depth: int) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not valid UTF-8") from None
    try:
        return json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise BadRequest(f"the JSON is nested more than {max_depth} levels deep") from None
    except ValueError:
        raise BadRequest("the body is not valid JSON") from None


def depth_over(value: Any, max_depth: int) -> bool:
    """Whether nesting exceeds `max_depth`, walked iteratively (no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _has_lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
