"""How the relay link says what went wrong: the URL safe to show and log, why a connection
attempt failed or a connection closed, the refusals a retry cannot change, and which protocol
rule a frame broke (never the frame's content, which may be chat text).

Used by relay_link.py (the status bar's words) and probe.py (the connection screen's test).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError
from websockets.exceptions import ConnectionClosed, InvalidStatus


def public_url(url: str) -> str:
    """The URL without credentials or query, safe to show and log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


TOKEN_REFUSED = "the relay refused the token (HTTP 401): check the relay token"


def describe_failure(exc: BaseException, url: str = "") -> str:
    """Why a connection attempt failed, in words for the status bar."""
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        if status == 401:
            return TOKEN_REFUSED
        path = urlsplit(url).path or "/"
        if status in (403, 404):
            # What a server (or a proxy in front of the relay) answers when nothing at this
            # path takes websockets: the usual cause is a URL whose path is not the relay's.
            return (
                f"HTTP {status} at {path}: nothing there accepts the console; the relay's "
                "websocket is at /ws (is a proxy forwarding it?)"
            )
        return f"the relay answered HTTP {status} at {path} instead of opening a websocket"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    if isinstance(exc, ConnectionClosed):
        return close_reason(
            exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else ""
        )
    return str(exc) or type(exc).__name__


# Close reasons (code 1008) after which the same token would be refused again.
PERMANENT_REFUSALS = {
    "operator is not this token's name": (
        "the operator name is not this relay token's name; each teammate connects with a token"
        " of their own (kenar-relay token create NAME), or leave the operator name empty"
    ),
    "token revoked": "the relay token was revoked: check the relay token",
}


class Refused(Exception):
    """The relay refused this console for a reason a retry cannot change."""


def close_reason(code: int | None, reason: str) -> str:
    if code == 1001:
        return "the relay went away (restarting or shutting down)"
    if code == 1008:
        return f"the relay closed the connection: {reason or 'policy violation'}"
    if code is None:
        return "the connection dropped"
    return f"the connection closed (code {code}{': ' + reason if reason else ''})"


def rule_broken(exc: ValidationError) -> str:
    """Where and which rule, from pydantic's first error: no input value (it may be chat)."""
    error = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "frame"
    return f"{where}: {error['type']}"
