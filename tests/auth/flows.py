"""The OAuth flows the auth tests drive end to end, shared by the flow and the leak tests.

A "browser" here is httpx following redirects: the sandbox approves at once and redirects to
the relay's /oauth/callback, which hands the code to the console that announced the state.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from kenar_api.client import KenarClient
from kenar_tui.auth.keeper import RevocationNotice, TokenKeeper
from kenar_tui.auth.login import LoginFlow
from kenar_tui.auth.subscriptions import subscribe_token
from kenar_tui.credentials import CredentialStore, StoredToken
from kenar_tui.link import RelayLink
from kenar_tui.link.events import LinkEntry
from kenar_tui.sandbox import Sandbox
from tests.fixtures.relay import RunningRelay

POST = "gZd7omnS"


@dataclass
class Secrets:
    """Every secret value a flow used, to look for in what was logged and printed."""

    values: set[str] = field(default_factory=set)

    def add_tokens(self, creds: CredentialStore) -> None:
        for token in creds.tokens():
            self.values.add(token.access_token)
            if token.refresh_token:
                self.values.add(token.refresh_token)


async def wire(sandbox: Sandbox, relay: RunningRelay, creds: CredentialStore) -> Secrets:
    """Point the sandbox's webhooks at the relay and store the app's secrets in the keyring."""
    await sandbox.control.configure(
        events_url=f"{relay.url}/events",
        identification_key=relay.identification_key,
        redirect_uris=[f"{relay.url}/oauth/callback"],
    )
    creds.api_key = sandbox.api_key
    creds.client_secret = sandbox.client_secret
    creds.relay_token = relay.token
    return Secrets(
        {
            sandbox.api_key,
            sandbox.client_secret,
            sandbox.identification_key,
            relay.identification_key,
            relay.token,
        }
    )


async def browse(url: str) -> httpx.Response:
    """The seller's browser: open the authorize URL, approve, land on the relay's page."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as browser:
        return await browser.get(url)


def browse_sync(url: str) -> bool:
    """`webbrowser.open` for the CLI, which runs on its own thread and loop."""
    with httpx.Client(follow_redirects=True, timeout=10) as browser:
        return browser.get(url).status_code == 200


def kenar_for(sandbox: Sandbox) -> KenarClient:
    return KenarClient(
        sandbox.api_key, api_base=sandbox.base_url, oauth_base=sandbox.base_url, retries=0
    )


async def login_through_relay(
    sandbox: Sandbox, relay: RunningRelay, creds: CredentialStore, kenar: KenarClient
) -> tuple[StoredToken, httpx.Response]:
    """LoginFlow with the code coming back through the relay; tokens stored and subscribed."""
    flow = LoginFlow(
        kenar,
        creds,
        client_id=sandbox.client_id,
        redirect_uri=f"{relay.url}/oauth/callback",
        posts=[POST],
    )
    ready = asyncio.Event()
    waiting = asyncio.create_task(
        flow.code_from_relay(relay.ws_url, relay.token, timeout=20, ready=ready)
    )
    await asyncio.wait_for(ready.wait(), 10)
    page = await browse(flow.url)
    code = await asyncio.wait_for(waiting, 10)
    token = await flow.finish(code)
    await subscribe_token(kenar, token)
    return token, page


async def refresh_with(
    sandbox: Sandbox, creds: CredentialStore, kenar: KenarClient, now: Callable[[], datetime]
) -> list[StoredToken]:
    keeper = TokenKeeper(
        kenar, creds, client_id=sandbox.client_id, redirect_uri="http://127.0.0.1/cb", now=now
    )
    return await keeper.refresh_due()


async def revoke_through_relay(
    sandbox: Sandbox, relay: RunningRelay, creds: CredentialStore, kenar: KenarClient
) -> RevocationNotice:
    """The seller revokes at Divar; the event reaches the console over the relay link."""
    notices: list[RevocationNotice] = []
    keeper = TokenKeeper(
        kenar,
        creds,
        client_id=sandbox.client_id,
        redirect_uri="http://127.0.0.1/cb",
        on_revoked=notices.append,
    )
    await sandbox.control.revoke_access()
    async with RelayLink(relay.ws_url, relay.token) as link:
        async with asyncio.timeout(15):
            async for event in link.events():
                if isinstance(event, LinkEntry):
                    notice = await keeper.handle_entry(event.entry)
                    if notice is not None:
                        break
    assert len(notices) == 1
    return notices[0]


class PasteStdin:
    """A stdin whose next line arrives when the test puts it (the pasted redirect address)."""

    def __init__(self) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.asked = threading.Event()

    def readline(self, size: int | None = None, /) -> str:
        self.asked.set()
        return self.lines.get(timeout=20)

    def isatty(self) -> bool:
        return False


def strings_in(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)
