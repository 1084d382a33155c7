"""The button composer: both grids from the keyboard, Kenar's limits refused where they break."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea

from kenar_api.bodies import ChatbotMessageBody, SendMessageBody
from kenar_tui.button_drafts import ButtonDraft, GridDraft
from kenar_tui.dialogs.button_editor import ButtonEditorScreen
from kenar_tui.dialogs.icon_picker import IconPickerScreen
from kenar_tui.dialogs.name_prompt import NamePromptScreen
from kenar_tui.dialogs.preview import PreviewScreen, wire_json
from kenar_tui.screens.compose import ButtonComposerScreen
from kenar_tui.templates import load_templates
from kenar_tui.widgets.button_grid import ButtonGridEditor
from tests.console.compose_host import NOT_YET, HostApp

TEXT = "سلام، هنوز موجود است."
SIZE = (100, 32)


def _composer(**kwargs: Any) -> HostApp:
    return HostApp(lambda: ButtonComposerScreen(kwargs.pop("text", TEXT), **kwargs))


def _shown(widget: Static) -> str:
    return str(widget.content)


def _problem(pilot: Pilot[Any], side: str) -> str:
    grid = pilot.app.screen.query_one(f"#{side}-grid", ButtonGridEditor)
    return _shown(grid.query_one(".grid-problem", Static))


async def _type(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*[" " if ch == " " else ch for ch in text])


async def _choose_icon(pilot: Pilot[Any], query: str) -> None:
    """From the button editor: open the picker, search by typing, pick the best match."""
    await pilot.press("ctrl+o")
    assert isinstance(pilot.app.screen, IconPickerScreen)
    await _type(pilot, query)
    await pilot.press("enter")
    assert isinstance(pilot.app.screen, ButtonEditorScreen)


async def _add_link_button(pilot: Pilot[Any], caption: str, icon_query: str, url: str) -> None:
    await pilot.press("a")
    assert isinstance(pilot.app.screen, ButtonEditorScreen)
    await _type(pilot, caption)
    await _choose_icon(pilot, icon_query)
    pilot.app.screen.query_one("#url", Input).focus()
    await _type(pilot, url)
    await pilot.press("ctrl+s")
    assert isinstance(pilot.app.screen, ButtonComposerScreen)


async def _add_server_button(
    pilot: Pilot[Any], key: str, caption: str, icon_query: str, data: dict[str, str]
) -> None:
    await pilot.press(key)
    assert isinstance(pilot.app.screen, ButtonEditorScreen)
    await _type(pilot, caption)
    await _choose_icon(pilot, icon_query)
    for name, value in data.items():
        await pilot.press("ctrl+n")
        await pilot.pause()
        await _type(pilot, name)
        await pilot.press("tab")
        await _type(pilot, value)
    await pilot.press("ctrl+s")
    assert isinstance(pilot.app.screen, ButtonComposerScreen)


async def _result(app: HostApp) -> Any:
    await asyncio.wait_for(app.dismissed.wait(), timeout=10)
    return app.result


async def test_compose_both_grids_gives_the_exact_wire_body() -> None:
    """A reply with seller and buyer grids, direct and server links, becomes the exact JSON."""
    app = _composer()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")  # the seller's grid
        await _add_link_button(pilot, "agahi", "link", "https://divar.ir/v/gZd7omnS")
        await pilot.press("tab")  # the buyer's grid
        await _add_server_button(
            pilot, "a", "visit", "calendar", {"action": "book_viewing", "post": "gZd7omnS"}
        )
        await _add_link_button(pilot, "call", "call", "https://example.com/call?p=1")
        await _add_server_button(pilot, "n", "map", "map mark", {"action": "send_location"})
        await pilot.press("ctrl+s")
        body = await _result(app)
    assert isinstance(body, SendMessageBody)
    expected = (
        '{"type":"TEXT","message":"سلام، هنوز موجود است.",'
        '"sender_buttons":{"rows":[{"buttons":[{"action":{"open_direct_link":'
        '"https://divar.ir/v/gZd7omnS"},"icon":"LINK","caption":"agahi"}]}]},'
        '"receiver_buttons":{"rows":['
        '{"buttons":[{"action":{"open_server_link":{"data":{"action":"book_viewing",'
        '"post":"gZd7omnS"}}},"icon":"CALENDAR_TEXT","caption":"visit"},'
        '{"action":{"open_direct_link":"https://example.com/call?p=1"},"icon":"CALL",'
        '"caption":"call"}]},'
        '{"buttons":[{"action":{"open_server_link":{"data":{"action":"send_location"}}},'
        '"icon":"MAP_MARKER","caption":"map"}]}]}}'
    )
    assert json.dumps(body.wire(), ensure_ascii=False, separators=(",", ":")) == expected


async def test_persian_caption_typed_in_the_editor() -> None:
    """A Persian caption typed key by key is kept exactly."""
    app = _composer()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "tab")
        await _add_link_button(pilot, "رزرو بازدید", "calendar", "https://divar.ir/")
        await pilot.press("ctrl+s")
        body = await _result(app)
    assert body.receiver_buttons.buttons()[0].caption == "رزرو بازدید"


def _full_row() -> GridDraft:
    url = "https://divar.ir/"
    return GridDraft([[ButtonDraft(f"b{i}", "CALL", "link", url) for i in range(3)]])


async def test_fourth_button_in_a_row_is_refused_with_the_limit() -> None:
    """Adding a 4th button to a row is refused with Kenar's sentence, no editor opens."""
    app = _composer(receiver=_full_row())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "tab", "a")
        assert isinstance(app.screen, ButtonComposerScreen)
        assert _problem(pilot, "receiver") == "row 1 has 4 buttons; at most 3"
        assert len(app.screen.grid("receiver").draft.rows[0]) == 3


async def test_fourth_row_is_refused_with_the_limit() -> None:
    """A 4th row is refused, whether added or reached by moving a button down."""
    button = ButtonDraft("x", "CALL", "link", "https://divar.ir/")
    rows = GridDraft([[button.copy(), button.copy()], [button.copy()], [button.copy()]])
    app = _composer(receiver=rows)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "tab", "n")
        assert isinstance(app.screen, ButtonComposerScreen)
        assert _problem(pilot, "receiver") == "a grid has 4 rows; at most 3"
        await pilot.press("down", "down", "shift+down")  # a 1-button last row cannot split
        await pilot.press("up", "up", "shift+down")
        assert [len(r) for r in app.screen.grid("receiver").draft.rows] == [1, 2, 1]


async def test_empty_caption_is_refused_at_the_field() -> None:
    """Saving a button without a caption shows the model's sentence under the caption."""
    app = _composer()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "tab", "a")
        await _choose_icon(pilot, "call")
        await pilot.press("ctrl+s")
        editor = app.screen
        assert isinstance(editor, ButtonEditorScreen)
        message = _shown(editor.query_one("#caption-problem", Static))
        assert message == "a button's caption may not be empty"


async def test_empty_caption_from_a_draft_is_refused_at_send() -> None:
    """A blank caption that came in with the grid stops sending, shown at its button."""
    grid = GridDraft(
        [
            [
                ButtonDraft("ok", "CALL", "link", "https://divar.ir/"),
                ButtonDraft(" ", "CALL", "link", "https://divar.ir/"),
            ]
        ]
    )
    app = _composer(sender=grid)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is NOT_YET
        assert _problem(pilot, "sender") == "row 1, button 2: a button's caption may not be empty"
        assert app.screen.grid("sender").cursor == (0, 1)


async def test_bad_url_is_checked_as_typed_and_refused() -> None:
    """A link without http(s) is flagged while typing and the button cannot be saved."""
    app = _composer()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab", "tab", "a")
        await _type(pilot, "site")
        await _choose_icon(pilot, "link")
        app.screen.query_one("#url", Input).focus()
        await _type(pilot, "divar.ir/v/x")
        editor = app.screen
        problem = editor.query_one("#url-problem", Static)
        assert _shown(problem) == "a link must start with http:// or https://"
        await pilot.press("ctrl+s")
        assert app.screen is editor
        assert _shown(problem) == "a link must start with http:// or https://"
        await pilot.press("home")
        await _type(pilot, "https://")
        assert _shown(problem) == ""


async def test_message_without_text_is_refused_at_the_text() -> None:
    """An empty message is refused with the sentence under the text box."""
    app = _composer(text="   ")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is NOT_YET
        assert _shown(app.screen.query_one("#text-problem", Static)) == "a message needs some text"
        assert isinstance(app.focused, TextArea)


async def test_bot_conversation_sends_a_chatbot_body() -> None:
    """In a BOT conversation the buyer's grid goes out as the chatbot body's `buttons`."""
    app = _composer(conversation_type="BOT", receiver=_full_row())
    async with app.run_test(size=SIZE) as pilot:
        assert not app.screen.grid("sender").display
        await pilot.press("ctrl+s")
        body = await _result(app)
    assert isinstance(body, ChatbotMessageBody)
    assert body.wire()["text_message"] == TEXT
    assert [b["caption"] for b in body.wire()["buttons"]["rows"][0]["buttons"]] == [
        "b0",
        "b1",
        "b2",
    ]


async def test_buttons_and_rows_reorder_and_delete() -> None:
    """Buttons move within and across rows, rows move, deleting a row's last button drops it."""
    app = _composer(receiver=_full_row())
    async with app.run_test(size=SIZE) as pilot:
        grid = app.screen.grid("receiver")

        def captions() -> list[list[str]]:
            return [[b.caption for b in row] for row in grid.draft.rows]

        await pilot.press("tab", "tab", "shift+right")
        assert captions() == [["b1", "b0", "b2"]]
        await pilot.press("shift+down")
        assert captions() == [["b1", "b2"], ["b0"]]
        await pilot.press("ctrl+up")
        assert captions() == [["b0"], ["b1", "b2"]]
        await pilot.press("up", "d")
        assert captions() == [["b1", "b2"]]
        assert "deleted «b0»" in _problem(pilot, "receiver")


async def test_narrow_terminal_toggles_between_grids() -> None:
    """Under 100 columns one grid shows at a time and F4 switches to the other."""
    app = _composer()
    async with app.run_test(size=(80, 32)) as pilot:
        screen = app.screen
        assert screen.narrow
        assert screen.grid("receiver").display and not screen.grid("sender").display
        await pilot.press("f4")
        assert screen.grid("sender").display and not screen.grid("receiver").display
        assert app.focused is screen.grid("sender")


async def test_preview_shows_both_sides_and_the_json_body() -> None:
    """F2 previews the buyer's and seller's view; `j` shows the exact JSON body."""
    app = _composer(sender=_full_row())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        preview = app.screen
        assert isinstance(preview, PreviewScreen)
        seller = preview.query_one("#seller")
        assert seller.grid is not None and len(seller.grid.buttons()) == 3
        assert preview.query_one("#buyer").grid is None
        await pilot.press("j")
        shown = _shown(preview.query_one("#json-body", Static))
        assert shown == wire_json(preview.body)
        assert json.loads(shown)["sender_buttons"]["rows"][0]["buttons"][2]["caption"] == "b2"
        await pilot.press("escape")
        assert isinstance(app.screen, ButtonComposerScreen)


async def test_save_as_template_round_trips(tmp_path: Path) -> None:
    """F3 saves the text and both grids under a name; loading gives them back."""
    path = tmp_path / "templates.toml"
    app = _composer(receiver=_full_row(), templates_path=path, text="قیمت {post_title} {نهایی}")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        assert isinstance(app.screen, NamePromptScreen)
        await _type(pilot, "final")
        await pilot.press("enter")
        status = _shown(app.screen.query_one("#composer-status", Static))
        assert status == f"saved as template «final» in {path}"
    (template,) = load_templates(path)
    assert template.name == "final"
    assert template.text == "قیمت {post_title} {{نهایی}}"
    assert template.receiver == _full_row()
    assert template.fill({"post_title": "پژو"}).text == "قیمت پژو {نهایی}"


async def test_escape_cancels_with_no_body() -> None:
    """Escape leaves the composer with nothing to send."""
    app = _composer()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        assert await _result(app) is None


async def test_template_from_the_composer_fills_text_and_grids(tmp_path: Path) -> None:
    """F5 picks a template by number; its filled text and grids replace the composer's."""
    path = tmp_path / "templates.toml"
    context = {"post_title": "پژو ۲۰۶", "post_token": "gZd7omnS", "conversation_id": "c-1"}
    app = _composer(templates_path=path, template_context=context)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5", "1")
        screen = app.screen
        assert isinstance(screen, ButtonComposerScreen)
        assert "«پژو ۲۰۶» هنوز موجود است" in screen.text
        viewing = screen.grid("receiver").draft.rows[0][0]
        assert viewing.data["post_token"] == "gZd7omnS"
        await pilot.press("ctrl+s")
        body = await _result(app)
    assert isinstance(body, SendMessageBody)
    assert body.sender_buttons is not None
    assert body.sender_buttons.buttons()[0].action.open_direct_link == "https://divar.ir/v/gZd7omnS"


async def test_icon_search_ranks_whole_words_first() -> None:
    """In the icon picker "car insp" puts the car-inspection icons first, with hints."""
    app = HostApp(IconPickerScreen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"car insp")
        picker = app.screen
        assert isinstance(picker, IconPickerScreen)
        assert set(picker.matches[:2]) == {"CAR_INSPECTED", "CAR_INSPECTION"}
        await pilot.press("down", "enter")
        assert await _result(app) == picker.matches[1]
