"""Receiving an OAuth code through the relay's `/oauth/callback`, without the console running.

Divar redirects the seller's browser to the relay; the relay hands the `code` to the websocket
connection that announced the redirect's `state` (docs/protocol.md). The console does that over
its own `RelayLink`; `kenar-tui login` opens this short-lived connection instead: `hello`,
`oauth_state`, then wait for the matching `oauth` frame, ignoring the timeline.
"""

from __future__ import annotations

import asyncio
import logging

from pydantic import ValidationError
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus, WebSocketException

from kenar_api.oauth import state_matches
from kenar_core.errors import LoginError
from kenar_core.protocol import (
    RELAY_FRAME,
    ErrorFrame,
    HelloFrame,
    OAuthFrame,
    OAuthStateFrame,
    RelayFrame,
)
from kenar_core.redaction import quiet_wire_logs
from kenar_core.urls import relay_address

# `since` far past any real head: the relay then sends no backlog, only what is live.
NO_BACKLOG = 2**53 - 1
CALLBACK_PATH = "/oauth/callback"


def relay_ws_url(relay_url: str) -> str:
    """The relay's websocket endpoint (`/ws`) from its URL in any of the usual spellings."""
    return relay_address(relay_url).url("/ws")


def relay_callback_uri(relay_url: str) -> str:
    """The redirect URI to register in the Kenar panel when the relay receives the code."""
    relay = relay_address(relay_url)
    https = relay._replace(scheme="https" if relay.scheme == "wss" else "http")
    return https.url(CALLBACK_PATH)


async def relay_oauth_code(
    relay_url: str,
    relay_token: str,
    state: str,
    *,
    timeout: float = 300.0,  # noqa: ASYNC109 - the user's time to approve, named in the error
    ready: asyncio.Event | None = None,
    logger: logging.Logger | None = None,
) -> str:
    """Wait at the relay for the code of the redirect carrying `state`; LoginError if refused.

    `ready` is set once the relay has been told the state: from then on the browser may go.
    """
    log = logger or logging.getLogger("kenar_tui.auth.relay_callback")
    url = relay_ws_url(relay_url)
    # websockets logs request headers and frames at DEBUG: the relay token and the code.
    quiet = quiet_wire_logs("websockets.client")
    try:
        async with asyncio.timeout(timeout):
            async with connect(
                url,
                additional_headers={"Authorization": f"Bearer {relay_token}"},
                logger=quiet,
                open_timeout=min(timeout, 15.0),
            ) as ws:
                await ws.send(HelloFrame(since=NO_BACKLOG).json_text())
                await ws.send(OAuthStateFrame(state=state).json_text())
                log.info("waiting for the oauth redirect at the relay")
                if ready is not None:
                    ready.set()
                async for raw in ws:
                    frame = _frame(raw)
                    if isinstance(frame, ErrorFrame):
                        raise LoginError(f"the relay refused: {frame.message}")
                    if isinstance(frame, OAuthFrame) and state_matches(state, frame.state):
                        return _code(frame)
    except TimeoutError:
        raise LoginError(
            f"no answer from Divar's login within {timeout:g}s; run the login again"
        ) from None
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status == 401:
            raise LoginError(
                "the relay refused the relay token; store the right one with "
                "`kenar-tui auth set relay-token`"
            ) from None
        raise LoginError(f"the relay refused the connection (HTTP {status})") from None
    except (OSError, WebSocketException) as exc:
        raise LoginError(
            f"could not reach the relay at {url} ({type(exc).__name__}); check --relay-url, "
            "or log in without it and paste the redirect address"
        ) from None
    raise LoginError("the relay closed the connection before the login finished; try again")


def _frame(raw: str | bytes) -> RelayFrame | None:
    """The relay's frame as its model; None for one this version cannot read (skipped)."""
    try:
        return RELAY_FRAME.validate_json(raw)
    except ValidationError:
        return None


def _code(frame: OAuthFrame) -> str:
    if frame.code:
        return frame.code
    # "Deny" at Divar: no code, maybe no error (docs/oauth/ReadMe.md, step two).
    error = frame.error or "no code came back"
    raise LoginError(f"login refused: Divar did not grant access: {error}")
