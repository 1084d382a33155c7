"""Revocation with a login as a real seller grants it (docs/events/auth.md, docs/oauth/get_user.md).

The login asks for NOTIFICATION_ACCESS_REVOCATION and USER_ID, learns the seller's user id
from GET /v1/open-platform/users, and a revocation event then drops exactly that seller's
tokens: another seller's token stored beside them stays.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kenar_api.bodies import UserResponse
from kenar_tui.credentials import CredentialStore, StoredToken
from kenar_tui.sandbox import Sandbox
from tests.auth.flows import kenar_for, login_through_relay, revoke_through_relay, wire
from tests.fixtures.relay import RunningRelay

OTHER_SELLER = "b3RoZXItc2VsbGVyLTAwMg=="


def other_sellers_token() -> StoredToken:
    """A token a teammate's login stored for another Divar account (its own user id)."""
    now = datetime.now(UTC)
    return StoredToken(
        id="other-seller",
        access_token="other-sellers-access-token",
        refresh_token=None,
        scopes=("CHAT_POST_CONVERSATIONS_READ.QYx2Fm1a", "USER_ID"),
        expires_at=now + timedelta(hours=1),
        obtained_at=now - timedelta(minutes=5),
        user_id=OTHER_SELLER,
    )


async def test_revocation_drops_exactly_the_revoking_sellers_tokens(
    sandbox: Sandbox, relay: RunningRelay, creds: CredentialStore
) -> None:
    """A real login (the scopes a seller grants) learns its user id; revoking drops only it."""
    await wire(sandbox, relay, creds)
    other = creds.add_token(other_sellers_token())
    async with kenar_for(sandbox) as kenar:
        token, _ = await login_through_relay(sandbox, relay, creds, kenar)
        seller = (await sandbox.control.state())["seller_id"]
        assert token.user_id == seller
        user = await kenar.get_user(access_token=token.access_token)
        assert user == UserResponse(user_id=seller)  # USER_ID granted, USER_PHONE not asked
        assert "phone" not in repr(user)
        notice = await revoke_through_relay(sandbox, relay, creds, kenar)
    assert notice.user_id == seller
    assert notice.dropped == [token]
    assert creds.tokens() == [other]
