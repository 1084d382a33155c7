"""The post picker and the search on FilterPicker: their binding ids, Down into the list, picks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import OptionList

from kenar_tui.dialogs.post_picker import PostPickerScreen
from kenar_tui.dialogs.search import SearchScreen
from tests.console.conftest import CID_FLAT, FLAT
from tests.console.test_app_display import SIZE, build


def binding_ids(screen: Any) -> dict[str, str]:
    return {b.id: b.description for b in screen.BINDINGS}


async def test_post_picker_keeps_its_keys_and_picks_from_the_list(
    console_inbox: Any, tmp_path: Path
) -> None:
    """Down moves into the posts; Down again and Enter jump to the second post's conversation."""
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+l")
        picker = app.screen
        assert isinstance(picker, PostPickerScreen)
        assert binding_ids(picker) == {"posts.close": "Cancel", "posts.list": "Move into the posts"}
        assert len(picker.choices_shown) == 2
        second = picker.choices_shown[1]
        await pilot.press("down")
        assert isinstance(app.focused, OptionList)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, PostPickerScreen)
        assert app.main_screen.cid in {c.id for c in second.conversations}


async def test_post_picker_filters_by_token_and_escape_cancels(
    console_inbox: Any, tmp_path: Path
) -> None:
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = app.main_screen.cid
        await pilot.press("ctrl+l")
        await pilot.press(*FLAT[:6])
        picker = app.screen
        assert isinstance(picker, PostPickerScreen)
        assert [p.token for p in picker.choices_shown] == [FLAT]
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, PostPickerScreen)
        assert app.main_screen.cid == before
        await pilot.press("ctrl+l", *FLAT[:6], "enter")
        await pilot.pause()
        assert app.main_screen.cid == CID_FLAT


async def test_search_keeps_its_keys_and_down_moves_into_the_results(
    console_inbox: Any, tmp_path: Path
) -> None:
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+f")
        search = app.screen
        assert isinstance(search, SearchScreen)
        assert binding_ids(search) == {
            "search.close": "Close the search",
            "search.results": "Move into the results",
        }
        await pilot.press(*"بازديد", "enter")  # Enter searches at once, before the pause
        await pilot.pause()
        assert app.main_screen.cid == CID_FLAT
        await pilot.press("ctrl+f", *"سلام")
        search = app.screen
        assert isinstance(search, SearchScreen)
        search.run_search()
        assert len(search.hits) > 1
        await pilot.press("down")
        assert isinstance(app.focused, OptionList)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SearchScreen)
