"""`GET /oauth/callback`: Divar's OAuth redirect, handed only to the console that asked for it.

A console announces a `state` over its websocket (`oauth_state`); when the browser lands here
with that `state`, the `code` (or Divar's `error`) goes to that connection alone, once. The
page never echoes the code, and asks the browser not to cache it or leak it as a referrer.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from kenar_core.protocol import OAuthFrame

Deliver = Callable[[dict[str, Any]], None]

MAX_STATES_PER_CONSOLE = 8
# How long a replica's claim on an announced state lasts (a login takes minutes at most).
CLAIM_TTL_S = 900.0


def claim_name(state: str) -> str:
    """The shared record of who waits for `state`: a hash, so the state never sits in Redis."""
    return "oauth:" + hashlib.sha256(state.encode()).hexdigest()[:40]


_PAGE = """<!doctype html>
<html lang="fa" dir="rtl"><head><meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;
line-height:1.7}}p.en{{direction:ltr;text-align:left;color:#555}}</style></head>
<body><h1>{title}</h1><p>{fa}</p><p class="en">{en}</p></body></html>
"""


def page(status: int, title: str, fa: str, en: str) -> HTMLResponse:
    return HTMLResponse(
        _PAGE.format(title=title, fa=fa, en=en),
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


class OAuthWaiters:
    """Which console connection waits for which `state`; the first announcer keeps it.

    `owner_key` names the console behind a connection (token name and instance): the same
    console re-announcing after a reconnect takes its state back, any other is refused while
    the state is live, so a second console can never divert a login's code (docs/security.md).
    """

    def __init__(self) -> None:
        self._waiting: dict[str, tuple[object, str, Deliver]] = {}

    def announce(self, owner: object, state: str, deliver: Deliver, *, owner_key: str = "") -> str:
        """Register `state` for `owner`: "ok", "taken" (another console's) or "too_many"."""
        held = self._waiting.get(state)
        if held is not None and held[0] is not owner and held[1] != owner_key:
            return "taken"
        mine = sum(1 for who, _, _ in self._waiting.values() if who is owner)
        if held is None and mine >= MAX_STATES_PER_CONSOLE:
            return "too_many"
        self._waiting[state] = (owner, owner_key, deliver)
        return "ok"

    def forget(self, owner: object) -> list[str]:
        """Drop `owner`'s states (its connection closed); returns them."""
        states = [s for s, (who, _, _) in self._waiting.items() if who is owner]
        for state in states:
            del self._waiting[state]
        return states

    def forget_state(self, owner: object, state: str) -> None:
        """Drop one of `owner`'s states (another replica's console holds it)."""
        held = self._waiting.get(state)
        if held is not None and held[0] is owner:
            del self._waiting[state]

    def deliver(self, state: str, frame: dict[str, Any]) -> bool:
        waiter = self._waiting.pop(state, None)
        if waiter is None:
            return False
        waiter[2](frame)
        return True


def on_bus(waiters: OAuthWaiters) -> Callable[[dict[str, Any]], None]:
    """The bus handler: another replica received the redirect for a state waiting here."""

    def handle(message: dict[str, Any]) -> None:
        frame = message.get("frame")
        if message.get("t") == "oauth" and isinstance(frame, dict):
            waiters.deliver(str(frame.get("state", "")), frame)

    return handle


async def _hand_over(state: str, frame: dict[str, Any], waiters: OAuthWaiters, bus: Any) -> bool:
    """Deliver here, or through the bus to the replica whose console announced `state`."""
    if waiters.deliver(state, frame):
        if bus is not None:
            await bus.release(claim_name(state))
        return True
    if bus is None or not await bus.take(claim_name(state)):
        return False
    # Taken once (GETDEL): exactly one callback hands it on; the holder delivers it.
    await bus.publish({"t": "oauth", "frame": frame})
    return True


async def oauth_callback(
    request: Request, waiters: OAuthWaiters, log: logging.Logger, bus: Any = None
) -> HTMLResponse:
    params = request.query_params
    state = params.get("state", "")
    code = params.get("code", "")
    error = params.get("error", "")
    if not state:
        log.info("oauth callback refused reason=incomplete")
        return page(
            400,
            "نشانی ناقص است",
            "این نشانی ورود، state ندارد. ورود را از ترمینال دوباره شروع کنید.",
            "This login address lacks its state. Start the login again from the terminal.",
        )
    if code:
        redirect = OAuthFrame(state=state, code=code)
    else:
        # "Deny" on Divar's consent page: no code, and maybe no error at all
        # (docs/oauth/ReadMe.md, step two: treat the absence of code as refusal).
        redirect = OAuthFrame(state=state, error=error[:200] or "access_denied")
    # A JSON object: it may cross the bus to the replica whose console waits for it.
    frame = redirect.model_dump(exclude_none=True)
    if not await _hand_over(state, frame, waiters, bus):
        log.info("oauth callback refused reason=unknown_state")
        return page(
            400,
            "ورود ناشناخته",
            "هیچ کنسولی منتظر این ورود نیست (شاید منقضی شده). ورود را از ترمینال دوباره شروع کنید.",
            "No console is waiting for this login (it may have expired). "
            "Start the login again from the terminal.",
        )
    log.info("oauth callback delivered granted=%s", "yes" if code else "no")
    if not code:
        return page(
            200,
            "دسترسی داده نشد",
            "دیوار دسترسی را نداد. به ترمینال برگردید؛ آنجا علت را می‌بینید.",
            "Divar did not grant access. Go back to your terminal to see why.",
        )
    return page(
        200,
        "ورود انجام شد",
        "به ترمینال برگردید؛ kenar-tui ورود را تمام می‌کند. این صفحه را می‌توانید ببندید.",
        "Go back to your terminal: kenar-tui finishes the login. You may close this page.",
    )
