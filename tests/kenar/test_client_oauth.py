"""KenarClient's OAuth calls against a real HTTP server on loopback."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from kenar_api.client import KenarClient
from kenar_core.errors import AuthError, ProtocolError
from tests.fixtures.http_server import LoopbackServer
from tests.kenar.conftest import Reply, ScriptedKenar

API_KEY = "key-7c1d-SECRET-api"
SECRET = "client-secret-SECRET-99"
Double = tuple[ScriptedKenar, LoopbackServer]


def form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}


async def test_exchange_code_posts_the_documented_form(kenar_double: Double) -> None:
    """A code is exchanged with a form-encoded POST to /oauth2/token and gives a TokenResponse."""
    app, server = kenar_double
    app.script(
        Reply(
            200,
            {
                "access_token": "acc-1-SECRET",
                "expires_in": 3600,
                "scope": "CHAT_POST_CONVERSATIONS_READ.gZd7omnS offline_access",
                "token_type": "bearer",
                "refresh_token": "ref-1-SECRET",
            },
        )
    )
    async with KenarClient(API_KEY, api_base=server.url, oauth_base=server.url) as kenar:
        token = await kenar.exchange_code(
            "code-abc",
            client_id="my-app",
            client_secret=SECRET,
            redirect_uri="http://127.0.0.1:8765/callback",
        )
    assert token.access_token == "acc-1-SECRET"
    assert token.scopes == ["CHAT_POST_CONVERSATIONS_READ.gZd7omnS", "offline_access"]
    assert "SECRET" not in repr(token)
    (got,) = app.received
    assert (got.method, got.path) == ("POST", "/oauth2/token")
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "x-api-key" not in got.headers
    assert form(got.body) == {
        "code": "code-abc",
        "client_id": "my-app",
        "client_secret": SECRET,
        "grant_type": "authorization_code",
        "redirect_uri": "http://127.0.0.1:8765/callback",
    }


async def test_refresh_sends_the_current_access_token_as_code(kenar_double: Double) -> None:
    """A refresh posts grant_type=refresh_token with code=<current access token>."""
    app, server = kenar_double
    app.script(Reply(200, {"access_token": "acc-2", "expires_in": 3600, "refresh_token": "ref-2"}))
    async with KenarClient(API_KEY, api_base=server.url, oauth_base=server.url) as kenar:
        token = await kenar.refresh_token(
            "ref-1",
            access_token="acc-1",
            client_id="my-app",
            client_secret=SECRET,
            redirect_uri="http://127.0.0.1:8765/callback",
        )
    assert (token.access_token, token.refresh_token) == ("acc-2", "ref-2")
    assert form(app.received[0].body) == {
        "grant_type": "refresh_token",
        "refresh_token": "ref-1",
        "code": "acc-1",
        "client_id": "my-app",
        "client_secret": SECRET,
        "redirect_uri": "http://127.0.0.1:8765/callback",
    }


async def test_invalid_grant_is_an_auth_error_without_secrets(
    kenar_double: Double, caplog: pytest.LogCaptureFixture
) -> None:
    """A spent refresh token (400 invalid_grant) asks the user to log in again, secrets hidden."""
    app, server = kenar_double
    app.script(
        Reply(400, {"error": "invalid_grant", "error_description": "ref-old-SECRET is expired"})
    )
    caplog.set_level(logging.DEBUG)
    async with KenarClient(API_KEY, api_base=server.url, oauth_base=server.url) as kenar:
        with pytest.raises(AuthError) as caught:
            await kenar.refresh_token(
                "ref-old-SECRET",
                access_token="acc-old-SECRET",
                client_id="my-app",
                client_secret=SECRET,
                redirect_uri="http://127.0.0.1:8765/callback",
            )
    assert "invalid_grant" in str(caught.value)
    assert "log in again" in str(caught.value)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("ref-old-SECRET", "acc-old-SECRET", SECRET):
        assert secret not in str(caught.value)
        assert secret not in logged
    assert len(app.received) == 1


async def test_token_answer_without_access_token_is_a_protocol_error(
    kenar_double: Double,
) -> None:
    """A 200 from the token endpoint without access_token is reported, not half-used."""
    app, server = kenar_double
    app.script(Reply(200, {"token_type": "bearer"}))
    async with KenarClient(API_KEY, api_base=server.url, oauth_base=server.url) as kenar:
        with pytest.raises(ProtocolError, match="token answer"):
            await kenar.exchange_code(
                "code", client_id="a", client_secret=SECRET, redirect_uri="http://127.0.0.1/cb"
            )


async def test_authorize_url_uses_the_oauth_base() -> None:
    """The authorize URL points at <oauth base>/oauth2/auth with every documented parameter."""
    async with KenarClient(API_KEY, oauth_base="http://127.0.0.1:9/") as kenar:
        url = kenar.authorize_url(
            client_id="my-app",
            redirect_uri="http://127.0.0.1:8765/callback",
            scopes=["CHAT_POST_CONVERSATIONS_READ.gZd7omnS", "offline_access"],
            state="st4te",
        )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "127.0.0.1:9", "/oauth2/auth")
    assert parse_qs(parts.query) == {
        "response_type": ["code"],
        "client_id": ["my-app"],
        "redirect_uri": ["http://127.0.0.1:8765/callback"],
        "scope": ["CHAT_POST_CONVERSATIONS_READ.gZd7omnS offline_access"],
        "state": ["st4te"],
    }
