"""Divar's OAuth (authorization code): the authorize URL, the state, the token forms.

The user's browser goes to `<oauth base>/oauth2/auth?...`; Divar redirects back to the
registered `redirect_uri` with `code` and `state` (no `code` when the user refused); the code
is then exchanged at `<oauth base>/oauth2/token` with a form-encoded POST. A refresh posts
to the same endpoint with the *current access token* as `code`, as Divar documents.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from kenar_core.errors import ProtocolError

DEFAULT_OAUTH_BASE = "https://oauth.divar.ir"
AUTHORIZE_PATH = "/oauth2/auth"
TOKEN_PATH = "/oauth2/token"


def new_state() -> str:
    """A fresh unguessable `state` (32 URL-safe characters) tying a redirect to its request."""
    return secrets.token_urlsafe(24)


def state_matches(expected: str, received: str | None) -> bool:
    """Whether a redirect's state is the one we sent, compared in constant time."""
    if not expected or received is None:
        return False
    return hmac.compare_digest(expected.encode(), received.encode())


def scope_string(scopes: Iterable[str]) -> str:
    """Scopes joined with spaces, each checked to be a single word, duplicates dropped."""
    seen: list[str] = []
    for scope in scopes:
        if not scope or any(c.isspace() for c in scope):
            raise ProtocolError(f"a scope is one word like CHAT_CONVERSATION_READ.<id>: {scope!r}")
        if scope not in seen:
            seen.append(scope)
    if not seen:
        raise ProtocolError("ask for at least one scope")
    return " ".join(seen)


def authorize_url(
    oauth_base: str,
    *,
    client_id: str,
    redirect_uri: str,
    scopes: Iterable[str],
    state: str,
) -> str:
    """Where to send the user's browser to grant `scopes` to the app `client_id`."""
    if not client_id:
        raise ProtocolError("the app's client id (its slug in the Kenar panel) is empty")
    if not redirect_uri:
        raise ProtocolError("the redirect URI is empty; use the one registered in the panel")
    if not state:
        raise ProtocolError("the OAuth state is empty; make one with new_state()")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope_string(scopes),
            "state": state,
        },
        quote_via=quote,
    )
    return f"{oauth_base.rstrip('/')}{AUTHORIZE_PATH}?{query}"


def code_form(
    code: str, *, client_id: str, client_secret: str, redirect_uri: str
) -> dict[str, str]:
    """The token endpoint's form for exchanging an authorization code."""
    return {
        "code": code,
        "client_id": client_id,
        "client_secret": client_secret,
        "grant_type": "authorization_code",
        "redirect_uri": redirect_uri,
    }


def refresh_form(
    refresh_token: str,
    *,
    access_token: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
) -> dict[str, str]:
    """The token endpoint's form for a refresh; Divar wants the current access token as `code`."""
    return {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "code": access_token,
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
    }


@dataclass(frozen=True, slots=True)
class Redirect:
    """What Divar's redirect back to `redirect_uri` carried."""

    code: str | None
    state: str | None
    error: str | None

    def __repr__(self) -> str:
        # The code is a credential for a few minutes: never print it.
        shown = "<hidden>" if self.code else None
        return f"Redirect(code={shown}, state={self.state!r}, error={self.error!r})"


def read_redirect(url_or_query: str | Mapping[str, str]) -> Redirect:
    """The code, state and error of a redirect, from its URL, its query string or its params."""
    if isinstance(url_or_query, Mapping):
        params = {k: v for k, v in url_or_query.items() if isinstance(v, str)}
    else:
        text = url_or_query
        query = urlsplit(text).query if "://" in text or text.startswith("/") else text
        params = {k: v[0] for k, v in parse_qs(query.lstrip("?")).items() if v}
    error = params.get("error")
    description = params.get("error_description")
    if error and description:
        error = f"{error}: {description}"
    return Redirect(code=params.get("code") or None, state=params.get("state"), error=error)
