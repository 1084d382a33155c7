"""TokenKeeper against the real sandbox: refresh before expiry, re-subscription, revocation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kenar_api.bodies import TokenResponse
from kenar_api.client import KenarClient
from kenar_api.events import parse_event
from kenar_tui.auth.keeper import RevocationNotice, TokenKeeper, TokenProblem, refresh_due_at
from kenar_tui.auth.subscriptions import subscribe_stored, subscribe_token
from kenar_tui.credentials import CredentialStore, StoredToken
from kenar_tui.sandbox import Sandbox

POST = "gZd7omnS"
PER_POST = [f"CHAT_POST_CONVERSATIONS_READ.{POST}", f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{POST}"]


class Clock:
    """The keeper's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def move(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def kenar(sandbox: Sandbox) -> AsyncIterator[KenarClient]:
    async with KenarClient(
        sandbox.api_key, api_base=sandbox.base_url, oauth_base=sandbox.base_url, retries=0
    ) as client:
        yield client


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def issued(
    sandbox: Sandbox, creds: CredentialStore, scopes: list[str], *, offline: bool = True
) -> StoredToken:
    """A token the sandbox issued (as a login would), stored in the keyring."""
    answer = await sandbox.control.issue_token(
        [*scopes, *(["offline_access"] if offline else [])], refreshable=offline
    )
    return creds.add_token(StoredToken.from_response(TokenResponse.model_validate(answer)))


async def active_subscriptions(sandbox: Sandbox) -> list[dict[str, Any]]:
    state = await sandbox.control.state()
    return [s for s in state["subscriptions"] if s["active"]]


def keeper(
    kenar: KenarClient, creds: CredentialStore, sandbox: Sandbox, clock: Clock, **kwargs: Any
) -> TokenKeeper:
    return TokenKeeper(
        kenar,
        creds,
        client_id=sandbox.client_id,
        redirect_uri="http://127.0.0.1/oauth/callback",
        now=clock,
        **kwargs,
    )


def test_refresh_is_due_at_80_percent_or_five_minutes_before_expiry() -> None:
    """An hour's token refreshes after 48 min; a 10-minute token 5 minutes before its end."""
    start = datetime(2026, 3, 21, 8, 0, tzinfo=UTC)

    def lasting(minutes: int) -> StoredToken:
        end = start + timedelta(minutes=minutes)
        return StoredToken("t", "a", "r", (), expires_at=end, obtained_at=start)

    assert refresh_due_at(lasting(60)) == start + timedelta(minutes=48)
    assert refresh_due_at(lasting(10)) == start + timedelta(minutes=5)
    assert refresh_due_at(lasting(2)) == start


async def test_a_token_is_refreshed_before_expiry_and_subscribed_again(
    sandbox: Sandbox, kenar: KenarClient, creds: CredentialStore, clock: Clock
) -> None:
    """At 80% of its life the pair is replaced in the keyring and the subscription renewed."""
    creds.client_secret = sandbox.client_secret
    old = await issued(sandbox, creds, PER_POST)
    await subscribe_token(kenar, old)
    refreshed: list[StoredToken] = []
    guard = keeper(kenar, creds, sandbox, clock, on_refreshed=refreshed.append)

    clock.move(minutes=47)
    assert await guard.refresh_due() == []
    assert creds.tokens() == [old]

    clock.move(minutes=2)
    (new,) = await guard.refresh_due()
    assert refreshed == [new]
    assert creds.tokens() == [new]
    assert new.id != old.id and new.access_token != old.access_token
    assert new.refresh_token not in (None, old.refresh_token)
    assert set(new.scopes) == set(old.scopes)
    subscriptions = await sandbox.control.state()
    by_state = [(s["event_resource_id"], s["active"]) for s in subscriptions["subscriptions"]]
    assert by_state == [(POST, False), (POST, True)]
    assert "refreshed" in subscriptions["subscriptions"][0]["ended_because"]
    assert guard.next_due() == refresh_due_at(new)


# The keeper stops when told, not after its next nap (a minute): 3.11's wait_for used to drop
# the cancellation when the keyring's answer landed in the same turn.
@pytest.mark.timeout(30)
async def test_the_running_keeper_refreshes_on_its_own(
    sandbox: Sandbox, kenar: KenarClient, creds: CredentialStore, clock: Clock
) -> None:
    """Started as a context manager, the keeper refreshes a due token without being asked."""
    creds.client_secret = sandbox.client_secret
    old = await issued(sandbox, creds, ["CHAT_SUPPLIER_ALL_CONVERSATIONS_READ"])
    done = asyncio.Event()
    seen: list[StoredToken] = []

    def refreshed(token: StoredToken) -> None:
        seen.append(token)
        done.set()

    clock.move(minutes=59)
    async with keeper(kenar, creds, sandbox, clock, on_refreshed=refreshed) as guard:
        await asyncio.wait_for(done.wait(), timeout=10)
        await guard.aclose()
    await guard.aclose()
    assert [t.id for t in creds.tokens()] == [seen[0].id] and seen[0].id != old.id
    assert [s["event_resource_id"] for s in await active_subscriptions(sandbox)] == [""]


async def test_a_revocation_drops_the_tokens_and_tells_the_user(
    sandbox: Sandbox, kenar: KenarClient, creds: CredentialStore, clock: Clock
) -> None:
    """A USER_ACCESS_REVOCATION entry removes the seller's tokens and reports it in words."""
    await issued(sandbox, creds, PER_POST)
    await issued(sandbox, creds, ["CHAT_SUPPLIER_ALL_CONVERSATIONS_READ"])
    notices: list[RevocationNotice] = []
    guard = keeper(kenar, creds, sandbox, clock, on_revoked=notices.append)
    seller = (await sandbox.control.state())["seller_id"]
    assert await guard.handle_entry({"kind": "message", "data": {}}) is None
    notice = await guard.handle_entry({"kind": "access_revocation", "data": {"user_id": seller}})
    assert notice is not None and notices == [notice]
    assert len(notice.dropped) == 2 and creds.tokens() == []
    assert "withdrew this app's access" in notice.message and "kenar-tui login" in notice.message
    assert not creds.can_send("c", POST)


async def test_a_replayed_old_revocation_keeps_a_later_login(
    sandbox: Sandbox, kenar: KenarClient, creds: CredentialStore, clock: Clock
) -> None:
    """A revocation replayed from the timeline (a purged cache) does not undo a newer login."""
    token = await issued(sandbox, creds, PER_POST)
    seller = (await sandbox.control.state())["seller_id"]
    guard = keeper(kenar, creds, sandbox, clock)
    long_ago = (token.obtained_at - timedelta(days=2)).isoformat().replace("+00:00", "Z")
    old = {"kind": "access_revocation", "data": {"user_id": seller}, "received_at": long_ago}
    notice = await guard.handle_entry(old)
    assert notice is not None and notice.dropped == [] and creds.tokens() == [token]
    recent = {**old, "received_at": datetime.now(UTC).isoformat()}
    assert (await guard.handle_entry(recent)).dropped == [token]  # type: ignore[union-attr]
    assert creds.tokens() == []


async def test_a_refused_refresh_asks_for_a_new_login_once(
    sandbox: Sandbox, kenar: KenarClient, creds: CredentialStore, clock: Clock
) -> None:
    """When Divar refuses the refresh token the user is told to log in again, not spammed."""
    creds.client_secret = sandbox.client_secret
    token = await issued(sandbox, creds, PER_POST)
    await sandbox.control.revoke_access()
    problems: list[TokenProblem] = []
    guard = keeper(kenar, creds, sandbox, clock, on_problem=problems.append)
    clock.move(minutes=50)
    assert await guard.refresh_due() == []
    assert await guard.refresh_due() == []
    assert len(problems) == 1 and problems[0].fatal and problems[0].token_id == token.id
    assert "log in again" in problems[0].message
    assert token.refresh_token is not None and token.refresh_token not in problems[0].message
    assert guard.next_due() is None


async def test_a_transient_failure_is_retried_later(
    sandbox: Sandbox, kenar: KenarClient, creds: CredentialStore, clock: Clock
) -> None:
    """A 503 from the token endpoint is reported, retried after 30 s, then succeeds."""
    creds.client_secret = sandbox.client_secret
    token = await issued(sandbox, creds, PER_POST)
    problems: list[TokenProblem] = []
    guard = keeper(kenar, creds, sandbox, clock, on_problem=problems.append)
    await sandbox.control.set_faults(error_next=1)
    clock.move(minutes=50)
    assert await guard.refresh_due() == []
    assert len(problems) == 1 and not problems[0].fatal
    assert guard.next_due() == clock.now + timedelta(seconds=30)
    clock.move(seconds=10)
    assert await guard.refresh_due() == []
    clock.move(seconds=25)
    (new,) = await guard.refresh_due()
    assert creds.tokens() == [new] and new.id != token.id


async def test_an_unrefreshable_token_that_expires_is_reported(
    sandbox: Sandbox, kenar: KenarClient, creds: CredentialStore, clock: Clock
) -> None:
    """A token granted without offline_access is reported once when it expires."""
    await issued(sandbox, creds, PER_POST, offline=False)
    problems: list[TokenProblem] = []
    guard = keeper(kenar, creds, sandbox, clock, on_problem=problems.append)
    assert guard.next_due() is None
    clock.move(minutes=61)
    await guard.refresh_due()
    await guard.refresh_due()
    assert [p.fatal for p in problems] == [True]
    assert "offline_access" in problems[0].message


async def test_subscribe_stored_covers_every_token(
    sandbox: Sandbox, kenar: KenarClient, creds: CredentialStore
) -> None:
    """Each token subscribes to the posts it reads; send-only tokens are skipped with a reason."""
    await issued(sandbox, creds, PER_POST)
    await issued(sandbox, creds, ["CHAT_POST_CONVERSATIONS_READ.wYk3pQ9r"])
    await issued(sandbox, creds, ["CHAT_SUPPLIER_ALL_CONVERSATIONS_MESSAGE_SEND"])
    report = await subscribe_stored(kenar, creds)
    assert report.ok
    assert sorted(r.event_resource_id for _, r in report.made) == sorted(["wYk3pQ9r", POST])
    assert [reason for _, reason in report.skipped] == ["its scopes read no post"]
    active = await active_subscriptions(sandbox)
    assert sorted(s["event_resource_id"] for s in active) == sorted(["wYk3pQ9r", POST])


async def test_a_revocation_webhook_event_is_understood(
    sandbox: Sandbox, kenar: KenarClient, creds: CredentialStore, clock: Clock, kenar_data: Path
) -> None:
    """Divar's documented USER_ACCESS_REVOCATION body, parsed, drops the tokens too."""
    await issued(sandbox, creds, PER_POST)
    body = json.loads((kenar_data / "samples" / "event-user-access-revocation.json").read_text())
    guard = keeper(kenar, creds, sandbox, clock)
    notice = await guard.handle_event(parse_event(body))
    assert notice is not None and notice.user_id == body["user_access_revocation"]["user_id"]
    # The sample's user is not the sandbox seller: only tokens of unknown owner would go.
    assert [t.user_id for t in creds.tokens()] == [(await sandbox.control.state())["seller_id"]]
    update = json.loads((kenar_data / "samples" / "event-post-update.json").read_text())
    assert await guard.handle_event(parse_event(update)) is None


async def test_a_failed_resubscription_is_retried_without_refreshing_again(
    sandbox: Sandbox, kenar: KenarClient, creds: CredentialStore, clock: Clock
) -> None:
    """If Divar refuses the new subscription, the keeper retries it in 30 s, not in a loop."""
    creds.client_secret = sandbox.client_secret
    await issued(sandbox, creds, PER_POST)
    problems: list[TokenProblem] = []
    guard = keeper(kenar, creds, sandbox, clock, on_problem=problems.append)
    everything = (await sandbox.control.state())["app"]["api_permissions"]
    await sandbox.control.configure(
        api_permissions=[p for p in everything if p != "EVENTS_REGISTER_SUBSCRIPTION"]
    )
    clock.move(minutes=50)
    (new,) = await guard.refresh_due()
    assert len(problems) == 1 and "subscriptions failed" in problems[0].message
    assert guard.next_due() == clock.now + timedelta(seconds=30)
    await sandbox.control.configure(api_permissions=everything)
    clock.move(seconds=31)
    assert await guard.refresh_due() == []
    assert creds.tokens() == [new]
    assert [s["event_resource_id"] for s in await active_subscriptions(sandbox)] == [POST]
    assert guard.next_due() == refresh_due_at(new)
