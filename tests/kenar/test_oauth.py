"""OAuth helpers: state, scopes, redirects."""

from __future__ import annotations

import pytest

from kenar_api.oauth import (
    authorize_url,
    new_state,
    read_redirect,
    scope_string,
    state_matches,
)
from kenar_core.errors import ProtocolError


def test_new_state_is_random_and_url_safe() -> None:
    """Each login gets a fresh, unguessable, URL-safe state."""
    states = {new_state() for _ in range(50)}
    assert len(states) == 50
    for state in states:
        assert len(state) >= 32
        assert all(c.isalnum() or c in "-_" for c in state)


def test_state_matches_only_the_same_state() -> None:
    """A redirect is accepted only with the state we sent."""
    state = new_state()
    assert state_matches(state, state)
    assert not state_matches(state, state + "x")
    assert not state_matches(state, None)
    assert not state_matches("", "")


def test_scope_string_joins_and_deduplicates() -> None:
    """Scopes are space-joined once each, in the order asked."""
    scopes = ["CHAT_POST_CONVERSATIONS_READ.gZd7omnS", "offline_access", "offline_access"]
    assert scope_string(scopes) == "CHAT_POST_CONVERSATIONS_READ.gZd7omnS offline_access"


@pytest.mark.parametrize("scopes", [[], [""], ["TWO WORDS"]])
def test_scope_string_refuses_nonsense(scopes: list[str]) -> None:
    """No scope, an empty one or one with a space is refused with a sentence."""
    with pytest.raises(ProtocolError):
        scope_string(scopes)


def test_authorize_url_encodes_the_redirect() -> None:
    """The redirect URI and the scopes are percent-encoded (space as %20)."""
    url = authorize_url(
        "https://oauth.divar.ir",
        client_id="my-app",
        redirect_uri="https://app.example.com/cb?x=1",
        scopes=["A.b", "offline_access"],
        state="s1",
    )
    assert url == (
        "https://oauth.divar.ir/oauth2/auth?response_type=code&client_id=my-app"
        "&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%3Fx%3D1"
        "&scope=A.b%20offline_access&state=s1"
    )


@pytest.mark.parametrize("missing", ["client_id", "redirect_uri", "state"])
def test_authorize_url_needs_its_parameters(missing: str) -> None:
    """An empty client id, redirect URI or state is refused before a browser opens."""
    args = {"client_id": "a", "redirect_uri": "http://127.0.0.1/cb", "state": "s", missing: ""}
    with pytest.raises(ProtocolError):
        authorize_url("https://oauth.divar.ir", scopes=["A"], **args)


def test_read_redirect_from_url_query_and_mapping() -> None:
    """The redirect's code and state are read from a URL, a query or parameters."""
    for given in (
        "http://127.0.0.1:8765/callback?code=c0de&state=s1",
        "?code=c0de&state=s1",
        {"code": "c0de", "state": "s1"},
    ):
        redirect = read_redirect(given)
        assert (redirect.code, redirect.state, redirect.error) == ("c0de", "s1", None)
        assert "c0de" not in repr(redirect)


def test_read_redirect_refused() -> None:
    """A refused consent has no code and carries Divar's error."""
    redirect = read_redirect("/callback?error=access_denied&error_description=user+said+no&state=s")
    assert redirect.code is None
    assert redirect.error == "access_denied: user said no"
