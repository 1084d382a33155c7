"""OAuth tokens and authorization codes the sandbox issued, with expiry and rotation.

A refresh rotates both tokens; the old pair stays usable for `ROTATION_GRACE` (Divar says
"about two minutes"), then is refused. Refresh tokens last 30 days, codes ten minutes and
one use. Times come from the sandbox `Clock`, which tests can advance.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kenar_api.scopes import OFFLINE
from kenar_core.errors import KenarTuiError
from kenar_tui.sandbox.clock import Clock

ROTATION_GRACE = timedelta(minutes=2)
REFRESH_LIFETIME = timedelta(days=30)
CODE_LIFETIME = timedelta(minutes=10)


@dataclass
class TokenPair:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    scopes: tuple[str, ...]
    client_id: str
    user_id: str
    issued_at: datetime
    expires_in: int
    superseded_at: datetime | None = None
    revoked: bool = False

    @property
    def access_expires_at(self) -> datetime:
        return self.issued_at + timedelta(seconds=self.expires_in)

    def answer(self) -> dict[str, object]:
        """The token endpoint's JSON for this pair."""
        body: dict[str, object] = {
            "access_token": self.access_token,
            "expires_in": self.expires_in,
            "scope": " ".join(self.scopes),
            "token_type": "bearer",
        }
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        return body


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    user_id: str
    expires_at: datetime
    used: bool = False


class TokenProblem(KenarTuiError):
    """Why a token is refused; caught inside the sandbox, its message is safe to answer with."""


class TokenStore:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._by_access: dict[str, TokenPair] = {}
        self._by_refresh: dict[str, TokenPair] = {}
        self._codes: dict[str, AuthCode] = {}

    def __repr__(self) -> str:
        return f"TokenStore(tokens={len(self._by_access)})"

    def issue(
        self,
        scopes: tuple[str, ...],
        *,
        client_id: str,
        user_id: str,
        expires_in: int = 3600,
        refreshable: bool | None = None,
    ) -> TokenPair:
        """A new pair; a refresh token only with `offline_access`, unless told otherwise."""
        if refreshable is None:
            refreshable = OFFLINE in scopes
        refresh = f"rt_{secrets.token_urlsafe(32)}" if refreshable else None
        pair = TokenPair(
            access_token=f"at_{secrets.token_urlsafe(32)}",
            refresh_token=refresh,
            scopes=scopes,
            client_id=client_id,
            user_id=user_id,
            issued_at=self.clock.now(),
            expires_in=expires_in,
        )
        self._by_access[pair.access_token] = pair
        if refresh:
            self._by_refresh[refresh] = pair
        return pair

    def check_access(self, access_token: str) -> TokenPair:
        """The live pair of an access token, or TokenProblem saying why it is refused."""
        pair = self._by_access.get(access_token)
        if pair is None:
            raise TokenProblem("the access token is not valid")
        now = self.clock.now()
        if pair.revoked:
            raise TokenProblem("the access token was revoked by the user")
        if pair.superseded_at is not None and now > pair.superseded_at + ROTATION_GRACE:
            raise TokenProblem(
                "the access token was replaced by a refresh more than two minutes ago"
            )
        if now >= pair.access_expires_at:
            raise TokenProblem("the access token has expired; refresh it or log in again")
        return pair

    def is_live(self, access_token: str) -> bool:
        try:
            self.check_access(access_token)
        except TokenProblem:
            return False
        return True

    def rotate(self, refresh_token: str, *, current_access: str, client_id: str) -> TokenPair:
        """A new pair for a refresh token; the old pair keeps working for the grace period."""
        pair = self._by_refresh.get(refresh_token)
        if pair is None or pair.client_id != client_id:
            raise TokenProblem("the refresh token is not valid")
        now = self.clock.now()
        if pair.revoked:
            raise TokenProblem("the refresh token was revoked by the user")
        if pair.superseded_at is not None and now > pair.superseded_at + ROTATION_GRACE:
            raise TokenProblem("the refresh token was already used more than two minutes ago")
        if now >= pair.issued_at + REFRESH_LIFETIME:
            raise TokenProblem("the refresh token has expired (30 days); log in again")
        if current_access != pair.access_token:
            raise TokenProblem("code must be the access token this refresh token came with")
        new = self.issue(
            pair.scopes,
            client_id=client_id,
            user_id=pair.user_id,
            expires_in=pair.expires_in,
            refreshable=True,
        )
        if pair.superseded_at is None:
            pair.superseded_at = now
        return new

    def live_pairs_of(self, user_id: str) -> list[TokenPair]:
        """The user's tokens that still work."""
        return [p for p in self._by_access.values() if p.user_id == user_id and not p.revoked]

    def revoke_user(self, user_id: str) -> list[str]:
        """Revoke every token of a user; the access tokens revoked are returned."""
        revoked = []
        for pair in self._by_access.values():
            if pair.user_id == user_id and not pair.revoked:
                pair.revoked = True
                revoked.append(pair.access_token)
        return revoked

    def new_code(
        self, *, client_id: str, redirect_uri: str, scopes: tuple[str, ...], user_id: str
    ) -> str:
        code = f"ac_{secrets.token_urlsafe(24)}"
        self._codes[code] = AuthCode(
            client_id, redirect_uri, scopes, user_id, self.clock.now() + CODE_LIFETIME
        )
        return code

    def redeem_code(self, code: str, *, client_id: str, redirect_uri: str) -> TokenPair:
        grant = self._codes.get(code)
        if grant is None or grant.client_id != client_id:
            raise TokenProblem("the authorization code is not valid")
        if grant.used:
            raise TokenProblem("the authorization code was already used")
        if self.clock.now() >= grant.expires_at:
            raise TokenProblem("the authorization code has expired (ten minutes)")
        if grant.redirect_uri != redirect_uri:
            raise TokenProblem("redirect_uri differs from the one the code was issued for")
        grant.used = True
        return self.issue(grant.scopes, client_id=client_id, user_id=grant.user_id)

    def count(self) -> int:
        return sum(1 for t in self._by_access if self.is_live(t))
