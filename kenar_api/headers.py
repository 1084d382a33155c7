"""The two header styles Kenar has used for the app key and the user's token.

We send the current style (`X-API-Key`, `Authorization: Bearer <token>`); whoever serves the
API (the sandbox) understands the migration guide's (`x-api-key`, `x-access-token`) too.
Header names are case-insensitive, so one lookup covers `X-API-Key` and `x-api-key`.
"""

from __future__ import annotations

from collections.abc import Mapping

API_KEY = "X-API-Key"
AUTHORIZATION = "Authorization"
LEGACY_ACCESS_TOKEN = "x-access-token"


def _get(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        # A plain dict is case-sensitive; httpx/starlette headers are not.
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def auth_headers(api_key: str, access_token: str | None = None) -> dict[str, str]:
    """The headers of an API call in the current style."""
    headers = {API_KEY: api_key}
    if access_token:
        headers[AUTHORIZATION] = f"Bearer {access_token}"
    return headers


def read_api_key(headers: Mapping[str, str]) -> str | None:
    """The app's API key from either header style, or None."""
    return _clean(_get(headers, API_KEY))


def read_access_token(headers: Mapping[str, str]) -> str | None:
    """The user's token from `Authorization: Bearer` or the legacy `x-access-token`, or None."""
    authorization = _get(headers, AUTHORIZATION)
    if authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return _clean(_get(headers, LEGACY_ACCESS_TOKEN))


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None
