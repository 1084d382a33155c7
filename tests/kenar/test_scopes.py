"""What a set of OAuth scopes allows: the narrowest scope that covers a send or a read."""

from __future__ import annotations

from kenar_api import scopes

CONV = "edbb9499-cccc-4d35-b21f-621fa95f2b3e"


def test_send_breadth_picks_the_narrowest_scope() -> None:
    """One chat beats one post beats all posts."""
    granted = [
        "CHAT_SUPPLIER_ALL_CONVERSATIONS_MESSAGE_SEND",
        "CHAT_POST_CONVERSATIONS_MESSAGE_SEND.gZd7omnS",
        f"CONVERSATION_SEND_MESSAGE.{CONV}",
    ]
    assert scopes.send_breadth(granted, CONV, "gZd7omnS") == 0
    assert scopes.send_breadth(granted[:2], CONV, "gZd7omnS") == 1
    assert scopes.send_breadth(granted[:1], CONV, "gZd7omnS") == 2


def test_scopes_for_other_chats_or_posts_do_not_allow() -> None:
    """A scope naming another conversation or post allows nothing here."""
    granted = ["CONVERSATION_SEND_MESSAGE.other", "CHAT_POST_CONVERSATIONS_MESSAGE_SEND.AAAA"]
    assert not scopes.can_send(granted, CONV, "gZd7omnS")
    assert not scopes.can_send(["CHAT_POST_CONVERSATIONS_MESSAGE_SEND.gZd7omnS"], CONV, None)


def test_read_scopes_and_subscribable_posts() -> None:
    """Read scopes allow reads and name the posts new-message subscriptions may cover."""
    granted = ["CHAT_POST_CONVERSATIONS_READ.gZd7omnS", "CHAT_POST_CONVERSATIONS_READ.BBBB"]
    assert scopes.can_read(granted, CONV, "gZd7omnS")
    assert not scopes.can_send(granted, CONV, "gZd7omnS")
    assert scopes.subscribable_posts(granted) == (False, ["BBBB", "gZd7omnS"])
    assert scopes.subscribable_posts(["CHAT_SUPPLIER_ALL_CONVERSATIONS_READ"]) == (True, [])


def test_scope_parse_round_trips() -> None:
    """`NAME.resource` and bare `NAME` parse and print back unchanged."""
    for text in ("CHAT_CONVERSATION_READ.abc", "offline_access"):
        assert str(scopes.Scope.parse(text)) == text
    assert [str(s) for s in scopes.parse_scopes("A.b  C")] == ["A.b", "C"]
