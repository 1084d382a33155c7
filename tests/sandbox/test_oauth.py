"""A full OAuth code flow against the sandbox, headless, with refresh and rotation."""

from __future__ import annotations

import httpx
import pytest

from kenar_api import SendMessageBody, SubscriptionRequest
from kenar_api.client import KenarClient
from kenar_api.oauth import new_state, read_redirect, state_matches
from kenar_core.errors import AuthError, KenarAPIError
from kenar_tui.sandbox import Sandbox
from tests.sandbox.conftest import ALL_READ, ALL_SEND, CAR

REDIRECT = "http://127.0.0.1:8710/oauth/callback"


async def _authorize(sandbox: Sandbox, kenar: KenarClient, scopes: list[str], state: str) -> str:
    """Follow the authorize URL as a browser would, and return where it was redirected."""
    url = kenar.authorize_url(
        client_id=sandbox.client_id, redirect_uri=REDIRECT, scopes=scopes, state=state
    )
    async with httpx.AsyncClient() as browser:
        response = await browser.get(url)
    assert response.status_code == 302
    location: str = response.headers["location"]
    return location


async def test_code_flow_with_refresh_works_headless(sandbox: Sandbox, kenar: KenarClient) -> None:
    """Authorize, exchange the code, send, refresh: new tokens work, old ones only for 2 minutes."""
    chat = await sandbox.control.inject_message(post_token=CAR, text="سلام")
    state = new_state()
    location = await _authorize(sandbox, kenar, [ALL_SEND, "offline_access"], state)
    assert location.startswith(REDIRECT + "?")
    redirect = read_redirect(location)
    assert state_matches(state, redirect.state)
    assert redirect.code and redirect.error is None

    creds = {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "redirect_uri": REDIRECT,
    }
    tokens = await kenar.exchange_code(redirect.code, **creds)
    assert tokens.scopes == [ALL_SEND, "offline_access"]
    assert tokens.refresh_token and tokens.expires_in == 3600
    body = SendMessageBody(message="بله موجوده")
    await kenar.send_message(chat["conversation_id"], body, access_token=tokens.access_token)

    with pytest.raises(AuthError, match="already used"):
        await kenar.exchange_code(redirect.code, **creds)

    fresh = await kenar.refresh_token(
        tokens.refresh_token, access_token=tokens.access_token, **creds
    )
    assert fresh.access_token != tokens.access_token
    assert fresh.refresh_token not in (None, tokens.refresh_token)
    for token in (fresh.access_token, tokens.access_token):  # the old one: still in its grace
        await kenar.send_message(chat["conversation_id"], body, access_token=token)

    await sandbox.control.advance_clock(121)
    with pytest.raises(AuthError, match="replaced by a refresh"):
        await kenar.send_message(chat["conversation_id"], body, access_token=tokens.access_token)
    await kenar.send_message(chat["conversation_id"], body, access_token=fresh.access_token)
    assert len(await sandbox.control.sent()) == 4


async def test_refresh_ends_the_old_tokens_subscriptions(
    sandbox: Sandbox, kenar: KenarClient
) -> None:
    """Subscriptions made with a token end when it is refreshed; subscribing again renews them."""
    token = await sandbox.control.issue_token([ALL_READ, "offline_access"])
    all_posts = SubscriptionRequest(event_type="NEW_MESSAGE_ON_POST")
    await kenar.subscribe(all_posts, access_token=token["access_token"])
    fresh = await kenar.refresh_token(
        token["refresh_token"],
        access_token=token["access_token"],
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        redirect_uri=REDIRECT,
    )
    state = await sandbox.control.state()
    assert [(s["active"], s["ended_because"]) for s in state["subscriptions"]] == [
        (False, "its token was refreshed")
    ]
    await kenar.subscribe(all_posts, access_token=fresh.access_token)
    state = await sandbox.control.state()
    assert [s["active"] for s in state["subscriptions"]] == [False, True]


async def test_refused_consent_redirects_with_no_code_and_maybe_no_error(
    sandbox: Sandbox, kenar: KenarClient
) -> None:
    """Told to refuse, authorize redirects back with the state and no code; the first time with
    nothing else (docs/oauth/ReadMe.md: "treat its absence as refusal"), then with an error."""
    await sandbox.control.configure(oauth_approve=False)
    state = new_state()
    bare = read_redirect(await _authorize(sandbox, kenar, [ALL_SEND], state))
    assert (bare.code, bare.state, bare.error) == (None, state, None)
    redirect = read_redirect(await _authorize(sandbox, kenar, [ALL_SEND], state))
    assert redirect.code is None
    assert redirect.state == state
    assert redirect.error == "access_denied: the user refused"


async def test_unregistered_client_or_redirect_is_never_redirected_to(
    sandbox: Sandbox, kenar: KenarClient
) -> None:
    """An unknown client_id or an unregistered redirect_uri gets a 400 page, not a redirect."""
    await sandbox.control.configure(redirect_uris=["https://app.example.com/callback"])
    async with httpx.AsyncClient() as browser:
        for client_id, redirect_uri, error in (
            ("someone-else", "https://app.example.com/callback", "invalid_client"),
            (sandbox.client_id, "https://evil.example.com/callback", "invalid_request"),
        ):
            url = kenar.authorize_url(
                client_id=client_id, redirect_uri=redirect_uri, scopes=[ALL_SEND], state="s" * 12
            )
            response = await browser.get(url)
            assert response.status_code == 400
            assert response.json()["error"] == error
            assert "location" not in response.headers


async def test_wrong_client_secret_and_bad_grant_are_refused(
    sandbox: Sandbox, kenar: KenarClient
) -> None:
    """A wrong client secret is 401 invalid_client; a made-up refresh token is invalid_grant."""
    with pytest.raises(AuthError) as wrong_secret:
        await kenar.exchange_code(
            "ac_made_up", client_id=sandbox.client_id, client_secret="nope", redirect_uri=REDIRECT
        )
    assert wrong_secret.value.status == 401
    with pytest.raises(KenarAPIError, match="invalid_grant: the refresh token is not valid"):
        await kenar.refresh_token(
            "rt_made_up",
            access_token="at_made_up",
            client_id=sandbox.client_id,
            client_secret=sandbox.client_secret,
            redirect_uri=REDIRECT,
        )


async def test_refresh_token_only_with_offline_access(sandbox: Sandbox, kenar: KenarClient) -> None:
    """A login without offline_access gets no refresh token; the control shortcut gets one."""
    redirect = read_redirect(await _authorize(sandbox, kenar, [ALL_SEND], new_state()))
    assert redirect.code is not None
    tokens = await kenar.exchange_code(
        redirect.code,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        redirect_uri=REDIRECT,
    )
    assert tokens.refresh_token is None
    assert (await sandbox.control.issue_token([ALL_SEND]))["refresh_token"].startswith("rt_")
    assert "refresh_token" not in await sandbox.control.issue_token([ALL_SEND], refreshable=False)
