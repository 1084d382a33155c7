"""Both spellings at once (kenar_api/spellings.py): the current one wins, the old one is
dropped, never an "extra input" error nor a stray field (Divar's migration guide)."""

from __future__ import annotations

from kenar_api.bodies import SubscriptionRequest
from kenar_api.events import PaymentTransactionEvent, parse_event


def test_a_subscription_with_both_spellings_keeps_metadata() -> None:
    request = SubscriptionRequest.model_validate(
        {"event_type": "POST_UPDATE", "metadata": {"new": "1"}, "meta_data": {"old": "1"}}
    )
    assert request.metadata == {"new": "1"}
    assert request.wire()["metadata"] == {"new": "1"} and "meta_data" not in request.wire()


def test_an_event_with_both_spellings_keeps_no_stray_field() -> None:
    event = parse_event(
        {
            "type": "PAYMENT_TRANSACTION",
            "transaction": {"id": "t-1"},
            "payment_transaction": {"id": "old"},
            "meta_data": {"k": "old"},
            "metadata": None,
        }
    )
    assert isinstance(event, PaymentTransactionEvent)
    assert event.transaction == {"id": "t-1"}
    assert event.metadata == {"k": "old"}  # a null metadata is absent: the old spelling is read
    dumped = event.model_dump()
    assert "payment_transaction" not in dumped and "meta_data" not in dumped
