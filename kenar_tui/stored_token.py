"""One stored OAuth token set, as the keyring entry `token:<id>` holds it.

It is its own module because more than the keyring store uses it: login builds one from the
token endpoint's answer, the keeper and subscriptions pass them around, the screen asks what
they allow. `kenar_tui.credentials` re-exports `StoredToken` and `new_token_id`, so either
import path works. Printing a token set never shows its secrets.
"""

from __future__ import annotations

import json
import secrets as _secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kenar_api.bodies import TokenResponse

__all__ = ["StoredToken", "new_token_id"]


@dataclass(frozen=True, slots=True, repr=False)
class StoredToken:
    """One OAuth token set as stored: what it allows and until when. Printing it hides secrets."""

    id: str
    access_token: str
    refresh_token: str | None
    scopes: tuple[str, ...]
    expires_at: datetime
    obtained_at: datetime
    user_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_response(
        cls, response: TokenResponse, *, user_id: str | None = None, token_id: str | None = None
    ) -> StoredToken:
        """A token set to store from the token endpoint's answer."""
        extras = response.model_extra or {}
        found_user = user_id or _first_str(extras, "user_id", "sub")
        return cls(
            id=token_id or new_token_id(),
            access_token=response.access_token,
            refresh_token=response.refresh_token,
            scopes=tuple(response.scopes),
            expires_at=response.expires_at,
            obtained_at=response.received_at,
            user_id=found_user,
        )

    @property
    def lifetime_s(self) -> float:
        return max((self.expires_at - self.obtained_at).total_seconds(), 0.0)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def to_json(self) -> str:
        return json.dumps(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "scopes": list(self.scopes),
                "expires_at": self.expires_at.isoformat(),
                "obtained_at": self.obtained_at.isoformat(),
                "user_id": self.user_id,
            }
        )

    @classmethod
    def from_json(cls, token_id: str, text: str) -> StoredToken:
        data = json.loads(text)
        expires_at = datetime.fromisoformat(data["expires_at"])
        obtained = data.get("obtained_at")
        return cls(
            id=token_id,
            access_token=str(data["access_token"]),
            refresh_token=data.get("refresh_token") or None,
            scopes=tuple(str(s) for s in data.get("scopes", [])),
            expires_at=expires_at,
            obtained_at=datetime.fromisoformat(obtained) if obtained else expires_at,
            user_id=data.get("user_id") or None,
        )

    def __repr__(self) -> str:
        return (
            f"StoredToken(id={self.id!r}, scopes={list(self.scopes)!r}, "
            f"expires_at={self.expires_at.isoformat()!r}, "
            f"refreshable={self.refresh_token is not None})"
        )

    __str__ = __repr__


def _first_str(data: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def new_token_id() -> str:
    """A short random id naming a token set in the keyring and in `auth status`."""
    return _secrets.token_hex(4)
