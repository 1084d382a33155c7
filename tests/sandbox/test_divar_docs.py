"""The sandbox behaves as Divar's current docs say, not as our first reading of them did."""

from __future__ import annotations

from typing import Any

import pytest

from kenar_api import PaymentTransactionEvent, UserAccessRevocationEvent, parse_event
from kenar_api.client import KenarClient
from kenar_core.errors import AuthError
from kenar_tui.sandbox import Sandbox
from tests.sandbox.conftest import ALL_READ, ALL_SEND, CAR, Receiver


async def test_revocation_is_told_only_to_tokens_holding_its_scopes(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    """docs/events/auth.md: USER_ACCESS_REVOCATION needs NOTIFICATION_ACCESS_REVOCATION and
    USER_ID in the token; without them the tokens still die, but no event is sent."""
    await sandbox.control.issue_token([ALL_SEND])
    assert await sandbox.control.revoke_access() is None
    await sandbox.control.issue_token([ALL_SEND, "NOTIFICATION_ACCESS_REVOCATION", "USER_ID"])
    assert await sandbox.control.revoke_access() is not None
    (body,) = await receiver.events(1)
    event = parse_event(body)
    assert isinstance(event, UserAccessRevocationEvent)
    assert event.user_access_revocation.user_id == (await sandbox.control.state())["seller_id"]


async def test_payments_come_in_both_documented_spellings(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    """docs/events/payment.md's table says `transaction`, its example `payment_transaction`:
    over a run the sandbox sends both, and both parse to the same event."""
    await sandbox.control.payment(100_000, "توکن آگهی بازنشر: ABC123")
    await sandbox.control.payment(200_000, "توکن آگهی بازنشر: ABC124")
    bodies = await receiver.events(2)
    assert {k for b in bodies for k in b if k != "type"} == {"transaction", "payment_transaction"}
    events = [parse_event(b) for b in bodies]
    assert all(isinstance(e, PaymentTransactionEvent) for e in events)
    costs = sorted(e.transaction["cost_rials"] for e in events)  # type: ignore[union-attr]
    assert costs == ["100000", "200000"]  # int64 as a string, as the OpenAPI says


async def test_get_user_answers_what_the_scopes_allow(sandbox: Sandbox, kenar: KenarClient) -> None:
    """docs/oauth/get_user.md: user_id with USER_ID, phone_number with USER_PHONE, else 403."""
    seller = (await sandbox.control.state())["seller_id"]
    only_id = (await sandbox.control.issue_token(["USER_ID"]))["access_token"]
    both = (await sandbox.control.issue_token(["USER_ID", "USER_PHONE"]))["access_token"]
    neither = (await sandbox.control.issue_token([ALL_READ]))["access_token"]
    user = await kenar.get_user(access_token=only_id)
    assert (user.user_id, user.phone_number) == (seller, None)
    user = await kenar.get_user(access_token=both)
    assert user.user_id == seller and user.phone_number
    with pytest.raises(AuthError):
        await kenar.get_user(access_token=neither)


async def test_history_reads_alternate_the_printed_and_the_terse_form(
    sandbox: Sandbox, kenar: KenarClient, chat: dict[str, Any]
) -> None:
    """Reading history with CHAT_CONVERSATION_READ.<id> (the OpenAPI's scope) works whether
    the messages carry their own `conversation` or not (protobuf JSON leaves it out)."""
    cid = chat["conversation_id"]
    token = (await sandbox.control.issue_token([f"CHAT_CONVERSATION_READ.{cid}"]))["access_token"]
    first = await kenar.get_conversation(cid, access_token=token)
    second = await kenar.get_conversation(cid, access_token=token)
    for answer in (first, second):
        assert answer.conversation.id == cid and answer.conversation.post_token == CAR
        assert [m.conversation_id for m in answer.messages] == [cid] * len(answer.messages)
        assert answer.messages and all(m.sender.is_buyer for m in answer.messages)
    raw = [r for r in await sandbox.control.requests() if r["path"].endswith(cid)]
    assert len(raw) == 2
