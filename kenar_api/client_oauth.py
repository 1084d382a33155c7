"""The OAuth calls of KenarClient: the grant's address, the code exchange and the refresh.

Kept apart from client.py because they talk to another host (`oauth_base`), send forms rather
than JSON, and have their own failure to tell apart: a spent code or refresh token
(`invalid_grant`) is an AuthError, so the console asks the user to log in again instead of
retrying. Every token seen here joins the client's secrets, so no log line or error shows it.
Every call goes through KenarClient's request loop and its retry rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kenar_api import oauth
from kenar_api.bodies import TokenResponse
from kenar_api.client_needs import ClientNeeds
from kenar_core.errors import AuthError, CredentialError, KenarAPIError, ProtocolError, api_error


class OAuthCalls(ClientNeeds):
    """Mixed into KenarClient, whose request loop (`_call`) and parser (`_parse`) it uses."""

    # --- OAuth (docs/oauth/) ------------------------------------------------------------------

    def authorize_url(
        self, *, client_id: str, redirect_uri: str, scopes: Iterable[str], state: str
    ) -> str:
        """Where the user's browser grants `scopes` (see kenar_api.oauth.new_state)."""
        return oauth.authorize_url(
            self.oauth_base,
            client_id=client_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            state=state,
        )

    async def exchange_code(
        self, code: str, *, client_id: str, client_secret: str, redirect_uri: str
    ) -> TokenResponse:
        """Trade the redirect's authorization code for tokens."""
        if not code:
            raise ProtocolError("the redirect carried no authorization code")
        form = oauth.code_form(
            code, client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri
        )
        return await self._token(form, code, client_secret)

    async def refresh_token(
        self,
        refresh_token: str,
        *,
        access_token: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
    ) -> TokenResponse:
        """New tokens for old; Divar rotates both (the old stay valid about two minutes)."""
        if not refresh_token:
            raise CredentialError("no refresh token is stored; log in again (kenar-tui login)")
        self._need_token(access_token)
        form = oauth.refresh_form(
            refresh_token,
            access_token=access_token,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
        )
        return await self._token(form, refresh_token, access_token, client_secret)

    async def _token(self, form: dict[str, str], *secrets: str) -> TokenResponse:
        self._secrets.update(s for s in secrets if s)
        response = await self._call(
            "POST", self.oauth_base, oauth.TOKEN_PATH, None, form_body=form, classify=oauth_error
        )
        token = self._parse(response, TokenResponse, "token")
        self._secrets.add(token.access_token)
        if token.refresh_token:
            self._secrets.add(token.refresh_token)
        return token


def oauth_error(status: int, body: Any) -> KenarAPIError | None:
    """OAuth's 400 invalid_grant: the code or refresh token is spent, so log in again."""
    if status != 400 or not isinstance(body, dict):
        return None
    if body.get("error") == "invalid_grant" or "invalid_grant" in str(body.get("message", "")):
        plain = api_error(status, body)
        return AuthError(status, plain.code, plain.message, plain.details)
    return None
