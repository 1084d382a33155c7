"""What counts as reading a conversation, and what an empty reply answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.console.conftest import CID_CAR_1, CID_CAR_2
from tests.console.test_app_display import build


async def test_passing_over_with_the_cursor_does_not_mark_read(
    console_inbox: Any, tmp_path: Path
) -> None:
    """Down through the list leaves every unread count alone; Enter on one reads it."""
    app = build(console_inbox, tmp_path, bidi=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.main_screen.cid == CID_CAR_1
        await pilot.press("down", "down", "up")
        await pilot.pause()
        assert app.main_screen.cid == CID_CAR_2
        assert console_inbox.conversation(CID_CAR_1).unread == 8
        assert console_inbox.conversation(CID_CAR_2).unread == 1
        await pilot.press("enter")  # opened: read, and the reply box has the focus
        await pilot.pause()
        assert console_inbox.conversation(CID_CAR_2).unread == 0
        assert console_inbox.conversation(CID_CAR_1).unread == 8
        assert app.focused is app.main_screen.composer


async def test_an_empty_reply_says_so(console_inbox: Any, tmp_path: Path) -> None:
    app = build(console_inbox, tmp_path, bidi=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+r", "space", "enter")
        await pilot.pause()
        assert app.main_screen.composer.border_subtitle == "empty: nothing to send"
        await pilot.press("a")
        await pilot.pause()
        assert app.main_screen.composer.border_subtitle == ""


async def test_palette_has_one_keys_entry(console_inbox: Any, tmp_path: Path) -> None:
    app = build(console_inbox, tmp_path, bidi=False)
    async with app.run_test(size=(80, 24)):
        titles = [command.title for command in app.get_system_commands(app.screen)]
    assert titles.count("Keys") == 1
