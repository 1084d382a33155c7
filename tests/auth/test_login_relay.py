"""Logging in against the real sandbox, the code coming back through a real relay's callback."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from kenar_core.errors import LoginError
from kenar_tui.auth.login import LoginFlow
from kenar_tui.auth.relay_callback import relay_oauth_code
from kenar_tui.cli import main
from kenar_tui.credentials import CredentialStore
from kenar_tui.link import RelayLink
from kenar_tui.sandbox import Sandbox
from tests.auth.flows import (
    POST,
    PasteStdin,
    browse,
    browse_sync,
    kenar_for,
    login_through_relay,
    revoke_through_relay,
    wire,
)
from tests.fixtures.relay import RunningRelay


async def test_login_through_the_relay_stores_tokens_and_subscribes(
    sandbox: Sandbox, relay: RunningRelay, creds: CredentialStore
) -> None:
    """Approve in the browser: the relay hands the code over, tokens are stored, subscribed."""
    await wire(sandbox, relay, creds)
    async with kenar_for(sandbox) as kenar:
        token, page = await login_through_relay(sandbox, relay, creds, kenar)
    assert page.status_code == 200 and "ورود انجام شد" in page.text
    assert creds.tokens() == [token]
    assert set(token.scopes) == {
        f"CHAT_POST_CONVERSATIONS_READ.{POST}",
        f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{POST}",
        "USER_POSTS_GET",
        "NOTIFICATION_ACCESS_REVOCATION",
        "USER_ID",
        "offline_access",
    }
    assert token.refresh_token is not None
    # The user id, from GET /v1/open-platform/users, names whose tokens a revocation drops.
    assert token.user_id == (await sandbox.control.state())["seller_id"]
    assert creds.token_for_send("any-conversation", POST) == token
    state = await sandbox.control.state()
    # New messages on the post, and post updates (titles and prices stay fresh).
    assert [
        (s["event_type"], s["event_resource_id"], s["active"]) for s in state["subscriptions"]
    ] == [("NEW_MESSAGE_ON_POST", POST, True), ("POST_UPDATE", "", True)]


async def test_the_console_logs_in_over_its_own_relay_link(
    sandbox: Sandbox, relay: RunningRelay, creds: CredentialStore
) -> None:
    """The console's RelayLink announces the state and receives the code (the login screen)."""
    await wire(sandbox, relay, creds)
    async with kenar_for(sandbox) as kenar, RelayLink(relay.ws_url, relay.token) as link:
        flow = LoginFlow(
            kenar,
            creds,
            client_id=sandbox.client_id,
            redirect_uri=f"{relay.url}/oauth/callback",
            all_posts=True,
        )
        await asyncio.wait_for(link.wait_online(), 10)
        waiting = asyncio.create_task(flow.code_from_link(link, timeout=20))
        async with asyncio.timeout(10):
            # Until the relay has the state, its callback answers "no console is waiting".
            while (page := await browse(flow.url)).status_code != 200:
                assert "No console is waiting" in page.text
        token = await flow.finish(await waiting)
    assert creds.tokens() == [token]
    assert creds.can_send("c1", "Qa8LmT2x") and creds.can_send("c2", POST)


async def test_a_refused_login_says_so(
    sandbox: Sandbox, relay: RunningRelay, creds: CredentialStore
) -> None:
    """When the seller declines at Divar, the login fails with Divar's reason and stores nothing."""
    await wire(sandbox, relay, creds)
    await sandbox.control.configure(oauth_approve=False)
    async with kenar_for(sandbox) as kenar:
        flow = LoginFlow(
            kenar,
            creds,
            client_id=sandbox.client_id,
            redirect_uri=f"{relay.url}/oauth/callback",
            posts=[POST],
        )
        ready = asyncio.Event()
        waiting = asyncio.create_task(flow.code_from_relay(relay.ws_url, relay.token, ready=ready))
        await asyncio.wait_for(ready.wait(), 10)
        page = await browse(flow.url)
        with pytest.raises(LoginError, match="did not grant access: access_denied"):
            await asyncio.wait_for(waiting, 10)
    assert page.status_code == 200 and creds.tokens() == []


async def test_a_wrong_relay_token_is_explained(
    relay: RunningRelay, creds: CredentialStore
) -> None:
    """A relay token the relay does not know gives the command that stores the right one."""
    with pytest.raises(LoginError, match="kenar-tui auth set relay-token"):
        await relay_oauth_code(relay.ws_url, "kr_wrong_token_value", "s" * 32, timeout=10)


async def test_a_revocation_through_the_relay_drops_the_tokens(
    sandbox: Sandbox, relay: RunningRelay, creds: CredentialStore
) -> None:
    """The seller revokes at Divar; the event arrives over the relay and the tokens go."""
    await wire(sandbox, relay, creds)
    async with kenar_for(sandbox) as kenar:
        token, _ = await login_through_relay(sandbox, relay, creds, kenar)
        notice = await revoke_through_relay(sandbox, relay, creds, kenar)
    assert notice.dropped == [token] and creds.tokens() == []
    assert "Log in again" in notice.message


async def test_the_login_command_through_the_relay(
    sandbox: Sandbox,
    relay: RunningRelay,
    creds: CredentialStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`kenar-tui login --post` opens the browser, waits at the relay, stores and subscribes."""
    await wire(sandbox, relay, creds)
    opened: list[str] = []

    def open_browser(url: str) -> bool:
        opened.append(url)
        return browse_sync(url)

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr("webbrowser.open", open_browser)
    common = ["--api-base", sandbox.base_url, "--oauth-base", sandbox.base_url]
    argv = ["login", "--post", POST, "--relay-url", relay.ws_url, "--client-id", sandbox.client_id]
    assert await asyncio.to_thread(main, [*argv, *common, "--no-qr"]) == 0
    out = capsys.readouterr().out
    assert len(opened) == 1 and opened[0] in out
    assert parse_qs(urlsplit(opened[0]).query)["redirect_uri"] == [f"{relay.url}/oauth/callback"]
    (token,) = creds.tokens()
    assert f"logged in: token {token.id}" in out
    assert f"subscribed to new messages on post {POST}" in out

    assert await asyncio.to_thread(main, ["subscribe", *common]) == 0
    assert f"token {token.id}: subscribed to new messages on post {POST}" in capsys.readouterr().out


async def test_the_login_command_with_a_pasted_address(
    sandbox: Sandbox,
    creds: CredentialStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without a relay the address is printed with a QR code and the landing address pasted."""
    creds.api_key, creds.client_secret = sandbox.api_key, sandbox.client_secret
    stdin = PasteStdin()
    monkeypatch.setattr("sys.stdin", stdin)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    argv = [
        "login", "--all-posts", "--paste", "--client-id", sandbox.client_id,
        "--redirect-uri", "http://127.0.0.1:9/callback",
        "--api-base", sandbox.base_url, "--oauth-base", sandbox.base_url,
    ]  # fmt: skip
    running = asyncio.create_task(asyncio.to_thread(main, argv))
    # input() reads only once the address is printed.
    assert await asyncio.to_thread(stdin.asked.wait, 10)
    out = capsys.readouterr().out
    found = re.search(r"(http://\S+/oauth2/auth\?\S+)", out)
    assert found is not None and "scan it with your phone" in out and "▀" in out
    async with httpx.AsyncClient() as browser:  # the seller's browser, stopping at the redirect
        landing = (await browser.get(found.group(1))).headers["location"]
    stdin.lines.put(landing + "\n")
    assert await asyncio.wait_for(running, 15) == 0
    (token,) = creds.tokens()
    assert "CHAT_SUPPLIER_ALL_CONVERSATIONS_READ" in token.scopes
    assert "subscribed to new messages on all posts" in capsys.readouterr().out


async def test_the_login_command_refuses_another_logins_address(
    sandbox: Sandbox,
    creds: CredentialStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Pasting an address whose state is not this login's fails clearly and stores nothing."""
    creds.api_key, creds.client_secret = sandbox.api_key, sandbox.client_secret
    stdin = PasteStdin()
    stdin.lines.put("http://127.0.0.1:9/callback?code=ac_stolen&state=not-this-login\n")
    monkeypatch.setattr("sys.stdin", stdin)
    argv = [
        "login", "--post", POST, "--paste", "--no-browser", "--no-qr",
        "--client-id", sandbox.client_id, "--redirect-uri", "http://127.0.0.1:9/callback",
        "--api-base", sandbox.base_url, "--oauth-base", sandbox.base_url,
    ]  # fmt: skip
    assert await asyncio.to_thread(main, argv) == 1
    err = capsys.readouterr().err
    assert "belongs to a different login" in err and "ac_stolen" not in err
    assert creds.tokens() == []


def test_login_without_the_app_secrets_says_what_to_store(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Logging in before storing the client secret names the command that stores it."""
    argv = ["login", "--post", POST, "--client-id", "app", "--redirect-uri", "http://127.0.0.1/cb"]
    assert main(argv) == 1
    assert "kenar-tui auth set client-secret" in capsys.readouterr().err


def test_login_needs_a_client_id(
    creds: CredentialStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a client id anywhere, the error says where to put one."""
    creds.api_key, creds.client_secret = "k", "s"
    assert main(["login", "--all-posts", "--redirect-uri", "http://127.0.0.1/cb"]) == 1
    assert "--client-id" in capsys.readouterr().err
