"""The console on a filled cache, without a relay: what the seller sees and the keys that move."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual import events

from kenar_tui.app import KenarApp
from kenar_tui.config import Settings
from kenar_tui.credentials import CredentialStore
from kenar_tui.dialogs.help import HelpScreen
from kenar_tui.dialogs.raw_json import RawJsonScreen
from kenar_tui.dialogs.search import SearchScreen
from kenar_tui.factory import make_app
from kenar_tui.keyring_memory import MemoryKeyring
from tests.console.conftest import CAR, CID_CAR_1, CID_CAR_2, CID_FLAT, FIXED_NOW, FLAT

SIZE = (100, 30)


def build(inbox: Any, tmp_path: Path, **overrides: Any) -> KenarApp:
    settings = Settings.load(tmp_path / "none.toml", data_dir=tmp_path / "data", **overrides)
    return make_app(
        settings,
        inbox=inbox,
        credentials=CredentialStore(MemoryKeyring()),
        clock=lambda: FIXED_NOW,
        welcome=False,
    )


def screen_lines(app: KenarApp) -> str:
    return "\n".join(app.main_screen.history.visible_text())


async def test_each_message_type_reads_legibly(console_inbox: Any, tmp_path: Path) -> None:
    """Text, image, location, contact, voice, file, video and unknown types each read clearly."""
    app = build(console_inbox, tmp_path, bidi=False)
    async with app.run_test(size=(120, 60)) as pilot:
        app.main_screen.show_conversation(CID_CAR_1)
        await pilot.pause()
        text = screen_lines(app)
    assert "سلام، ماشین هنوز موجوده؟" in text
    assert "[image] 1280×960 · 240 KB" in text
    assert "[location] 35.75700, 51.41000" in text
    assert "openstreetmap.org/?mlat=35.757000&mlon=51.410000" in text
    assert "[contact] +98912•••6789 · رضا" in text  # masked by default
    assert "+989123456789" not in text
    assert "[voice] 0:42 · 50 KB" in text
    assert "[file] سند.pdf · 1.0 MB" in text
    assert "[video] 3.0 MB" in text
    assert "unsupported message (STICKER) · v shows the raw JSON" in text


async def test_phone_revealed_and_raw_json_a_key_away(console_inbox: Any, tmp_path: Path) -> None:
    """p reveals the selected contact's phone; v opens the raw JSON of an unsupported message."""
    app = build(console_inbox, tmp_path, bidi=False)
    async with app.run_test(size=(120, 60)) as pilot:
        app.main_screen.show_conversation(CID_CAR_1)
        history = app.main_screen.history
        history.focus()
        await pilot.pause()
        contact = next(i for i in range(history.count) if "[contact]" in str(history.item(i).text))
        history.move_to(contact)
        await pilot.press("p")
        await pilot.pause()
        assert "+989123456789" in screen_lines(app)
        sticker = next(
            i
            for i in range(history.count)
            if history.item(i).message and history.item(i).message.type == "STICKER"
        )
        history.move_to(sticker)
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, RawJsonScreen)
        assert '"sticker_data"' in app.screen.text
        await pilot.press("escape")


async def test_unanswered_first_with_unread_counts(console_inbox: Any, tmp_path: Path) -> None:
    """Posts with waiting buyers first, longest wait first; rows show wait and unread count."""
    app = build(console_inbox, tmp_path, bidi=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        listing = app.main_screen.conversations
        ids = listing.conversation_ids
        lines = listing.visible_text()
    # The car post has two waiting buyers (12 and 5 minutes); the flat was answered.
    assert ids[:2] == [CID_CAR_1, CID_CAR_2] and ids[2] == CID_FLAT
    assert "2 waiting · 40m" in lines[0]
    # Showing the first conversation at start is not reading it (Enter or a dwell is).
    assert any("waits 5m" in line and "1 new" in line for line in lines)
    assert console_inbox.conversation(CID_CAR_1).unread == 8
    assert console_inbox.conversation(CID_CAR_2).unread == 1


async def test_keys_move_between_conversations(console_inbox: Any, tmp_path: Path) -> None:
    """Ctrl+N/Ctrl+B step through conversations; Ctrl+G: next waiting buyer; u toggles unread."""
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.main_screen.cid == CID_CAR_1  # the longest waiting buyer opens first
        await pilot.press("ctrl+n")
        assert app.main_screen.cid == CID_CAR_2
        await pilot.press("ctrl+n")
        assert app.main_screen.cid == CID_FLAT
        await pilot.press("ctrl+b")
        assert app.main_screen.cid == CID_CAR_2
        await pilot.press("ctrl+g")
        assert app.main_screen.cid == CID_CAR_1
        assert app.focused is app.main_screen.composer
        await pilot.press("escape", "u")
        assert console_inbox.conversation(CID_CAR_1).unread > 0
        await pilot.press("u")
        assert console_inbox.conversation(CID_CAR_1).unread == 0


async def test_search_is_persian_aware_and_opens_the_hit(
    console_inbox: Any, tmp_path: Path
) -> None:
    """Arabic ي/ك and Latin digits find Persian text; Enter opens the hit at that message."""
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+f")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"بازديد فردا ساعت 5")
        await pilot.press("enter")
        await pilot.pause()
        assert app.main_screen.cid == CID_FLAT
        item = app.main_screen.history.current
        assert "بازدید" in item.text


async def test_help_lists_every_binding_with_keymap(console_inbox: Any, tmp_path: Path) -> None:
    """F1 lists every binding; a keymap in the settings changes the key and the help says so."""
    app = build(console_inbox, tmp_path, keymap={"conversation.next": "f6"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f6")
        assert app.main_screen.cid == CID_CAR_2
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        rows = {row[3]: row for row in app.screen.rows}
        assert rows["conversation.next"][0] == "f6"
        for needed in (
            "composer.send",
            "search.open",
            "conversation.next_unanswered",
            "message.open",
            "message.copy",
            "conversation.export",
            "app.help",
        ):
            assert needed in rows
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_export_writes_the_conversation(console_inbox: Any, tmp_path: Path) -> None:
    """e exports the open conversation to a private (0600) text file, phones masked."""
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
    files = list((tmp_path / "data" / "exports").glob("kenar-*.txt"))
    assert len(files) == 1
    text = files[0].read_text(encoding="utf-8")
    assert "سلام، ماشین هنوز موجوده؟" in text and "+98912•••6789" in text
    assert "+989123456789" not in text  # mask_phones = false would write it in full
    assert files[0].stat().st_mode & 0o777 == 0o600
    assert CAR in files[0].name


async def test_open_conversation_by_id(console_inbox: Any, tmp_path: Path) -> None:
    """Ctrl+O opens a conversation nobody wrote in yet, ready for the first message."""
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+o")
        await pilot.press(*"new-conv-1")
        await pilot.press("tab", *FLAT, "enter")
        await pilot.pause()
        assert app.main_screen.cid == "new-conv-1"
        assert app.focused is app.main_screen.composer
    summary = console_inbox.conversation("new-conv-1")
    assert summary is not None and summary.post_token == FLAT


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_layout_fits_small_and_large_terminals(
    console_inbox: Any, tmp_path: Path, size: tuple[int, int]
) -> None:
    """At 80x24 and at 200x60 the list, history, reply box and status bar are all on screen."""
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        main = app.main_screen
        for widget in (main.conversations, main.history, main.composer, main.status):
            region = widget.region
            assert region.width > 0 and region.height > 0
            assert region.right <= size[0] and region.bottom <= size[1]
        assert main.history.size.height >= 5


async def test_command_palette_runs_console_commands(console_inbox: Any, tmp_path: Path) -> None:
    """Ctrl+P offers the console's actions by name: "next unanswered" moves to a waiting buyer."""
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.main_screen.show_conversation(CID_FLAT)
        await pilot.press("ctrl+p")
        await pilot.press(*"Next unanswered")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.main_screen.cid == CID_CAR_1


def test_desktop_notification_escape() -> None:
    """Desktop notifications use OSC 777 (OSC 9 on iTerm2) and cannot break out of the sequence."""
    from kenar_tui.widgets.notifier import desktop_notification

    assert desktop_notification("پژو", "سلام", {}) == "\x1b]777;notify;پژو;سلام\x07"
    osc9 = desktop_notification("a", "b\x07\x1b;c", {"TERM_PROGRAM": "iTerm.app"})
    assert osc9 == "\x1b]9;a: b␇␛c\x07"  # shown as symbols, never as the bytes


async def test_quit_asks_while_replies_are_on_their_way(
    console_inbox: Any, sandbox: Any, tmp_path: Path
) -> None:
    """Ctrl+Q with a reply still on its way asks first; n stays, y quits; the draft and the
    reply are kept. The count comes from the outbox: the sandbox answers 429, so it retries."""
    from kenar_api.client import KenarClient
    from kenar_tui.credentials import StoredToken
    from kenar_tui.dialogs.confirm import ConfirmScreen
    from kenar_tui.outbox import Outbox

    cid = (await sandbox.control.open_conversation(CAR))["id"]
    grant = await sandbox.control.issue_token([f"CHAT_POST_CONVERSATIONS_MESSAGE_SEND.{CAR}"])
    credentials = CredentialStore(MemoryKeyring())
    now = datetime.now(UTC)
    credentials.add_token(
        StoredToken(
            id="t1",
            access_token=grant["access_token"],
            refresh_token=None,
            scopes=tuple(grant["scope"].split()),
            expires_at=now + timedelta(hours=1),
            obtained_at=now,
        )
    )
    await sandbox.control.set_faults(rate_limit_rate=1.0, retry_after=0)
    settings = Settings.load(tmp_path / "none.toml", data_dir=tmp_path / "data")
    async with (
        KenarClient(sandbox.api_key, api_base=sandbox.base_url, retries=0) as kenar,
        Outbox(console_inbox.cache, kenar=kenar, credentials=credentials) as outbox,
    ):
        app = make_app(
            settings,
            inbox=console_inbox,
            credentials=credentials,
            outbox=outbox,
            clock=lambda: FIXED_NOW,
            welcome=False,
        )
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.main_screen.composer.insert("نیمه‌کاره")
            ref = await outbox.submit(cid, CAR, "POST", "سلام، هنوز موجوده")
            async with asyncio.timeout(20):
                await outbox.wait(ref, lambda item: item.state == "retrying")
            await pilot.press("ctrl+q")
            assert isinstance(app.screen, ConfirmScreen)
            assert "1 reply is still being sent" in app.screen.question
            await pilot.press("n")
            assert not isinstance(app.screen, ConfirmScreen)
            await pilot.press("ctrl+q")
            await pilot.press("y")
            await pilot.pause()
        assert app.return_code == 0
        kept = outbox.item(ref)
        assert kept is not None and kept.state in ("retrying", "sending")
    assert console_inbox.draft(CID_CAR_1) == "نیمه‌کاره"
    assert await sandbox.control.sent() == []


async def test_history_reads_only_what_is_on_screen(tmp_path: Path) -> None:
    """Opening a 3,000-message conversation fetches a page or two, not the whole history;
    the mouse wheel and a click move through it."""
    from kenar_tui.inbox import Inbox
    from kenar_tui.store.cache import Cache
    from tests.console.conftest import message_entry

    with Cache(tmp_path / "big.sqlite3") as cache:
        inbox = Inbox(cache, now=lambda: FIXED_NOW)
        entries = [
            (n, message_entry("big", CAR, minutes_ago=(3000 - n) / 60, text=f"پیام شماره {n}"))
            for n in range(1, 3001)
        ]
        inbox.apply_many(entries)
        fetched: list[int] = []
        history = inbox.history

        def counting(cid: str, start: int, stop: int) -> list[Any]:
            fetched.append(stop - start)
            return history(cid, start, stop)

        inbox.history = counting  # type: ignore[method-assign]
        app = build(inbox, tmp_path, bidi=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            view = app.main_screen.history
            assert view.count == 3000 and "پیام شماره 3000" in "\n".join(view.visible_text())
            assert sum(fetched) <= 2 * 48
            for _ in range(3):
                view.post_message(events.MouseScrollUp(view, 5, 5, 0, -1, 0, False, False, False))
            await pilot.pause()
            assert not view.following
            await pilot.click(view, offset=(5, view.size.height - 3))
            assert view.cursor < 2999
            await pilot.press("end")
            assert view.following and view.cursor == 2999
