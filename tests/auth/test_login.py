"""LoginFlow without a server: the scopes asked for, the state, the pasted redirect address."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import pytest

from kenar_api.client import KenarClient
from kenar_core.errors import ConfigError, LoginError
from kenar_tui.auth.login import LoginFlow, login_scopes
from kenar_tui.auth.relay_callback import relay_callback_uri, relay_ws_url
from kenar_tui.credentials import CredentialStore

REDIRECT = "https://relay.example.ir/oauth/callback"


@pytest.fixture
async def kenar() -> AsyncIterator[KenarClient]:
    async with KenarClient("api-key", oauth_base="https://oauth.example.ir") as client:
        yield client


def flow(kenar: KenarClient, creds: CredentialStore, **kwargs: object) -> LoginFlow:
    return LoginFlow(kenar, creds, client_id="my-app", redirect_uri=REDIRECT, **kwargs)  # type: ignore[arg-type]


def test_per_post_scopes_read_and_send_each_post_plus_offline() -> None:
    """Each post gets its read and send scopes, duplicates once; USER_POSTS_GET (the seller's
    posts to choose from, and POST_UPDATE), the revocation scopes (docs/events/auth.md) and
    offline_access are added."""
    assert login_scopes(["gZd7omnS", "QYx2Fm1a", "gZd7omnS"]) == [
        "CHAT_POST_CONVERSATIONS_READ.gZd7omnS",
        "CHAT_POST_CONVERSATIONS_MESSAGE_SEND.gZd7omnS",
        "CHAT_POST_CONVERSATIONS_READ.QYx2Fm1a",
        "CHAT_POST_CONVERSATIONS_MESSAGE_SEND.QYx2Fm1a",
        "USER_POSTS_GET",
        "NOTIFICATION_ACCESS_REVOCATION",
        "USER_ID",
        "offline_access",
    ]


def test_all_posts_scopes() -> None:
    """--all-posts asks for the supplier-wide read and send scopes."""
    assert login_scopes(all_posts=True) == [
        "CHAT_SUPPLIER_ALL_CONVERSATIONS_READ",
        "CHAT_SUPPLIER_ALL_CONVERSATIONS_MESSAGE_SEND",
        "USER_POSTS_GET",
        "NOTIFICATION_ACCESS_REVOCATION",
        "USER_ID",
        "offline_access",
    ]


@pytest.mark.parametrize(
    ("posts", "all_posts", "words"),
    [
        ([], False, "name the posts"),
        (["gZd7omnS"], True, "not both"),
        (["bad token"], False, "does not look like a Divar post token"),
    ],
)
def test_bad_scope_requests_are_refused(posts: list[str], all_posts: bool, words: str) -> None:
    """No posts, both kinds, or a malformed post token are refused in words."""
    with pytest.raises(LoginError, match=words):
        login_scopes(posts, all_posts=all_posts)


async def test_the_authorize_url_carries_scopes_and_a_fresh_state(
    kenar: KenarClient, creds: CredentialStore
) -> None:
    """The URL asks for code, names the app, redirect, scopes; every login has its own state."""
    first, second = flow(kenar, creds, posts=["gZd7omnS"]), flow(kenar, creds, posts=["gZd7omnS"])
    query = parse_qs(urlsplit(first.url).query)
    assert first.url.startswith("https://oauth.example.ir/oauth2/auth?")
    assert query["response_type"] == ["code"] and query["client_id"] == ["my-app"]
    assert query["redirect_uri"] == [REDIRECT]
    assert query["scope"] == [" ".join(first.scopes)]
    assert query["state"] == [first.state] and len(first.state) >= 32
    assert first.state != second.state


async def test_a_pasted_redirect_gives_its_code(kenar: KenarClient, creds: CredentialStore) -> None:
    """The whole address from the browser's bar yields the code when the state matches."""
    login = flow(kenar, creds, all_posts=True)
    pasted = f"  {REDIRECT}?code=ac_123&state={login.state}\n"
    assert login.code_from_redirect(pasted) == "ac_123"


@pytest.mark.parametrize(
    ("pasted", "words"),
    [
        (f"{REDIRECT}?code=ac_123&state=someone-elses-state", "different login"),
        (f"{REDIRECT}?code=ac_123", "different login"),
        (REDIRECT, "no code or state"),
        ("", "nothing was pasted"),
    ],
)
async def test_a_pasted_redirect_for_another_login_is_refused(
    kenar: KenarClient, creds: CredentialStore, pasted: str, words: str
) -> None:
    """A mismatched or missing state, or an address without a code, is refused clearly."""
    login = flow(kenar, creds, all_posts=True)
    with pytest.raises(LoginError, match=words):
        login.code_from_redirect(pasted)


async def test_a_refusal_in_the_redirect_is_reported(
    kenar: KenarClient, creds: CredentialStore
) -> None:
    """When the seller declines, Divar's error comes back in words."""
    login = flow(kenar, creds, all_posts=True)
    pasted = f"{REDIRECT}?error=access_denied&error_description=declined&state={login.state}"
    with pytest.raises(LoginError, match="did not grant access: access_denied: declined"):
        login.code_from_redirect(pasted)


def test_relay_urls_in_any_spelling() -> None:
    """The relay URL gives its websocket endpoint and its OAuth callback, ws or wss."""
    assert relay_ws_url("wss://relay.example.ir") == "wss://relay.example.ir/ws"
    assert relay_ws_url("wss://relay.example.ir/ws") == "wss://relay.example.ir/ws"
    assert relay_ws_url("ws://127.0.0.1:8080/") == "ws://127.0.0.1:8080/ws"
    assert (
        relay_callback_uri("wss://relay.example.ir/ws") == "https://relay.example.ir/oauth/callback"
    )
    assert relay_callback_uri("ws://127.0.0.1:8080") == "http://127.0.0.1:8080/oauth/callback"
    with pytest.raises(ConfigError, match="relay URL"):
        relay_ws_url("ftp://relay")
