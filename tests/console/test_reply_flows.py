"""The reply box's requests reach the main screen (screens/reply_flows.py).

`MainScreen` answers them through its base `ReplyingScreen`: each test presses the key a seller
presses and checks what the seller sees, so a handler Textual did not collect (an `@on` on a
plain mixin never fires) fails here. No relay: what needs one says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from kenar_tui.app import KenarApp
from kenar_tui.controllers.messages import NoteNotSaved
from kenar_tui.dialogs.template_picker import TemplatePickerScreen
from kenar_tui.screens.compose import ButtonComposerScreen
from kenar_tui.screens.file_picker import FilePickerScreen
from kenar_tui.screens.main import MainScreen
from kenar_tui.widgets.input_preview import InputPreview
from tests.console.conftest import CAR, CID_CAR_1
from tests.console.test_app_display import SIZE, build


async def _reply_box_of(app: KenarApp, pilot: Pilot[None]) -> MainScreen:
    main = app.main_screen
    main.show_conversation(CID_CAR_1)
    main.composer.focus()
    await pilot.pause()
    return main


def _notices(app: KenarApp) -> list[str]:
    return [str(notice.message) for notice in app._notifications]


async def test_enter_on_an_empty_box_says_so_on_the_box(console_inbox: Any, tmp_path: Path) -> None:
    """Enter with nothing written: "empty: nothing to send" on the box; typing clears it."""
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        main = await _reply_box_of(app, pilot)
        await pilot.press("enter")
        assert main.composer.border_subtitle == "empty: nothing to send"
        await pilot.press("x")
        assert main.composer.border_subtitle == ""


async def test_typing_shows_the_preview_and_says_replying(
    console_inbox: Any, tmp_path: Path
) -> None:
    """Typing fills the preview under the box and makes this console "replying" there."""
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        main = await _reply_box_of(app, pilot)
        await pilot.press(*"salam")
        preview = main.query_one("#composer-preview", InputPreview)
        assert preview.has_class("-shown")
        assert (app.team.sender.cid, app.team.sender.state) == (CID_CAR_1, "replying")


async def test_a_reply_without_a_relay_stays_in_the_box(console_inbox: Any, tmp_path: Path) -> None:
    """Enter with no relay: a sentence says it cannot be sent, and the draft is not lost."""
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        main = await _reply_box_of(app, pilot)
        await pilot.press(*"salam", "enter")
        await pilot.pause()
        assert main.composer.text == "salam"
        assert any("Not connected to a relay" in notice for notice in _notices(app))


async def test_a_note_without_a_relay_stays_in_the_box(console_inbox: Any, tmp_path: Path) -> None:
    """F6 (a team note) with no relay: the note stays, and the sentence says why."""
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        main = await _reply_box_of(app, pilot)
        await pilot.press(*"call him", "f6")
        await pilot.pause()
        assert main.composer.text == "call him"
        assert any("Notes travel through the relay" in notice for notice in _notices(app))


async def test_a_refused_note_comes_back_into_an_empty_box(
    console_inbox: Any, tmp_path: Path
) -> None:
    """The relay refused a note: it is back in the box as "/note …", never over new text."""
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        main = await _reply_box_of(app, pilot)
        main.post_message(NoteNotSaved(CID_CAR_1, "call him"))
        await pilot.pause()
        assert main.composer.text == "/note call him"
        main.composer.load_text("new words")
        main.post_message(NoteNotSaved(CID_CAR_1, "older note"))
        await pilot.pause()
        assert main.composer.text == "new words"


async def test_f2_opens_the_button_composer_on_the_draft(
    console_inbox: Any, tmp_path: Path
) -> None:
    """F2 opens the button composer holding the box's text, with the conversation's context."""
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _reply_box_of(app, pilot)
        await pilot.press(*"price", "f2")
        await pilot.pause()
        composer = app.screen
        assert isinstance(composer, ButtonComposerScreen)
        assert composer.text == "price"
        context = composer.template_context
        assert (context["conversation_id"], context["post_token"]) == (CID_CAR_1, CAR)


async def test_f5_opens_the_templates_and_f7_the_file_picker(
    console_inbox: Any, tmp_path: Path
) -> None:
    """F5 lists the reply templates; F7 picks a file to send; Escape comes back to the box."""
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        main = await _reply_box_of(app, pilot)
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, TemplatePickerScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is main
        main.composer.focus()
        await pilot.press("f7")
        await pilot.pause()
        assert isinstance(app.screen, FilePickerScreen)


async def test_f4_without_a_terminal_says_the_editor_cannot_open(
    console_inbox: Any, tmp_path: Path
) -> None:
    """F4 asks for $EDITOR; headless, the app cannot suspend, and the sentence says so."""
    app = build(console_inbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        main = await _reply_box_of(app, pilot)
        await pilot.press(*"draft", "f4")
        await pilot.pause()
        assert main.composer.text == "draft"
        assert any(notice.startswith("Cannot open") for notice in _notices(app))
