"""Both header styles of API.md are understood; the current one is sent."""

from __future__ import annotations

import httpx

from kenar_api.headers import auth_headers, read_access_token, read_api_key
from kenar_api.serverlink import is_v2


def test_current_style_is_sent() -> None:
    """We send X-API-Key and Authorization: Bearer."""
    assert auth_headers("k", "t") == {"X-API-Key": "k", "Authorization": "Bearer t"}
    assert auth_headers("k") == {"X-API-Key": "k"}


def test_both_styles_are_read() -> None:
    """The migration guide's x-api-key/x-access-token and the current style both work."""
    current = httpx.Headers({"X-API-Key": "k1", "Authorization": "Bearer t1"})
    legacy = httpx.Headers({"x-api-key": "k2", "x-access-token": "t2"})
    assert (read_api_key(current), read_access_token(current)) == ("k1", "t1")
    assert (read_api_key(legacy), read_access_token(legacy)) == ("k2", "t2")
    plain = {"X-Api-Key": "k3", "x-access-token": "t3"}
    assert (read_api_key(plain), read_access_token(plain)) == ("k3", "t3")


def test_missing_or_malformed_credentials_read_as_none() -> None:
    """No header, an empty one or a non-Bearer Authorization gives None."""
    assert read_api_key({}) is None
    assert read_api_key({"X-API-Key": "  "}) is None
    assert read_access_token({"Authorization": "Basic abc"}) is None
    assert read_access_token({"Authorization": "Bearer "}) is None


def test_server_link_version_header() -> None:
    """API_VERSION: 2 (any spelling a proxy leaves) marks the current start-URL shape."""
    assert is_v2(httpx.Headers({"API_VERSION": "2"}))
    assert is_v2(httpx.Headers({"api-version": "2"}))
    assert not is_v2(httpx.Headers({"API_VERSION": "1"}))
    assert not is_v2(httpx.Headers({}))
