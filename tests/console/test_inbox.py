"""The Inbox: ordering, unread counts, answered-on-reply, echoes, search, buttons, titles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kenar_tui.inbox import Inbox
from kenar_tui.store import Cache
from tests.console.conftest import (
    CAR,
    CAR_TITLE,
    CID_CAR_1,
    CID_CAR_2,
    CID_FLAT,
    FIXED_NOW,
    FLAT,
    message_entry,
)


@pytest.fixture
def inbox(tmp_path: Path) -> Iterator[Inbox]:
    """An empty Inbox on a real cache file, at a fixed clock, operated by Sara."""
    with Cache(tmp_path / "cache.sqlite3") as cache:
        yield Inbox(cache, operator="سارا", now=lambda: FIXED_NOW)


def reply_entry(
    cid: str,
    post: str | None,
    text: str,
    *,
    minutes_ago: float,
    ref: str,
    author: str = "علی",
    buttons: dict[str, Any] | None = None,
    conversation_type: str = "POST",
) -> dict[str, Any]:
    """A `reply` entry as a console posts it (docs/protocol.md)."""
    body: dict[str, Any] = {"type": "TEXT", "message": text}
    if buttons:
        body["receiver_buttons"] = buttons
    return {
        "kind": "reply",
        "received_at": (FIXED_NOW - timedelta(minutes=minutes_ago)).isoformat(),
        "conversation_id": cid,
        "post_token": post,
        "author": author,
        "data": {"conversation_type": conversation_type, "body": body, "ref": ref},
    }


def feed(inbox: Inbox, *entries: dict[str, Any]) -> None:
    for entry in entries:
        inbox.apply(inbox.last_seq + 1, entry)


def test_posts_unanswered_first_then_most_recent(console_inbox: Inbox) -> None:
    """Posts with waiting buyers come first (longest wait first); then the rest by recency."""
    posts = console_inbox.posts()
    assert [p.token for p in posts] == [CAR, FLAT]
    car = posts[0]
    assert car.title == CAR_TITLE
    assert car.unanswered == 2
    # The first conversation's buyer has waited since 40 minutes ago (after our reply at 90).
    assert car.longest_wait_s == 40 * 60
    assert [c.id for c in car.conversations] == [CID_CAR_1, CID_CAR_2]
    flat = posts[1]
    assert flat.unanswered == 0 and flat.longest_wait_s is None


def test_unread_counts_buyer_messages_after_the_read_mark(console_inbox: Inbox) -> None:
    """Unread counts the buyer's messages since the seller side last wrote or the user read."""
    car_1 = console_inbox.conversation(CID_CAR_1)
    assert car_1 is not None and car_1.unread == 8  # after the seller's reply, 8 buyer messages
    console_inbox.mark_read(CID_CAR_1)
    assert console_inbox.conversation(CID_CAR_1).unread == 0  # type: ignore[union-attr]
    feed(console_inbox, message_entry(CID_CAR_1, CAR, minutes_ago=1, text="هستید؟"))
    assert console_inbox.conversation(CID_CAR_1).unread == 1  # type: ignore[union-attr]
    console_inbox.mark_read(CID_CAR_1)
    console_inbox.mark_unread(CID_CAR_1)
    assert console_inbox.conversation(CID_CAR_1).unread == 1  # type: ignore[union-attr]


def test_looking_does_not_answer_but_replying_does(console_inbox: Inbox) -> None:
    """Marking read leaves the buyer waiting; a reply (ours or a teammate's) answers."""
    console_inbox.mark_read(CID_CAR_2)
    assert console_inbox.conversation(CID_CAR_2).answered is False  # type: ignore[union-attr]
    feed(console_inbox, reply_entry(CID_CAR_2, CAR, "تصادفی نداره.", minutes_ago=1, ref="t-1"))
    car_2 = console_inbox.conversation(CID_CAR_2)
    assert car_2 is not None and car_2.answered and car_2.waiting_since is None
    assert console_inbox.posts()[0].unanswered == 1
    item = console_inbox.history(CID_CAR_2, 0, 5)[-1]
    assert (item.kind, item.side, item.author, item.status) == ("reply", "seller", "علی", "sent")


def test_the_wait_starts_at_the_first_unanswered_message(inbox: Inbox) -> None:
    """waiting_since is the buyer's oldest message after our last reply."""
    feed(
        inbox,
        message_entry("c", CAR, minutes_ago=30, text="سلام"),
        message_entry("c", CAR, minutes_ago=20, text="هستید؟"),
    )
    assert inbox.conversation("c").waiting_since == FIXED_NOW - timedelta(minutes=30)  # type: ignore[union-attr]
    feed(inbox, reply_entry("c", CAR, "بله", minutes_ago=15, ref="r"))
    feed(inbox, message_entry("c", CAR, minutes_ago=10, text="قیمت؟"))
    assert inbox.conversation("c").waiting_since == FIXED_NOW - timedelta(minutes=10)  # type: ignore[union-attr]


def test_divar_echo_of_a_reply_is_shown_once(inbox: Inbox) -> None:
    """A reply, then Divar's SELLER-side echo of it: one item in the history, not two."""
    feed(
        inbox,
        message_entry("c", CAR, minutes_ago=9, text="سلام، موجوده؟"),
        reply_entry("c", CAR, "بله موجوده", minutes_ago=8, ref="ref-1"),
        message_entry("c", CAR, minutes_ago=7.5, side="SELLER", text="بله موجوده"),
    )
    texts = [(i.kind, i.text) for i in inbox.history("c", 0, 10)]
    assert texts == [("message", "سلام، موجوده؟"), ("reply", "بله موجوده")]
    assert inbox.history_count("c") == 2


def test_echo_arriving_before_a_teammates_reply_is_merged(inbox: Inbox) -> None:
    """When Divar's echo comes first, the teammate's reply entry takes its place: shown once."""
    feed(
        inbox,
        message_entry("c", CAR, minutes_ago=9, text="سلام"),
        message_entry("c", CAR, minutes_ago=8, side="SELLER", text="سلام، بفرمایید"),
        reply_entry("c", CAR, "سلام، بفرمایید", minutes_ago=7.9, ref="ref-2", author="علی"),
    )
    items = inbox.history("c", 0, 10)
    assert [(i.kind, i.author) for i in items] == [("message", None), ("reply", "علی")]


def test_same_text_later_is_not_an_echo(inbox: Inbox) -> None:
    """A seller message with the same text 30 minutes after a reply is shown: it is not an echo."""
    feed(
        inbox,
        reply_entry("c", CAR, "ممنون", minutes_ago=40, ref="ref-3"),
        message_entry("c", CAR, minutes_ago=10, side="SELLER", text="ممنون"),
    )
    assert inbox.history_count("c") == 2


def test_entries_are_applied_once_in_seq_order(inbox: Inbox) -> None:
    """An entry at or below the last seq is ignored, so a reconnect's overlap changes nothing."""
    entry = message_entry("c", CAR, minutes_ago=1, text="سلام")
    first = inbox.apply(5, entry)
    again = inbox.apply(5, entry)
    older = inbox.apply(3, entry)
    assert first.new_from_buyer and not first.ignored
    assert again.ignored and older.ignored
    assert inbox.history_count("c") == 1 and inbox.last_seq == 5


def test_a_reply_posted_twice_is_shown_once(inbox: Inbox) -> None:
    """The same `ref` arriving twice (a repeated post after a reconnect) is one item."""
    feed(
        inbox,
        reply_entry("c", CAR, "سلام", minutes_ago=3, ref="same"),
        reply_entry("c", CAR, "سلام", minutes_ago=3, ref="same"),
    )
    assert inbox.history_count("c") == 1


@pytest.mark.parametrize(
    ("query", "stored"),
    [
        ("كيف", "کیف چرمی دارید؟"),  # Arabic kaf and yeh find Persian letters
        ("کیف", "كيف چرمي داريد؟"),  # and the other way round
        ("۱۲۰", "قیمت 120 میلیون"),  # Persian digits find Latin
        ("120", "قیمت ١٢٠ میلیون"),  # Latin digits find Arabic-Indic
        ("میخواهم", "می‌خواهم ببینم"),  # without ZWNJ finds with
        ("می‌خواهم", "میخواهم ببینم"),  # and the other way round
        ("PEUGEOT", "peugeot 206 موجوده؟"),  # case
        ("۵", "ساعت 5 خوبه"),  # a single character scans (shorter than a trigram)
    ],
)
def test_search_is_persian_aware(inbox: Inbox, query: str, stored: str) -> None:
    """Search matches across ی/ي, ک/ك, Persian/Arabic/Latin digits, ZWNJ and case."""
    feed(inbox, message_entry("c", CAR, minutes_ago=2, text=stored))
    feed(inbox, message_entry("d", CAR, minutes_ago=1, text="نامربوط"))
    hits = inbox.search(query)
    assert [(h.cid, h.snippet) for h in hits] == [("c", stored)]
    assert inbox.history(hits[0].cid, hits[0].position, hits[0].position + 1)[0].text == stored


def test_search_finds_replies_newest_first_and_ignores_blank(inbox: Inbox) -> None:
    """Replies are searchable too; newest hits come first; a blank query finds nothing."""
    feed(
        inbox,
        message_entry("c", CAR, minutes_ago=5, text="بازدید کی باشه؟"),
        reply_entry("c", CAR, "بازدید فردا ساعت ۵", minutes_ago=4, ref="r"),
    )
    assert [h.snippet for h in inbox.search("بازدید")] == ["بازدید فردا ساعت ۵", "بازدید کی باشه؟"]
    assert inbox.search("  ") == []


def test_button_press_reads_as_the_caption_we_sent(inbox: Inbox) -> None:
    """A start-URL press shows «caption» of our button whose data equals its extra_data."""
    data = {"action": "book-inspection", "slot": "2026-11-26T10:00"}
    grid = {
        "rows": [
            {
                "buttons": [
                    {
                        "action": {"open_server_link": {"data": data}},
                        "icon": "CALENDAR",
                        "caption": "رزرو بازدید",
                    }
                ]
            }
        ]
    }
    feed(
        inbox,
        message_entry(CID_CAR_1, CAR, minutes_ago=10, text="کی می‌تونم ببینم؟"),
        reply_entry(CID_CAR_1, CAR, "یک زمان انتخاب کنید", minutes_ago=9, ref="b", buttons=grid),
        {
            "kind": "button_pressed",
            "received_at": (FIXED_NOW - timedelta(minutes=2)).isoformat(),
            "conversation_id": CID_CAR_1,
            "post_token": CAR,
            "data": {
                "source": "CHAT_MESSAGE_ACTION",
                "post_token": CAR,
                "conversation_id": CID_CAR_1,
                "user_side": "Demand",
                "extra_data": {"slot": "2026-11-26T10:00", "action": "book-inspection"},
            },
        },
    )
    pressed = inbox.history(CID_CAR_1, 0, 10)[-1]
    assert (pressed.kind, pressed.side, pressed.caption) == (
        "button_pressed",
        "buyer",
        "رزرو بازدید",
    )
    assert pressed.text == "pressed «رزرو بازدید»"
    assert inbox.conversation(CID_CAR_1).answered is False  # type: ignore[union-attr]


def test_post_titles_from_updates_and_legacy_metadata(inbox: Inbox, kenar_data: Path) -> None:
    """A post is titled from POST_UPDATE, or from the legacy CHAT_MESSAGE metadata."""
    import json

    legacy = json.loads((kenar_data / "samples" / "legacy-chat-message.json").read_text())
    entry = {
        "kind": "message",
        "received_at": FIXED_NOW.isoformat(),
        "conversation_id": "legacy-1",
        "post_token": "gZd7omnS",
        "event_type": "CHAT_MESSAGE",
        "data": {
            "id": "m1",
            "conversation": {"id": "legacy-1", "type": "POST", "post_token": "gZd7omnS"},
            "sender": {"side": "BUYER"},
            "type": "TEXT",
            "sent_at": 1729429926140000,
            "text": "قیمت نهایی چند است؟",
        },
        "raw": legacy,
    }
    feed(inbox, entry)
    assert inbox.posts()[0].title == "پژو ۲۰۶ تیپ ۵ مدل ۱۳۹۸"
    update = {
        "kind": "post_update",
        "received_at": FIXED_NOW.isoformat(),
        "post_token": "gZd7omnS",
        "data": {"type": "EDIT", "post": {"token": "gZd7omnS", "data": {"title": "پژو ۲۰۶ فروشی"}}},
    }
    feed(inbox, update)
    assert inbox.posts()[0].title == "پژو ۲۰۶ فروشی"
    last = inbox.history("legacy-1", 0, 5)[-1]
    assert (last.kind, last.side, last.text) == (
        "post_update",
        "system",
        "post edit: پژو ۲۰۶ فروشی",
    )


def test_revocations_gaps_and_unknown_entries_are_shown_not_dropped(inbox: Inbox) -> None:
    """Access revocations and gaps become notices; unknown kinds keep their raw JSON."""
    at = FIXED_NOW.isoformat()
    feed(
        inbox,
        {"kind": "access_revocation", "received_at": at, "data": {"user_id": "u1"}},
        {
            "kind": "unknown",
            "received_at": at,
            "conversation_id": "c",
            "data": {"reason": "unknown event type SOMETHING_NEW"},
            "raw": {"type": "SOMETHING_NEW", "x": 1},
        },
        {"kind": "poll", "received_at": at, "conversation_id": "c", "data": {"to": "علی"}},
    )
    inbox.note_gap(10, 20)
    assert [n.kind for n in inbox.notices()] == ["access_revocation", "gap"]
    assert "11–19" in inbox.notices()[1].text
    first, second = inbox.history("c", 0, 5)
    assert first.kind == "unknown" and first.raw is not None
    assert first.raw["raw"] == {"type": "SOMETHING_NEW", "x": 1}
    assert "SOMETHING_NEW" in first.text
    assert second.kind == "unknown" and second.raw is not None and second.raw["kind"] == "poll"


def test_chatbot_conversations_are_grouped_apart(inbox: Inbox) -> None:
    """A chatbot (BOT) conversation, which has no post, is listed under no post with type BOT."""
    message = {
        "id": "b1",
        "conversation": {"id": "bot-1", "type": "BOT"},
        "sender": {"type": "HUMAN"},
        "type": "TEXT",
        "sent_at": 1764066000000000,
        "text": "/start MY_POST gZd7omnS",
    }
    feed(inbox, {"kind": "message", "received_at": FIXED_NOW.isoformat(), "data": message})
    (post,) = inbox.posts()
    assert post.token is None
    (conversation,) = post.conversations
    assert (conversation.id, conversation.type, conversation.unread) == ("bot-1", "BOT", 1)


def test_next_unanswered_cycles_longest_wait_first(console_inbox: Inbox) -> None:
    """One key walks the waiting buyers across all posts, longest wait first, and wraps."""
    assert console_inbox.next_unanswered() == CID_CAR_1
    assert console_inbox.next_unanswered(after=CID_CAR_1) == CID_CAR_2
    assert console_inbox.next_unanswered(after=CID_CAR_2) == CID_CAR_1
    assert console_inbox.next_unanswered(after=CID_FLAT) == CID_CAR_1


def test_a_conversation_we_open_ourselves(inbox: Inbox) -> None:
    """Opening a conversation by id makes it appear, empty and answered, ready to write into."""
    summary = inbox.open_conversation(" new-conv ", post_token=CAR)
    assert (summary.id, summary.post_token, summary.history_count) == ("new-conv", CAR, 0)
    assert inbox.history("new-conv", 0, 50) == []
    with pytest.raises(ValueError):
        inbox.open_conversation("  ")


def test_history_pages_are_slices_oldest_first(inbox: Inbox) -> None:
    """history(cid, start, stop) returns that slice with positions, oldest first."""
    feed(inbox, *[message_entry("c", CAR, minutes_ago=60 - m, text=f"پیام {m}") for m in range(30)])
    page = inbox.history("c", 10, 15)
    assert [i.text for i in page] == [f"پیام {m}" for m in range(10, 15)]
    assert [i.position for i in page] == [10, 11, 12, 13, 14]
    assert inbox.history("c", 28, 100)[-1].text == "پیام 29"
    assert inbox.history("c", 40, 50) == []
