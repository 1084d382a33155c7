"""While a backlog is caught up the list is rebuilt at its own, slower cadence.

Each rebuild of a list of thousands of conversations is loop time the writer thread waits for
(one GIL), so while the console catches up (welcomed with a head above its last stored seq,
not live yet) the list waits `CATCHUP_LIST_S` between rebuilds; the open conversation's
history follows at the live cadence, and going live rebuilds the list at once.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

import kenar_tui.screens.main as main_module
from kenar_tui.inbox import Inbox
from kenar_tui.link import LinkEntry, LinkLive, LinkState
from tests.console.conftest import CID_FLAT, FLAT, message_entry
from tests.console.test_link import Events, deliver, make_link
from tests.console.test_raw_keys import build
from tests.fixtures.relay import RelayFactory

NEW_CID = "0b8a4c55-2f6e-4d1a-9c3b-5e7f9a1b2c3d"
WAIT = 15.0


async def test_the_online_state_carries_the_relays_head(relay_factory: RelayFactory) -> None:
    """The welcome's head reaches the console with the online state (a real relay)."""
    relay = await relay_factory(client_token_name="سارا")
    await deliver(relay, "اول", "دوم", "سوم")
    async with make_link(relay.ws_url, relay.token, since=lambda: 1) as link:
        online = await Events(link).state("online")
    assert online.head == 3


def catch_up_events(start: int, head: int) -> list[LinkEntry]:
    """Entries start+1..head: into the open conversation, and one from a new buyer."""
    into_open = [
        LinkEntry(start + 1 + n, message_entry(CID_FLAT, FLAT, minutes_ago=1 - n / 100, text="؟"))
        for n in range(head - start - 1)
    ]
    new_buyer = message_entry(NEW_CID, FLAT, minutes_ago=0.5, text="سلام، هنوز هست؟")
    return [*into_open, LinkEntry(head, new_buyer)]


async def test_catching_up_the_list_waits_the_history_follows_live_rebuilds(
    console_inbox: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An hour between catch-up rebuilds: only going live can rebuild the list in this test.
    monkeypatch.setattr(main_module, "CATCHUP_LIST_S", 3600.0)
    app = build(console_inbox, tmp_path)
    start = console_inbox.last_seq
    head = start + 6
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.main_screen
        main.show_conversation(CID_FLAT, read=False)
        while main._refresh_timer is not None:  # the mount's own rebuild done
            await pilot.pause(0.01)
        shown = main.history.count
        app.feed.handle(LinkState("online", "connected", head=head))
        assert await app.feed.settled()
        assert app.feed.catching_up
        main._listed_at = time.monotonic()  # a rebuild just now
        for event in catch_up_events(start, head):
            app.feed.handle(event)
        assert await app.feed.settled()
        async with asyncio.timeout(WAIT):  # the open conversation's history follows
            while main.history.count < shown + 5:
                await pilot.pause(0.01)
        assert console_inbox.conversation(NEW_CID) is not None  # stored...
        assert NEW_CID not in main.conversations.conversation_ids  # ...the list waits
        pending = main._refresh_timer
        assert pending is not None and main._refresh_due > main._listed_at + 3000

        app.feed.handle(LinkLive(head))
        assert await app.feed.settled()
        assert not app.feed.catching_up
        async with asyncio.timeout(WAIT):  # live: the list is rebuilt at the live cadence
            while NEW_CID not in main.conversations.conversation_ids:
                await pilot.pause(0.01)
        assert main.history.count == shown + 5


async def test_a_console_already_current_keeps_the_live_cadence(
    console_inbox: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Welcomed at the head it already holds (or with no head, an older relay): not catching
    up, so a new conversation is listed at the live cadence."""
    monkeypatch.setattr(main_module, "CATCHUP_LIST_S", 3600.0)
    app = build(console_inbox, tmp_path)
    start = console_inbox.last_seq
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.main_screen
        app.feed.handle(LinkState("online", "connected", head=start))
        assert await app.feed.settled()
        assert not app.feed.catching_up
        main._listed_at = time.monotonic()
        new_buyer = message_entry(NEW_CID, FLAT, minutes_ago=0.5, text="سلام")
        app.feed.handle(LinkEntry(start + 1, new_buyer))
        assert await app.feed.settled()
        async with asyncio.timeout(WAIT):
            while NEW_CID not in main.conversations.conversation_ids:
                await pilot.pause(0.01)
