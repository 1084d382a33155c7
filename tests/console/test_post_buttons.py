"""Buttons that open a post's page or its manage page (docs/widgets/actions/navigation_actions.md):
chosen in the button editor, checked like the other actions, previewed, and kept in templates."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from kenar_api.bodies import SendMessageBody
from kenar_core.errors import ConfigError
from kenar_tui.button_drafts import ButtonDraft, GridDraft
from kenar_tui.dialogs.button_editor import ButtonEditorScreen
from kenar_tui.dialogs.preview import PreviewScreen
from kenar_tui.screens.compose import ButtonComposerScreen
from kenar_tui.templates import Template, load_templates, save_template
from tests.console.compose_host import HostApp

SIZE = (100, 48)
POST = "gZd7omnS"


def _composer(**kwargs: Any) -> HostApp:
    context = {"post_token": POST, "post_title": "پژو ۲۰۶"}
    return HostApp(lambda: ButtonComposerScreen("سلام", template_context=context, **kwargs))


async def _new_button(pilot: Pilot[Any], caption: str, kind_id: str) -> ButtonEditorScreen:
    await pilot.press("tab", "tab", "a")  # the buyer's grid, a new button
    editor = pilot.app.screen
    assert isinstance(editor, ButtonEditorScreen)
    await pilot.press(*caption)
    editor.query_one("#icon").focus()
    editor._button.icon = "EDIT"  # the icon picker has its own tests
    await pilot.click(f"#{kind_id}")
    await pilot.pause()
    return editor


async def _result(app: HostApp) -> Any:
    await asyncio.wait_for(app.dismissed.wait(), timeout=10)
    return app.result


async def test_a_post_page_button_opens_the_conversations_post() -> None:
    """Choosing "post's page" shows the post token field, filled with the conversation's post;
    the body carries open_post_page with it."""
    app = _composer()
    async with app.run_test(size=SIZE) as pilot:
        editor = await _new_button(pilot, "ad", "kind-post")
        field = editor.query_one("#post-token", Input)
        assert field.value == POST
        assert not editor.query_one("#post-fields").has_class("-hidden")
        assert editor.query_one("#link-fields").has_class("-hidden")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ButtonComposerScreen)
        await pilot.press("ctrl+s")
        body = await _result(app)
    assert isinstance(body, SendMessageBody)
    wire = body.wire()["receiver_buttons"]["rows"][0]["buttons"][0]
    assert wire == {
        "action": {"open_post_page": {"post_token": POST}},
        "icon": "EDIT",
        "caption": "ad",
    }


async def test_a_manage_page_button_with_a_bad_token_is_refused_at_the_field() -> None:
    """A post token that is not one is flagged as typed and the button is not saved;
    a good one gives open_post_manage_page."""
    app = _composer()
    async with app.run_test(size=SIZE) as pilot:
        editor = await _new_button(pilot, "edit", "kind-post-manage")
        field = editor.query_one("#post-token", Input)
        field.focus()
        await pilot.press("end", "!", "?")
        problem = editor.query_one("#post-problem", Static)
        assert "a post token is letters, digits, - and _" in str(problem.content)
        await pilot.press("ctrl+s")
        assert app.screen is editor
        assert "a post token is letters" in str(problem.content)
        await pilot.press("backspace", "backspace")
        assert str(problem.content) == ""
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ButtonComposerScreen)
        await pilot.press("ctrl+s")
        body = await _result(app)
    action = body.wire()["receiver_buttons"]["rows"][0]["buttons"][0]["action"]
    assert action == {"open_post_manage_page": {"post_token": POST}}


async def test_the_preview_marks_post_buttons() -> None:
    """The preview draws ▤ for a post's page and ✎ for its manage page, with the legend."""
    grid = GridDraft(
        [
            [ButtonDraft("ad", "EDIT", "post", post_token=POST)],
            [ButtonDraft("manage", "EDIT", "post_manage", post_token=POST)],
        ]
    )
    app = _composer(receiver=grid)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        preview = app.screen
        assert isinstance(preview, PreviewScreen)
        buyer = preview.query_one("#buyer").render().plain
        assert "▤ " in buyer and "✎ " in buyer
        assert "▤ the post's page  ✎ its manage page" in buyer.replace("\n", " ")
        await pilot.press("j")
        shown = json.loads(str(preview.query_one("#json-body", Static).content))
        rows = shown["receiver_buttons"]["rows"]
        assert rows[1]["buttons"][0]["action"] == {"open_post_manage_page": {"post_token": POST}}


def test_templates_keep_post_buttons_and_fill_their_token(tmp_path: Path) -> None:
    """post_page = "{post_token}" in a template opens the conversation's post once filled;
    saving a grid with post buttons writes them back the same way."""
    path = tmp_path / "templates.toml"
    path.write_text(
        '[[template]]\nname = "t"\ntext = "«{post_title}»"\n'
        'receiver_buttons = [[{ caption = "ad", icon = "EDIT", post_page = "{post_token}" },'
        ' { caption = "m", icon = "EDIT", post_manage_page = "{post_token}" }]]\n',
        encoding="utf-8",
    )
    (template,) = load_templates(path)
    filled = template.fill({"post_token": POST, "post_title": "پژو"})
    grid = filled.receiver.to_grid()
    assert grid is not None
    actions = [b.action.model_dump(exclude_none=True) for b in grid.buttons()]
    assert actions == [
        {"open_post_page": {"post_token": POST}},
        {"open_post_manage_page": {"post_token": POST}},
    ]
    saved = tmp_path / "saved.toml"
    save_template(saved, Template("again", "x", receiver=filled.receiver))
    assert 'post_page = "gZd7omnS"' in saved.read_text(encoding="utf-8")
    assert load_templates(saved)[0].receiver == filled.receiver


@pytest.mark.parametrize(
    ("button", "expected"),
    [
        ('{ caption = "c", icon = "EDIT", post_page = 5 }', "post_page is a post token"),
        (
            '{ caption = "c", icon = "EDIT", post_page = "a", link = "https://divar.ir/" }',
            "one of link, server_data, post_page or post_manage_page",
        ),
        ('{ caption = "c", icon = "EDIT", post_manage_page = "not a token" }', "post token"),
    ],
)
def test_bad_post_buttons_in_templates_are_refused(
    tmp_path: Path, button: str, expected: str
) -> None:
    """A post button that Kenar would refuse is refused when the file is read, with the line."""
    path = tmp_path / "templates.toml"
    path.write_text(f'[[template]]\nname = "t"\ntext = "x"\n\nsender_buttons = [[{button}]]\n')
    with pytest.raises(ConfigError, match=r"line 5: template «t», sender_buttons") as caught:
        load_templates(path)
    assert expected in str(caught.value)
