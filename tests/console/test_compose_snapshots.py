"""Snapshots pin how the composer, its refusals, the icon picker and the preview look."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from kenar_api.bodies import SendMessageBody
from kenar_tui.button_drafts import ButtonDraft, GridDraft, compose_body
from kenar_tui.dialogs.icon_picker import IconPickerScreen
from kenar_tui.dialogs.preview import PreviewScreen
from kenar_tui.screens.compose import ButtonComposerScreen
from tests.console.compose_host import HostApp

SIZE = (100, 32)
TEXT = "سلام، «پژو ۲۰۶» هنوز موجود است.\nبرای بازدید دکمهٔ زیر را بزنید."


def _sender() -> GridDraft:
    return GridDraft([[ButtonDraft("آگهی من", "LINK", "link", "https://divar.ir/v/gZd7omnS")]])


def _receiver() -> GridDraft:
    viewing = ButtonDraft("رزرو بازدید", "CALENDAR_TEXT", "server", "", {"action": "book_viewing"})
    call = ButtonDraft("تماس", "CALL", "link", "https://example.com/call")
    where = ButtonDraft("نقشه", "MAP_MARKER", "server", "", {"action": "send_location"})
    return GridDraft(
        [[viewing, call, where], [ButtonDraft("قیمت", "MONEY", "link", "https://divar.ir/")]]
    )


def _composer(**kwargs: Any) -> HostApp:
    return HostApp(
        lambda: ButtonComposerScreen(TEXT, sender=_sender(), receiver=_receiver(), **kwargs)
    )


def _body() -> SendMessageBody:
    body = compose_body(TEXT, _sender(), _receiver())
    assert isinstance(body, SendMessageBody)
    return body


def test_composer_with_both_grids(snap_compare: Any) -> None:
    """The composer shows the text and both grids with counts and the cursor on a button."""
    assert snap_compare(_composer(), press=["tab", "tab", "right"], terminal_size=SIZE)


def test_composer_refuses_a_fourth_button(snap_compare: Any) -> None:
    """A refused 4th button leaves Kenar's sentence under the buyer's grid."""
    assert snap_compare(_composer(), press=["tab", "tab", "a"], terminal_size=SIZE)


def test_composer_on_a_narrow_terminal(snap_compare: Any) -> None:
    """Under 100 columns a single grid shows, with the key to switch in the footer."""
    assert snap_compare(_composer(), press=["tab"], terminal_size=(80, 32))


def test_icon_picker_after_typing(snap_compare: Any) -> None:
    """The icon picker ranks names with readable hints as the user types."""

    async def type_query(pilot: Pilot[Any]) -> None:
        await pilot.press("c", "a", "r", "space", "i", "n")

    app = HostApp(IconPickerScreen)
    assert snap_compare(app, run_before=type_query, terminal_size=SIZE)


def test_preview_of_both_sides(snap_compare: Any) -> None:
    """The preview draws the buyer's and the seller's own grid under the text."""
    assert snap_compare(HostApp(lambda: PreviewScreen(_body())), terminal_size=SIZE)


def test_preview_json_body(snap_compare: Any) -> None:
    """`j` in the preview shows the exact JSON body."""
    app = HostApp(lambda: PreviewScreen(_body()))
    assert snap_compare(app, press=["j"], terminal_size=SIZE)
