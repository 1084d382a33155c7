"""Which subscriptions a token's scopes lead to."""

from __future__ import annotations

from kenar_tui.auth.subscriptions import describe, subscription_requests


def test_read_scopes_per_post_subscribe_each_post() -> None:
    """A token that reads two posts subscribes to new messages on each of them."""
    requests = subscription_requests(
        ["CHAT_POST_CONVERSATIONS_READ.aaaa", "CHAT_POST_CONVERSATIONS_READ.bbbb", "offline_access"]
    )
    assert [describe(r) for r in requests] == [
        "new messages on post aaaa",
        "new messages on post bbbb",
    ]


def test_all_posts_and_post_updates_survive_a_refresh() -> None:
    """A token reading all posts and the seller's posts keeps both subscriptions on refresh."""
    requests = subscription_requests(["CHAT_SUPPLIER_ALL_CONVERSATIONS_READ", "USER_POSTS_GET"])
    assert [r.wire() for r in requests] == [
        {"event_type": "NEW_MESSAGE_ON_POST", "event_resource_id": ""},
        {"event_type": "POST_UPDATE", "event_resource_id": ""},
    ]


def test_a_send_only_token_subscribes_to_nothing() -> None:
    """Sending scopes alone read nothing, so nothing is subscribed."""
    assert subscription_requests(["CHAT_SUPPLIER_ALL_CONVERSATIONS_MESSAGE_SEND"]) == []
