"""Only buyers count as buyers: a bot's message or the app's echo never raises "waiting"."""

from __future__ import annotations

from pathlib import Path

from kenar_tui.inbox import Inbox
from kenar_tui.store import Cache
from tests.console.conftest import message_entry

CAR = "gZd7omnS"


def test_bot_and_echo_messages_are_never_new_buyer_messages(tmp_path: Path) -> None:
    """SELLER/BOT (the app's echo, docs/events/ReadMe.md) and a sideless BOT sender are not the
    buyer; a sideless HUMAN in a chatbot chat (docs/chat/chatbot_conversations.md) is."""
    with Cache(tmp_path / "cache.sqlite3") as cache:
        inbox = Inbox(cache)
        echo = message_entry("c-1", CAR, minutes_ago=3, side="SELLER", text="بله، هست")
        echo["data"]["sender"] = {"side": "SELLER", "type": "BOT"}
        bot = message_entry("c-1", CAR, minutes_ago=2, text="پیام خودکار")
        bot["data"]["sender"] = {"type": "BOT"}
        for seq, entry in enumerate((echo, bot), start=1):
            change = inbox.apply(seq, entry)
            assert not change.new_from_buyer
        summary = inbox.conversation("c-1")
        assert summary is not None and summary.waiting_since is None
        human = message_entry("c-1", CAR, minutes_ago=1, text="سلام")
        human["data"]["sender"] = {"type": "HUMAN"}
        assert inbox.apply(3, human).new_from_buyer
        summary = inbox.conversation("c-1")
        assert summary is not None and summary.waiting_since is not None
