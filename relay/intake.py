"""The gate every request from Divar passes: the sender's address, then the identification key.

The key is compared in constant time on the raw header bytes; Divar sends it bare (no
`Bearer `), so anything but the exact value is refused. The sender's address is the TCP
peer, or, when that peer is a trusted proxy, the first untrusted address in
`X-Forwarded-For` read from the right.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope

from relay.config import Network
from relay.errors import Forbidden, RequestRejected, Unauthorized
from relay.limits import declared_length, parse_json, receive_body

if TYPE_CHECKING:
    from relay.context import RelayContext


def client_address(scope: Scope, proxies: Sequence[Network]) -> str | None:
    """The address a request came from, believing `X-Forwarded-For` only from `proxies`."""
    client = scope.get("client")
    peer = client[0] if client else None
    if peer is None or not proxies or not _within(peer, proxies):
        return peer
    forwarded: list[str] = []
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-for":
            forwarded.extend(part.strip() for part in value.decode("latin-1").split(","))
    for hop in reversed(forwarded):
        if not hop:
            continue
        if not _within(hop, proxies):
            return hop
    return peer


def _within(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    return any(ip in net for net in networks)


def check_address(scope: Scope, allowed: Sequence[Network], proxies: Sequence[Network]) -> None:
    """Forbidden unless the sender's address is in `allowed` (an empty list allows all)."""
    if not allowed:
        return
    address = client_address(scope, proxies)
    if address is None or not _within(address, allowed):
        raise Forbidden("this address may not send webhooks to this relay")


def check_identification(scope: Scope, key: bytes) -> None:
    """Unauthorized unless `Authorization` is exactly the identification key."""
    values = [value for name, value in scope.get("headers", []) if name == b"authorization"]
    if len(values) != 1:
        # Still spend the comparison, so a missing header costs what a wrong one does.
        hmac.compare_digest(b"", key)
        raise Unauthorized("the Authorization header must be the identification key")
    if not hmac.compare_digest(values[0], key):
        raise Unauthorized("the Authorization header must be the identification key")


def refuse(exc: RequestRejected, *, body_unread: bool = False) -> JSONResponse:
    """The 4xx answer for a refused request: a sentence, and no keep-alive if the body is unread."""
    headers = {"Connection": "close"} if body_unread else {}
    return JSONResponse({"error": exc.message}, status_code=exc.status, headers=headers)


def unavailable(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=503, headers={"Retry-After": "5"})


async def read_divar_json(request: Request, ctx: RelayContext) -> Any:
    """Address, key, then the body as JSON; RequestRejected (with `body_unread`) otherwise."""
    return await receive_divar_json(request.scope, request.receive, ctx)


async def receive_divar_json(scope: Scope, receive: Receive, ctx: RelayContext) -> Any:
    """`read_divar_json` on the ASGI scope and `receive` (POST /events has no Request)."""
    config = ctx.config
    check_address(scope, ctx.allowed, ctx.proxies)
    check_identification(scope, ctx.identification_key)
    limit, timeout = config.max_body_bytes, config.body_timeout
    body = await receive_body(receive, declared_length(scope), limit=limit, read_timeout=timeout)
    return parse_json(body, max_depth=config.max_json_depth)
