"""`probe_relay`: one short connection to the relay, to test a URL and token before saving them.

It opens the websocket exactly as the console's link does (same URL rules, same proxy choice,
same quiet logs), says `hello` asking for no backlog, waits for `welcome` and closes. The answer
names the cause in words the user can act on: the token refused, nothing at that path, nothing
listening, a name that does not resolve, TLS that failed and why, or no answer in time.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import ValidationError
from websockets.asyncio.client import connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
    WebSocketException,
)

from kenar_core.errors import ConfigError
from kenar_core.protocol import RELAY_FRAME, HelloFrame, WelcomeFrame
from kenar_core.redaction import quiet_wire_logs
from kenar_tui.auth.relay_callback import NO_BACKLOG, relay_ws_url
from kenar_tui.link.failures import close_reason, public_url
from kenar_tui.link.relay_link import LOOPBACK

PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one test connection found: `ok`, and a sentence saying what or why."""

    ok: bool
    words: str
    url: str  # the websocket URL tried, without credentials
    operator: str | None = None  # the name the relay says this token posts as


async def probe_relay(
    url: str,
    token: str,
    *,
    operator: str | None = None,
    timeout: float = PROBE_TIMEOUT_S,  # noqa: ASYNC109 (a test's answer is due within it)
) -> ProbeResult:
    """Connect to the relay at `url` with `token`, wait for its welcome, disconnect."""
    try:
        ws_url = relay_ws_url(url)
    except ConfigError as exc:
        return ProbeResult(False, str(exc), url.strip())
    shown = public_url(ws_url)
    host = urlsplit(ws_url).hostname or ""
    try:
        async with asyncio.timeout(timeout):
            welcome = await _welcome(ws_url, token, operator, proxied=host not in LOOPBACK)
    except TimeoutError:
        return ProbeResult(False, f"no answer from {shown} within {timeout:.0f} s", shown)
    except (OSError, WebSocketException) as exc:
        return ProbeResult(False, failure_words(exc, ws_url), shown)
    if isinstance(welcome, str):
        return ProbeResult(False, welcome, shown)
    who = welcome.operator or None
    as_whom = f" as {who}" if who else ""
    return ProbeResult(True, f"connected to {shown}{as_whom}: the relay took the token", shown, who)


async def _welcome(
    ws_url: str, token: str, operator: str | None, *, proxied: bool
) -> WelcomeFrame | str:
    """The relay's welcome frame, or why the connection ended without one."""
    async with connect(
        ws_url,
        additional_headers={"Authorization": f"Bearer {token}"},
        open_timeout=None,  # the caller's timeout covers the whole probe
        close_timeout=2,
        proxy=True if proxied else None,
        user_agent_header="kenar-tui",
        logger=quiet_wire_logs("websockets.client"),  # its DEBUG lines carry the token
    ) as ws:
        await ws.send(HelloFrame(since=NO_BACKLOG, operator=operator or None).json_text())
        try:
            async for raw in ws:
                try:
                    frame = RELAY_FRAME.validate_json(raw)
                except ValidationError:
                    continue
                if isinstance(frame, WelcomeFrame):
                    return frame
        except ConnectionClosed:
            pass
        reason = ws.close_reason or ""
        words = close_reason(ws.close_code, reason)
        if "operator" in reason:  # hello named an operator other than the token's name
            words += " (set operator to the name the token was created for, or leave it unset)"
        return words


def failure_words(exc: BaseException, ws_url: str) -> str:
    """Why a test connection failed, naming the cause: token, path, address, name, TLS."""
    parts = urlsplit(ws_url)
    where = parts.netloc or ws_url
    path = parts.path or "/"
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        if status == 401:
            return (
                "the relay refused the token (HTTP 401): paste the token `kenar-relay token "
                "create NAME` printed for you"
            )
        if status in (403, 404):
            return (
                f"wrong path: HTTP {status} at {path} on {where}, nothing there accepts the "
                "console; use the relay's own address (wss://relay.example.com) or the path "
                "your proxy forwards to the relay's /ws"
            )
        if status == 429:
            return "the relay answered HTTP 429: this token has as many consoles open as it may"
        return f"the relay answered HTTP {status} at {path} instead of opening a websocket"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS: the certificate of {where} is not trusted here ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or type(exc).__name__
        hint = " (is the relay serving plain ws:// there?)" if "WRONG_VERSION" in reason else ""
        return f"TLS failed with {where}: {reason.lower().replace('_', ' ')}{hint}"
    if isinstance(exc, socket.gaierror):
        return f"unreachable: the host name {parts.hostname} is not known (DNS)"
    if isinstance(exc, ConnectionRefusedError):
        return f"unreachable: nothing listens at {where} (connection refused): is the relay up?"
    if isinstance(exc, InvalidURI):
        return "the relay URL is invalid"
    if isinstance(exc, InvalidHandshake):
        scheme_hint = " (is it a wss:// address?)" if parts.scheme == "ws" else ""
        return f"{where} did not answer as a websocket server{scheme_hint}"
    if isinstance(exc, OSError):
        return f"unreachable: {where}: {(exc.strerror or type(exc).__name__).lower()}"
    return f"the test connection failed ({type(exc).__name__})"
